"""Error-state (invariant-style) extended Kalman filter on a Lie group.

The state is a group element X with an error xi in its right tangent space:
X_true = X Exp(xi), xi ~ N(0, P), P (dof, dof). As in "A micro Lie theory for
state estimation in robotics" (Sola et al.):

predict, motion X <- X (+) u  with u = u_meas + w, w ~ N(0, Q):
    F = J_{X (+) u, X} = Adj(Exp(u))^-1,  G = J_{X (+) u, u} = Jr(u)
    P <- F P F^T + G Q G^T

update, measurement z = h(X) + v (vector) or Z = h(X) Exp(v) (group), v ~ N(0, R):
    y = z - h(X)    or    y = h(X)^-1 Z  logged = h(X) (-) Z
    H = dh/dX (right Jacobian; for group measurements H <- Jl^-1(y) H)
    S = H P H^T + R,  K = P H^T S^-1,  dx = K y
    X <- X (+) dx
    P <- (I - K H) P (I - K H)^T + K R K^T          (Joseph form)
    P <- Jr(dx) P Jr(dx)^T                           (reset: the error is re-expressed at the new X)

Everything is a single small dense computation per call; no loops over elements.
"""

import numpy as np

from .covariance import Uncertain, _square


class SingularInnovationError(np.linalg.LinAlgError):
    """The innovation covariance S = H P H^T + R of an update is singular or not positive definite.
    (numpy's LinAlgError, which callers caught before, is itself a ValueError.)"""


def _covariance(P, n, name):
    """``P`` as a symmetric positive semi-definite (n, n) float64 matrix; ValueError naming ``name``."""
    P = _square(P, n, f"argument '{name}'")
    scale = float(np.abs(P).max()) if P.size else 0.0
    if np.abs(P - P.T).max(initial=0.0) > 1e-6 * scale:  # loose enough for float32-made matrices
        raise ValueError(f"argument '{name}' must be a symmetric covariance, got an asymmetric matrix "
                         f"(largest |{name} - {name}^T| = {np.abs(P - P.T).max():.3g})")
    P = 0.5 * (P + P.T)
    if n:
        smallest = float(np.linalg.eigvalsh(P)[0])
        if smallest < -1e-10 * scale:  # rounding, not indefiniteness
            raise ValueError(f"argument '{name}' must be positive semi-definite, got smallest eigenvalue "
                             f"{smallest:.6g}")
    return P


class ErrorStateKalmanFilter:
    """EKF whose state is a group element (SE2, SE3, SO3, ... any manif_py group).

    Attributes: ``X`` (group element), ``P`` (dof, dof) covariance of the right-tangent error.
    """

    def __init__(self, X0, P0, reset_jacobian=True):
        self.X = X0
        self.P = _covariance(P0, X0.dof, "P0").copy()
        self.reset_jacobian = reset_jacobian

    @property
    def dof(self):
        return self.X.dof

    @property
    def state(self):
        """The estimate as an :class:`Uncertain` (mean, covariance)."""
        return Uncertain(self.X, self.P.copy())

    def predict(self, u, Q):
        """Motion X <- X Exp(u): u (dof,) a tangent increment (e.g. velocity * dt), Q (dof, dof)
        its noise covariance."""
        t = u if hasattr(u, "coeffs") else self.X.Tangent(np.asarray(u, dtype=np.float64))
        X, F, G = self.X.rplus(t, jacobians=True)
        self.X = X
        self.P = F @ self.P @ F.T + G @ _covariance(Q, self.dof, "Q") @ G.T
        self._symmetrize()
        return self

    def predict_model(self, f, Q):
        """General motion model: f(X) -> (X_new, F, G) with F = dX_new/dX (dof, dof) and
        G = dX_new/dw (dof, k) right Jacobians, w ~ N(0, Q) with Q (k, k)."""
        X, F, G = f(self.X)
        G = np.atleast_2d(np.asarray(G, dtype=np.float64))
        self.X = X
        self.P = F @ self.P @ F.T + G @ _covariance(Q, G.shape[1], "Q") @ G.T
        self._symmetrize()
        return self

    def update(self, z, h, R):
        """Vector measurement z (m,) = h(X) + v, v ~ N(0, R (m, m)); h(X) -> (z_pred (m,), H (m, dof)).
        Returns the innovation y = z - z_pred (m,)."""
        z_pred, H = h(self.X)
        y = np.asarray(z, dtype=np.float64) - np.asarray(z_pred, dtype=np.float64)
        self.correct(y, H, R)
        return y

    def update_group(self, Z, h, R):
        """Group-valued measurement Z = h(X) Exp(v), v ~ N(0, R (k, k)); h(X) -> (Z_pred, H (k, dof))
        with H the right Jacobian of h. Returns the innovation y = Z (-) Z_pred = Log(Z_pred^-1 Z) (k,)."""
        Z_pred, H = h(self.X)
        t, _, J_y_pred = Z.rminus(Z_pred, jacobians=True)
        y = t.coeffs()
        self.correct(y, -J_y_pred @ np.asarray(H, dtype=np.float64), R)
        return y

    def correct(self, y, H, R):
        """The update from an innovation y (m,) ~ H xi + v with v ~ N(0, R); H (m, dof)."""
        H = np.atleast_2d(np.asarray(H, dtype=np.float64))
        if H.shape[1] != self.dof:
            raise ValueError(f"measurement Jacobian must have {self.dof} columns, got shape {H.shape}")
        R = _covariance(R, H.shape[0], "R")
        S = self._innovation_covariance(H, R)
        K = np.linalg.solve(S, H @ self.P).T  # P H^T S^-1 (S symmetric)
        dx = K @ np.asarray(y, dtype=np.float64)
        if not np.all(np.isfinite(dx)):
            raise FloatingPointError("Kalman update produced NaN or inf (singular innovation covariance?)")
        t = self.X.Tangent(dx)
        self.X = self.X.rplus(t)
        IKH = np.eye(self.dof) - K @ H
        self.P = IKH @ self.P @ IKH.T + K @ R @ K.T
        if self.reset_jacobian:
            J = t.Jr()
            self.P = J @ self.P @ J.T
        self._symmetrize()
        return dx

    def nis(self, y, H, R):
        """Normalised innovation squared y^T S^-1 y (chi2 with m dof when consistent)."""
        H = np.atleast_2d(np.asarray(H, dtype=np.float64))
        S = self._innovation_covariance(H, _covariance(R, H.shape[0], "R"))
        y = np.asarray(y, dtype=np.float64)
        return float(y @ np.linalg.solve(S, y))

    def _innovation_covariance(self, H, R):
        """S = H P H^T + R, which must be positive definite (else SingularInnovationError)."""
        S = H @ self.P @ H.T + R
        S = 0.5 * (S + S.T)
        try:
            np.linalg.cholesky(S)
        except np.linalg.LinAlgError:
            raise SingularInnovationError(
                f"the innovation covariance S = H P H^T + R ({S.shape[0]}x{S.shape[0]}) is singular: the "
                "measurement carries no noise in a direction the state is certain of; give argument 'R' "
                "a positive definite covariance") from None
        return S

    def _symmetrize(self):
        self.P = 0.5 * (self.P + self.P.T)
