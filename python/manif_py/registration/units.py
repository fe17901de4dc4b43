"""Is the scan a view of this model, in the same units? Checks made before any pose is sought.

A scan is part of its model's surface, so its size can only be a little larger than the
model's (noise, clutter) and is rarely far smaller (a partial view covers a good share of
the object). Sizes are compared by ``extent``, which does not depend on the clouds'
orientations (the scan arrives at an unknown rotation), so the rules below hold for any pose:

- more than ``MAX_SIZE_RATIO`` times larger, or under ``MIN_SIZE_RATIO`` of the model:
  refused (ValueError): different units (mm against m, cm against m), not a registration;
- under ``SMALL_SCAN_RATIO`` of the model: flagged, the scan shows too little of it;
- more points than the model: flagged. A model is the dense one of the two; a scan denser
  than its model is most often the two arguments swapped (a 70% crop keeps nearly the whole
  width of the object, so size alone cannot tell a swap; the counts can);
- larger than the model by ``SWAPPED_RATIO``: flagged whatever the counts, as a scan cannot
  be much larger than the object it shows (noise and clutter in the scan's box add at most
  ~7% on realistic scans).
"""

from __future__ import annotations

import numpy as np

MAX_SIZE_RATIO = 3.0
MIN_SIZE_RATIO = 0.02  # 1/50: mm vs m is 1/1000, cm vs m 1/100, inch vs m 1/39 is flagged below
SMALL_SCAN_RATIO = 0.2
SWAPPED_RATIO = 1.25
# Widths are taken between these quantiles, so that a few stray points do not set the size.
_QUANTILES = (0.005, 0.995)
_MAX_POINTS = 4096  # the extent of a cloud this size already settles to about 1%


def _directions(count: int = 128) -> np.ndarray:
    """Unit vectors spread evenly over a half-sphere (a Fibonacci lattice): width is symmetric."""
    i = np.arange(count) + 0.5
    z = i / count  # cos of the polar angle in (0, 1): one hemisphere
    phi = np.pi * (1.0 + 5.0 ** 0.5) * i
    r = np.sqrt(1.0 - z * z)
    return np.stack([r * np.cos(phi), r * np.sin(phi), z], axis=1)


_DIRECTIONS = _directions()


def extent(points: np.ndarray) -> float:
    """The cloud's largest width (N, 3) -> float: over 128 directions and the principal axes,
    between its 0.5% and 99.5% quantiles. Close to the true diameter (the largest distance
    between two points), and like it independent of the cloud's orientation."""
    pts = np.asarray(points, dtype=np.float64)
    if len(pts) > _MAX_POINTS:  # an even stride: deterministic, and keeps the cloud's shape
        pts = pts[:: int(np.ceil(len(pts) / _MAX_POINTS))]
    centred = pts - pts.mean(axis=0)
    _, _, axes = np.linalg.svd(centred, full_matrices=False)
    proj = centred @ np.concatenate([_DIRECTIONS, axes]).T
    lo, hi = np.quantile(proj, _QUANTILES, axis=0)
    return float(np.max(hi - lo))


def check_units(source: np.ndarray, model: np.ndarray) -> list:
    """Warnings (a list of strings, empty when all is well) about the scan ``source`` (N, 3)
    against the ``model`` (M, 3); ValueError when their sizes differ so much that their units
    must differ. Any warning means the result cannot be confident."""
    size_src, size_model = extent(source), extent(model)
    if not (size_src > 0 and size_model > 0):
        raise ValueError("argument 'source'/'model': all points coincide; there is nothing to register")
    ratio = size_src / size_model
    if ratio > MAX_SIZE_RATIO or ratio < MIN_SIZE_RATIO:
        raise ValueError(f"the scan's size ({size_src:.4g}) and the model's ({size_model:.4g}) differ by a factor "
                         f"{max(ratio, 1.0 / ratio):.3g}: are they in the same units (for example mm against m)?")
    warnings = []
    if ratio < SMALL_SCAN_RATIO:
        warnings.append(f"the scan spans {ratio:.3g} of the model's size: too little of the object to fix its pose, "
                        "or the two are not in the same units")
    if len(source) > len(model):
        warnings.append(f"the scan has more points than the model ({len(source)} against {len(model)}): are the "
                        "arguments swapped? (estimate_pose(scan, model), the model being the dense, whole object)")
    if ratio > SWAPPED_RATIO:
        warnings.append(f"the scan is {ratio:.3g} times the model's size, larger than the object it should be part of: "
                        "are the arguments swapped, or is this a scan of another object?")
    return warnings
