"""Affine-equivariant digit classifiers and the plain CNN they are compared with.

``EquivariantNet`` is lifting conv -> group convs on R^2 x| H with group layer
norm, GELU and 2x2 spatial pooling, then a global max over group and space
(invariant to H and to translations) and a linear classifier.

Group samples. In training every forward pass draws fresh samples for every
layer from ``sample_generator`` (a torch.Generator the training loop seeds and
checkpoints; DDP ranks seeded alike draw the same samples). In eval mode the
model uses fixed samples set by :meth:`EquivariantNet.fix_samples`
(default: equidistant rotations with SPD factors drawn from seed 0).
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from . import groups
from .. import decomp_torch
from .layers import (GroupConv, GroupLayerNorm, InvariantProjection, LiftingConv, SpatialPool, rotate_images,
                     rotation_maps, warp_images)


# Rotations by multiples of 90 degrees map the k x k kernel grid onto itself.
GRID_ROTATIONS = 4
TRAIN_ROTATIONS = ("grid", "equidistant", "haar")


def check_images(x, in_channels: int, name: str = "x") -> torch.Tensor:
    """Validates a batch of images: (B, C, H, W) (or (B, H, W) when C = 1), finite floats, B >= 1."""
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"argument '{name}' must be a torch.Tensor of shape (B, {in_channels}, H, W), got {type(x).__name__}")
    if not x.is_floating_point():
        raise TypeError(f"argument '{name}' must be a float tensor of shape (B, {in_channels}, H, W), got {x.dtype}")
    if x.ndim == 3 and in_channels == 1:
        x = x[:, None]
    if x.ndim != 4 or x.shape[1] != in_channels:
        raise ValueError(f"argument '{name}' must have shape (B, {in_channels}, H, W), got {tuple(x.shape)}")
    if x.shape[0] == 0:
        raise ValueError(f"argument '{name}' must have shape (B, {in_channels}, H, W) with B >= 1, got an empty batch")
    if x.shape[2] < 4 or x.shape[3] < 4:
        raise ValueError(f"argument '{name}' must have shape (B, {in_channels}, H, W) with H, W >= 4, got {tuple(x.shape)}")
    if not bool(torch.isfinite(x).all()):
        raise ValueError(f"argument '{name}' must be finite (no NaN or inf)")
    return x


class EquivariantNet(nn.Module):
    """Affine-equivariant classifier on R^2 x| H, H = SO(2), SL(2) or GL+(2).

    forward(x (B, 1, H, W)) -> logits (B, num_classes). H and W must be
    divisible by 2^(len(channels) - 1) for the pooling to commute with 90-degree
    rotations (exact equivariance tests).

    Args:
      group: "SO2", "SL2" or "GL2".
      channels: output channels of the lifting layer and of each group conv.
      num_samples: group samples per layer in training (M = K).
      spd_std: std of the SPD factor's p-coordinates of the samples (not for SO2).
      train_rotation: rotation factors drawn in training: "grid" (the quarter turns, each with
        M / 4 SPD factors: the rotated kernel grid lands on itself, so the kernel is never sampled
        off its grid; M < 4: the angles 2 pi i / M), "equidistant" (2 pi i / M plus a random
        common offset per forward) or "haar" (independent uniform angles). The SPD factors are redrawn every forward pass in all cases.
      w0: SIREN frequency. 30 rather than the paper's 10: measured on this budget (a few epochs of
        4,000 digits), w0 = 10 kernels learned several times slower (docs/equivariant.md).
      head_hidden: width of the classifier's hidden layer (0: a single linear layer).
      pool: spatial pooling, "max", "avg" or "blurmax" (anti-aliased max, ``layers.SpatialPool``).
      input_margin: zero pixels added around the input image before the lifting layer (even). A digit
        moved to the canvas edge then still has background around it instead of the replicated edge of
        the feature maps, so translations up to the edge change the features less.
      rotate_input: turn the lifting samples' common rotation offset into a rotation of the image. In
        training every digit is rotated by its own angle drawn uniformly in [0, 90 deg) before the lift;
        combined with the quarter-turn grid samples, the rotation factor of the samples is then
        Haar-distributed on SO(2) (the paper's Monte Carlo estimate over the whole circle), while the
        kernels are evaluated on their grid only (sampling the SIREN between its taps, as
        ``train_rotation="haar"`` does, learned far slower: docs/equivariant.md). Relative rotations
        between the layers' samples do not depend on the offset, so only the input moves. In eval mode
        the invariant features are the max over ``eval_offsets`` equidistant offsets in [0, 90 deg),
        that is over the samples {offset + k 90 deg}: invariance to rotations by 90 / eval_offsets deg.
      input_spd_std: with ``rotate_input``, the lifting samples' common offset gets an SPD factor too:
        every training digit is warped by S^(1/2) R(phi), S^(1/2) drawn as the samples' SPD factors are
        (log-normal, this std of the p-coordinates; det 1 for SL2; SO2 has no SPD factor and ignores it).
        The offset h0 = S^(1/2) R(phi) left-multiplies every sample, and k(h_i^-1 h0^-1 y) is the lift of
        the digit warped by h0, so the samples spread over the SPD factor as well without the kernels
        leaving their grid. As with the rotation, this is exactly what warping the digits would compute;
        eval mode uses no SPD offset.
      eval_samples / eval_rotation / eval_seed / eval_spd_std: the fixed samples of eval mode.
      eval_offsets: rotation offsets of eval mode (``rotate_input`` only).
    """

    def __init__(self, group: str = "GL2", in_channels: int = 1, channels=(16, 16, 16), num_samples: int = 8,
                 kernel_size: int = 5, spd_std: float = 0.05, pool: str = "max", siren_width: int = 60,
                 siren_layers: int = 3, w0: float = 30.0, num_classes: int = 10, eval_samples: int | None = None,
                 eval_rotation: str = "grid", eval_seed: int = 0, eval_spd_std: float | None = None,
                 train_rotation: str = "grid", head_hidden: int = 0, input_margin: int = 0,
                 rotate_input: bool = False, eval_offsets: int = 1, input_spd_std: float = 0.0):
        super().__init__()
        self.group = groups.check_group(group)
        channels = tuple(int(c) for c in channels)
        if len(channels) < 1 or min(channels) < 1:
            raise ValueError(f"argument 'channels' must be a non-empty list of positive ints, got {channels}")
        if num_samples < 1:
            raise ValueError(f"argument 'num_samples' must be >= 1, got {num_samples}")
        self.in_channels, self.channels, self.kernel_size = in_channels, channels, kernel_size
        if input_margin < 0 or input_margin % 2:
            raise ValueError(f"argument 'input_margin' must be an even integer >= 0, got {input_margin}")
        self.input_margin = int(input_margin)
        if train_rotation not in TRAIN_ROTATIONS:
            raise ValueError(f"argument 'train_rotation' must be one of {TRAIN_ROTATIONS}, got {train_rotation!r}")
        self.num_samples, self.spd_std, self.train_rotation = num_samples, float(spd_std), train_rotation
        self.rotate_input = bool(rotate_input)
        if not (math.isfinite(input_spd_std) and input_spd_std >= 0):
            raise ValueError(f"argument 'input_spd_std' must be a finite number >= 0, got {input_spd_std!r}")
        if input_spd_std > 0 and not self.rotate_input:
            raise ValueError("argument 'input_spd_std' needs rotate_input=True (it extends the input offset)")
        self.input_spd_std = float(input_spd_std)
        self.data_shard = (0, 1)   # (rank, world size) of data-parallel training, see _input_angles
        self.set_eval_offsets(eval_offsets)
        kw = dict(siren_width=siren_width, siren_layers=siren_layers, w0=w0)
        self.lift = LiftingConv(in_channels, channels[0], kernel_size, **kw)
        self.convs = nn.ModuleList(GroupConv(group, channels[i - 1], channels[i], kernel_size, **kw)
                                   for i in range(1, len(channels)))
        self.norms = nn.ModuleList(GroupLayerNorm(c) for c in channels)
        self.pool = SpatialPool(2, pool)
        self.project = InvariantProjection("max")
        if head_hidden:
            self.classifier = nn.Sequential(nn.Linear(channels[-1], head_hidden), nn.LayerNorm(head_hidden), nn.GELU(),
                                            nn.Linear(head_hidden, num_classes))
        else:
            self.classifier = nn.Linear(channels[-1], num_classes)
        self.sample_generator = torch.Generator()
        self.sample_generator.manual_seed(0)
        self._eval_cache = None
        self._eval_samples = None
        n_eval = eval_samples or num_samples
        if eval_rotation == "grid" and n_eval % GRID_ROTATIONS:
            eval_rotation = "equidistant"   # too few samples for the grid: angles 2 pi i / n
        self.fix_samples(n_eval, eval_seed, eval_rotation, eval_spd_std)

    # ---------------------------------------------------------------- samples
    @property
    def num_layers(self) -> int:
        return len(self.channels)

    def draw_samples(self, num_samples: int, seed: int, rotation: str = "haar", spd_std: float | None = None,
                     offset: float = 0.0, device=None) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """One (g, g_inv) pair of (num_samples, 2, 2) float64 tensors per layer, deterministic in ``seed``.

        rotation: "haar" (independent angles), "equidistant" (offset + 2 pi i / n; every layer
        shares these rotations, so a rotation of the input permutes all layers alike; only the
        SPD factors differ between layers) or "grid": the GRID_ROTATIONS angles 2 pi i / 4 that map
        the kernel grid onto itself, each combined with num_samples / 4 SPD factors (num_samples
        must then be a multiple of 4; the samples are ordered SPD copy-major).
        """
        std = self.spd_std if spd_std is None else float(spd_std)
        if rotation == "grid":
            if num_samples % GRID_ROTATIONS:
                raise ValueError(f"argument 'num_samples' must be a multiple of {GRID_ROTATIONS} for "
                                 f"rotation='grid', got {num_samples}")
            out = []
            for l in range(self.num_layers):
                parts = [groups.sample(self.group, GRID_ROTATIONS, groups.layer_seed(seed + 1000003 * c, l), std,
                                       "equidistant", 0.0, device) for c in range(num_samples // GRID_ROTATIONS)]
                out.append((torch.cat([p[0] for p in parts]), torch.cat([p[1] for p in parts])))
            return out
        if rotation not in ("haar", "equidistant"):
            raise ValueError(f"argument 'rotation' must be 'haar', 'equidistant' or 'grid', got {rotation!r}")
        return [groups.sample(self.group, num_samples, groups.layer_seed(seed, l), std, rotation, offset, device)
                for l in range(self.num_layers)]

    def fix_samples(self, num_samples: int, seed: int = 0, rotation: str = "equidistant",
                    spd_std: float | None = None, offset: float = 0.0) -> None:
        """Sets the fixed samples used in eval mode (see :meth:`draw_samples`)."""
        if num_samples < 1:
            raise ValueError(f"argument 'num_samples' must be >= 1, got {num_samples}")
        self._eval_samples = self.draw_samples(num_samples, seed, rotation, spd_std, offset)
        self._eval_cache = None

    def set_eval_offsets(self, count: int) -> None:
        """Number of equidistant rotation offsets in [0, 90 deg) that eval mode maxes over (``rotate_input``)."""
        if int(count) != count or count < 1:
            raise ValueError(f"argument 'eval_offsets' must be an integer >= 1, got {count}")
        self.eval_offsets = int(count)

    def _input_angles(self, batch: int, device) -> torch.Tensor:
        """Rotation offsets (batch,) of the input in training: uniform in [0, 90 deg), one per digit.

        Under data parallelism every rank draws the angles of the whole global batch and keeps its
        share, interleaved as DistributedSampler deals the digits (rank r holds global positions
        r, r + N, ...), so N processes see the angles one process would."""
        rank, world = self.data_shard
        u = torch.rand(batch * world, generator=self.sample_generator, dtype=torch.float64)[rank::world]
        return (u * (math.pi / 2)).to(device)

    def _input_maps(self, batch: int, device) -> torch.Tensor:
        """(batch, 2, 2) float64 maps of the training digits: S^(1/2) R(phi) (``input_spd_std``), phi from
        :meth:`_input_angles`; the SPD factors are drawn for the global batch and dealt like the angles."""
        maps = rotation_maps(self._input_angles(batch, "cpu"))
        if self.input_spd_std > 0:   # SO2: spd_sample gives identities
            rank, world = self.data_shard
            half, _ = decomp_torch.spd_sample(self.group, batch * world, self.sample_generator, self.input_spd_std)
            maps = half[rank::world] @ maps
        return maps.to(device)

    def _kernel_inputs(self, samples, device):
        """Per layer: h_out_inv for the lifting layer, pairwise inputs for the group convs."""
        lift_inv = samples[0][1].to(device)
        pairs = []
        for l in range(1, self.num_layers):
            h_in = samples[l - 1][0]
            h_out_inv = samples[l][1]
            inputs, _, weights = groups.pairwise(self.group, h_out_inv.to(device), h_in.to(device), self.kernel_size)
            pairs.append((inputs.to(device), weights.to(device)))
        return lift_inv, pairs

    def _current_inputs(self, device):
        if self.training:
            seed = int(torch.randint(0, 2**62, (1,), generator=self.sample_generator).item())
            # Equidistant rotations with a random common offset cover the circle evenly
            # (a lower-variance Monte Carlo estimate than independent Haar draws).
            offset = float(torch.rand((), generator=self.sample_generator, dtype=torch.float64)) * 2 * math.pi / self.num_samples
            if self.train_rotation == "grid" and self.num_samples % GRID_ROTATIONS == 0:
                return self._kernel_inputs(self.draw_samples(self.num_samples, seed, "grid"), device)
            rotation = "haar" if self.train_rotation == "haar" else "equidistant"
            if self.train_rotation == "grid":   # fewer samples than grid angles: angles 2 pi i / M
                offset = 0.0
            return self._kernel_inputs(self.draw_samples(self.num_samples, seed, rotation, offset=offset), device)
        if self._eval_cache is None or self._eval_cache[0].device != torch.device(device):
            self._eval_cache = self._kernel_inputs(self._eval_samples, device)
        return self._eval_cache

    # ---------------------------------------------------------------- forward
    def _padded(self, x: torch.Tensor) -> torch.Tensor:
        x = check_images(x, self.in_channels)
        return F.pad(x, (self.input_margin,) * 4) if self.input_margin else x   # zeros: the canvas background

    def features(self, x: torch.Tensor, return_all: bool = False):
        """Group feature maps: the last (B, C, G, h, w), or the list of every layer's output."""
        x = self._padded(x)
        if self.rotate_input and self.training:
            x = warp_images(x, self._input_maps(x.shape[0], x.device))
        return self._group_features(x, return_all)

    def _group_features(self, x: torch.Tensor, return_all: bool = False):
        lift_inv, pairs = self._current_inputs(x.device)
        outs = []
        h = F.gelu(self.norms[0](self.lift(x, lift_inv)))
        for l, conv in enumerate(self.convs, start=1):
            h = self.pool(h)
            outs.append(h)
            h = F.gelu(self.norms[l](conv(h, *pairs[l - 1])))
        outs.append(h)
        return outs if return_all else h

    def invariant_features(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C) features invariant to the group: global max over group and space (and, in eval mode
        with ``rotate_input``, over the ``eval_offsets`` rotation offsets)."""
        if not (self.rotate_input and not self.training and self.eval_offsets > 1):
            return self.project(self.features(x))
        x = self._padded(x)                        # padded first, so the turned digit keeps its corners
        feats = self.project(self._group_features(x))                   # offset 0: the image itself
        for k in range(1, self.eval_offsets):      # one pass per offset: small batches run faster on CPU
            angle = torch.full((x.shape[0],), k * math.pi / 2 / self.eval_offsets, dtype=torch.float64,
                               device=x.device)
            feats = torch.maximum(feats, self.project(self._group_features(rotate_images(x, angle))))
        return feats

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.invariant_features(x))


class PlainCNN(nn.Module):
    """The affNIST literature's CNN baseline: two 5x5 conv + ReLU + 2x2 max-pool stages and a
    fully connected head, sized to a parameter budget by its hidden width.

    forward(x (B, 1, S, S)) -> logits (B, num_classes); S = ``image_size``, divisible by 4.
    """

    def __init__(self, in_channels: int = 1, channels=(16, 32), hidden: int = 16, num_classes: int = 10,
                 image_size: int = 40):
        super().__init__()
        if image_size % 4:
            raise ValueError(f"argument 'image_size' must be divisible by 4, got {image_size}")
        c1, c2 = channels
        self.in_channels, self.image_size = in_channels, image_size
        self.body = nn.Sequential(
            nn.Conv2d(in_channels, c1, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(c1, c2, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten())
        self.head = nn.Sequential(nn.Linear(c2 * (image_size // 4) ** 2, hidden), nn.ReLU(), nn.Linear(hidden, num_classes))

    @classmethod
    def for_budget(cls, budget: int, in_channels: int = 1, channels=(16, 32), num_classes: int = 10,
                   image_size: int = 40) -> "PlainCNN":
        """The CNN whose hidden width brings its parameter count closest to ``budget``."""
        c1, c2 = channels
        fixed = in_channels * c1 * 25 + c1 + c1 * c2 * 25 + c2 + num_classes
        per_hidden = c2 * (image_size // 4) ** 2 + 1 + num_classes
        hidden = max(1, round((budget - fixed) / per_hidden))
        return cls(in_channels, channels, hidden, num_classes, image_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = check_images(x, self.in_channels)
        if x.shape[-2:] != (self.image_size, self.image_size):
            raise ValueError(f"argument 'x' must have shape (B, {self.in_channels}, {self.image_size}, "
                             f"{self.image_size}), got {tuple(x.shape)}")
        return self.head(self.body(x))


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


MODEL_NAMES = ("cnn", "so2", "sl2", "gl2")


def build_model(name: str, **config) -> nn.Module:
    """``name`` in {cnn, so2, sl2, gl2}. Equivariant models take EquivariantNet's keywords; the CNN is
    sized to the parameter count of the GL+(2) model built from the same keywords."""
    if name not in MODEL_NAMES:
        raise ValueError(f"argument 'name' must be one of {MODEL_NAMES}, got {name!r}")
    if name == "cnn":
        budget = count_parameters(EquivariantNet("GL2", **config))
        return PlainCNN.for_budget(budget, in_channels=config.get("in_channels", 1),
                                   num_classes=config.get("num_classes", 10))
    return EquivariantNet(name.upper(), **config)
