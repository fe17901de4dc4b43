"""Point-to-plane ICP over pose hypotheses: coarse on voxel-downsampled clouds, then fine on the full clouds.

Each stage is the C++ Gauss-Newton ICP (the core's SE(3) Jacobians), run over
every hypothesis in one call against the prepared model's cached kd-trees. The
coarse stage (scan at the global stage's voxel, model at the pyramid's finer
level) has a wide correspondence distance so a hypothesis a few voxels off is
pulled into its basin cheaply; the fine stage runs at the inlier scale, first on a
subsample for every contender, then on every scan point for the leaders only.
"""

from __future__ import annotations

import numpy as np

from .prepared import PreparedModel, voxel_downsample
from .preprocess import check_cloud

# Correspondence distances as fractions of the diameter.
COARSE_DISTANCE = 0.1
FINE_DISTANCE = 0.02
# Both stages stop once a Gauss-Newton step is below this (times min(1, diameter)): at 1e-6 the
# fine stage never stopped before its 20 iterations on noisy scans, at 1e-4 it stops after
# 5-11 with the same pose to 0.01 degree (realistic inputs, benchmarks/registration_stage_times.py).
STEP_TOLERANCE = 1e-4
# A hypothesis gets the fine stage when its coarse fitness (scan points within twice the inlier
# distance) is at least this fraction of the best one's; every one does when even the best is
# below CLEAR_FITNESS (nothing is clearly ahead: on a cluttered scan the right pose came from a
# hypothesis 50 degrees off, coarse fitness 0.11 against the best one's 0.18).
CONTENDER_FRACTION = 0.7
CLEAR_FITNESS = 0.5
# The fine stage's first round, for every contender on at most FIRST_ROUND_POINTS of the scan;
# the rest of the iterations, on the whole scan, for the FINE_LEADERS best after it (the best and
# its closest rivals, which the verdict's margin compares).
FIRST_FINE_ITERATIONS = 6
FIRST_ROUND_POINTS = 1500
FINE_LEADERS = 3
LEADER_FRACTION = 0.8  # of the best's fitness at the inlier distance
# Hypotheses that the coarse stage brought this close together share one fine stage:
# they would end in the same basin, and the fine stage is most of the ICP's cost.
SAME_ROTATION = np.deg2rad(1.0)
SAME_TRANSLATION = 0.005  # of the diameter


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
    coarse_index = prepared.index(-1)  # kd-trees built once per model, not per hypothesis
    coarse_scan = voxel_downsample(scan, prepared.level_voxels[0])
    tolerance = STEP_TOLERANCE * min(1.0, D)
    coarse = coarse_index.icp(coarse_scan, T, max_iterations=coarse_iterations,
                              max_correspondence_distance=COARSE_DISTANCE * D, tolerance=tolerance)["matrix"]
    fit = np.array([np.mean(_nearest_distance(coarse_scan, coarse_index, Tk, 2 * fine) <= 2 * fine) for Tk in coarse])
    if fine_candidates is not None:
        if not isinstance(fine_candidates, (int, np.integer)) or fine_candidates < 1:
            raise ValueError(f"argument 'fine_candidates' must be a positive integer, got {fine_candidates!r}")
        keep = np.argsort(-fit, kind="stable")[:fine_candidates]
        coarse, fit = coarse[keep], fit[keep]
    # Only contenders get the fine stage: a wrong hypothesis slides for all its iterations, and
    # one far behind the best after the coarse stage is kept, at its coarse pose, as a rival.
    rep = _representatives(coarse, SAME_ROTATION, SAME_TRANSLATION * D)
    # When even the best fits poorly (clutter, few points seen), nothing is far behind: all get it.
    contender = fit >= (CONTENDER_FRACTION * fit.max() if fit.max() >= CLEAR_FITNESS else 0.0)
    unique = np.unique(rep[contender[rep]])
    out = coarse.copy()
    if len(unique):
        refined = _fine_stage(prepared, scan, coarse[unique], fine_iterations, fine * 2.5, tolerance, fine)
        for k in np.nonzero(contender[rep])[0]:
            out[k] = refined[np.searchsorted(unique, rep[k])]
    return out


def _fine_stage(prepared, scan, poses, iterations, distance, tolerance, inlier):
    """Fine ICP in two rounds: a few iterations for every pose on a subsample of the scan, then
    the rest, on the whole scan, only for the FINE_LEADERS that fit best at the inlier distance,
    if within LEADER_FRACTION of the best (a wrong pose slides on for all its iterations: most of the stage's cost went there)."""
    index = prepared.index()
    first = min(iterations, FIRST_FINE_ITERATIONS)
    # The first round only ranks the poses: every k-th scan point is enough for that.
    sub = scan[::-(-len(scan) // FIRST_ROUND_POINTS)]
    out = index.icp(sub, poses, max_iterations=first, max_correspondence_distance=distance,
                    tolerance=tolerance)["matrix"]
    tight = np.array([np.mean(_nearest_distance(sub, index, T, inlier) <= inlier) for T in out])
    order = np.argsort(-tight, kind="stable")[:FINE_LEADERS]
    leaders = np.sort(order[tight[order] >= LEADER_FRACTION * tight.max()])
    out[leaders] = index.icp(scan, out[leaders], max_iterations=max(iterations - first, 1),
                             max_correspondence_distance=distance, tolerance=tolerance)["matrix"]
    return out


def _representatives(poses, max_rotation, max_translation):
    """(K,) index of the first earlier pose within both bounds of each pose (itself if none)."""
    rep = np.arange(len(poses))
    for k in range(1, len(poses)):
        for j in np.unique(rep[:k]):
            c = (np.trace(poses[j][:3, :3].T @ poses[k][:3, :3]) - 1) / 2
            if (np.arccos(np.clip(c, -1, 1)) < max_rotation
                    and np.linalg.norm(poses[j][:3, 3] - poses[k][:3, 3]) < max_translation):
                rep[k] = j
                break
    return rep


def _nearest_distance(points, index, T, bound):
    """Distance of each moved point to the indexed cloud; inf beyond ``bound``."""
    moved = points @ T[:3, :3].T + T[:3, 3]
    return np.sqrt(index.knn(moved, 1, max_distance=bound)[1][:, 0])
