"""Global pose hypotheses over all of SO(3), training-free: point-pair-feature voting.

Drost et al. 2010 (CVPR), with refinements of Vidal et al. 2018: scene reference
points sub-sampled, each scene feature also looked up in the neighbouring bin on
the side its value lies closer to (quantisation noise), and pose clustering of
the peaks. The voting and clustering are C++ (``cpp/include/manif_py/registration/
ppf_voting.h``: GIL released, parallel over scene references, the same result for
any thread count); the model's table is built once by ``prepared.prepare_model``.

Poses are (K, 4, 4) float64 mapping the scan into the model's frame.
"""

from __future__ import annotations

import numpy as np

from .. import _registration as _C
from .prepared import (PPF_ANGLE_BINS, PPF_DISTANCE_BINS, PPF_DISTANCE_STEP, PreparedModel, normals_of,
                       voxel_downsample)
from .preprocess import check_cloud

# Alpha (rotation about the reference normal) is voted in this many bins over 2 pi.
ALPHA_BINS = 30
# Peaks whose poses are within these bounds are one cluster (Drost's clustering).
CLUSTER_ROTATION = np.deg2rad(20.0)
CLUSTER_TRANSLATION = 0.1  # fraction of the diameter
# A scene feature this close (in bins) to a bin edge also votes in the bin across it.
SPREAD_MARGIN = 0.25


def scene_references(n_points: int, reference_fraction: float, max_references: int, seed: int) -> np.ndarray:
    """Sorted indices of the sub-sampled scene reference points (Vidal's sub-sampling, capped:
    the voting cost is linear in them), drawn from ``seed``."""
    n_ref = max(1, min(int(max_references), int(round(reference_fraction * n_points))))
    return np.sort(np.random.default_rng(seed).choice(n_points, n_ref, replace=False)).astype(np.int64)


def vote(prepared: PreparedModel, scene_points, scene_normals, references) -> dict:
    """Per-reference peaks: dict(model_ref, alpha_bin, votes (R,), poses (R, 4, 4) scan -> model)."""
    D = prepared.diameter
    return _C.ppf_vote(prepared.ppf_offsets, prepared.ppf_ref, prepared.ppf_alpha, prepared.global_points,
                       prepared.global_normals, scene_points, scene_normals, references,
                       distance_step=PPF_DISTANCE_STEP * D, distance_bins=PPF_DISTANCE_BINS,
                       angle_bins=PPF_ANGLE_BINS, alpha_bins=ALPHA_BINS, spread_margin=SPREAD_MARGIN,
                       max_distance=D)


def ppf_hypotheses(scan_points, prepared: PreparedModel, *, top_k: int = 8, reference_fraction: float = 0.2,
                   max_references: int = 80, seed: int = 0):
    """Top-K poses (K, 4, 4) of the scan in the model's frame and their votes (K,), best first."""
    if not isinstance(prepared, PreparedModel):
        raise TypeError(f"argument 'prepared' must be a PreparedModel (from prepare_model), got {type(prepared)}")
    scan = check_cloud(scan_points, "scan_points")
    if not isinstance(top_k, (int, np.integer)) or top_k < 1:
        raise ValueError(f"argument 'top_k' must be a positive integer, got {top_k!r}")
    if not isinstance(max_references, (int, np.integer)) or max_references < 1:
        raise ValueError(f"argument 'max_references' must be a positive integer, got {max_references!r}")
    if not 0 < reference_fraction <= 1:
        raise ValueError(f"argument 'reference_fraction' must be in (0, 1], got {reference_fraction}")
    D = prepared.diameter
    sp = voxel_downsample(scan, PPF_DISTANCE_STEP * D)
    if len(sp) < 3:
        raise ValueError("argument 'scan_points': fewer than 3 voxels at the global stage's scale")
    sn = normals_of(sp)
    refs = scene_references(len(sp), reference_fraction, max_references, seed)
    peaks = vote(prepared, sp, sn, refs)
    return _C.ppf_cluster(peaks["poses"], peaks["votes"].astype(np.float64), max_rotation=CLUSTER_ROTATION,
                          max_translation=CLUSTER_TRANSLATION * D, top_k=int(top_k))
