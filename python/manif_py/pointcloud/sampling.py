"""Drawing points: area-uniform samples of a triangle mesh, and resampling a cloud to a
fixed size (numpy only)."""

from __future__ import annotations

import numpy as np

from .cloud import PointCloud, as_points, as_rng, check_mesh



def sample_mesh(vertices, faces, n: int, seed=0) -> PointCloud:
    """n area-uniform samples of a triangle mesh: vertices (V, 3), faces (F, 3) ->
    PointCloud with points (n, 3) and the unit face normals (n, 3) (counter-clockwise
    faces give outward normals).  Zero-area faces are never drawn."""
    v, f = check_mesh(vertices, faces)
    if isinstance(n, (bool, np.bool_)) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"'n' must be an int >= 1, got {n!r}")
    rng = as_rng(seed)
    a, b, c = v[f[:, 0]], v[f[:, 1]], v[f[:, 2]]
    cross = np.cross(b - a, c - a)
    area2 = np.linalg.norm(cross, axis=1)
    if not area2.max() > 0.0:
        raise ValueError("'faces' (F, 3) are all degenerate (zero total area): nothing to sample")
    cum = np.cumsum(area2)
    k = np.minimum(np.searchsorted(cum, rng.random(n) * cum[-1], side="right"), len(f) - 1)
    r1, r2 = np.sqrt(rng.random(n)), rng.random(n)
    pts = (1.0 - r1)[:, None] * a[k] + (r1 * (1.0 - r2))[:, None] * b[k] + (r1 * r2)[:, None] * c[k]
    normals = cross[k] / area2[k][:, None]
    return PointCloud(pts, normals, None, "mesh samples")


def resample(points, n: int, rng) -> np.ndarray:
    """Indices (n,) int64 of n points drawn from points (N, 3): without replacement when
    n <= N (a random subset in random order), else all N points once plus n - N drawn
    with replacement (then shuffled)."""
    pts = as_points(points, "points")
    if isinstance(n, (bool, np.bool_)) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"'n' must be an int >= 1, got {n!r}")
    rng = as_rng(rng)
    N = len(pts)
    if n <= N:
        return rng.permutation(N)[:n].astype(np.int64)
    idx = np.concatenate([np.arange(N), rng.integers(0, N, n - N)])
    return rng.permutation(idx).astype(np.int64)
