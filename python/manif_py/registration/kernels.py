"""Compiled kernels for SE(3) diffusion registration (numpy in, numpy out).

A thin, documented facade over the C++ extension ``manif_py._registration``.
Conventions: SE(3) elements are stored ``(tx, ty, tz, qx, qy, qz, qw)``;
tangents are ``(rho, theta)`` (translation first); the element / batch axis
comes first. Every kernel runs in float32 when its leading array is float32,
otherwise in float64, releases the GIL and spreads large batches over the
batch threads. Bad input (wrong shape or dtype, NaN/inf, empty clouds,
``k`` larger than a cloud, negative weights, time steps out of range,
non-unit quaternions) raises ``ValueError`` / ``TypeError`` naming the
argument and the expected shape.
"""

from __future__ import annotations

from typing import Dict, Optional, Sequence, Tuple

import numpy as np

from .. import _registration as _C
from .._integers import as_int

__all__ = [
    "cosine_schedule",
    "diffuse",
    "posterior_step",
    "weighted_procrustes",
    "weighted_procrustes_backward",
    "knn",
    "knn_batch",
    "estimate_normals",
    "ppf_features",
    "icp",
    "symmetric_chamfer",
    "add_s",
    "set_num_threads",
    "get_num_threads",
]


def _sigma(sigma: Sequence[float], fn: str) -> Tuple[float, float]:
    try:
        values = [float(v) for v in sigma]
    except TypeError:
        raise TypeError(f"{fn}: argument 'sigma' must be a pair (rotation, translation), got {sigma!r}") from None
    if len(values) != 2:
        raise ValueError(f"{fn}: argument 'sigma' must have shape (2,) = (rotation, translation), got {len(values)} values")
    return values[0], values[1]


def cosine_schedule(T: int, s: float = 0.008) -> Dict[str, np.ndarray]:
    """Cosine noise schedule (Nichol & Dhariwal) and DDPM posterior coefficients.

    Returns a dict of float64 arrays of shape (T + 1,), indexed by the step
    t = 0 .. T (t = 0: alpha_bar = 1, beta = 0, posterior coefficients 0):

    - ``alpha_bar``: f(t) / f(0) with f(t) = cos((t / T + s) / (1 + s) * pi / 2)^2
    - ``beta``: min(1 - alpha_bar_t / alpha_bar_{t-1}, 0.999); ``alpha`` = 1 - beta
    - ``gamma0``: beta_t sqrt(alpha_bar_{t-1}) / (1 - alpha_bar_t)
    - ``gamma1``: (1 - alpha_bar_{t-1}) sqrt(alpha_t) / (1 - alpha_bar_t)
    - ``beta_tilde``: (1 - alpha_bar_{t-1}) / (1 - alpha_bar_t) beta_t
    """
    return _C.cosine_schedule(as_int(T, "T", "cosine_schedule"), float(s))


def diffuse(H0, t, eps, T: int = 200, sigma: Sequence[float] = (0.05, 0.03), s: float = 0.008) -> np.ndarray:
    """Forward noising of SE(3) poses.

    H_t = Exp(sqrt(1 - abar_t) sig (.) eps) * Exp(sqrt(abar_t) Log H0), where
    ``sig`` scales the rotation block theta by ``sigma[0]`` and the translation
    block rho by ``sigma[1]``.

    Args:
        H0: (N, 7) clean poses (a single (7,) broadcasts).
        t: (N,) integer steps in [1, T] (a scalar broadcasts).
        eps: (N, 6) standard normal noise in (rho, theta) order.
        T, sigma, s: schedule length, (rotation, translation) noise scales, cosine offset.

    Returns:
        (N, 7) noisy poses H_t, dtype of ``H0``.
    """
    sr, st = _sigma(sigma, "diffuse")
    return _C.diffuse(H0, t, eps, as_int(T, "T", "diffuse"), sr, st, float(s))


def posterior_step(H0_hat, H, t, eps=None, T: int = 200, sigma: Sequence[float] = (0.05, 0.03),
                   s: float = 0.008) -> np.ndarray:
    """One reverse step H_t -> H_{t-1} given the network's estimate of H0.

    H' = Exp(gamma0_t Log H0_hat + gamma1_t Log H); when ``eps`` is given and
    t > 1, H' = Exp(sqrt(beta_tilde_t) sig (.) eps) * H' (no noise on the last step).

    Args:
        H0_hat: (N, 7) estimated clean poses.
        H: (N, 7) current poses H_t.
        t: (N,) integer steps in [1, T].
        eps: (N, 6) standard normal noise (rho, theta), or None for a deterministic step.
        T, sigma, s: as in :func:`diffuse` (inference uses T = 5, sigma = (0.1, 0.01)).

    Returns:
        (N, 7) poses H_{t-1}.
    """
    sr, st = _sigma(sigma, "posterior_step")
    return _C.posterior_step(H0_hat, H, t, eps, as_int(T, "T", "posterior_step"), sr, st, float(s))


def weighted_procrustes(src, tgt, w, eps: float = 1e-8) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Batched weighted Kabsch: argmin_{R, t} sum_i w_i |R src_i + t - tgt_i|^2, det R = +1.

    Args:
        src, tgt: (B, P, 3) corresponding points.
        w: (B, P) non-negative weights.
        eps: a problem whose total weight is <= eps is degenerate.

    Returns:
        R (B, 3, 3), t (B, 3) and ok (B,) bool. ``ok`` is False where the
        solution is not unique: total weight <= eps (then R = I, t = 0), or a
        weighted set whose rotation is undetermined (all weight on one point or
        a line, or a reflection-ambiguous configuration); R is then still a
        proper rotation attaining the minimum, never NaN.
    """
    return _C.weighted_procrustes(src, tgt, w, float(eps))


def weighted_procrustes_backward(src, tgt, w, R, t, grad_R, grad_t,
                                 eps: float = 1e-8) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Exact gradient of a loss L(R, t) through :func:`weighted_procrustes`.

    Implicit function theorem on the optimality condition (R^T M symmetric) with
    the exact SO(3) Hessian K = tr(R^T M) I - R^T M: no 1 / (s_i - s_j) terms, so
    repeated singular values are harmless. Where K is singular (ok = False) the
    pseudo-inverse gives the minimum-norm gradient; where the total weight is
    <= eps the gradient is zero.

    Args:
        src, tgt: (B, P, 3); w: (B, P); R: (B, 3, 3); t: (B, 3) (forward outputs);
        grad_R: (B, 3, 3) dL/dR; grad_t: (B, 3) dL/dt.

    Returns:
        grad_src (B, P, 3), grad_tgt (B, P, 3), grad_w (B, P).
    """
    return _C.weighted_procrustes_backward(src, tgt, w, R, t, grad_R, grad_t, float(eps))


def knn(query, ref, k: int) -> Tuple[np.ndarray, np.ndarray]:
    """Exact k nearest neighbours by a kd-tree built on ``ref``.

    Args:
        query: (M, 3); ref: (N, 3); k: 1 <= k <= N.

    Returns:
        idx (M, k) int64 into ``ref`` and dist2 (M, k) squared distances, nearest first.
    """
    return _C.knn(query, ref, as_int(k, "k", "knn"))


def knn_batch(query, ref, k: int) -> Tuple[np.ndarray, np.ndarray]:
    """Batched :func:`knn`: query (B, M, 3), ref (B, N, 3) -> idx (B, M, k) int64, dist2 (B, M, k)."""
    return _C.knn_batch(query, ref, as_int(k, "k", "knn_batch"))


def estimate_normals(points, k: int = 16, viewpoint=None) -> np.ndarray:
    """Unit normals by PCA over the k nearest neighbours (the point included).

    Args:
        points: (N, 3); k: 3 <= k <= N; viewpoint: (3,) or None.

    Returns:
        (N, 3) unit normals facing ``viewpoint`` if given, else pointing away
        from the cloud's centroid (outward for closed, roughly convex shapes).
    """
    return _C.estimate_normals(points, as_int(k, "k", "estimate_normals"), viewpoint)


def ppf_features(points, normals, k: int = 64, radius: float = 0.3) -> Tuple[np.ndarray, np.ndarray]:
    """RPM-Net local features over the k nearest neighbours within ``radius``.

    For point i and neighbour j (d = x_j - x_i), the 10 features are
    [x_i (3), d (3), |d|, angle(n_i, d), angle(n_j, d), angle(n_i, n_j)], angles
    by atan2(|a x b|, a . b) in [0, pi]. Neighbourhoods with fewer than k points
    in the ball are padded by repeating the nearest one (the point itself); the
    self pair (d = 0) reads |d| = 0 and angles 0 to d.

    Args:
        points, normals: (B, N, 3); k: 1 <= k <= N; radius > 0.

    Returns:
        idx (B, N, k) int64 (within each cloud) and feats (B, N, k, 10).
    """
    return _C.ppf_features(points, normals, as_int(k, "k", "ppf_features"), float(radius))


def icp(src, tgt, tgt_normals=None, init=None, max_iterations: int = 30,
        max_correspondence_distance: Optional[float] = None, method: str = "point_to_plane",
        tolerance: float = 1e-6, robust_kernel: Optional[str] = None,
        kernel_scale: Optional[float] = None) -> dict:
    """Rigid ICP: Gauss-Newton on SE(3) under right perturbation T <- T Exp(delta).

    Args:
        src: (N, 3) points to move; tgt: (M, 3) fixed points (kd-tree built once).
        tgt_normals: (M, 3) for point-to-plane; None estimates them (PCA, 16 neighbours).
        init: initial pose of src in tgt's frame, (7,) storage or (4, 4); None = identity.
        max_iterations: Gauss-Newton iterations at most.
        max_correspondence_distance: pairs farther apart are ignored; None = no limit
            (set it for partial overlap).
        method: "point_to_plane" or "point_to_point".
        tolerance: stop when |delta| < tolerance.
        robust_kernel: None, "huber" or "tukey" (IRLS weights).
        kernel_scale: the kernel's threshold in residual units; None uses a third of
            max_correspondence_distance.

    Returns:
        dict with ``pose`` (7,), ``matrix`` (4, 4) (both float64, mapping src into
        tgt's frame), ``fitness`` (fraction of src points with a correspondence within
        the distance), ``inlier_rmse``, ``iterations`` and ``converged``.
    """
    return _C.icp(src, tgt, tgt_normals, init, as_int(max_iterations, "max_iterations", "icp"), max_correspondence_distance, method,
                  float(tolerance), robust_kernel, kernel_scale)


def symmetric_chamfer(a, b, squared: bool = False) -> float:
    """Symmetric Chamfer distance: mean_a min_b |a - b| + mean_b min_a |b - a|.

    a: (N, 3); b: (M, 3); ``squared`` averages squared distances instead.
    """
    return _C.chamfer(a, b, bool(squared))


def add_s(src_model, pose_est, pose_gt, diameter: float) -> dict:
    """ADD-S: mean distance from each model point under ``pose_est`` to the closest
    model point under ``pose_gt`` (symmetric-object aware). The package's only ADD-S:
    ``evaluation.metrics.evaluate_one`` reports its ``relative`` entry.

    Args:
        src_model: (N, 3) model points; pose_est, pose_gt: (7,) SE(3) storage or
        (4, 4) homogeneous matrices; diameter: object diameter (> 0).

    Returns:
        dict with ``add_s`` (distance), ``relative`` (add_s / diameter) and
        ``success`` (add_s < 0.1 diameter, the usual threshold).
    """
    return _C.add_s(src_model, _as_storage(pose_est), _as_storage(pose_gt), float(diameter))


def _as_storage(pose):
    """(4, 4) matrices become (7,) SE(3) storage; anything else goes to the kernel's own checks."""
    arr = np.asarray(pose) if isinstance(pose, (np.ndarray, list, tuple)) else pose
    if isinstance(arr, np.ndarray) and arr.shape == (4, 4):
        from . import poses  # a function-level import keeps kernels free of the pose helpers at load

        return poses.pose_from_matrix(arr[None])[0]
    return pose


def set_num_threads(n: int) -> None:
    """Threads of the package's C++ kernels (0 = all cores): one setting, shared by every
    compiled module. ``manif_py.set_num_threads`` sets it and torch's threads too."""
    from .. import _core

    _core.set_num_threads(as_int(n, "n", "set_num_threads"))


def get_num_threads() -> int:
    """Threads the C++ kernels use."""
    return _C.get_num_threads()
