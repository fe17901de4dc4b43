"""SIREN kernel networks: continuous convolution kernels as small sine MLPs.

A group convolution needs its kernel at points that move with the group
samples, so the kernel is a function (an implicit neural representation), not
a table of weights. SIREN (Sitzmann et al. 2020) fits the high-frequency
structure of a 5x5 kernel with few parameters; its initialisation keeps the
pre-activations of every sine layer in [-pi/2, pi/2] whatever the width.
"""
from __future__ import annotations

import math

import torch
from torch import nn


class SineLayer(nn.Module):
    """x -> sin(w0 (W x + b)), with the SIREN initialisation."""

    def __init__(self, in_features: int, out_features: int, w0: float, first: bool):
        super().__init__()
        self.w0 = float(w0)
        self.linear = nn.Linear(in_features, out_features)
        with torch.no_grad():
            # First layer: spread over one period of the input range; later layers:
            # unit-variance pre-activations after the w0 scaling (SIREN, Thm 1.8).
            bound = 1.0 / in_features if first else math.sqrt(6.0 / in_features) / self.w0
            self.linear.weight.uniform_(-bound, bound)
            if not first:
                self.linear.bias.zero_()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sin(self.w0 * self.linear(x))


class SirenKernel(nn.Module):
    """Maps kernel coordinates (..., in_features) to kernel values (..., out_channels, in_channels).

    ``num_layers`` sine layers of width ``width`` followed by a linear read-out
    whose initial scale gives the convolution it feeds a He-like variance for a
    fan-in of ``in_channels * fan_in_points`` (so deep stacks neither vanish nor explode).
    """

    def __init__(self, in_features: int, in_channels: int, out_channels: int, fan_in_points: int,
                 width: int = 60, num_layers: int = 3, w0: float = 10.0, gain: float = 6.0):
        super().__init__()
        if num_layers < 1 or width < 1:
            raise ValueError(f"argument 'num_layers' and 'width' must be >= 1, got {num_layers}, {width}")
        self.in_features = in_features
        self.in_channels = in_channels
        self.out_channels = out_channels
        layers = [SineLayer(in_features if i == 0 else width, width, w0, first=(i == 0)) for i in range(num_layers)]
        self.body = nn.Sequential(*layers)
        self.readout = nn.Linear(width, out_channels * in_channels)
        with torch.no_grad():
            bound = math.sqrt(gain / width) / math.sqrt(in_channels * fan_in_points)
            self.readout.weight.uniform_(-bound, bound)
            self.readout.bias.zero_()

    def forward(self, coords: torch.Tensor) -> torch.Tensor:
        out = self.readout(self.body(coords))
        return out.unflatten(-1, (self.out_channels, self.in_channels))
