"""Differentiable Lie group operations on torch tensors.

One namespace per group, mirroring ``manif_py.batch``::

    import torch
    from manif_py.torch import SE3

    tau = torch.randn(4, 1000, 6, dtype=torch.float64, requires_grad=True)
    X = SE3.Exp(tau)                       # (4, 1000, 7)
    p = SE3.act(X, torch.randn(1000, 3, dtype=torch.float64))   # broadcasts -> (4, 1000, 3)
    p.square().sum().backward()            # tau.grad (4, 1000, 6)

Groups: SO2, SE2, SO3, SE3, Sim3. Operations: ``Exp, Log, inverse, compose,
between, act, rplus, lplus, rminus, lminus, interp`` (and ``identity``).

Storage and tangents are those of ``manif_py``: SO2 (cos, sin); SE2 (x, y, cos, sin);
SO3 quaternion (x, y, z, w); SE3 (t, q); Sim3 (t, q, s). Tangents put the
translational part first: SE3 (rho, theta), Sim3 (rho, theta, sigma), scale exp(sigma).

Shapes
------
Elements (..., rep), tangents (..., dof), points (..., dim), the interpolation
parameter (...) or a float. Leading dimensions broadcast by torch's rules; a
single element against N is broadcast inside the kernel, not copied. float32
and float64 (inputs are promoted to a common dtype).

Gradients: tangent space backpropagation
----------------------------------------
As in lietorch ("Tangent Space Backpropagation for 3D Transformation Groups",
Teed & Deng 2021), the gradient of a loss L with respect to a group-valued
tensor X is the right-tangent gradient

    g_X = dL(X (+) delta) / d delta  at delta = 0,     X (+) delta = X Exp(delta),

stored in the first dof entries of a (..., rep)-shaped gradient whose remaining
rep - dof entries are zero. So ``X.grad[..., :G.dof]`` is what a first-order
method on the manifold uses: ``X <- G.rplus(X, -lr * X.grad[..., :G.dof])``.

Every backward reads the incoming gradient of a group-valued output in this
convention and returns ``J^T g`` for each input, with J the analytic right
Jacobian of the op (``J_z_x``, ``J_z_y``, ``J_p_x`` ... of the micro Lie theory
paper); tangents, points and scalars get ordinary Euclidean gradients. Nothing
is differentiated through the formulas, and the backward is first-order only.

Consequence: a group-valued tensor must reach the loss through these ops
(``Log``, ``act``, ``rminus`` ...). Reading its coefficients with ordinary torch
ops (``X[..., :3]``, ``X.sum()``) feeds a coefficient gradient into a slot that
expects a tangent gradient, which is wrong. Chains whose inputs and outputs are
Euclidean (tau -> Log(Exp(tau) Y), (tau, p) -> act(Exp(tau), p) ...) have exactly
the gradients of the composed function, and that is how they are tested
(``torch.autograd.gradcheck``).

Backends
--------
``backend="cpp"``: the compiled C++ batch kernels, for CPU tensors (zero-copy
through numpy, GIL released, multi-threaded); inputs are validated (unit
quaternions, positive scale) and near-unit rotations renormalised.
``backend="torch"``: a vectorised pure-torch implementation of the same
formulas and the same analytic Jacobians, for CUDA (or any) tensors; it does not
validate (no host synchronisation) and expects unit rotations.
Default (``None``/``"auto"``): cpp for CPU tensors, torch elsewhere; the
environment variable ``MANIF_PY_TORCH_BACKEND=torch`` sends CPU tensors through
the torch formulas (as the tests do, to compare the two paths).
"""

from ._api import BACKEND_ENV, GroupOps, select_backend
from ._torch_backend import GROUPS as _IMPLS

SO2 = GroupOps(_IMPLS["SO2"])
SE2 = GroupOps(_IMPLS["SE2"])
SO3 = GroupOps(_IMPLS["SO3"])
SE3 = GroupOps(_IMPLS["SE3"])
Sim3 = GroupOps(_IMPLS["Sim3"])

GROUPS = {g.name: g for g in (SO2, SE2, SO3, SE3, Sim3)}

__all__ = ["SO2", "SE2", "SO3", "SE3", "Sim3", "GROUPS", "GroupOps", "BACKEND_ENV", "select_backend"]
