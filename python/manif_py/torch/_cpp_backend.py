"""The C++ path: CPU tensors through the compiled batch kernels of ``manif_py.batch``.

Tensors cross as numpy views (``Tensor.numpy()`` / ``torch.from_numpy``), so a
contiguous float32 or float64 input is not copied on the way in and no result is
copied on the way out. The kernels release the GIL and run across cores.

A single element (leading size 1) is passed without its leading axis, so the
kernel broadcasts it against the other inputs instead of rejecting a batch of 1.
"""

from __future__ import annotations

import torch

from .. import batch as _batch


def _as_numpy(x: torch.Tensor, squeeze: bool):
    a = x.detach()
    if squeeze:
        a = a[0]
    return a.contiguous().numpy()


def call(group: str, op: str, inputs, jacobians: bool):
    """Runs ``manif_py.batch.<group>.<op>`` on (N_i, k) CPU tensors (N_i in {1, N}).

    Returns (out, jacobians tuple), the Jacobians as ``manif_py.batch`` gives them:
    right Jacobians, (N, out, in), J_z_t of interp (N, dof, 1).
    """
    n = max(x.shape[0] for x in inputs)
    arrays = [_as_numpy(x, squeeze=(x.shape[0] == 1 and n > 1)) for x in inputs]
    res = getattr(getattr(_batch, group), op)(*arrays, jacobians=jacobians)
    if not jacobians:
        return torch.from_numpy(res), ()
    return torch.from_numpy(res[0]), tuple(torch.from_numpy(j) for j in res[1:])
