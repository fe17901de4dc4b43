"""The point-cloud record shared by the shape generator, the views and the file readers,
plus the input checks they all use (numpy only)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np


@dataclass
class PointCloud:
    """A point cloud with optional per-point attributes.

    points   (N, 3) float64
    normals  (N, 3) float64 unit vectors, or None
    colors   (N, 3) float64 in [0, 1], or None
    name     a free-form label (for generated objects: family and parameters)
    diameter the bounding-box diagonal of ``points`` (1.0 for generated objects)
    dropped  how many points the file reader dropped as NaN/inf (drop_invalid=True)
    """

    points: np.ndarray
    normals: Optional[np.ndarray] = None
    colors: Optional[np.ndarray] = None
    name: str = ""
    diameter: float = 0.0
    dropped: int = 0  # points a reader dropped for NaN/inf (drop_invalid=True)

    def __post_init__(self):
        self.points = as_points(self.points, "points")
        n = len(self.points)
        if self.normals is not None:
            self.normals = as_points(self.normals, "normals", n=n)
        if self.colors is not None:
            self.colors = as_points(self.colors, "colors", n=n)
        if not self.diameter:
            self.diameter = bbox_diagonal(self.points)

    def __len__(self) -> int:
        return len(self.points)


def bbox_diagonal(points: np.ndarray) -> float:
    """Length of the axis-aligned bounding-box diagonal of (N, 3) points."""
    return float(np.linalg.norm(points.max(axis=0) - points.min(axis=0)))


def as_rng(seed_or_rng) -> np.random.Generator:
    """An np.random.Generator from an int seed (or a Generator, returned as is)."""
    if isinstance(seed_or_rng, np.random.Generator):
        return seed_or_rng
    if isinstance(seed_or_rng, (bool, np.bool_)) or not isinstance(seed_or_rng, (int, np.integer)):
        raise TypeError(f"'rng' must be an int seed or np.random.Generator, got {type(seed_or_rng).__name__}")
    if seed_or_rng < 0:
        raise ValueError(f"'rng' seed must be >= 0, got {seed_or_rng}")
    return np.random.default_rng(int(seed_or_rng))


def as_points(x, name: str, n: Optional[int] = None, min_points: int = 1) -> np.ndarray:
    """Checked (N, 3) float64 C-contiguous copy-if-needed of `x`.

    Raises TypeError for non-numeric input, ValueError for a wrong shape, too few rows
    or non-finite values; every message names the argument and the expected shape."""
    expected = f"(N, 3)" if n is None else f"({n}, 3)"
    try:
        arr = np.asarray(x)
    except Exception as exc:  # ragged lists and the like
        raise TypeError(f"'{name}' must be an array of shape {expected}: {exc}") from None
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.integer)):
        raise TypeError(f"'{name}' must be a real numeric array of shape {expected}, got dtype {arr.dtype}")
    if arr.ndim != 2 or arr.shape[1] != 3 or (n is not None and arr.shape[0] != n):
        raise ValueError(f"'{name}' must have shape {expected}, got {arr.shape}")
    if arr.shape[0] < min_points:
        raise ValueError(f"'{name}' must have at least {min_points} point(s) (shape {expected}), got {arr.shape}")
    arr = np.ascontiguousarray(arr, dtype=np.float64)
    if not np.isfinite(arr).all():
        raise ValueError(f"'{name}' (shape {expected}) contains NaN or inf")
    return arr


def check_mesh(vertices, faces, path="mesh"):
    """Checked (vertices (V, 3) float64, faces (F, 3) int64 indexing them), or a ValueError /
    TypeError naming the argument (``path`` names the file in the message)."""
    v = as_points(vertices, "vertices")
    f = np.asarray(faces)
    if f.ndim != 2 or f.shape[1] != 3 or len(f) == 0:
        raise ValueError(f"'faces' must have shape (F, 3) with F >= 1, got {f.shape} ({path})")
    if not np.issubdtype(f.dtype, np.integer):
        if not np.issubdtype(f.dtype, np.floating) or not np.all(f == np.round(f)):
            raise TypeError(f"'faces' must be an integer array of shape (F, 3), got dtype {f.dtype} ({path})")
    f = f.astype(np.int64)
    if f.min() < 0 or f.max() >= len(v):
        raise ValueError(f"'faces' (F, 3) index vertices out of range [0, {len(v)}) ({path})")
    return v, f
