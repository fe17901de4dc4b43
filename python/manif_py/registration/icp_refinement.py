"""Point-to-plane ICP over pose hypotheses: coarse on voxel-downsampled clouds, then fine on the full clouds.

Each stage is the C++ Gauss-Newton ICP (``kernels.icp``, the core's SE(3)
Jacobians). The coarse stage has a wide correspondence distance so a hypothesis
a few voxels off is pulled into its basin cheaply; the fine stage runs at the
inlier scale on every point.
"""

from __future__ import annotations

import numpy as np

from . import kernels
from .prepared import PreparedModel, voxel_downsample
from .preprocess import check_cloud

# Correspondence distances as fractions of the diameter.
COARSE_DISTANCE = 0.1
FINE_DISTANCE = 0.02


def check_poses(poses, name="poses") -> np.ndarray:
    """(K, 4, 4) finite rigid float64 poses, or an error naming the argument."""
    try:
        T = np.asarray(poses, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"argument '{name}' must be a (K, 4, 4) array of numbers") from exc
    if T.ndim == 2:
        T = T[None]
    if T.ndim != 3 or T.shape[1:] != (4, 4) or len(T) == 0:
        raise ValueError(f"argument '{name}' must have shape (K, 4, 4) with K >= 1, got {T.shape}")
    if not np.isfinite(T).all():
        raise ValueError(f"argument '{name}' has NaN or inf entries")
    R = T[:, :3, :3]
    if np.abs(R @ np.transpose(R, (0, 2, 1)) - np.eye(3)).max() > 1e-6 or np.any(np.linalg.det(R) < 0):
        raise ValueError(f"argument '{name}': the rotation blocks must be orthonormal with determinant +1")
    return T


def refine_hypotheses(scan_points, prepared: PreparedModel, poses, *, coarse_iterations: int = 15,
                      fine_iterations: int = 20, inlier_distance: float | None = None,
                      fine_candidates: int | None = None) -> np.ndarray:
    """(K, 4, 4) refined poses of the scan in the model's frame, one per hypothesis in ``poses``.

    With ``fine_candidates``, only the hypotheses that fit best after the coarse stage
    (coarse fitness at the inlier scale) get the fine stage and are returned, best first.
    """
    if not isinstance(prepared, PreparedModel):
        raise TypeError(f"argument 'prepared' must be a PreparedModel (from prepare_model), got {type(prepared)}")
    scan = check_cloud(scan_points, "scan_points")
    T = check_poses(poses)
    D = prepared.diameter
    fine = FINE_DISTANCE * D if inlier_distance is None else float(inlier_distance)
    coarse_model, coarse_normals = prepared.levels[-1]
    coarse_scan = voxel_downsample(scan, prepared.level_voxels[-1])
    coarse, fit = np.empty_like(T), np.empty(len(T))
    for k, T0 in enumerate(T):
        r = kernels.icp(coarse_scan, coarse_model, coarse_normals, init=T0, max_iterations=coarse_iterations,
                        max_correspondence_distance=COARSE_DISTANCE * D, method="point_to_plane")
        coarse[k] = r["matrix"]
        fit[k] = np.mean(_nearest_distance(coarse_scan, coarse_model, r["matrix"]) <= 2 * fine)
    if fine_candidates is not None:
        if not isinstance(fine_candidates, (int, np.integer)) or fine_candidates < 1:
            raise ValueError(f"argument 'fine_candidates' must be a positive integer, got {fine_candidates!r}")
        coarse = coarse[np.argsort(-fit, kind="stable")[:fine_candidates]]
    out = np.empty_like(coarse)
    for k, Tk in enumerate(coarse):
        Tk = kernels.icp(scan, prepared.points, prepared.normals, init=Tk, max_iterations=fine_iterations,
                         max_correspondence_distance=fine * 2.5, method="point_to_plane")["matrix"]
        out[k] = Tk
    return out



def _nearest_distance(points, reference, T):
    moved = points @ T[:3, :3].T + T[:3, 3]
    return np.sqrt(kernels.knn(moved, reference, 1)[1][:, 0])
