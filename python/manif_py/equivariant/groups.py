"""Group samples and group-convolution kernel inputs, from the fastest backend at hand.

On CPU the compiled ``manif_py.decomp`` (C++) draws the samples and builds the
pairwise kernel inputs; on other devices, or where the extension is not
built, its torch twin ``manif_py.decomp_torch`` does. Both follow the same
conventions (left polar g = S^(1/2) R, orthonormal Lie algebra bases, the k x k
kernel grid y = (col, row) in [-1, 1]^2); their random streams differ, so a run
is reproducible on one backend, not across them.
"""
from __future__ import annotations

import numpy as np
import torch

from .. import decomp_torch

GROUP_NAMES = ("SO2", "SL2", "GL2")


def _compiled():
    """The C++ module when it is built and complete, else None."""
    try:
        from .. import decomp
    except Exception:  # extension not built in this environment: torch path
        return None
    if all(hasattr(decomp, name) for name in ("sample", "pairwise")):
        return decomp
    return None


_DECOMP = _compiled()


def check_group(group) -> str:
    if group not in GROUP_NAMES:
        raise ValueError(f"argument 'group' must be one of {GROUP_NAMES}, got {group!r}")
    return group


def layer_seed(seed: int, layer: int) -> int:
    """An independent 63-bit seed for one layer's samples, derived from one draw seed."""
    return int(np.random.SeedSequence([int(seed), int(layer)]).generate_state(2, np.uint64)[0] >> np.uint64(1))


def sample(group: str, n: int, seed: int, spd_std: float = 0.1, rotation: str = "haar",
           offset: float = 0.0, device=None) -> tuple[torch.Tensor, torch.Tensor]:
    """n elements g = S^(1/2) R of ``group`` and their exact inverses, each (n, 2, 2) float64.

    ``rotation`` "haar" draws R uniformly on SO(2); "equidistant" uses the angles
    offset + 2 pi i / n. ``spd_std`` is the std of the SPD factor's p-coordinates
    (0: pure rotations; ignored for SO2). Deterministic in ``seed``.
    """
    check_group(group)
    device = torch.device("cpu") if device is None else torch.device(device)
    if _DECOMP is not None and device.type == "cpu":
        g, g_inv = _DECOMP.sample(group, n, int(seed), spd_std=float(spd_std), rotation=rotation, offset=float(offset))
        return torch.from_numpy(np.ascontiguousarray(g, np.float64)), torch.from_numpy(np.ascontiguousarray(g_inv, np.float64))
    gen = torch.Generator(device=device)
    gen.manual_seed(int(seed))
    return decomp_torch.sample(group, n, gen, spd_std=float(spd_std), rotation=rotation, offset=float(offset),
                               dtype=torch.float64, device=device)


def pairwise(group: str, h_out_inv: torch.Tensor, h_in: torch.Tensor, kernel_size: int):
    """Kernel-network inputs of a group convolution (see ``manif_py.decomp.pairwise``).

    h_out_inv (M, 2, 2), h_in (K, 2, 2) float64 -> inputs (M, K, k*k, 2 + c),
    mask (M, k*k) bool, weights (K,) = 1 / |det h~_j|, on the samples' device.
    """
    check_group(group)
    if _DECOMP is not None and h_out_inv.device.type == "cpu":
        inputs, mask, weights = _DECOMP.pairwise(group, h_out_inv.numpy(), h_in.numpy(), kernel_size)
        return torch.from_numpy(np.asarray(inputs)), torch.from_numpy(np.asarray(mask)), torch.from_numpy(np.asarray(weights))
    return decomp_torch.pairwise(group, h_out_inv, h_in, kernel_size)


def backend_name() -> str:
    return "manif_py.decomp (C++)" if _DECOMP is not None else "manif_py.decomp_torch"
