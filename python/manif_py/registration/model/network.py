"""The surrogate registration network: DCP with RPM-Net-style local features.

Given a source cloud X and a target cloud Y (both with unit normals), the
network predicts the rigid motion (R, t) that maps X onto Y:

1. Local features (RPM-Net): for every point, its k nearest neighbours within a
   radius give point-pair features PPF = (|d|, angle(n_i, d), angle(n_j, d),
   angle(n_i, n_j)) and offsets d = x_j - x_i; a shared MLP and a max over the
   neighbours turn them into a descriptor. The PPF part is invariant to rigid
   motions, which is what lets one network see any rotation; the xyz and offset
   part is not, which is what lets the denoiser tell a nearly aligned input from
   a raw one.
2. One attention block (DCP's Transformer, 4 heads): self-attention within each
   cloud, then cross-attention to the other one.
3. Soft correspondences: each source point's match is the softmax-weighted mean
   of the target points, with a learned temperature and a learned confidence per
   source point (partial scans have points with no partner).
4. A weighted Procrustes solve (C++, analytic gradient) gives (R, t).

No time-step input: as in the paper, the same network serves every diffusion
step, and serves as the one-shot baseline.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
from torch import nn

from .neighbourhoods import knn_indices, point_pair_features
from .procrustes_torch import weighted_procrustes


@dataclass(frozen=True)
class NetworkConfig:
    """Sizes of the registration network (saved with every checkpoint)."""

    # Sized for training on a 2-core CPU; the published DCP/RPM-Net widths are
    # 96-d descriptors over 64 neighbours.
    neighbours: int = 16  # k of the local features
    radius: float = 0.2  # neighbourhood radius, in units of the object diameter
    feature_dim: int = 64  # descriptor width
    local_width: int = 32  # hidden width of the per-neighbour MLP
    heads: int = 4
    ffn_width: int = 128
    n_source: int = 256  # points the network sees (training and inference alike:
    n_model: int = 384  # the neighbourhoods' scale depends on the density)

    def to_dict(self):
        return asdict(self)


def _mlp(widths, final_activation=False):
    layers = []
    for i in range(len(widths) - 1):
        layers.append(nn.Linear(widths[i], widths[i + 1]))
        if i < len(widths) - 2 or final_activation:
            layers.append(nn.LayerNorm(widths[i + 1]))
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


class LocalFeatures(nn.Module):
    """Per-point descriptors from the point's neighbourhood (RPM-Net style)."""

    def __init__(self, cfg: NetworkConfig):
        super().__init__()
        self.cfg = cfg
        # per neighbour: offset d (3) and PPF (4)
        self.neighbour_mlp = _mlp([7, cfg.local_width, cfg.local_width], final_activation=True)
        # per point: pooled neighbourhood + position (3)
        self.point_mlp = _mlp([cfg.local_width + 3, cfg.feature_dim, cfg.feature_dim])

    def forward(self, points, normals, idx):
        ppf, offsets = point_pair_features(points, normals, idx, self.cfg.radius)
        local = self.neighbour_mlp(torch.cat([offsets / self.cfg.radius, ppf], dim=-1))
        pooled = local.max(dim=2).values  # (B, N, local_width)
        return self.point_mlp(torch.cat([pooled, points], dim=-1))


class AttentionBlock(nn.Module):
    """Self-attention within each cloud, then cross-attention between the two."""

    def __init__(self, cfg: NetworkConfig):
        super().__init__()
        d = cfg.feature_dim
        self.self_attn = nn.MultiheadAttention(d, cfg.heads, batch_first=True)
        self.cross_attn = nn.MultiheadAttention(d, cfg.heads, batch_first=True)
        self.norm1 = nn.LayerNorm(d)
        self.norm2 = nn.LayerNorm(d)
        self.norm3 = nn.LayerNorm(d)
        self.ffn = nn.Sequential(nn.Linear(d, cfg.ffn_width), nn.ReLU(), nn.Linear(cfg.ffn_width, d))

    def self_attend(self, a):
        h = self.norm1(a)
        return a + self.self_attn(h, h, h, need_weights=False)[0]

    def _cross(self, a, b):
        h = self.norm2(a)
        kv = self.norm2(b)
        a = a + self.cross_attn(h, kv, kv, need_weights=False)[0]
        return a + self.ffn(self.norm3(a))

    def cross_attend(self, fx, fy):
        return self._cross(fx, fy), self._cross(fy, fx)

    def forward(self, fx, fy):
        return self.cross_attend(self.self_attend(fx), self.self_attend(fy))


class RegistrationNet(nn.Module):
    """f(X, Y) -> (R, t) with Y ~ R X + t.

    Shapes: src, src_normals (B, N, 3); tgt, tgt_normals (B, M, 3); returns
    R (B, 3, 3), t (B, 3) and a dict with the soft matches (B, N, 3) and the
    per-point confidences (B, N). Clouds are expected in units of the object
    diameter (see ``manif_py.registration.preprocess``).
    """

    def __init__(self, cfg: NetworkConfig | None = None):
        super().__init__()
        self.cfg = cfg or NetworkConfig()
        self.features = LocalFeatures(self.cfg)
        self.attention = AttentionBlock(self.cfg)
        self.confidence = nn.Sequential(nn.Linear(self.cfg.feature_dim + 1, 32), nn.ReLU(), nn.Linear(32, 1))
        self.log_temperature = nn.Parameter(torch.tensor(0.0))

    def embed(self, points, normals, idx=None):
        """Descriptors (B, N, feature_dim) after self-attention: all that depends on one cloud
        alone, so the target's can be reused across diffusion steps. idx: neighbour indices
        (B, N, k) if already known."""
        if idx is None:
            idx = knn_indices(points, self.cfg.neighbours)
        return self.attention.self_attend(self.features(points, normals, idx))

    def forward(self, src, src_normals, tgt, tgt_normals, src_idx=None, tgt_idx=None):
        return self.match(self.embed(src, src_normals, src_idx), self.embed(tgt, tgt_normals, tgt_idx), src, tgt)

    def match(self, fx, fy, src, tgt):
        """(R, t, extras) from the two clouds' descriptors (``embed``)."""
        fx, fy = self.attention.cross_attend(fx, fy)
        scale = math.sqrt(self.cfg.feature_dim) * torch.exp(self.log_temperature)
        match = torch.softmax(fx @ fy.transpose(1, 2) / scale, dim=-1)  # (B, N, M)
        matched = match @ tgt
        peak = match.max(dim=-1, keepdim=True).values  # how decided the match is
        weights = torch.sigmoid(self.confidence(torch.cat([fx, peak], dim=-1))).squeeze(-1)
        R, t = weighted_procrustes(src, matched, weights)
        return R, t, {"matched": matched, "weights": weights}

    def parameter_count(self):
        return sum(p.numel() for p in self.parameters())
