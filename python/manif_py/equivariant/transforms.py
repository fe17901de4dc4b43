"""Affine-transformed test sets: affNIST-like, SL(2)-only and wide-rotation.

Maps act on centred pixel coordinates p = (col - (S-1)/2, row - (S-1)/2) of the
S x S canvas: p_out = A p_in + t with

    A = R(angle) @ [[1, shear], [0, 1]] @ diag(sx, sy).

``warp_affine`` takes the inverse map in normalised coordinates
(align_corners=False: p_norm = 2 p / S), so theta = [A^-1 | -A^-1 (2 t / S)].

Families (the exact ranges; docs/equivariant.md repeats them):
  affnist:  angle ~ U[-20, 20] deg, shear ~ U[-0.2, 0.2], sx, sy ~ U[0.8, 1.2]
            independently, t uniform over the translations that keep the
            digit's transformed bounding box on the canvas.
  sl:       det A = 1: angle ~ U[-180, 180] deg, shear ~ U[-0.3, 0.3],
            sx = 1/sy = exp(U[-log 1.3, log 1.3]); t = 0.
  rotation: angle ~ U[-180, 180] deg, A = R(angle), t = 0.
Draws whose transformed bounding box would leave the canvas are redrawn.
Magnitude per image: ||A - I||_F for affnist and sl; |angle| in degrees for rotation.
"""
from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

FAMILIES = ("affnist", "sl", "rotation")
MAGNITUDE_LABEL = {"affnist": "||A - I||_F", "sl": "||A - I||_F", "rotation": "|rotation| (degrees)"}
# A fixed seed offset per family, so the sets are independent yet each reproducible.
_FAMILY_SEED = {"affnist": 101, "sl": 202, "rotation": 303}


def _warp_backend():
    try:
        from .. import decomp
    except Exception:  # extension not built here
        return None
    return getattr(decomp, "warp_affine", None)


def warp_affine(images: np.ndarray, theta: np.ndarray) -> np.ndarray:
    """Bilinear, zero-padded warp: images (N, C, H, W) float32, theta (N, 2, 3) -> (N, C, H, W).

    ``manif_py.decomp.warp_affine`` (C++) when built; else the identical
    torch grid_sample(affine_grid(theta), align_corners=False).
    """
    fn = _warp_backend()
    if fn is not None:
        return np.asarray(fn(np.ascontiguousarray(images), np.ascontiguousarray(theta, dtype=images.dtype)))
    x = torch.from_numpy(np.ascontiguousarray(images))
    return warp_tensor(x, torch.from_numpy(np.ascontiguousarray(theta, dtype=images.dtype))).numpy()


def warp_tensor(x: torch.Tensor, theta: torch.Tensor) -> torch.Tensor:
    """The same warp on torch tensors (any device, differentiable): x (N, C, H, W), theta (N, 2, 3)."""
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


def bounding_boxes(images: np.ndarray, threshold: float = 0.0) -> np.ndarray:
    """(N, S, S) or (N, 1, S, S) -> (N, 4) = (x_min, x_max, y_min, y_max) of pixels > threshold, centred
    pixel coordinates extended by half a pixel (the pixels' outer edges)."""
    images = np.asarray(images)
    if images.ndim == 4:
        images = images[:, 0]
    n, s, _ = images.shape
    c = (s - 1) / 2.0
    on = images > threshold
    cols, rows = on.any(1), on.any(2)
    if not cols.any(1).all():
        raise ValueError("argument 'images' must not contain blank images (no pixel above threshold)")
    x0 = cols.argmax(1) - c - 0.5
    x1 = s - 1 - cols[:, ::-1].argmax(1) - c + 0.5
    y0 = rows.argmax(1) - c - 0.5
    y1 = s - 1 - rows[:, ::-1].argmax(1) - c + 0.5
    return np.stack([x0, x1, y0, y1], 1).astype(np.float64)


def _linear_part(angle, shear, sx, sy):
    c, s = np.cos(angle), np.sin(angle)
    R = np.stack([np.stack([c, -s], -1), np.stack([s, c], -1)], -2)
    Sh = np.zeros_like(R)
    Sh[:, 0, 0] = Sh[:, 1, 1] = 1.0
    Sh[:, 0, 1] = shear
    D = np.zeros_like(R)
    D[:, 0, 0], D[:, 1, 1] = sx, sy
    return R @ Sh @ D


def _draw(family: str, n: int, rng: np.random.Generator):
    deg = math.pi / 180.0
    if family == "affnist":
        angle = rng.uniform(-20, 20, n) * deg
        shear = rng.uniform(-0.2, 0.2, n)
        sx, sy = rng.uniform(0.8, 1.2, n), rng.uniform(0.8, 1.2, n)
    elif family == "sl":
        angle = rng.uniform(-180, 180, n) * deg
        shear = rng.uniform(-0.3, 0.3, n)
        sx = np.exp(rng.uniform(-math.log(1.3), math.log(1.3), n))
        sy = 1.0 / sx
    elif family == "rotation":
        angle = rng.uniform(-180, 180, n) * deg
        shear, sx, sy = np.zeros(n), np.ones(n), np.ones(n)
    else:
        raise ValueError(f"argument 'family' must be one of {FAMILIES}, got {family!r}")
    return dict(angle=angle, shear=shear, sx=sx, sy=sy)


def sample_transforms(family: str, boxes: np.ndarray, canvas: int, rng: np.random.Generator, max_tries: int = 100):
    """One transform per box: (A (N, 2, 2), t (N, 2), params dict of (N,) arrays), boxes kept on the canvas."""
    n = len(boxes)
    half = canvas / 2.0
    params = {k: np.zeros(n) for k in ("angle", "shear", "sx", "sy", "tx", "ty")}
    A = np.zeros((n, 2, 2))
    t = np.zeros((n, 2))
    todo = np.arange(n)
    for _ in range(max_tries):
        if len(todo) == 0:
            break
        p = _draw(family, len(todo), rng)
        a = _linear_part(p["angle"], p["shear"], p["sx"], p["sy"])
        b = boxes[todo]
        corners = np.stack([np.stack([b[:, i], b[:, j]], -1) for i in (0, 1) for j in (2, 3)], 1)   # (n, 4, 2)
        moved = np.einsum("nij,nkj->nki", a, corners)
        lo, hi = moved.min(1), moved.max(1)                    # (n, 2)
        t_lo, t_hi = -half - lo, half - hi                     # translations keeping the box inside
        fits = (t_lo <= t_hi).all(1)
        if family == "affnist":
            tt = rng.uniform(size=(len(todo), 2)) * np.maximum(t_hi - t_lo, 0.0) + t_lo
        else:
            tt = np.zeros((len(todo), 2))
            fits &= (t_lo <= 0).all(1) & (t_hi >= 0).all(1)
        ok = todo[fits]
        A[ok], t[ok] = a[fits], tt[fits]
        for k in ("angle", "shear", "sx", "sy"):
            params[k][ok] = p[k][fits]
        params["tx"][ok], params["ty"][ok] = tt[fits, 0], tt[fits, 1]
        todo = todo[~fits]
    if len(todo):
        raise ValueError(f"could not place {len(todo)} digits on the {canvas} x {canvas} canvas for family {family!r}")
    return A, t, params


def theta_from(A: np.ndarray, t: np.ndarray, canvas: int) -> np.ndarray:
    """Normalised inverse maps (N, 2, 3) for warp_affine from the forward maps p -> A p + t in pixels."""
    A_inv = np.linalg.inv(A)
    shift = -np.einsum("nij,nj->ni", A_inv, t * (2.0 / canvas))
    return np.concatenate([A_inv, shift[:, :, None]], -1)


def magnitude(family: str, A: np.ndarray, params: dict) -> np.ndarray:
    if family == "rotation":
        return np.abs(np.degrees(params["angle"]))
    return np.linalg.norm(A - np.eye(2), axis=(1, 2))


def make_test_set(family: str, images: np.ndarray, labels: np.ndarray, per_digit: int, seed: int = 0) -> dict:
    """``per_digit`` transformed copies of every digit.

    images (N, 1, S, S) float32, labels (N,) -> dict with images (N * per_digit, 1, S, S) float32,
    labels, digit (N * per_digit,) index of the source digit, magnitude (N * per_digit,),
    params (dict of (N * per_digit,) arrays: angle [rad], shear, sx, sy, tx, ty [pixels]), A, t.
    Deterministic in ``seed``; the copies of digit i are rows i * per_digit ... (i + 1) * per_digit - 1.
    """
    images = np.asarray(images, dtype=np.float32)
    if images.ndim != 4 or images.shape[1] != 1 or images.shape[2] != images.shape[3]:
        raise ValueError(f"argument 'images' must have shape (N, 1, S, S), got {images.shape}")
    if len(images) == 0 or len(labels) != len(images):
        raise ValueError(f"argument 'labels' must have shape ({len(images)},) and N >= 1, got {np.shape(labels)}")
    if per_digit < 1:
        raise ValueError(f"argument 'per_digit' must be >= 1, got {per_digit}")
    canvas = images.shape[-1]
    rng = np.random.default_rng([_FAMILY_SEED.get(family, 0), seed])
    digit = np.repeat(np.arange(len(images)), per_digit)
    boxes = bounding_boxes(images)[digit]
    A, t, params = sample_transforms(family, boxes, canvas, rng)
    out = warp_affine(images[digit], theta_from(A, t, canvas).astype(np.float32))
    return dict(family=family, images=out.astype(np.float32), labels=np.asarray(labels)[digit], digit=digit,
                magnitude=magnitude(family, A, params), magnitude_label=MAGNITUDE_LABEL[family],
                params=params, A=A, t=t)
