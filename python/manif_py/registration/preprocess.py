"""From raw clouds in any units to the network's frame, and back.

The network works in units of the model's diameter, on clouds centred at their
own centroids and subsampled to fixed sizes. ``Frames`` remembers what was done
so that a pose found there maps back to the user's units:

    Y_n = (Y - c_y) / D,   X_n = (X - c_x) / D,   Y_n ~ R X_n + t_n
    =>  Y ~ R X + (D t_n + c_y - R c_x)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import kernels

MIN_POINTS = 32


def check_cloud(points, name: str) -> np.ndarray:
    """A finite (N, 3) float64 cloud with enough points, or a ValueError naming it."""
    try:
        pts = np.asarray(points, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"argument '{name}' must be an (N, 3) array of numbers") from exc
    if pts.ndim != 2 or pts.shape[1] != 3:
        raise ValueError(f"argument '{name}' must have shape (N, 3), got {pts.shape}")
    if pts.shape[0] < MIN_POINTS:
        raise ValueError(f"argument '{name}' has {pts.shape[0]} points; registration needs at least {MIN_POINTS}")
    bad = ~np.isfinite(pts).all(axis=1)
    if bad.any():
        raise ValueError(f"argument '{name}' has {int(bad.sum())} points with NaN or inf coordinates "
                         f"(first at index {int(np.argmax(bad))}); remove them first")
    return pts


def diameter(points: np.ndarray) -> float:
    """Bounding-box diagonal: the size unit of the whole pipeline."""
    return float(np.linalg.norm(points.max(axis=0) - points.min(axis=0)))


def degeneracy(points: np.ndarray) -> float:
    """Smallest over largest standard deviation along the principal axes (0 for a plane or a line)."""
    centred = points - points.mean(axis=0)
    s = np.linalg.svd(centred, compute_uv=False) / np.sqrt(len(points))
    return float(s[-1] / max(s[0], 1e-300))


def subsample(points: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """Indices of n points: without replacement when there are enough, else all plus repeats."""
    m = len(points)
    if m >= n:
        return np.sort(rng.choice(m, n, replace=False))
    return np.concatenate([np.arange(m), rng.choice(m, n - m, replace=True)])


def unoriented_normals(points: np.ndarray, k: int = 16) -> np.ndarray:
    """PCA normals; their sign does not matter to the network's features."""
    return kernels.estimate_normals(np.ascontiguousarray(points), k=k)


@dataclass
class Frames:
    """The normalisation applied to a (source, model) pair."""

    source_centre: np.ndarray
    model_centre: np.ndarray
    scale: float  # the model's diameter

    def normalise_source(self, pts):
        return (pts - self.source_centre) / self.scale

    def normalise_model(self, pts):
        return (pts - self.model_centre) / self.scale

    def to_user(self, T_n: np.ndarray) -> np.ndarray:
        """A 4x4 pose between normalised clouds -> the same pose between the user's clouds."""
        R, t_n = T_n[:3, :3], T_n[:3, 3]
        T = np.eye(4)
        T[:3, :3] = R
        T[:3, 3] = self.scale * t_n + self.model_centre - R @ self.source_centre
        return T

    def to_normalised(self, T: np.ndarray) -> np.ndarray:
        R, t = T[:3, :3], T[:3, 3]
        T_n = np.eye(4)
        T_n[:3, :3] = R
        T_n[:3, 3] = (t - self.model_centre + R @ self.source_centre) / self.scale
        return T_n


def frames_for(source: np.ndarray, model: np.ndarray) -> Frames:
    return Frames(source.mean(axis=0), model.mean(axis=0), diameter(model))
