"""Differentiable weighted Procrustes for torch.

``weighted_procrustes(src, tgt, w)`` solves, per batch element,
argmin_{R, t} sum_i w_i |R src_i + t - tgt_i|^2 with det R = +1, and
backpropagates the exact analytic gradient (implicit function theorem on the
optimality condition on SO(3) x R^3; see ``kernels.weighted_procrustes_backward``).
CPU tensors run the C++ kernels; other devices (CUDA) run the same formulas in
torch, with the SVD only in the forward pass.
"""

from __future__ import annotations

from typing import Tuple

import numpy as np
import torch

from .. import kernels as _K

__all__ = ["weighted_procrustes", "WeightedProcrustes"]

# Below this ratio of the smallest to largest eigenvalue of the SO(3) Hessian the
# rotation is not unique; the same thresholds as the C++ kernel.
_DEGENERATE_RATIO = {torch.float32: 1e-6, torch.float64: 1e-10}


def _moments(src, tgt, w):
    """Total weight (B,), centroids (B, 3) and M = sum w (y - y_bar)(s - s_bar)^T (B, 3, 3)."""
    W = w.sum(-1)
    safe = torch.where(W > 0, W, torch.ones_like(W))
    s_bar = (w.unsqueeze(-1) * src).sum(1) / safe.unsqueeze(-1)
    y_bar = (w.unsqueeze(-1) * tgt).sum(1) / safe.unsqueeze(-1)
    ds = src - s_bar.unsqueeze(1)
    dy = tgt - y_bar.unsqueeze(1)
    M = torch.einsum("bp,bpi,bpj->bij", w, dy, ds)
    return W, s_bar, y_bar, ds, dy, M


def _hessian(R, M):
    A = R.transpose(-1, -2) @ M
    A = 0.5 * (A + A.transpose(-1, -2))
    eye = torch.eye(3, dtype=R.dtype, device=R.device)
    return A.diagonal(dim1=-2, dim2=-1).sum(-1)[..., None, None] * eye - A


def _hat(v):
    z = torch.zeros_like(v[..., 0])
    return torch.stack([
        torch.stack([z, -v[..., 2], v[..., 1]], -1),
        torch.stack([v[..., 2], z, -v[..., 0]], -1),
        torch.stack([-v[..., 1], v[..., 0], z], -1)], -2)


def _vee_skew(X):
    return torch.stack([X[..., 2, 1] - X[..., 1, 2], X[..., 0, 2] - X[..., 2, 0], X[..., 1, 0] - X[..., 0, 1]], -1)


def forward_torch(src, tgt, w, eps: float = 1e-8):
    """Pure-torch forward (any device): (R (B, 3, 3), t (B, 3), ok (B,) bool)."""
    W, s_bar, y_bar, _, _, M = _moments(src, tgt, w)
    U, _, Vh = torch.linalg.svd(M)
    d = torch.sign(torch.linalg.det(U @ Vh))
    d = torch.where(d == 0, torch.ones_like(d), d)
    D = torch.diag_embed(torch.stack([torch.ones_like(d), torch.ones_like(d), d], -1))
    R = U @ D @ Vh
    t = y_bar - (R @ s_bar.unsqueeze(-1)).squeeze(-1)
    lam = torch.linalg.eigvalsh(_hessian(R, M))
    ok = (W > eps) & (lam[:, 2] > 0) & (lam[:, 0] > _DEGENERATE_RATIO.get(src.dtype, 1e-6) * lam[:, 2])
    heavy = (W > eps)
    eye = torch.eye(3, dtype=src.dtype, device=src.device).expand_as(R)
    R = torch.where(heavy[:, None, None], R, eye)
    t = torch.where(heavy[:, None], t, torch.zeros_like(t))
    return R, t, ok


def backward_torch(src, tgt, w, R, grad_R, grad_t, eps: float = 1e-8):
    """Pure-torch analytic backward (any device): grad_src, grad_tgt, grad_w."""
    W, s_bar, _, ds, dy, M = _moments(src, tgt, w)
    heavy = (W > eps).to(src.dtype)
    invW = heavy / torch.where(W > eps, W, torch.ones_like(W))
    Rt_gt = (R.transpose(-1, -2) @ grad_t.unsqueeze(-1)).squeeze(-1)
    g_omega = _vee_skew(R.transpose(-1, -2) @ grad_R) - (_hat(s_bar) @ Rt_gt.unsqueeze(-1)).squeeze(-1)
    lam, Q = torch.linalg.eigh(_hessian(R, M))
    floor = _DEGENERATE_RATIO.get(src.dtype, 1e-6) * lam[:, 2:].clamp_min(0)
    keep = (lam > floor) & (lam > 0)
    inv = torch.where(keep, 1.0 / torch.where(keep, lam, torch.ones_like(lam)), torch.zeros_like(lam))
    z = (Q @ (inv.unsqueeze(-1) * (Q.transpose(-1, -2) @ g_omega.unsqueeze(-1)))).squeeze(-1)
    GM = (R @ _hat(z)) * heavy[:, None, None]
    wv = w.unsqueeze(-1)
    g_src = wv * (dy @ GM - (invW[:, None] * Rt_gt).unsqueeze(1))
    g_tgt = wv * (ds @ GM.transpose(-1, -2) + (invW[:, None] * grad_t).unsqueeze(1))
    g_w = torch.einsum("bpi,bij,bpj->bp", dy, GM, ds) + invW[:, None] * (
        (dy * grad_t.unsqueeze(1)).sum(-1) - (ds * Rt_gt.unsqueeze(1)).sum(-1))
    return g_src, g_tgt, g_w


def _np(x: torch.Tensor) -> np.ndarray:
    return x.detach().contiguous().numpy()


class WeightedProcrustes(torch.autograd.Function):
    """autograd Function: (src (B, P, 3), tgt (B, P, 3), w (B, P), eps) -> (R, t, ok)."""

    @staticmethod
    def forward(ctx, src, tgt, w, eps):
        if src.device.type == "cpu":
            R, t, ok = _K.weighted_procrustes(_np(src), _np(tgt), _np(w), eps)
            R, t, ok = torch.from_numpy(R), torch.from_numpy(t), torch.from_numpy(ok)
        else:
            with torch.no_grad():
                R, t, ok = forward_torch(src, tgt, w, eps)
        ctx.save_for_backward(src, tgt, w, R, t)
        ctx.eps = eps
        ctx.mark_non_differentiable(ok)
        return R, t, ok

    @staticmethod
    def backward(ctx, grad_R, grad_t, _grad_ok):
        src, tgt, w, R, t = ctx.saved_tensors
        grad_R = torch.zeros_like(R) if grad_R is None else grad_R
        grad_t = torch.zeros_like(t) if grad_t is None else grad_t
        if src.device.type == "cpu":
            gs, gy, gw = _K.weighted_procrustes_backward(_np(src), _np(tgt), _np(w), _np(R), _np(t), _np(grad_R),
                                                         _np(grad_t), ctx.eps)
            gs, gy, gw = torch.from_numpy(gs), torch.from_numpy(gy), torch.from_numpy(gw)
        else:
            gs, gy, gw = backward_torch(src, tgt, w, R, grad_R, grad_t, ctx.eps)
        return gs, gy, gw, None


def weighted_procrustes(src: torch.Tensor, tgt: torch.Tensor, w: torch.Tensor, eps: float = 1e-8,
                        return_ok: bool = False) -> Tuple[torch.Tensor, ...]:
    """Differentiable weighted Kabsch.

    Args:
        src, tgt: (B, P, 3) float32 or float64 tensors (same dtype and device).
        w: (B, P) non-negative weights.
        eps: total weight at or below which a problem is degenerate (R = I, t = 0).
        return_ok: also return ok (B,) bool (False where the rotation is not unique).

    Returns:
        R (B, 3, 3) and t (B, 3) with R src_i + t ~ tgt_i [, ok].
    """
    for name, x in (("src", src), ("tgt", tgt), ("w", w)):
        if not isinstance(x, torch.Tensor):
            raise TypeError(f"weighted_procrustes: argument '{name}' must be a torch.Tensor, got {type(x).__name__}")
        if x.dtype not in (torch.float32, torch.float64):
            raise TypeError(f"weighted_procrustes: argument '{name}' must be float32 or float64, got {x.dtype}")
    if src.dim() != 3 or src.shape[-1] != 3:
        raise ValueError(f"weighted_procrustes: argument 'src' must have shape (B, P, 3), got {tuple(src.shape)}")
    if tgt.shape != src.shape:
        raise ValueError(f"weighted_procrustes: argument 'tgt' must have shape (B, P, 3) = {tuple(src.shape)} like 'src', "
                         f"got {tuple(tgt.shape)}")
    if w.shape != src.shape[:2]:
        raise ValueError(f"weighted_procrustes: argument 'w' must have shape (B, P) = {tuple(src.shape[:2])}, "
                         f"got {tuple(w.shape)}")
    tgt = tgt.to(src.dtype)
    w = w.to(src.dtype)
    if src.device.type != "cpu":
        bad = ~torch.isfinite(src).all() | ~torch.isfinite(tgt).all() | ~torch.isfinite(w).all() | (w < 0).any()
        if bool(bad):
            raise ValueError("weighted_procrustes: arguments 'src', 'tgt', 'w' must be finite and 'w' non-negative")
    R, t, ok = WeightedProcrustes.apply(src, tgt, w, float(eps))
    return (R, t, ok) if return_ok else (R, t)
