"""manif_py.torch: autograd over the batch kernels, and the pure-torch backend.

* gradcheck (float64) of chains whose inputs and outputs are Euclidean, one or
  more per operation, for every group, near identity (|tau| 1e-6..1e-3), near pi
  (rotation angles pi - 2e-3 .. pi - 1e-3) and at random; on both backends.
* The C++ and torch backends agree to 1e-12 in float64, Jacobians included.
* The tangent-space gradient convention, leading batch dimensions, broadcasting
  of one element, float32, backend selection, errors; CUDA where available.
"""

import math
import zlib

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import manif_py as mp  # noqa: E402
import manif_py.torch as mt  # noqa: E402
from manif_py.torch import _cpp_backend, _torch_backend  # noqa: E402
from manif_py.torch._functions import OPS  # noqa: E402
from groups import ANGLE_SLICE  # noqa: E402

GROUPS = list(mt.GROUPS.values())
GIDS = [g.name for g in GROUPS]
BACKENDS = ["cpp", "torch"]
REGIMES = ["identity", "pi", "random"]
F64 = torch.float64
N = 3  # elements per gradcheck


@pytest.fixture(autouse=True, scope="module")
def one_torch_thread():
    """The tensors here are tiny: one intra-op thread avoids OpenMP/MKL wake-up costs, which
    on a loaded 2-core machine made small LAPACK calls (Sim3 matrix_exp, inv) 100x slower."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def tangents(G, n, regime, role, gen):
    """(n, dof) float64 tangents.

    identity: every coordinate with magnitude 1e-6..1e-3. random: uniform(-1, 1).
    pi: role "big" has rotation angle pi - 2e-3, role "small" angle 5e-4, with the
    other coordinates uniform(-1, 1); chains put at most 1e-3 of "small" angle on top
    of one "big" tangent, so every Log they take stays below pi - 1e-3.
    """
    u = torch.rand(n, G.dof, generator=gen, dtype=F64) * 2 - 1
    if regime == "identity":
        mag = 10 ** (-6 + 3 * torch.rand(n, 1, generator=gen, dtype=F64))
        return u * mag
    if regime == "pi" and G.name in ANGLE_SLICE:
        sl = ANGLE_SLICE[G.name]
        axis = torch.randn(n, sl.stop - sl.start, generator=gen, dtype=F64)
        angle = math.pi - 2e-3 if role == "big" else 5e-4
        u[:, sl] = angle * axis / axis.norm(dim=-1, keepdim=True)
    return u


def points(G, n, gen):
    return torch.rand(n, G.dim, generator=gen, dtype=F64) * 4 - 2


# ----------------------------------------------------------------------------- chains
# Each chain: (builder(G, regime, gen) -> inputs, f(G, be, *inputs) -> Euclidean outputs).
# The inputs that need gradients are tangents, points and interpolation parameters.


def _chain_inputs(G, regime, gen, roles, with_points=False, with_t=False):
    ins = [tangents(G, N, regime, r, gen) for r in roles]
    if with_points:
        ins.append(points(G, N, gen))
    if with_t:
        ins.append(0.2 + 0.6 * torch.rand(N, generator=gen, dtype=F64))
    return ins


CHAINS = {
    # Exp: (tau, p) -> Exp(tau) . p
    "Exp": (lambda G, r, g: _chain_inputs(G, r, g, ["big"], with_points=True),
            lambda G, be, tau, p: G.act(G.Exp(tau, backend=be), p, backend=be)),
    # Log: (tau, a) -> Log(Exp(a) Exp(tau))
    "Log": (lambda G, r, g: _chain_inputs(G, r, g, ["big", "small"]),
            lambda G, be, tau, a: G.Log(G.compose(G.Exp(a, backend=be), G.Exp(tau, backend=be), backend=be),
                                        backend=be)),
    # inverse: (tau, p) -> (Exp(tau)^-1 . p, Log(Exp(tau)^-1))
    "inverse": (lambda G, r, g: _chain_inputs(G, r, g, ["big"], with_points=True),
                lambda G, be, tau, p: (G.act(G.inverse(G.Exp(tau, backend=be), backend=be), p, backend=be),
                                       G.Log(G.inverse(G.Exp(tau, backend=be), backend=be), backend=be))),
    # compose: (a, b) -> Log(Exp(a) Exp(b))
    "compose": (lambda G, r, g: _chain_inputs(G, r, g, ["small", "big"]),
                lambda G, be, a, b: G.Log(G.compose(G.Exp(a, backend=be), G.Exp(b, backend=be), backend=be),
                                          backend=be)),
    # between: (a, b) -> Log(Exp(a)^-1 Exp(b))
    "between": (lambda G, r, g: _chain_inputs(G, r, g, ["small", "big"]),
                lambda G, be, a, b: G.Log(G.between(G.Exp(a, backend=be), G.Exp(b, backend=be), backend=be),
                                          backend=be)),
    # act: (a, b, p) -> (Exp(a) Exp(b)) . p
    "act": (lambda G, r, g: _chain_inputs(G, r, g, ["small", "big"], with_points=True),
            lambda G, be, a, b, p: G.act(G.compose(G.Exp(a, backend=be), G.Exp(b, backend=be), backend=be), p,
                                         backend=be)),
    # rplus: (tau0, d1, d2) -> Log(Exp(tau0) (+) d1 (+) d2)
    "rplus": (lambda G, r, g: _chain_inputs(G, r, g, ["small", "small", "big"]),
              lambda G, be, t0, d1, d2: G.Log(G.rplus(G.rplus(G.Exp(t0, backend=be), d1, backend=be), d2,
                                                      backend=be), backend=be)),
    # lplus: (tau0, d) -> Log(Exp(d) Exp(tau0))
    "lplus": (lambda G, r, g: _chain_inputs(G, r, g, ["small", "big"]),
              lambda G, be, t0, d: G.Log(G.lplus(G.Exp(t0, backend=be), d, backend=be), backend=be)),
    # rminus: (a, b) -> Exp(a) (-) Exp(b) = Log(Exp(b)^-1 Exp(a))
    "rminus": (lambda G, r, g: _chain_inputs(G, r, g, ["small", "big"]),
               lambda G, be, a, b: G.rminus(G.Exp(a, backend=be), G.Exp(b, backend=be), backend=be)),
    # lminus: (a, b) -> Log(Exp(a) Exp(b)^-1)
    "lminus": (lambda G, r, g: _chain_inputs(G, r, g, ["small", "big"]),
               lambda G, be, a, b: G.lminus(G.Exp(a, backend=be), G.Exp(b, backend=be), backend=be)),
    # interp: (a, b, t) -> Log(interp(Exp(a), Exp(b), t))
    "interp": (lambda G, r, g: _chain_inputs(G, r, g, ["small", "big"], with_t=True),
               lambda G, be, a, b, t: G.Log(G.interp(G.Exp(a, backend=be), G.Exp(b, backend=be), t, backend=be),
                                            backend=be)),
}


def test_every_op_has_a_chain():
    assert set(CHAINS) == set(OPS)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("regime", REGIMES)
@pytest.mark.parametrize("op", list(CHAINS))
@pytest.mark.parametrize("G", GROUPS, ids=GIDS)
def test_gradcheck(G, op, regime, backend):
    seed = zlib.crc32(f"{G.name}-{op}-{regime}".encode())
    build, f = CHAINS[op]
    inputs = [x.requires_grad_() for x in build(G, regime, torch.Generator().manual_seed(seed))]
    # The torch backend's Jacobians are compared entry by entry with the C++ ones below
    # (test_backends_agree_*), so its gradcheck may use random projections (fast mode).
    assert torch.autograd.gradcheck(lambda *a: f(G, backend, *a), inputs, eps=1e-6, atol=1e-5, rtol=1e-4,
                                    fast_mode=backend == "torch")


# ----------------------------------------------------------------------------- C++ vs torch


def hard_inputs(G, gen):
    """Inputs of every op over a mix of identity, near identity, near pi and random elements."""
    taus = torch.cat([tangents(G, 4, "identity", "big", gen), tangents(G, 4, "pi", "big", gen),
                      tangents(G, 4, "pi", "small", gen), tangents(G, 8, "random", "big", gen),
                      torch.zeros(1, G.dof, dtype=F64)])
    n = taus.shape[0]
    perm = torch.randperm(n, generator=gen)
    b = getattr(mp.batch, G.name)
    X = torch.from_numpy(b.Exp(taus.numpy()))
    Y = torch.from_numpy(b.rplus(X.numpy(), taus[perm].numpy()))  # X^-1 Y in every regime too
    return {"Exp": (taus,), "Log": (X,), "inverse": (X,), "compose": (X, Y), "between": (X, Y),
            "act": (X, points(G, n, gen)), "rplus": (X, taus[perm]), "lplus": (X, taus[perm]),
            "rminus": (X, Y), "lminus": (X, Y), "interp": (X, Y, torch.rand(n, generator=gen, dtype=F64))}


@pytest.mark.parametrize("G", GROUPS, ids=GIDS)
def test_backends_agree_with_jacobians(G):
    for op, args in hard_inputs(G, torch.Generator().manual_seed(7)).items():
        out_c, jac_c = _cpp_backend.call(G.name, op, args, True)
        out_t, jac_t = _torch_backend.call(G.name, op, args, True)
        assert out_c.shape == out_t.shape and len(jac_c) == len(jac_t) == len(OPS[op].inputs)
        torch.testing.assert_close(out_t, out_c, atol=1e-12, rtol=0, msg=f"{G.name}.{op}")
        for k, (a, b) in enumerate(zip(jac_t, jac_c)):
            assert a.shape == b.shape
            torch.testing.assert_close(a, b, atol=1e-12, rtol=0, msg=f"{G.name}.{op} Jacobian {k}")
        for k in OPS[op].identity:  # the backward skips these products
            assert torch.equal(jac_c[k], torch.eye(G.dof, dtype=F64).expand_as(jac_c[k]))


@pytest.mark.parametrize("G", GROUPS, ids=GIDS)
def test_backends_agree_on_gradients(G):
    """The whole autograd path (API, Function, backward) on both backends."""
    gen = torch.Generator().manual_seed(3)
    for op, (build, f) in CHAINS.items():
        base = build(G, "random", gen)
        grads = {}
        for be in BACKENDS:
            ins = [x.clone().requires_grad_() for x in base]
            out = f(G, be, *ins)
            out = out if isinstance(out, tuple) else (out,)
            sum((o * torch.linspace(-1, 1, o.numel(), dtype=F64).reshape(o.shape)).sum() for o in out).backward()
            grads[be] = (out, [x.grad for x in ins])
        for a, b in zip(grads["cpp"][0] + tuple(grads["cpp"][1]), grads["torch"][0] + tuple(grads["torch"][1])):
            torch.testing.assert_close(a, b, atol=1e-12, rtol=0, msg=f"{G.name} {op}")


def test_group_sizes_match_the_core():
    for G in GROUPS:
        b = getattr(mp.batch, G.name)
        assert (G.dof, G.rep, G.dim) == (b.dof, b.rep_size, b.dim)


# ----------------------------------------------------------------------------- conventions


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("G", GROUPS, ids=GIDS)
def test_group_gradient_is_the_right_tangent_gradient(G, backend):
    """X.grad[..., :dof] = dL(X (+) d)/dd at d = 0, and X.grad[..., dof:] = 0."""
    gen = torch.Generator().manual_seed(11)
    X0 = G.Exp(tangents(G, 4, "random", "big", gen))
    Y = G.Exp(tangents(G, 4, "random", "big", gen))
    p = points(G, 4, gen)

    def loss(X):
        return (G.act(X, p, backend=backend).square().sum() + G.rminus(X, Y, backend=backend).square().sum()
                + G.Log(G.compose(Y, G.inverse(X, backend=backend), backend=backend), backend=backend).sum())

    X = X0.clone().requires_grad_()
    loss(X).backward()
    h, num = 1e-6, torch.zeros(4, G.dof, dtype=F64)
    for k in range(G.dof):
        d = torch.zeros(4, G.dof, dtype=F64)
        for i in range(4):
            d.zero_()
            d[i, k] = h
            num[i, k] = (loss(G.rplus(X0, d)) - loss(G.rplus(X0, -d))) / (2 * h)
    torch.testing.assert_close(X.grad[..., : G.dof], num, atol=1e-6, rtol=1e-6)
    assert torch.all(X.grad[..., G.dof:] == 0)


@pytest.mark.parametrize("backend", BACKENDS)
def test_leading_batch_dims_and_broadcasting(backend):
    G = mt.SE3
    gen = torch.Generator().manual_seed(5)
    tau = tangents(G, 6, "random", "big", gen).reshape(2, 3, 6)
    X = G.Exp(tau, backend=backend)
    assert X.shape == (2, 3, 7)
    assert G.Log(X, backend=backend).shape == (2, 3, 6)
    torch.testing.assert_close(G.Log(X, backend=backend), tau, atol=1e-12, rtol=0)
    # elementwise result equals the flat one
    torch.testing.assert_close(X.reshape(6, 7), G.Exp(tau.reshape(6, 6), backend=backend), atol=0, rtol=0)
    # (2, 3) elements against (4, 1, 1) interpolation parameters -> (4, 2, 3)
    t = torch.linspace(0, 1, 4, dtype=F64).reshape(4, 1, 1)
    Z = G.interp(X, G.identity(3, dtype=F64), t, backend=backend)
    assert Z.shape == (4, 2, 3, 7)
    torch.testing.assert_close(Z[0], X, atol=1e-12, rtol=0)
    # python float parameter
    assert G.interp(X, X, 0.5, backend=backend).shape == (2, 3, 7)

    # one element acting on (4, 5) points: its gradient sums over the batch
    X1 = G.Exp(tangents(G, 1, "random", "big", gen)[0]).requires_grad_()
    P = points(G, 20, gen).reshape(4, 5, 3)
    out = G.act(X1, P, backend=backend)
    assert out.shape == (4, 5, 3)
    out.square().sum().backward()
    Xs = X1.detach().expand(20, 7).clone().requires_grad_()
    G.act(Xs, P.reshape(20, 3), backend=backend).square().sum().backward()
    torch.testing.assert_close(X1.grad, Xs.grad.sum(0), atol=1e-12, rtol=0)

    # a (3, 1) batch against (1, 4): expanded, gradient reduced by autograd
    a = tangents(G, 3, "random", "big", gen).reshape(3, 1, 6).requires_grad_()
    b = tangents(G, 4, "random", "big", gen).reshape(1, 4, 6).requires_grad_()
    out = G.Log(G.compose(G.Exp(a, backend=backend), G.Exp(b, backend=backend), backend=backend), backend=backend)
    assert out.shape == (3, 4, 6)
    out.sum().backward()
    assert a.grad.shape == (3, 1, 6) and b.grad.shape == (1, 4, 6)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("G", GROUPS, ids=GIDS)
def test_float32(G, backend):
    gen = torch.Generator().manual_seed(9)
    _, f = CHAINS["interp"]
    a, b = tangents(G, 16, "random", "small", gen), tangents(G, 16, "random", "big", gen)
    t = torch.rand(16, generator=gen, dtype=F64)
    res = {}
    for dt in (torch.float32, torch.float64):
        ins = [x.to(dt).requires_grad_() for x in (a, b, t)]
        out = f(G, backend, *ins)
        out.sum().backward()
        assert out.dtype == dt and all(x.grad.dtype == dt for x in ins)
        res[dt] = [out] + [x.grad for x in ins]
    for x32, x64 in zip(res[torch.float32], res[torch.float64]):
        torch.testing.assert_close(x32.double(), x64, atol=2e-4, rtol=1e-4)
    # mixed dtypes promote
    assert G.Exp(a.float(), backend=backend).dtype == torch.float32
    assert G.act(G.Exp(a.float()), points(G, 16, gen), backend=backend).dtype == F64


def test_no_grad_and_retain_graph():
    G = mt.SO3
    tau = torch.randn(5, 3, dtype=F64, requires_grad=True)
    with torch.no_grad():
        X = G.Exp(tau)
    assert X.grad_fn is None and not X.requires_grad
    out = G.Log(G.compose(G.Exp(tau), X)).sum()
    out.backward(retain_graph=True)
    g1 = tau.grad.clone()
    out.backward()
    torch.testing.assert_close(tau.grad, 2 * g1)


def test_backend_selection(monkeypatch):
    G = mt.SE2
    tau = torch.randn(4, 3, dtype=F64)
    calls = []
    for name, mod in (("cpp", _cpp_backend), ("torch", _torch_backend)):
        orig = mod.call
        monkeypatch.setattr(mod, "call", lambda *a, _o=orig, _n=name: calls.append(_n) or _o(*a))
    G.Exp(tau)
    G.Exp(tau, backend="torch")
    monkeypatch.setenv(mt.BACKEND_ENV, "torch")
    G.Exp(tau)
    G.Exp(tau, backend="cpp")
    assert calls == ["cpp", "torch", "torch", "cpp"]
    monkeypatch.setenv(mt.BACKEND_ENV, "jax")
    with pytest.raises(ValueError, match="MANIF_PY_TORCH_BACKEND"):
        G.Exp(tau)
    with pytest.raises(ValueError, match="backend"):
        G.Exp(tau, backend="numpy")


def test_errors():
    G = mt.SE3
    with pytest.raises(ValueError, match=r"'tau' must have shape \(\.\.\., 6\)"):
        G.Exp(torch.zeros(4, 7))
    with pytest.raises(ValueError, match="do not broadcast"):
        G.compose(G.identity(3), G.identity(4))
    with pytest.raises(TypeError, match="float32 or float64"):
        G.Exp(torch.zeros(4, 6, dtype=torch.float16))
    # integer tensors are refused, not cast (issue 16); Python number lists are converted
    with pytest.raises(TypeError, match="float32 or float64 tensor, got torch.int64"):
        G.Exp(torch.zeros(2, 6, dtype=torch.int64))
    assert G.Exp([0, 0, 0, 0, 0, 0]).dtype == torch.get_default_dtype()
    # the C++ path validates its inputs
    bad = G.identity(2, dtype=F64)
    bad[1, 6] = 2.0
    with pytest.raises(ValueError, match="unit norm"):
        G.Log(bad, backend="cpp")


def test_empty_batch():
    tau = torch.zeros(0, 6, dtype=F64, requires_grad=True)
    X = mt.SE3.Exp(tau)
    assert X.shape == (0, 7)
    out = mt.SE3.act(mt.SE3.identity(dtype=F64), torch.zeros(2, 0, 3, dtype=F64))
    assert out.shape == (2, 0, 3)
    mt.SE3.Log(X).sum().backward()
    assert tau.grad.shape == (0, 6)


def test_identity_and_numpy_inputs():
    for G in GROUPS:
        I = G.identity(2, 3, dtype=F64)
        assert I.shape == (2, 3, G.rep)
        torch.testing.assert_close(G.Log(I), torch.zeros(2, 3, G.dof, dtype=F64))
    X = mt.SO3.Exp(np.array([0.1, 0.2, 0.3]))
    assert isinstance(X, torch.Tensor) and X.dtype == F64


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
@pytest.mark.parametrize("G", GROUPS, ids=GIDS)
def test_cuda_matches_cpp(G):
    gen = torch.Generator().manual_seed(13)
    for op, args in hard_inputs(G, gen).items():
        out_c, jac_c = _cpp_backend.call(G.name, op, args, True)
        out_g, jac_g = _torch_backend.call(G.name, op, [a.cuda() for a in args], True)
        for a, b in zip((out_g, *jac_g), (out_c, *jac_c)):
            torch.testing.assert_close(a.cpu(), b, atol=1e-12, rtol=0, msg=f"{G.name}.{op}")
    tau = tangents(G, 8, "random", "big", gen)
    a = tau.cuda().requires_grad_()
    G.Log(G.Exp(a)).sum().backward()
    assert a.grad.is_cuda
