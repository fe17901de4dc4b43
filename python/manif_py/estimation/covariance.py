"""Uncertain group elements and first-order covariance propagation on the manifold.

Convention (as everywhere in manif_py): covariances live in the right (local)
tangent space. An uncertain element is

    X = X_hat Exp(xi),  xi ~ N(0, P),  P of shape (dof, dof),

and f(X) = f(X_hat) Exp(eta) with eta ~ N(0, J P J^T), J the right Jacobian of f.
The same uncertainty written in the left (global) tangent, X = Exp(eta) X_hat,
has covariance Adj(X_hat) P Adj(X_hat)^T.
"""

from dataclasses import dataclass

import numpy as np


def _square(P, dof, what="covariance"):
    P = np.asarray(P, dtype=np.float64)
    if P.shape != (dof, dof):
        raise ValueError(f"{what} must have shape ({dof}, {dof}), got {P.shape}")
    if not np.all(np.isfinite(P)):
        raise ValueError(f"{what} contains NaN or inf")
    return P


def local_to_global(X, P):
    """Covariance of X = X_hat Exp(xi) rewritten as X = Exp(eta) X_hat: Adj P Adj^T, (dof, dof)."""
    A = X.Adj()
    return A @ _square(P, A.shape[0]) @ A.T


def global_to_local(X, P):
    """Inverse of :func:`local_to_global`: Adj^-1 P Adj^-T, (dof, dof)."""
    A = X.inverse().Adj()
    return A @ _square(P, A.shape[0]) @ A.T


def propagate(*terms):
    """sum_i J_i P_i J_i^T for pairs (J_i (m, n_i), P_i (n_i, n_i)): first-order covariance of a
    function of independent inputs."""
    out = None
    for J, P in terms:
        J = np.atleast_2d(np.asarray(J, dtype=np.float64))
        term = J @ _square(P, J.shape[1]) @ J.T
        out = term if out is None else out + term
    return out


@dataclass
class Uncertain:
    """A group element with a covariance in its right tangent space: X = mean Exp(xi), xi ~ N(0, cov)."""

    mean: object
    cov: np.ndarray

    def __post_init__(self):
        self.cov = _square(self.cov, self.mean.dof)

    @property
    def dof(self):
        return self.mean.dof

    def global_cov(self):
        """The covariance in the left (global) tangent: X = Exp(eta) mean."""
        return local_to_global(self.mean, self.cov)

    @classmethod
    def from_global(cls, mean, cov_global):
        """From a covariance in the left (global) tangent space."""
        return cls(mean, global_to_local(mean, cov_global))

    def inverse(self):
        """X^-1 with covariance Adj(X) P Adj(X)^T (right Jacobian of the inverse is -Adj(X))."""
        Y, J = self.mean.inverse(jacobians=True)
        return Uncertain(Y, propagate((J, self.cov)))

    def compose(self, other, cross=None):
        """X Y for independent X, Y (or with cross-covariance `cross` = E[xi_x xi_y^T], (dof, dof))."""
        return self._binary("compose", other, cross)

    def between(self, other, cross=None):
        """X^-1 Y for independent X, Y (or with cross-covariance)."""
        return self._binary("between", other, cross)

    def _binary(self, op, other, cross):
        """Z = op(X, Y) with P_z = Jx Px Jx^T + Jy Py Jy^T (+ Jx C Jy^T + its transpose)."""
        Z, Jx, Jy = getattr(self.mean, op)(other.mean, jacobians=True)
        P = propagate((Jx, self.cov), (Jy, other.cov))
        if cross is not None:
            C = Jx @ _square(cross, self.dof, "cross") @ Jy.T
            P = P + C + C.T
        return Uncertain(Z, P)

    def rplus(self, tau, tau_cov=None):
        """X Exp(tau) with tau (dof,) uncertain by tau_cov (dof, dof) (e.g. an odometry increment)."""
        t = self.mean.Tangent(np.asarray(tau, dtype=np.float64)) if not hasattr(tau, "coeffs") else tau
        Y, Jx, Jt = self.mean.rplus(t, jacobians=True)
        terms = [(Jx, self.cov)] + ([(Jt, tau_cov)] if tau_cov is not None else [])
        return Uncertain(Y, propagate(*terms))

    def act(self, point, point_cov=None):
        """X p (dim,) and its covariance (dim, dim), p uncertain by point_cov."""
        q, Jx, Jp = self.mean.act(np.asarray(point, dtype=np.float64), jacobians=True)
        terms = [(Jx, self.cov)] + ([(Jp, point_cov)] if point_cov is not None else [])
        return q, propagate(*terms)

    def mahalanobis2(self, Y):
        """Squared Mahalanobis distance of an element Y: tau^T P^-1 tau with tau = Y (-) mean = Log(mean^-1 Y)."""
        tau = Y.rminus(self.mean).coeffs()
        return float(tau @ np.linalg.solve(self.cov, tau))

    def sample(self, n, rng=None):
        """n samples mean Exp(xi), xi ~ N(0, cov), as a list of group elements."""
        rng = np.random.default_rng(rng)
        xi = rng.multivariate_normal(np.zeros(self.dof), self.cov, size=n)
        T = self.mean.Tangent
        return [self.mean.rplus(T(x)) for x in xi]
