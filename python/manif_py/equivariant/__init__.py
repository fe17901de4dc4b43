"""Affine-equivariant networks on R^2 x| H, H in {SO(2), SL(2), GL+(2)} (Mironenco & Forre, ICLR 2024).

Modules: ``siren`` (kernel networks), ``layers`` (lifting / group convolution, group layer norm,
pooling, invariant projection), ``models`` (EquivariantNet, PlainCNN), ``data`` (MNIST 5k split),
``transforms`` (affNIST-like, SL(2) and rotation test sets), ``train`` / ``evaluate`` (the
``manif-py train-equivariant`` / ``evaluate-equivariant`` commands), ``distributed`` (DDP setup),
``groups`` (group samples and kernel inputs from manif_py.decomp or its torch twin).
Needs torch (extra [equivariant]); importing this package does not import torch-heavy submodules.
"""

__all__ = ["siren", "layers", "models", "data", "transforms", "train", "evaluate", "distributed", "groups"]
