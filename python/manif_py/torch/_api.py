"""Tensor-in / tensor-out API: one namespace of differentiable operations per group.

Each call takes tensors with arbitrary leading batch dimensions, broadcasts them
(torch rules on the leading dimensions; a single element is broadcast inside the
kernel without being copied), flattens them to (N, k), picks a backend, runs the
autograd Function and reshapes the result back.
"""

from __future__ import annotations

import math
import os

import numpy as np
import torch

from . import _cpp_backend, _torch_backend
from ._functions import OPS, LieFunction

BACKEND_ENV = "MANIF_PY_TORCH_BACKEND"
BACKENDS = {"cpp": _cpp_backend, "torch": _torch_backend}
DTYPES = (torch.float32, torch.float64)


def select_backend(backend: str | None, device: torch.device):
    """The backend module for tensors on ``device``.

    ``backend``: "cpp" (CPU tensors only), "torch", or None/"auto": the C++ kernels
    for CPU tensors and the torch formulas elsewhere. With None, the environment
    variable MANIF_PY_TORCH_BACKEND (cpp / torch / auto) chooses for CPU tensors.
    """
    explicit = backend not in (None, "auto")
    name = backend if explicit else (os.environ.get(BACKEND_ENV) or "auto").strip().lower()
    if name == "auto":
        name = "cpp" if device.type == "cpu" else "torch"
    if name not in BACKENDS:
        src = "argument 'backend'" if explicit else f"${BACKEND_ENV}"
        raise ValueError(f"{src} must be 'cpp', 'torch' or 'auto', got {name!r}")
    if name == "cpp" and device.type != "cpu":
        if explicit:
            raise ValueError(f"backend='cpp' runs on CPU tensors only, got a tensor on {device}")
        name = "torch"
    return BACKENDS[name]


def _check_real(args, names):
    """Tensors and arrays must already be float: a complex, integer or bool one would be cast
    silently (dropping imaginary parts, or treating flags as numbers). Python numbers and lists
    of numbers are converted; bools and complex numbers are refused there too."""
    for a, name in zip(args, names):
        if isinstance(a, torch.Tensor):
            ok, got = a.is_floating_point(), a.dtype
        elif isinstance(a, np.ndarray):
            ok, got = a.dtype.kind == "f", a.dtype
        elif isinstance(a, (bool, np.bool_, complex, np.complexfloating)):
            ok, got = False, type(a).__name__
        elif a is None or isinstance(a, (int, float)):
            continue
        else:
            ok, got = np.asarray(a).dtype.kind in "iuf", np.asarray(a).dtype
        if not ok:
            raise TypeError(f"argument '{name}' must be a float32 or float64 tensor, got {got}")


def _as_tensors(args, names):
    """Tensors of one floating dtype (float32 or float64) on one device."""
    _check_real(args, names)
    tensors = [a for a in args if isinstance(a, torch.Tensor)]
    device = tensors[0].device if tensors else torch.device("cpu")
    arrays = [a if isinstance(a, torch.Tensor) else
              torch.as_tensor(a, device=device) if not isinstance(a, (int, float)) else None for a in args]
    floats = [a.dtype for a in arrays if a is not None and a.is_floating_point()]
    dtype = floats[0] if floats else torch.get_default_dtype()
    for d in floats[1:]:
        dtype = torch.promote_types(dtype, d)
    if dtype not in DTYPES:
        bad = next(n for n, a in zip(names, arrays) if a is not None and a.dtype == dtype)
        raise TypeError(f"argument '{bad}' must be float32 or float64, got {dtype}")
    return [torch.as_tensor(a, dtype=dtype, device=device) if t is None else t.to(dtype=dtype)
            for a, t in zip(args, arrays)]


class GroupOps:
    """Differentiable operations of one Lie group on torch tensors.

    Shapes: elements (..., rep), tangents (..., dof), points (..., dim), the
    interpolation parameter (...). Leading dimensions broadcast (torch rules).
    Every op takes ``backend=None | "auto" | "cpp" | "torch"`` (see ``select_backend``).
    Gradients of group-valued tensors are right-tangent gradients in the first
    dof entries (see the ``manif_py.torch`` docstring).
    """

    def __init__(self, impl: _torch_backend.TorchGroup):
        self._impl = impl
        self.name, self.dof, self.rep, self.dim = impl.name, impl.dof, impl.rep, impl.dim
        self._trailing = {"g": (self.rep,), "t": (self.dof,), "p": (self.dim,), "s": ()}

    def __repr__(self) -> str:
        return f"manif_py.torch.{self.name} (dof={self.dof}, rep={self.rep}, dim={self.dim})"

    # ------------------------------------------------------------------ machinery
    def _flatten(self, op, args, names):
        spec = OPS[op]
        tensors = _as_tensors(args, names)
        lead = []
        for kind, name, t in zip(spec.inputs, names, tensors):
            tr = self._trailing[kind]
            k = len(tr)
            if t.dim() < k or tuple(t.shape[t.dim() - k:]) != tr:
                want = "(..., " + ", ".join(map(str, tr)) + ")" if tr else "(...)"
                raise ValueError(f"{self.name}.{op}: argument '{name}' must have shape {want}, "
                                 f"got {tuple(t.shape)}")
            lead.append(tuple(t.shape[: t.dim() - k]))
        try:
            batch = tuple(torch.broadcast_shapes(*lead))
        except RuntimeError as e:
            shapes = ", ".join(f"{n}: {s}" for n, s in zip(names, lead))
            raise ValueError(f"{self.name}.{op}: leading dimensions do not broadcast ({shapes})") from e
        n = math.prod(batch)
        flat = []
        for kind, t, ld in zip(spec.inputs, tensors, lead):
            tr = self._trailing[kind]
            if math.prod(ld) == 1 and n > 1:
                flat.append(t.reshape(1, *tr))  # one element: broadcast in the kernel
            elif ld == batch:
                flat.append(t.reshape(n, *tr))
            else:
                flat.append(t.expand(*batch, *tr).reshape(n, *tr))
        return flat, batch, n

    def _run(self, op, args, names, backend):
        flat, batch, n = self._flatten(op, args, names)
        be = select_backend(backend, flat[0].device) if n > 0 else _torch_backend
        if torch.is_grad_enabled() and any(t.requires_grad for t in flat):
            out = LieFunction.apply(self._impl, op, be, *flat)
        else:
            out = be.call(self.name, op, flat, False)[0]
        return out.reshape(*batch, *self._trailing[OPS[op].output])

    # ------------------------------------------------------------------ operations
    def Exp(self, tau, *, backend=None):
        """Exp map: tau (..., dof) -> X (..., rep)."""
        return self._run("Exp", (tau,), ("tau",), backend)

    def Log(self, X, *, backend=None):
        """Log map: X (..., rep) -> tau (..., dof)."""
        return self._run("Log", (X,), ("X",), backend)

    def inverse(self, X, *, backend=None):
        """X^-1: (..., rep) -> (..., rep)."""
        return self._run("inverse", (X,), ("X",), backend)

    def compose(self, X, Y, *, backend=None):
        """X Y: (..., rep), (..., rep) -> (..., rep)."""
        return self._run("compose", (X, Y), ("X", "Y"), backend)

    def between(self, X, Y, *, backend=None):
        """X^-1 Y: (..., rep), (..., rep) -> (..., rep)."""
        return self._run("between", (X, Y), ("X", "Y"), backend)

    def act(self, X, points, *, backend=None):
        """X . p (rotate, translate, scale): X (..., rep), points (..., dim) -> (..., dim)."""
        return self._run("act", (X, points), ("X", "points"), backend)

    def rplus(self, X, tau, *, backend=None):
        """X (+) tau = X Exp(tau): X (..., rep), tau (..., dof) -> (..., rep)."""
        return self._run("rplus", (X, tau), ("X", "tau"), backend)

    def lplus(self, X, tau, *, backend=None):
        """Exp(tau) X: X (..., rep), tau (..., dof) -> (..., rep)."""
        return self._run("lplus", (X, tau), ("X", "tau"), backend)

    def rminus(self, X, Y, *, backend=None):
        """X (-) Y = Log(Y^-1 X), in the local frame of Y: (..., rep), (..., rep) -> (..., dof).

        ``rplus(Y, rminus(X, Y)) == X``; the argument order follows ``manif_py.batch.<G>.rminus(X, Y)``.
        """
        return self._run("rminus", (X, Y), ("X", "Y"), backend)

    def lminus(self, X, Y, *, backend=None):
        """Log(X Y^-1), in the global frame (``lplus(Y, lminus(X, Y)) == X``): (..., rep), (..., rep) -> (..., dof)."""
        return self._run("lminus", (X, Y), ("X", "Y"), backend)

    def interp(self, X, Y, t, *, backend=None):
        """Geodesic interpolation X Exp(t Log(X^-1 Y)): X, Y (..., rep), t (...) or a float -> (..., rep)."""
        return self._run("interp", (X, Y, t), ("X", "Y", "t"), backend)

    # ------------------------------------------------------------------ helpers
    def identity(self, *batch_shape, dtype=None, device=None):
        """Identity elements (*batch_shape, rep)."""
        tau = torch.zeros(*batch_shape, self.dof, dtype=dtype, device=device)
        return self._run("Exp", (tau,), ("tau",), "torch")
