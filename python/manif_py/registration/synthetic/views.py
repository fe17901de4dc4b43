"""Views and perturbations of point clouds: hidden-point removal, half-space crops,
jitter, outliers, resampling and random rigid motions (numpy + scipy only).

Every random function takes ``rng``: an int seed or an np.random.Generator, and is
deterministic given it.  Selections return indices, so normals and colours can follow.
"""

from __future__ import annotations

import math
from typing import Optional

import numpy as np
from scipy.spatial import ConvexHull
from scipy.spatial import QhullError

from ...pointcloud.cloud import as_points, as_rng

ROTATION_MODES = ("euler", "euler_symmetric", "axis_angle")


def _positive(value, name, allow_zero=False):
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"'{name}' must be a real number, got {type(value).__name__}") from None
    if not math.isfinite(v) or v < 0 or (v == 0 and not allow_zero):
        raise ValueError(f"'{name}' must be a finite number {'>=' if allow_zero else '>'} 0, got {value!r}")
    return v


def hidden_point_removal(points, viewpoint, radius_factor: float = 100.0) -> np.ndarray:
    """Indices of the points visible from `viewpoint` (Katz, Tal, Basri 2007).

    points (N, 3), viewpoint (3,).  Points are flipped through a sphere of radius
    R = radius_factor * max |p - viewpoint| centred at the viewpoint; the visible ones are
    the vertices of the convex hull of the flipped set and the viewpoint.  Larger
    radius_factor keeps fewer points near silhouettes.  Returns sorted int64 indices."""
    pts = as_points(points, "points", min_points=4)
    vp = np.asarray(viewpoint, dtype=np.float64)
    if vp.shape != (3,) or not np.isfinite(vp).all():
        raise ValueError(f"'viewpoint' must be a finite array of shape (3,), got shape {vp.shape}")
    factor = _positive(radius_factor, "radius_factor")
    rel = pts - vp
    norm = np.linalg.norm(rel, axis=1)
    if norm.min() <= 1e-12 * max(norm.max(), 1e-300):
        raise ValueError("'viewpoint' coincides with a point of 'points': no view direction there")
    R = factor * norm.max()
    flipped = rel * (2.0 * R / norm - 1.0)[:, None]
    try:
        hull = ConvexHull(np.vstack([flipped, np.zeros((1, 3))]))
    except QhullError as exc:
        raise ValueError(f"'points' are degenerate for hidden_point_removal (coplanar or collinear): {exc}") from None
    visible = hull.vertices[hull.vertices < len(pts)]
    return np.sort(visible).astype(np.int64)


def random_direction(rng) -> np.ndarray:
    """A uniformly random unit vector (3,)."""
    rng = as_rng(rng)
    v = rng.standard_normal(3)
    while np.linalg.norm(v) < 1e-9:
        v = rng.standard_normal(3)
    return v / np.linalg.norm(v)


def random_viewpoint(rng, distance: float = 2.0) -> np.ndarray:
    """A camera position (3,) uniformly on the sphere of radius `distance` about the
    origin (objects are centred there with diameter 1, so 2.0 sees them whole)."""
    return random_direction(rng) * _positive(distance, "distance")


def crop_half_space(points, rng, keep: float = 0.7) -> np.ndarray:
    """RPM-Net crop: indices of the round(keep * N) points farthest along a random unit
    direction from the centroid (the part a plane through it, shifted to keep that
    fraction, leaves on the positive side).  points (N, 3) -> sorted int64 indices."""
    pts = as_points(points, "points")
    keep = _positive(keep, "keep")
    if keep > 1.0:
        raise ValueError(f"'keep' must be a fraction in (0, 1], got {keep}")
    direction = random_direction(rng)
    height = (pts - pts.mean(0)) @ direction
    m = max(1, int(round(keep * len(pts))))
    chosen = np.argsort(-height, kind="stable")[:m]
    return np.sort(chosen).astype(np.int64)


def add_noise(points, rng, sigma: float = 0.01, clip: float = 0.05) -> np.ndarray:
    """points (N, 3) plus Gaussian jitter N(0, sigma^2) per coordinate clipped to
    [-clip, clip] (RPM-Net: sigma 0.01, clip 0.05 for unit-size objects).  New array."""
    pts = as_points(points, "points", min_points=0)
    sigma = _positive(sigma, "sigma", allow_zero=True)
    clip = _positive(clip, "clip", allow_zero=True)
    rng = as_rng(rng)
    return pts + np.clip(sigma * rng.standard_normal(pts.shape), -clip, clip)


def add_outliers(points, rng, fraction: float, box_scale: float = 1.0) -> np.ndarray:
    """points (N, 3) followed by round(fraction * N) outliers drawn uniformly in the
    points' bounding box scaled by `box_scale` about its centre: (N + M, 3), outliers last."""
    pts = as_points(points, "points")
    fraction = _positive(fraction, "fraction", allow_zero=True)
    box_scale = _positive(box_scale, "box_scale")
    rng = as_rng(rng)
    m = int(round(fraction * len(pts)))
    lo, hi = pts.min(0), pts.max(0)
    centre, half = 0.5 * (lo + hi), 0.5 * (hi - lo) * box_scale
    out = centre + (rng.random((m, 3)) * 2.0 - 1.0) * half
    return np.concatenate([pts, out])


def euler_rotation(angles_rad) -> np.ndarray:
    """R = Rx(a) Ry(b) Rz(c) for angles (a, b, c) in radians (the DCP / RPM-Net order)."""
    a, b, c = np.asarray(angles_rad, dtype=np.float64)
    ca, sa, cb, sb, cc, sc = math.cos(a), math.sin(a), math.cos(b), math.sin(b), math.cos(c), math.sin(c)
    Rx = np.array([[1, 0, 0], [0, ca, -sa], [0, sa, ca]])
    Ry = np.array([[cb, 0, sb], [0, 1, 0], [-sb, 0, cb]])
    Rz = np.array([[cc, -sc, 0], [sc, cc, 0], [0, 0, 1]])
    return Rx @ Ry @ Rz


def axis_angle_rotation(axis, angle: float) -> np.ndarray:
    """Rodrigues: rotation by `angle` (radians) about unit `axis` (3,)."""
    k = np.asarray(axis, dtype=np.float64)
    k = k / np.linalg.norm(k)
    K = np.array([[0, -k[2], k[1]], [k[2], 0, -k[0]], [-k[1], k[0], 0]])
    return np.eye(3) + math.sin(angle) * K + (1.0 - math.cos(angle)) * (K @ K)


def random_rotation(rng, max_angle_deg: Optional[float] = None, mode: str = "euler") -> np.ndarray:
    """A random rotation matrix (3, 3).

    max_angle_deg None: Haar-uniform over SO(3) (normalised Gaussian quaternion).
    Otherwise, by `mode`:
      "euler"           RPM-Net / DCP: angles uniform in [0, max] about x, y, z,
                        R = Rx Ry Rz (their code draws non-negative angles only);
      "euler_symmetric" the same with angles uniform in [-max, max];
      "axis_angle"      isotropic: a uniform axis and an angle uniform in [0, max]."""
    rng = as_rng(rng)
    if mode not in ROTATION_MODES:
        raise ValueError(f"'mode' must be one of {ROTATION_MODES}, got {mode!r}")
    if max_angle_deg is None:
        q = rng.standard_normal(4)
        while np.linalg.norm(q) < 1e-9:
            q = rng.standard_normal(4)
        return axis_angle_rotation(*_quaternion_axis_angle(q / np.linalg.norm(q)))
    limit = math.radians(_positive(max_angle_deg, "max_angle_deg", allow_zero=True))
    if mode == "euler":
        return euler_rotation(rng.random(3) * limit)
    if mode == "euler_symmetric":
        return euler_rotation((rng.random(3) * 2.0 - 1.0) * limit)
    return axis_angle_rotation(random_direction(rng), rng.random() * limit)


def _quaternion_axis_angle(q):
    x, y, z, w = q
    s = math.sqrt(x * x + y * y + z * z)
    if s < 1e-12:
        return np.array([1.0, 0.0, 0.0]), 0.0
    return np.array([x, y, z]) / s, 2.0 * math.atan2(s, w)


def random_transform(rng, max_angle_deg: Optional[float] = 45.0, max_translation: float = 0.5, mode: str = "euler") -> np.ndarray:
    """A random rigid motion as a 4x4 matrix: rotation from random_rotation(rng,
    max_angle_deg, mode) (None: Haar-uniform) and translation uniform in
    [-max_translation, max_translation] per axis."""
    rng = as_rng(rng)
    T = np.eye(4)
    T[:3, :3] = random_rotation(rng, max_angle_deg, mode)
    T[:3, 3] = (rng.random(3) * 2.0 - 1.0) * _positive(max_translation, "max_translation", allow_zero=True)
    return T


def transform_points(T, points) -> np.ndarray:
    """R p + t for a 4x4 T and points (N, 3)."""
    T = np.asarray(T, dtype=np.float64)
    if T.shape != (4, 4) or not np.isfinite(T).all():
        raise ValueError(f"'T' must be a finite array of shape (4, 4), got {T.shape}")
    pts = as_points(points, "points", min_points=0)
    return pts @ T[:3, :3].T + T[:3, 3]
