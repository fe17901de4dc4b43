"""Pure-torch, vectorised Lie group formulas with their analytic Jacobians.

This is the second implementation of the batch kernels (the first is the C++ core
behind ``manif_py.batch``). It runs wherever torch runs (CUDA, MPS, CPU) and
mirrors ``cpp/include/manif_py/lie/*.h`` formula by formula, with the same
small-angle switch points and Taylor forms, so the two agree to rounding
(about 1e-14 in float64). Like the C++ float kernels, float32 inputs get their
trigonometric coefficients computed in float64, where (t - sin t)/t^3 and
friends would otherwise cancel catastrophically.

Nothing here is differentiated by autograd: the autograd Functions in
``_functions.py`` call these formulas with ``jacobians=True`` and apply the
Jacobians in their backward. Branches are ``torch.where`` selections with safe
denominators, so the unselected lane never holds inf or NaN.

Shapes: every op takes arrays with the element axis first, broadcast to a
common N beforehand (the caller expands a single element): elements (N, rep),
tangents (N, dof), points (N, dim), interpolation parameters (N,). Jacobians are
right (local) Jacobians, (N, out, in), exactly as ``manif_py.batch`` returns them.
This module depends on torch only, never on the compiled extension.
"""

from __future__ import annotations

import torch

SMALL_ANGLE_SQ = 1e-6  # Constants<S>::small_angle_sq: squared angle below which Taylor forms are used
SE3_Q_SMALL_SQ = 1e-4  # the Taylor switch of se3_q (its coefficients cancel to higher order)


# ----------------------------------------------------------------------------- small helpers


def _cdtype(x: torch.Tensor) -> torch.Tensor:
    """x promoted to the coefficient scalar type (float64 for float32, as CoeffScalar in C++)."""
    return x.double() if x.dtype == torch.float32 else x


def _safe(cond: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """x with 1 where cond holds: a denominator that is finite in the unselected lane."""
    return torch.where(cond, torch.ones_like(x), x)


def _eye(n: int, like: torch.Tensor) -> torch.Tensor:
    """(N, n, n) identity matrices (an expanded view) of like's N, dtype and device."""
    return torch.eye(n, dtype=like.dtype, device=like.device).expand(like.shape[0], n, n)


def _zeros(n: int, r: int, c: int, like: torch.Tensor) -> torch.Tensor:
    return like.new_zeros(n, r, c)


def _cat_blocks(rows: list[list[torch.Tensor]]) -> torch.Tensor:
    """A block matrix (N, R, C) from rows of (N, r_i, c_j) blocks."""
    return torch.cat([torch.cat(r, dim=-1) for r in rows], dim=-2)


def _mv(M: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """Batched matrix-vector product: (N, r, c) x (N, c) -> (N, r)."""
    return (M @ v.unsqueeze(-1)).squeeze(-1)


def _cross(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return torch.linalg.cross(a, b, dim=-1)


def _col(v: torch.Tensor) -> torch.Tensor:
    """(N, r) -> (N, r, 1)."""
    return v.unsqueeze(-1)


def skew(v: torch.Tensor) -> torch.Tensor:
    """(N, 3) -> (N, 3, 3) cross-product matrices."""
    x, y, z = v.unbind(-1)
    o = torch.zeros_like(x)
    return torch.stack([o, -z, y, z, o, -x, -y, x, o], dim=-1).reshape(*v.shape[:-1], 3, 3)


def rot2(c: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
    """(N,), (N,) -> (N, 2, 2) planar rotation matrices."""
    return torch.stack([c, -s, s, c], dim=-1).reshape(*c.shape, 2, 2)


# ----------------------------------------------------------------------------- quaternions (x, y, z, w)


def quat_mul(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Hamilton product of (N, 4) quaternions stored (x, y, z, w)."""
    av, aw, bv, bw = a[:, :3], a[:, 3:], b[:, :3], b[:, 3:]
    return torch.cat([aw * bv + bw * av + _cross(av, bv), aw * bw - (av * bv).sum(-1, keepdim=True)], dim=-1)


def quat_conj(q: torch.Tensor) -> torch.Tensor:
    return torch.cat([-q[:, :3], q[:, 3:]], dim=-1)


def quat_to_R(q: torch.Tensor) -> torch.Tensor:
    """(N, 4) unit quaternions -> (N, 3, 3) rotation matrices (Eigen's toRotationMatrix)."""
    x, y, z, w = q.unbind(-1)
    tx, ty, tz = 2 * x, 2 * y, 2 * z
    twx, twy, twz = tx * w, ty * w, tz * w
    txx, txy, txz = tx * x, ty * x, tz * x
    tyy, tyz, tzz = ty * y, tz * y, tz * z
    return torch.stack([
        1 - (tyy + tzz), txy - twz, txz + twy,
        txy + twz, 1 - (txx + tzz), tyz - twx,
        txz - twy, tyz + twx, 1 - (txx + tyy),
    ], dim=-1).reshape(*q.shape[:-1], 3, 3)


def quat_exp_terms(theta: torch.Tensor):
    """So3ExpTerms: the quaternion of Exp(theta) and a, b of V = Jl(theta) = I + a W + b W^2.

    theta (N, 3) -> q (N, 4), a (N, 1), b (N, 1), in theta's dtype.
    """
    th = _cdtype(theta)
    t2 = (th * th).sum(-1, keepdim=True)
    small = t2 < SMALL_ANGLE_SQ
    t2s = _safe(small, t2)
    t = torch.sqrt(t2s)
    sh, ch = torch.sin(t / 2), torch.cos(t / 2)
    k = torch.where(small, 0.5 - t2 / 48, sh / t)
    w = torch.where(small, 1 - t2 / 8, ch)
    a = torch.where(small, 0.5 - t2 / 24, 2 * sh * sh / t2s)
    b = torch.where(small, 1.0 / 6 - t2 / 120, (t - 2 * sh * ch) / (t2s * t))
    dt = theta.dtype
    q = torch.cat([k.to(dt) * theta, w.to(dt)], dim=-1)
    return q, a.to(dt), b.to(dt)


def quat_exp(theta: torch.Tensor) -> torch.Tensor:
    """(N, 3) rotation vectors -> (N, 4) unit quaternions."""
    return quat_exp_terms(theta)[0]


def quat_log_terms(q: torch.Tensor):
    """So3LogTerms: rotation vector of q (short way, angle in [0, pi]) and the coefficient c of
    Jl(theta)^-1 = I - 1/2 W + c W^2. q (N, 4) -> theta (N, 3), c (N, 1)."""
    qc = _cdtype(q)
    v, w = qc[:, :3], qc[:, 3:]
    neg = w < 0
    v = torch.where(neg, -v, v)
    w = torch.where(neg, -w, w)
    s2 = (v * v).sum(-1, keepdim=True)
    tiny = s2 < SMALL_ANGLE_SQ * SMALL_ANGLE_SQ
    ws = _safe(~tiny, w)  # w ~ 1 in the tiny lane; 1 elsewhere
    th_tiny = (2 / ws * (1 - s2 / (3 * ws * ws))) * v
    s = torch.sqrt(_safe(tiny, s2))
    half = torch.atan2(s, w)
    th_big = (2 * half / s) * v
    theta = torch.where(tiny, th_tiny, th_big)
    t2_big = 4 * half * half
    lo = t2_big < SMALL_ANGLE_SQ
    c_big = torch.where(lo, 1.0 / 12 + t2_big / 720, (1 - half * w / s) / _safe(lo, t2_big))
    c_tiny = 1.0 / 12 + (th_tiny * th_tiny).sum(-1, keepdim=True) / 720
    c = torch.where(tiny, c_tiny, c_big)
    return theta.to(q.dtype), c.to(q.dtype)


def quat_log(q: torch.Tensor) -> torch.Tensor:
    """(N, 4) unit quaternions -> (N, 3) rotation vectors, angle in [0, pi]."""
    return quat_log_terms(q)[0]


# ----------------------------------------------------------------------------- SO(3) series


def so3_jr(theta: torch.Tensor) -> torch.Tensor:
    """Right Jacobian of SO(3), (N, 3) -> (N, 3, 3): I - a W + b W^2."""
    th = _cdtype(theta)
    t2 = (th * th).sum(-1, keepdim=True)
    small = t2 < SMALL_ANGLE_SQ
    t2s = _safe(small, t2)
    t = torch.sqrt(t2s)
    sh = torch.sin(t / 2)
    a = torch.where(small, 0.5 - t2 / 24, 2 * sh * sh / t2s)
    b = torch.where(small, 1.0 / 6 - t2 / 120, (t - torch.sin(t)) / (t2s * t))
    W = skew(theta)
    a, b = a.to(theta.dtype).unsqueeze(-1), b.to(theta.dtype).unsqueeze(-1)
    return _eye(3, theta) - a * W + b * (W @ W)


def so3_jr_inv(theta: torch.Tensor) -> torch.Tensor:
    """Inverse right Jacobian of SO(3), (N, 3) -> (N, 3, 3): I + W/2 + c W^2, finite at pi."""
    th = _cdtype(theta)
    t2 = (th * th).sum(-1, keepdim=True)
    small = t2 < SMALL_ANGLE_SQ
    t2s = _safe(small, t2)
    half = torch.sqrt(t2s) / 2
    c = torch.where(small, 1.0 / 12 + t2 / 720, (1 - half * torch.cos(half) / torch.sin(half)) / t2s)
    W = skew(theta)
    c = c.to(theta.dtype).unsqueeze(-1)
    return _eye(3, theta) + 0.5 * W + c * (W @ W)


def se3_q(rho: torch.Tensor, theta: torch.Tensor) -> torch.Tensor:
    """Barfoot's Q(rho, theta), the off-diagonal block of the SE(3) left Jacobian, (N, 3, 3)."""
    th = _cdtype(theta)
    t2 = (th * th).sum(-1, keepdim=True)
    small = t2 < SE3_Q_SMALL_SQ
    t2s = _safe(small, t2)
    t = torch.sqrt(t2s)
    s, c = torch.sin(t), torch.cos(t)
    c1 = torch.where(small, 1.0 / 6 - t2 / 120, (t - s) / (t2s * t))
    c2 = torch.where(small, 1.0 / 24 - t2 / 720, (t2s + 2 * c - 2) / (2 * t2s * t2s))
    c3 = torch.where(small, 1.0 / 120 - t2 / 2520, (2 * t - 3 * s + t * c) / (2 * t2s * t2s * t))
    c1, c2, c3 = (x.to(theta.dtype).unsqueeze(-1) for x in (c1, c2, c3))
    P, T = skew(rho), skew(theta)
    TP, PT = T @ P, P @ T
    TPT = TP @ T
    return 0.5 * P + c1 * (TP + PT + TPT) + c2 * (T @ TP + PT @ T - 3 * TPT) + c3 * (TPT @ T + T @ TPT)


def _top_right_of_exp(A: torch.Tensor) -> torch.Tensor:
    """int_0^1 exp(u A) du for (N, n, n) A: the top-right block of exp([[A, I], [0, 0]])."""
    n = A.shape[-1]
    m = A.new_zeros(A.shape[0], 2 * n, 2 * n)
    m[:, :n, :n] = A
    m[:, :n, n:] = torch.eye(n, dtype=A.dtype, device=A.device)
    return torch.linalg.matrix_exp(m)[:, :n, n:]


# ----------------------------------------------------------------------------- groups


class TorchGroup:
    """One group's formulas. Subclasses provide the primitives (_exp, _log, _inv, _mul,
    _adj, _jr, _jr_inv, act); the derived operations are written here once, exactly as
    in the C++ CRTP base (lie_group_base.h), Jacobians included.

    Every public op has the signature of ``manif_py.batch.<G>.<op>``:
    ``op(*inputs, jacobians=False)`` returning ``out`` or ``(out, J_1, J_2, ...)``.
    """

    name = ""
    dof = rep = dim = 0

    # primitives, overridden per group
    def _exp(self, tau): raise NotImplementedError
    def _log(self, X): raise NotImplementedError
    def _inv(self, X): raise NotImplementedError
    def _mul(self, X, Y): raise NotImplementedError
    def _adj(self, X): raise NotImplementedError
    def _jr(self, tau): raise NotImplementedError
    def _jr_inv(self, tau): raise NotImplementedError

    def _jl_inv(self, tau):
        return self._jr_inv(-tau)

    def _I(self, like):
        return _eye(self.dof, like)

    # ------------------------------------------------------------------ ops
    def Exp(self, tau, jacobians=False):
        """(N, dof) -> X (N, rep) [, J (N, dof, dof) = Jr(tau)]."""
        X = self._exp(tau)
        return (X, self._jr(tau)) if jacobians else X

    def Log(self, X, jacobians=False):
        """(N, rep) -> tau (N, dof) [, J (N, dof, dof) = Jr(tau)^-1]."""
        tau = self._log(X)
        return (tau, self._jr_inv(tau)) if jacobians else tau

    def inverse(self, X, jacobians=False):
        """(N, rep) -> X^-1 [, J = -Adj(X)]."""
        Z = self._inv(X)
        return (Z, -self._adj(X)) if jacobians else Z

    def compose(self, X, Y, jacobians=False):
        """X Y [, J_z_x = Adj(Y^-1), J_z_y = I]."""
        Z = self._mul(X, Y)
        return (Z, self._adj(self._inv(Y)), self._I(X)) if jacobians else Z

    def between(self, X, Y, jacobians=False):
        """X^-1 Y [, J_z_x = -Adj(Z^-1), J_z_y = I]."""
        Z = self._mul(self._inv(X), Y)
        return (Z, -self._adj(self._inv(Z)), self._I(X)) if jacobians else Z

    def rplus(self, X, tau, jacobians=False):
        """X Exp(tau) [, J_y_x = Adj(Exp(tau)^-1), J_y_tau = Jr(tau)]."""
        E = self._exp(tau)
        Y = self._mul(X, E)
        return (Y, self._adj(self._inv(E)), self._jr(tau)) if jacobians else Y

    def lplus(self, X, tau, jacobians=False):
        """Exp(tau) X [, J_y_x = I, J_y_tau = Adj(X^-1) Jr(tau)]."""
        Y = self._mul(self._exp(tau), X)
        return (Y, self._I(X), self._adj(self._inv(X)) @ self._jr(tau)) if jacobians else Y

    def rminus(self, X, Y, jacobians=False):
        """X (-) Y = Log(Y^-1 X) [, J_t_x = Jr(t)^-1, J_t_y = -Jl(t)^-1]."""
        t = self._log(self._mul(self._inv(Y), X))
        return (t, self._jr_inv(t), -self._jl_inv(t)) if jacobians else t

    def lminus(self, X, Y, jacobians=False):
        """Log(X Y^-1) [, J_t_x = Jr(t)^-1 Adj(Y), J_t_y = -J_t_x]."""
        t = self._log(self._mul(X, self._inv(Y)))
        if not jacobians:
            return t
        J = self._jr_inv(t) @ self._adj(Y)
        return t, J, -J

    def interp(self, X, Y, s, jacobians=False):
        """X Exp(s Log(X^-1 Y)), s (N,) [, J_z_x, J_z_y, J_z_s (N, dof, 1)]."""
        D = self._mul(self._inv(X), Y)
        tau = self._log(D)
        u = s.unsqueeze(-1) * tau
        E = self._exp(u)
        Z = self._mul(X, E)
        if not jacobians:
            return Z
        Jru = self._jr(u)
        J_z_s = Jru @ _col(tau)
        K = s[:, None, None] * (Jru @ self._jr_inv(tau))
        J_d_x = -self._adj(self._inv(D))
        return Z, self._adj(self._inv(E)) + K @ J_d_x, K, J_z_s

    def act(self, X, p, jacobians=False):
        """X . p, p (N, dim) [, J_p_x (N, dim, dof), J_p_p (N, dim, dim)]."""
        raise NotImplementedError

    def Adj(self, X):
        """(N, rep) -> (N, dof, dof)."""
        return self._adj(X)

    def Jr(self, tau):
        return self._jr(tau)

    def Jr_inv(self, tau):
        return self._jr_inv(tau)


class SO2(TorchGroup):
    """Storage (cos, sin); tangent (theta)."""

    name, dof, rep, dim = "SO2", 1, 2, 2

    def _exp(self, tau):
        return torch.cat([torch.cos(tau), torch.sin(tau)], dim=-1)

    def _log(self, X):
        return torch.atan2(X[:, 1:2], X[:, 0:1])

    def _inv(self, X):
        return torch.cat([X[:, 0:1], -X[:, 1:2]], dim=-1)

    def _mul(self, X, Y):
        c1, s1, c2, s2 = X[:, 0:1], X[:, 1:2], Y[:, 0:1], Y[:, 1:2]
        return torch.cat([c1 * c2 - s1 * s2, s1 * c2 + c1 * s2], dim=-1)

    def _adj(self, X):
        return self._I(X)

    def _jr(self, tau):
        return self._I(tau)

    def _jr_inv(self, tau):
        return self._I(tau)

    def act(self, X, p, jacobians=False):
        R = rot2(X[:, 0], X[:, 1])
        out = _mv(R, p)
        if not jacobians:
            return out
        J_x = _mv(R, torch.stack([-p[:, 1], p[:, 0]], dim=-1))
        return out, _col(J_x), R


def _se2_coeffs(angle: torch.Tensor):
    """Se2Coeffs: sin t/t, (1-cos t)/t, (t - sin t)/t^2, (1-cos t)/t^2, each (N,)."""
    t = _cdtype(angle)
    t2 = t * t
    small = t2 < SMALL_ANGLE_SQ
    ts = _safe(small, t)
    s, sh = torch.sin(t), torch.sin(t / 2)
    omc = 2 * sh * sh
    A = torch.where(small, 1 - t2 / 6, s / ts)
    B = torch.where(small, t / 2 - t * t2 / 24, omc / ts)
    C = torch.where(small, t / 6 - t * t2 / 120, (t - s) / (ts * ts))
    D = torch.where(small, 0.5 - t2 / 24, omc / (ts * ts))
    return tuple(x.to(angle.dtype) for x in (A, B, C, D))


class SE2(TorchGroup):
    """Storage (x, y, cos, sin); tangent (rho_x, rho_y, theta)."""

    name, dof, rep, dim = "SE2", 3, 4, 2

    def _exp(self, tau):
        x, y, th = tau.unbind(-1)
        A, B, _, _ = _se2_coeffs(th)
        return torch.stack([A * x - B * y, B * x + A * y, torch.cos(th), torch.sin(th)], dim=-1)

    def _log(self, X):
        x, y, c, s = X.unbind(-1)
        th = torch.atan2(s, c)
        A, B, _, _ = _se2_coeffs(th)
        den = A * A + B * B
        return torch.stack([(A * x + B * y) / den, (-B * x + A * y) / den, th], dim=-1)

    def _inv(self, X):
        x, y, c, s = X.unbind(-1)
        return torch.stack([-c * x - s * y, s * x - c * y, c, -s], dim=-1)

    def _mul(self, X, Y):
        x1, y1, c1, s1 = X.unbind(-1)
        x2, y2, c2, s2 = Y.unbind(-1)
        return torch.stack([x1 + c1 * x2 - s1 * y2, y1 + s1 * x2 + c1 * y2,
                            c1 * c2 - s1 * s2, s1 * c2 + c1 * s2], dim=-1)

    def _adj(self, X):
        x, y, c, s = X.unbind(-1)
        o, one = torch.zeros_like(x), torch.ones_like(x)
        return torch.stack([c, -s, y, s, c, -x, o, o, one], dim=-1).reshape(-1, 3, 3)

    def _jr(self, tau):
        x, y, th = tau.unbind(-1)
        A, B, C, D = _se2_coeffs(th)
        o, one = torch.zeros_like(x), torch.ones_like(x)
        return torch.stack([A, B, C * x - D * y, -B, A, D * x + C * y, o, o, one], dim=-1).reshape(-1, 3, 3)

    def _jr_inv(self, tau):
        # Jr = [[M, m], [0, 1]] with M = [[A, B], [-B, A]]: Jr^-1 = [[M^-1, -M^-1 m], [0, 1]].
        x, y, th = tau.unbind(-1)
        A, B, C, D = _se2_coeffs(th)
        det = A * A + B * B
        m1, m2 = C * x - D * y, D * x + C * y
        o, one = torch.zeros_like(x), torch.ones_like(x)
        return torch.stack([A / det, -B / det, -(A * m1 - B * m2) / det,
                            B / det, A / det, -(B * m1 + A * m2) / det,
                            o, o, one], dim=-1).reshape(-1, 3, 3)

    def act(self, X, p, jacobians=False):
        R = rot2(X[:, 2], X[:, 3])
        out = X[:, :2] + _mv(R, p)
        if not jacobians:
            return out
        J_r = _mv(R, torch.stack([-p[:, 1], p[:, 0]], dim=-1))
        return out, torch.cat([R, _col(J_r)], dim=-1), R


class SO3(TorchGroup):
    """Storage quaternion (x, y, z, w); tangent rotation vector."""

    name, dof, rep, dim = "SO3", 3, 4, 3

    def _exp(self, tau):
        return quat_exp(tau)

    def _log(self, X):
        return quat_log(X)

    def _inv(self, X):
        return quat_conj(X)

    def _mul(self, X, Y):
        return quat_mul(X, Y)

    def _adj(self, X):
        return quat_to_R(X)

    def _jr(self, tau):
        return so3_jr(tau)

    def _jr_inv(self, tau):
        return so3_jr_inv(tau)

    def compose(self, X, Y, jacobians=False):
        Z = quat_mul(X, Y)
        return (Z, quat_to_R(Y).transpose(-1, -2), self._I(X)) if jacobians else Z

    def act(self, X, p, jacobians=False):
        R = quat_to_R(X)
        out = _mv(R, p)
        return (out, -R @ skew(p), R) if jacobians else out


class SE3(TorchGroup):
    """Storage (t, q xyzw); tangent (rho, theta)."""

    name, dof, rep, dim = "SE3", 6, 7, 3

    def _exp(self, tau):
        rho, th = tau[:, :3], tau[:, 3:]
        q, a, b = quat_exp_terms(th)
        tx = _cross(th, rho)
        return torch.cat([rho + a * tx + b * _cross(th, tx), q], dim=-1)

    def _log(self, X):
        t, q = X[:, :3], X[:, 3:]
        th, c = quat_log_terms(q)
        tx = _cross(th, t)
        return torch.cat([t - 0.5 * tx + c * _cross(th, tx), th], dim=-1)

    def _inv(self, X):
        qi = quat_conj(X[:, 3:])
        return torch.cat([-_mv(quat_to_R(qi), X[:, :3]), qi], dim=-1)

    def _mul(self, X, Y):
        R = quat_to_R(X[:, 3:])
        return torch.cat([X[:, :3] + _mv(R, Y[:, :3]), quat_mul(X[:, 3:], Y[:, 3:])], dim=-1)

    def _adj(self, X):
        R = quat_to_R(X[:, 3:])
        return _cat_blocks([[R, skew(X[:, :3]) @ R], [torch.zeros_like(R), R]])

    def _jr(self, tau):
        rho, th = tau[:, :3], tau[:, 3:]
        J3 = so3_jr(th)
        return _cat_blocks([[J3, se3_q(-rho, -th)], [torch.zeros_like(J3), J3]])

    def _jr_inv(self, tau):
        rho, th = tau[:, :3], tau[:, 3:]
        Ji = so3_jr_inv(th)
        return _cat_blocks([[Ji, -Ji @ se3_q(-rho, -th) @ Ji], [torch.zeros_like(Ji), Ji]])

    def act(self, X, p, jacobians=False):
        R = quat_to_R(X[:, 3:])
        out = X[:, :3] + _mv(R, p)
        return (out, torch.cat([R, -R @ skew(p)], dim=-1), R) if jacobians else out


class Sim3(TorchGroup):
    """Storage (t, q xyzw, s); tangent (rho, theta, sigma), scale exp(sigma).

    W and Jr are read off matrix exponentials, as in the C++ core (sim3.h).
    """

    name, dof, rep, dim = "Sim3", 7, 8, 3

    @staticmethod
    def _w(theta, sigma):
        """W = int_0^1 exp(u (theta_hat + sigma I)) du, (N, 3, 3)."""
        return _top_right_of_exp(skew(theta) + sigma[:, :, None] * _eye(3, theta))

    @staticmethod
    def _ad(tau):
        rho, th, sg = tau[:, :3], tau[:, 3:6], tau[:, 6:]
        T = skew(th)
        n = tau.shape[0]
        z31, z33, z13 = (_zeros(n, r, c, tau) for r, c in ((3, 1), (3, 3), (1, 3)))
        return _cat_blocks([[T + sg[:, :, None] * _eye(3, tau), skew(rho), _col(-rho)],
                            [z33, T, z31], [z13, z13, tau.new_zeros(n, 1, 1)]])

    def _exp(self, tau):
        rho, th, sg = tau[:, :3], tau[:, 3:6], tau[:, 6:]
        return torch.cat([_mv(self._w(th, sg), rho), quat_exp(th), torch.exp(sg)], dim=-1)

    def _log(self, X):
        th = quat_log(X[:, 3:7])
        sg = torch.log(X[:, 7:])
        rho = torch.linalg.solve(self._w(th, sg), X[:, :3])
        return torch.cat([rho, th, sg], dim=-1)

    def _inv(self, X):
        qi = quat_conj(X[:, 3:7])
        s = X[:, 7:]
        return torch.cat([-_mv(quat_to_R(qi), X[:, :3]) / s, qi, 1 / s], dim=-1)

    def _mul(self, X, Y):
        R = quat_to_R(X[:, 3:7])
        s = X[:, 7:]
        return torch.cat([X[:, :3] + s * _mv(R, Y[:, :3]), quat_mul(X[:, 3:7], Y[:, 3:7]), s * Y[:, 7:]], dim=-1)

    def _adj(self, X):
        t, s = X[:, :3], X[:, 7:]
        R = quat_to_R(X[:, 3:7])
        n = X.shape[0]
        z31, z33, z13 = (_zeros(n, r, c, X) for r, c in ((3, 1), (3, 3), (1, 3)))
        return _cat_blocks([[s[:, :, None] * R, skew(t) @ R, _col(-t)],
                            [z33, R, z31], [z13, z13, X.new_ones(n, 1, 1)]])

    def _jr(self, tau):
        return _top_right_of_exp(-self._ad(tau))

    def _jr_inv(self, tau):
        return torch.linalg.inv(self._jr(tau))

    def act(self, X, p, jacobians=False):
        sR = X[:, 7:, None] * quat_to_R(X[:, 3:7])
        sRp = _mv(sR, p)
        out = X[:, :3] + sRp
        return (out, torch.cat([sR, -sR @ skew(p), _col(sRp)], dim=-1), sR) if jacobians else out


GROUPS: dict[str, TorchGroup] = {g.name: g for g in (SO2(), SE2(), SO3(), SE3(), Sim3())}


def call(group: str, op: str, inputs, jacobians: bool):
    """Runs ``op`` of ``group`` on (N_i, k) tensors (N_i in {1, N}); returns (out, jacobians tuple)."""
    g = GROUPS[group]
    n = max(x.shape[0] for x in inputs)
    inputs = [x.expand(n, *x.shape[1:]) if x.shape[0] != n else x for x in inputs]
    res = getattr(g, op)(*inputs, jacobians=jacobians)
    return (res[0], tuple(res[1:])) if jacobians else (res, ())
