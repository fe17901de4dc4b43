"""Layers on the affine group R^2 x| H, H in {SO(2), SL(2), GL+(2)}.

Feature maps on the group are tensors (B, C, G, H, W): G indexes the group
samples h_1..h_G the layer was evaluated at. Every layer takes its samples as
arguments (the model owns them), so the output samples of one layer are the
input samples of the next by construction.

Kernel grid convention (shared with ``manif_py.decomp``): the k x k points
y = (col, row) coordinates in linspace(-1, 1, k); index row * k + col, which is
how conv2d lays out a weight's last two axes.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .. import decomp_torch
from .siren import SirenKernel
from .transforms import warp_tensor

def _pad(x: torch.Tensor, p: int) -> torch.Tensor:
    """Replicate padding. After normalisation and activation the background of a feature map is
    a nonzero constant; zero padding would cut a step into it at the image border, and rotated
    and scaled edge kernels would respond there more than to the digit (the global max would
    then see the frame, not the digit). Replication commutes with 90-degree rotations."""
    return F.pad(x, (p, p, p, p), mode="replicate") if p > 0 else x


# Kernel support: the disk through the grid's corners (radius sqrt 2), fading linearly to zero
# at SUPPORT_FADE times that radius. A hard cut at the grid's own boundary would drop a
# whole ring of taps whenever a sample stretches the grid a little (16 of 25 taps for 5x5),
# so the kernel would jump between training steps; the fade keeps it continuous in h.
SUPPORT_RADIUS = 2.0 ** 0.5
SUPPORT_FADE = 1.25


def support_window(points: torch.Tensor) -> torch.Tensor:
    """(..., 2) kernel coordinates -> (...,) weights in [0, 1]: 1 inside the support disk, 0 outside
    SUPPORT_FADE times its radius. Rotation invariant, so rotations never mask a tap."""
    r = points.norm(dim=-1) / SUPPORT_RADIUS
    return ((SUPPORT_FADE - r) / (SUPPORT_FADE - 1.0)).clamp(0.0, 1.0)


# Length of the chart features per group: p-coordinates + (cos, sin) of the rotation angle.
CHART_FEATURES = {"SO2": 2, "SL2": 4, "GL2": 5}


class LiftingConv(nn.Module):
    """(f * k)(x, h_i) = sum_y f(x + y) k(h_i^-1 y) |det h_i^-1|.

    The SIREN kernel k: R^2 -> R^(C_out x C_in) is evaluated on the grid moved by
    each h_i^-1, weighted by ``support_window`` (zero outside the support), and stacked
    into one conv2d weight (C_out * M, C_in, k, k).

    forward(x (B, C_in, H, W), h_out_inv (M, 2, 2)) -> (B, C_out, M, H', W').
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 5, padding: int | None = None,
                 siren_width: int = 60, siren_layers: int = 3, w0: float = 10.0):
        super().__init__()
        if kernel_size < 1 or kernel_size % 2 == 0:
            raise ValueError(f"argument 'kernel_size' must be an odd positive integer, got {kernel_size}")
        self.in_channels, self.out_channels, self.kernel_size = in_channels, out_channels, kernel_size
        self.padding = kernel_size // 2 if padding is None else padding
        self.kernel = SirenKernel(2, in_channels, out_channels, kernel_size * kernel_size, siren_width, siren_layers, w0)
        self.register_buffer("grid", decomp_torch.kernel_grid(kernel_size), persistent=False)

    def weight(self, h_out_inv: torch.Tensor) -> torch.Tensor:
        """The conv2d weight (C_out * M, C_in, k, k) for the output samples' inverses (M, 2, 2)."""
        M, k = h_out_inv.shape[0], self.kernel_size
        h = h_out_inv.to(torch.float64)
        points = torch.einsum("mij,yj->myi", h, self.grid.to(h))                # (M, k*k, 2)
        inside = support_window(points)                                        # (M, k*k)
        scale = torch.linalg.det(h).abs()                                      # |det h_i^-1|
        dtype = self.kernel.readout.weight.dtype
        values = self.kernel(points.to(dtype))                                 # (M, k*k, C_out, C_in)
        values = values * (inside.to(dtype) * scale.to(dtype)[:, None])[..., None, None]
        w = values.permute(2, 0, 3, 1)                                          # (C_out, M, C_in, k*k)
        return w.reshape(self.out_channels * M, self.in_channels, k, k)

    def forward(self, x: torch.Tensor, h_out_inv: torch.Tensor) -> torch.Tensor:
        out = F.conv2d(_pad(x, self.padding), self.weight(h_out_inv))
        return out.unflatten(1, (self.out_channels, h_out_inv.shape[0]))


class GroupConv(nn.Module):
    """(f * k)(x, h_i) = 1/K sum_j w_j sum_y f(x + y, h~_j) k(h_i^-1 y, xi^-1(h_i^-1 h~_j)).

    A Monte Carlo estimate of the integral over H with the K input samples h~_j
    and Haar weights w_j = 1 / |det h~_j|. The SIREN kernel reads the moved grid
    point and the chart coordinates of h_i^-1 h~_j (``pairwise`` inputs); the
    result is one conv2d weight (C_out * M, C_in * K, k, k) over the input
    folded to (B, C_in * K, H, W).

    forward(x (B, C_in, K, H, W), inputs (M, K, k*k, 2 + c), weights (K,)) -> (B, C_out, M, H', W').
    The kernel support is ``support_window`` of the moved grid points inputs[..., :2].
    """

    def __init__(self, group: str, in_channels: int, out_channels: int, kernel_size: int = 5,
                 padding: int | None = None, siren_width: int = 60, siren_layers: int = 3, w0: float = 10.0):
        super().__init__()
        if kernel_size < 1 or kernel_size % 2 == 0:
            raise ValueError(f"argument 'kernel_size' must be an odd positive integer, got {kernel_size}")
        self.group = group
        self.in_channels, self.out_channels, self.kernel_size = in_channels, out_channels, kernel_size
        self.padding = kernel_size // 2 if padding is None else padding
        self.kernel = SirenKernel(2 + CHART_FEATURES[group], in_channels, out_channels, kernel_size * kernel_size,
                                  siren_width, siren_layers, w0)

    def weight(self, inputs: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        M, K, kk, _ = inputs.shape
        dtype = self.kernel.readout.weight.dtype
        values = self.kernel(inputs.to(dtype))                                 # (M, K, k*k, C_out, C_in)
        # The spatial part inputs[..., :2] = h_i^-1 y is the same for every j.
        window = support_window(inputs[:, 0, :, :2].to(torch.float64)).to(dtype)     # (M, k*k)
        factor = window[:, None, :] * (weights.to(dtype) / K)[None, :, None]
        values = values * factor[..., None, None]
        w = values.permute(3, 0, 4, 1, 2)                                       # (C_out, M, C_in, K, k*k)
        return w.reshape(self.out_channels * M, self.in_channels * K, self.kernel_size, self.kernel_size)

    def forward(self, x: torch.Tensor, inputs: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        M = inputs.shape[0]
        out = F.conv2d(_pad(x.flatten(1, 2), self.padding), self.weight(inputs, weights))
        return out.unflatten(1, (self.out_channels, M))


def warp_images(x: torch.Tensor, maps: torch.Tensor) -> torch.Tensor:
    """Each image of x (B, C, H, W) moved by its linear map (B, 2, 2) about the canvas centre: the
    pixel at centred coordinates p (x right, y down) goes to maps @ p. Bilinear, zeros outside
    (``transforms.warp_tensor``)."""
    inverse = torch.linalg.inv(maps.to(torch.float64)).to(x.dtype)
    # affine_grid maps output coordinates to input ones: the inverse map.
    theta = torch.cat([inverse, torch.zeros_like(inverse[:, :, :1])], -1)
    return warp_tensor(x, theta)


def rotation_maps(angles: torch.Tensor) -> torch.Tensor:
    """(B,) angles in radians -> (B, 2, 2) maps that turn the picture counter-clockwise as displayed
    (with y pointing down the image, that is the matrix [[c, s], [-s, c]])."""
    c, s = torch.cos(angles), torch.sin(angles)
    return torch.stack([torch.stack([c, s], -1), torch.stack([-s, c], -1)], 1)


def rotate_images(x: torch.Tensor, angles: torch.Tensor) -> torch.Tensor:
    """Each image of x (B, C, H, W) rotated counter-clockwise by its angle (B,) in radians about the
    canvas centre (``warp_images``)."""
    return warp_images(x, rotation_maps(angles))


class GroupLayerNorm(nn.Module):
    """Normalises each sample over (C, G, H, W), then a per-channel affine map.

    Statistics pooled over the group axis do not change when the group samples
    are permuted, so the layer commutes with the group action.
    """

    def __init__(self, channels: int, eps: float = 1e-5):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # One fused pass over (C, G, H, W), the per-channel affine map included (broadcast to the
        # normalised shape): separate reductions were 10x slower on CPU, a separate affine map 3x.
        shape = x.shape[1:]
        weight = self.weight.to(x.dtype).view(-1, 1, 1, 1).expand(shape)
        bias = self.bias.to(x.dtype).view(-1, 1, 1, 1).expand(shape)
        return F.layer_norm(x, shape, weight, bias, eps=self.eps)


class SpatialPool(nn.Module):
    """2D pooling of every (channel, group sample) plane: (B, C, G, H, W) -> (B, C, G, H/s, W/s).

    mode "max" / "avg": plain s x s pooling. mode "blurmax" (s = 2 only): anti-aliased max pooling
    (Zhang, "Making convolutional networks shift-invariant again", ICML 2019): a 2 x 2 max at
    stride 1, then a [1, 2, 1]^2 / 16 blur at stride 2 (edges replicated). A plain stride-2 max keeps
    or drops a stroke by its pixel parity, so a one-pixel shift of the digit changes the features;
    the blur band-limits before subsampling. Output i is centred on input 2i + 1/2, the centre of
    plain pooling's 2 x 2 block, so the layer still commutes with quarter turns of an even-sized map.
    """

    MODES = ("max", "avg", "blurmax")

    def __init__(self, kernel_size: int = 2, mode: str = "max"):
        super().__init__()
        if mode not in self.MODES:
            raise ValueError(f"argument 'mode' must be one of {self.MODES}, got {mode!r}")
        if mode == "blurmax" and kernel_size != 2:
            raise ValueError(f"argument 'kernel_size' must be 2 for mode 'blurmax', got {kernel_size}")
        self.kernel_size, self.mode = kernel_size, mode

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        C, G = x.shape[1:3]
        planes = x.flatten(1, 2)                                            # (B, C*G, H, W)
        if self.mode == "blurmax":
            # channels_last: torch's CPU pooling kernels ran several times faster on it, backward included.
            peaks = F.max_pool2d(planes.contiguous(memory_format=torch.channels_last), 2, stride=1)
            # [1, 2, 1] as two 2-tap means; count_include_pad=False repeats the edge value.
            smooth = F.avg_pool2d(peaks, 2, stride=1, padding=1, count_include_pad=False)
            out = F.avg_pool2d(smooth, 2, stride=2).contiguous()
        else:
            pool = F.max_pool2d if self.mode == "max" else F.avg_pool2d
            out = pool(planes, self.kernel_size)
        return out.unflatten(1, (C, G))


class GroupPool(nn.Module):
    """Max or mean over the group axis: (B, C, G, H, W) -> (B, C, H, W), invariant to the sample order."""

    def __init__(self, mode: str = "max"):
        super().__init__()
        if mode not in ("max", "mean"):
            raise ValueError(f"argument 'mode' must be 'max' or 'mean', got {mode!r}")
        self.mode = mode

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.amax(dim=2) if self.mode == "max" else x.mean(dim=2)


class InvariantProjection(nn.Module):
    """Global max over group and space: (B, C, G, H, W) -> (B, C), invariant to the affine group."""

    def __init__(self, group_mode: str = "max"):
        super().__init__()
        self.group_pool = GroupPool(group_mode)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.group_pool(x).amax(dim=(2, 3))
