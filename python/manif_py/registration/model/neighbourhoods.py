"""Neighbourhoods and point-pair features for the network, on torch tensors.

The neighbour search is the expensive, non-differentiable part: on CPU it runs
in the C++ kd-tree (``kernels.knn_batch``); elsewhere in torch. The features are
gathered in torch so that they follow the points' device and dtype.
"""

from __future__ import annotations

import torch


def knn_indices(points: torch.Tensor, k: int) -> torch.Tensor:
    """Indices (B, N, k) of each point's k nearest other points in the same cloud (B, N, 3)."""
    if points.ndim != 3 or points.shape[-1] != 3:
        raise ValueError(f"knn_indices: argument 'points' must have shape (B, N, 3), got {tuple(points.shape)}")
    n = points.shape[1]
    if n < k + 1:
        raise ValueError(f"knn_indices: a cloud needs at least k + 1 = {k + 1} points, got {n}")
    pts = points.detach()
    if pts.device.type == "cpu":
        from .. import kernels

        idx, _ = kernels.knn_batch(pts.numpy(), pts.numpy(), k + 1)
        idx = torch.from_numpy(idx)
    else:
        idx = torch.cdist(pts, pts).topk(k + 1, dim=-1, largest=False).indices
    return idx[..., 1:].contiguous()  # drop the point itself


def _gather(values: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
    """values (B, N, C), idx (B, N, k) -> (B, N, k, C)."""
    b, n, k = idx.shape
    flat = idx.reshape(b, n * k, 1).expand(-1, -1, values.shape[-1])
    return torch.gather(values, 1, flat).reshape(b, n, k, values.shape[-1])


def _line_angle(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Angle in [0, pi/2] between the lines along a and b.

    Normals estimated from a scan have no reliable sign, so the features use the
    angle between lines, not vectors: flipping a normal changes nothing.
    atan2(|a x b|, |a . b|) is accurate near 0 and pi/2, where acos is not.
    """
    return torch.atan2(torch.linalg.norm(torch.cross(a, b, dim=-1), dim=-1), (a * b).sum(-1).abs())


def point_pair_features(points, normals, idx, radius):
    """Sign-free PPF (B, N, k, 4) and offsets (B, N, k, 3) of each point with its neighbours.

    Neighbours farther than ``radius`` are replaced by the nearest neighbour, so
    a sparse region keeps k entries without reaching across the object.
    """
    nearest = idx[..., :1].expand_as(idx)
    neigh_pts = _gather(points, idx)
    d = neigh_pts - points.unsqueeze(2)
    far = (d.detach().square().sum(-1) > radius * radius)
    if bool(far.any()):
        idx = torch.where(far, nearest, idx)
        neigh_pts = _gather(points, idx)
        d = neigh_pts - points.unsqueeze(2)
    ni = normals.unsqueeze(2).expand_as(d)
    nj = _gather(normals, idx)
    dist = torch.linalg.norm(d, dim=-1)
    ppf = torch.stack([dist / radius, _line_angle(ni, d), _line_angle(nj, d), _line_angle(ni, nj)], dim=-1)
    return ppf, d
