"""One autograd Function for every Lie group operation, backward by analytic Jacobians.

An operation is described by the kinds of its inputs and of its output:
``"g"`` a group element (N, rep), ``"t"`` a tangent (N, dof), ``"p"`` a point
(N, dim), ``"s"`` a scalar (N,). The forward asks a backend (C++ or torch) for
the result and, when a gradient is needed, its right Jacobians. The backward is
the same for every op and backend (lietorch's tangent space backpropagation):

* the incoming gradient of a group-valued output is read from its first dof
  entries (the right-tangent gradient dL/d delta at Z (+) delta);
* each input gets J^T g, one batched mat-vec per Jacobian (skipped where the
  Jacobian is the identity, e.g. J_z_y of compose);
* a group-valued input receives J^T g in its first dof entries, zeros after,
  so the tensor shape stays (N, rep);
* an input broadcast from a single element gets the sum over the batch.

No autograd runs through the formulas, so the backward is first-order only
(``once_differentiable``).
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch.autograd.function import once_differentiable


class OpSpec(NamedTuple):
    inputs: str  # kinds of the inputs, one letter each
    output: str  # kind of the output
    identity: tuple[int, ...] = ()  # inputs whose Jacobian is the identity: J^T g = g, no product


OPS: dict[str, OpSpec] = {
    "Exp": OpSpec("t", "g"),
    "Log": OpSpec("g", "t"),
    "inverse": OpSpec("g", "g"),
    "compose": OpSpec("gg", "g", identity=(1,)),
    "between": OpSpec("gg", "g", identity=(1,)),
    "act": OpSpec("gp", "p"),
    "rplus": OpSpec("gt", "g"),
    "lplus": OpSpec("gt", "g", identity=(0,)),
    "rminus": OpSpec("gg", "t"),
    "lminus": OpSpec("gg", "t"),
    "interp": OpSpec("ggs", "g"),
}


def tangent_grad(J: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
    """J^T g for J (N, out, in) and g (N, out) -> (N, in)."""
    return (J.transpose(-1, -2) @ g.unsqueeze(-1)).squeeze(-1)


class LieFunction(torch.autograd.Function):
    """apply(group, op, backend, *inputs): inputs (N_i, k) or (N_i,) with N_i in {1, N}.

    ``group`` is a ``_torch_backend.TorchGroup`` (for dof/rep), ``backend`` a module
    with ``call(group_name, op, inputs, jacobians) -> (out, jacobians)``.
    """

    @staticmethod
    def forward(ctx, group, op, backend, *inputs):
        need = any(ctx.needs_input_grad[3:])
        out, jacs = backend.call(group.name, op, inputs, need)
        ctx.group, ctx.spec, ctx.jacs = group, OPS[op], jacs
        ctx.in_shapes = [x.shape for x in inputs]
        return out

    @staticmethod
    @once_differentiable
    def backward(ctx, grad):
        group, spec = ctx.group, ctx.spec
        g = grad[..., : group.dof] if spec.output == "g" else grad
        grads = []
        for k, (kind, shape, J, need) in enumerate(zip(spec.inputs, ctx.in_shapes, ctx.jacs,
                                                       ctx.needs_input_grad[3:])):
            if not need:
                grads.append(None)
                continue
            gi = g if k in spec.identity else tangent_grad(J.to(g.dtype), g)
            if kind == "g":
                gi = torch.nn.functional.pad(gi, (0, group.rep - group.dof))
            elif kind == "s":
                gi = gi.squeeze(-1)
            if shape[0] == 1 and gi.shape[0] != 1:
                gi = gi.sum(0, keepdim=True)
            grads.append(gi.reshape(shape))
        return (None, None, None, *grads)
