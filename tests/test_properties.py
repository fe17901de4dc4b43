"""Property tests (hypothesis) over every group: group axioms, Exp/Log, adjoint,
plus/minus round trips, interpolation end points, and batch == single-element loop."""

import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

import manif_py as mp

GROUPS = list(mp.GROUPS)
IDS = [g.__name__ for g in GROUPS]
# Tangent coordinates that hold a rotation vector (SO2/SE2: one angle).
ANGLE = {"SO2": slice(0, 1), "SE2": slice(2, 3), "SO3": slice(0, 3), "SE3": slice(3, 6),
         "SE23": slice(3, 6), "Sim3": slice(3, 6), "SGal3": slice(6, 9)}
MAX_ANGLE = np.pi - 1e-3

# Deterministic, no example database on disk, and no shrinking (a failure is reported
# as found, so that a failing run stays as quick as a passing one).
PHASES = [Phase.explicit, Phase.generate]
SETTINGS = settings(max_examples=40, deadline=None, database=None, derandomize=True, phases=PHASES,
                    suppress_health_check=[HealthCheck.too_slow])
BATCH_SETTINGS = settings(SETTINGS, max_examples=10)

seeds = st.integers(min_value=0, max_value=2**63 - 1)


def batch_of(G):
    return getattr(mp.batch, G.__name__)


def bounded(G, v, max_angle=MAX_ANGLE):
    """Rescale the rotation part of a tangent vector so its angle is below max_angle."""
    v = np.array(v, dtype=float)
    sl = ANGLE.get(G.__name__)
    if sl is not None:
        n = np.linalg.norm(v[sl])
        if n > max_angle:
            v[sl] *= max_angle / n
    return v


def tangents(G, scale=2.0):
    """Tangent vectors with components in [-scale, scale] and rotation angle < pi - 1e-3."""
    comp = st.floats(-scale, scale, allow_nan=False, allow_infinity=False)
    return st.lists(comp, min_size=G.dof, max_size=G.dof).map(lambda v: bounded(G, v))


def close(X, Y, tol=1e-9):
    return X.is_approx(Y, tol)


# ---------------------------------------------------------------- group axioms


@pytest.mark.parametrize("G", GROUPS, ids=IDS)
@SETTINGS
@given(a=seeds, b=seeds, c=seeds)
def test_associativity(G, a, b, c):
    X, Y, Z = G.Random(seed=a), G.Random(seed=b), G.Random(seed=c)
    assert close((X * Y) * Z, X * (Y * Z))


@pytest.mark.parametrize("G", GROUPS, ids=IDS)
@SETTINGS
@given(a=seeds)
def test_inverse(G, a):
    X = G.Random(seed=a)
    assert close(X * X.inverse(), G.Identity())
    assert close(X.inverse() * X, G.Identity())
    assert close(X * G.Identity(), X) and close(G.Identity() * X, X)
    np.testing.assert_allclose(X.inverse().matrix(), np.linalg.inv(X.matrix()), atol=1e-10)


# ---------------------------------------------------------------- Exp / Log


@pytest.mark.parametrize("G", GROUPS, ids=IDS)
@SETTINGS
@given(a=seeds)
def test_exp_log(G, a):
    X = G.Random(seed=a)
    assert close(G.Exp(X.Log().coeffs()), X)
    assert close(X.Log().Exp(), X)


@pytest.mark.parametrize("G", GROUPS, ids=IDS)
@SETTINGS
@given(data=st.data())
def test_log_exp(G, data):
    t = data.draw(tangents(G))
    np.testing.assert_allclose(G.Exp(t).Log().coeffs(), t, atol=1e-9)


@pytest.mark.parametrize("G", GROUPS, ids=IDS)
@SETTINGS
@given(data=st.data())
def test_exp_is_matrix_exponential(G, data):
    from scipy.linalg import expm

    t = G.Tangent(data.draw(tangents(G)))
    np.testing.assert_allclose(t.Exp().matrix(), expm(t.hat()), atol=1e-9)


# ---------------------------------------------------------------- adjoint


@pytest.mark.parametrize("G", GROUPS, ids=IDS)
@SETTINGS
@given(a=seeds, b=seeds, data=st.data())
def test_adjoint(G, a, b, data):
    X, Y = G.Random(seed=a), G.Random(seed=b)
    np.testing.assert_allclose((X * Y).Adj(), X.Adj() @ Y.Adj(), atol=1e-9)
    np.testing.assert_allclose(X.inverse().Adj(), np.linalg.inv(X.Adj()), atol=1e-8)
    # Adj(X) tau = vee(X tau^ X^-1), i.e. X Exp(tau) = Exp(Adj tau) X.
    t = data.draw(tangents(G, scale=0.5))
    assert close(X.rplus(t), X.lplus(X.Adj() @ t))


# ---------------------------------------------------------------- plus / minus


@pytest.mark.parametrize("G", GROUPS, ids=IDS)
@SETTINGS
@given(a=seeds, b=seeds)
def test_rminus_rplus_round_trip(G, a, b):
    X, Y = G.Random(seed=a), G.Random(seed=b)
    assert close(Y.rplus(X.rminus(Y)), X)  # Y (+) (X (-) Y) = X
    assert close(Y + (X - Y), X)


@pytest.mark.parametrize("G", GROUPS, ids=IDS)
@SETTINGS
@given(a=seeds, b=seeds)
def test_minus_is_rminus(G, a, b):
    # The paper's and manif's convention: X - Y = X.minus(Y) = X.rminus(Y) = Log(Y^-1 X).
    X, Y = G.Random(seed=a), G.Random(seed=b)
    t = X.rminus(Y).coeffs()
    np.testing.assert_allclose((X - Y).coeffs(), t, atol=1e-12)
    np.testing.assert_allclose(X.minus(Y).coeffs(), t, atol=1e-12)
    np.testing.assert_allclose(Y.between(X).Log().coeffs(), t, atol=1e-12)
    np.testing.assert_allclose(batch_of(G).rminus(X.coeffs()[None], Y.coeffs()[None])[0], t, atol=1e-12)


@pytest.mark.parametrize("G", GROUPS, ids=IDS)
@SETTINGS
@given(a=seeds, b=seeds)
def test_rminus_and_lminus_conventions(G, a, b):
    X, Y = G.Random(seed=a), G.Random(seed=b)
    r, l = X.rminus(Y).coeffs(), X.lminus(Y).coeffs()
    np.testing.assert_allclose(l, (X * Y.inverse()).Log().coeffs(), atol=1e-9)
    # X Y^-1 = Y (Y^-1 X) Y^-1, so the global difference is the local one moved by Adj(Y).
    np.testing.assert_allclose(l, Y.Adj() @ r, atol=1e-8)
    # Swapping the operands negates the difference (Log(Y^-1 X) = -Log(X^-1 Y)).
    np.testing.assert_allclose(Y.rminus(X).coeffs(), -r, atol=1e-8)
    np.testing.assert_allclose(Y.lminus(X).coeffs(), -l, atol=1e-8)


@pytest.mark.parametrize("G", GROUPS, ids=IDS)
@SETTINGS
@given(a=seeds, b=seeds)
def test_lminus_lplus_round_trip(G, a, b):
    X, Y = G.Random(seed=a), G.Random(seed=b)
    assert close(Y.lplus(X.lminus(Y)), X)  # Exp(Log(X Y^-1)) Y = X


@pytest.mark.parametrize("G", GROUPS, ids=IDS)
@SETTINGS
@given(a=seeds, data=st.data())
def test_rplus_rminus_round_trip(G, a, data):
    X, t = G.Random(seed=a), data.draw(tangents(G))
    np.testing.assert_allclose(X.rplus(t).rminus(X).coeffs(), t, atol=1e-9)
    np.testing.assert_allclose((X + t - X).coeffs(), t, atol=1e-9)
    np.testing.assert_allclose(X.lplus(t).lminus(X).coeffs(), t, atol=1e-9)


# ---------------------------------------------------------------- interpolation


@pytest.mark.parametrize("G", GROUPS, ids=IDS)
@SETTINGS
@given(a=seeds, b=seeds, s=st.floats(0, 1))
def test_interp(G, a, b, s):
    X, Y = G.Random(seed=a), G.Random(seed=b)
    assert close(X.interp(Y, 0.0), X)
    assert close(X.interp(Y, 1.0), Y)
    Z = X.interp(Y, s)
    # Z lies on the geodesic: X^-1 Z = Exp(s Log(X^-1 Y)).
    np.testing.assert_allclose(Z.rminus(X).coeffs(), s * Y.rminus(X).coeffs(), atol=1e-8)


# ---------------------------------------------------------------- batch == loop


def batch_inputs(G, n, seed, dtype=np.float64):
    """Elements built by Exp of bounded tangents (so float32 Log stays away from angle pi)."""
    rng = np.random.default_rng(seed)
    tau = lambda: np.stack([bounded(G, rng.uniform(-2, 2, G.dof), max_angle=3.0) for _ in range(n)])
    b = batch_of(G)
    X, Y = b.Exp(tau()), b.Exp(tau())
    T = tau() * 0.5
    P = rng.uniform(-2, 2, (n, G.dim))
    s = rng.uniform(0, 1, n)
    return [a.astype(dtype) for a in (X, Y, T, P, s)]


def single_results(G, X, Y, T, P, s):
    """The same operations as batch_results, one element at a time (float64)."""
    rows = []
    for x, y, t, p, si in zip(X, Y, T, P, s):
        gx, gy = G(x.astype(float)), G(y.astype(float))
        t, p = t.astype(float), p.astype(float)
        rows.append([gx.inverse().coeffs(), gx.compose(gy).coeffs(), gx.between(gy).coeffs(),
                     gx.Log().coeffs(), G.Exp(t).coeffs(), gx.act(p), gx.rplus(t).coeffs(),
                     gx.lplus(t).coeffs(), gx.rminus(gy).coeffs(), gx.lminus(gy).coeffs(),
                     gx.interp(gy, float(si)).coeffs(), gx.Adj(), gx.matrix(),
                     G.Tangent(t).Jr(), G.Tangent(t).Jl_inv()])
    return [np.stack(col) for col in zip(*rows)]


def batch_results(G, X, Y, T, P, s):
    b = batch_of(G)
    return [b.inverse(X), b.compose(X, Y), b.between(X, Y), b.Log(X), b.Exp(T), b.act(X, P),
            b.rplus(X, T), b.lplus(X, T), b.rminus(X, Y), b.lminus(X, Y), b.interp(X, Y, s),
            b.Adj(X), b.matrix(X), b.Jr(T), b.Jl_inv(T)]


OPS = ["inverse", "compose", "between", "Log", "Exp", "act", "rplus", "lplus", "rminus",
       "lminus", "interp", "Adj", "matrix", "Jr", "Jl_inv"]


@pytest.mark.parametrize("G", GROUPS, ids=IDS)
@BATCH_SETTINGS
@given(n=st.integers(1, 12), seed=seeds)
def test_batch_equals_loop_float64(G, n, seed):
    inputs = batch_inputs(G, n, seed)
    for op, got, want in zip(OPS, batch_results(G, *inputs), single_results(G, *inputs)):
        assert got.dtype == np.float64 and got.shape == want.shape, op
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-12, err_msg=op)


@pytest.mark.parametrize("G", GROUPS, ids=IDS)
@BATCH_SETTINGS
@given(n=st.integers(1, 12), seed=seeds)
def test_batch_float32_agrees_with_float64(G, n, seed):
    # float32 inputs run the float kernels; compare against the exact float64 loop on the
    # same (rounded) inputs.
    inputs = batch_inputs(G, n, seed, dtype=np.float32)
    for op, got, want in zip(OPS, batch_results(G, *inputs), single_results(G, *inputs)):
        assert got.dtype == np.float32 and got.shape == want.shape, op
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=2e-5, err_msg=op)


@pytest.mark.parametrize("G", GROUPS, ids=IDS)
@BATCH_SETTINGS
@given(seed=seeds)
def test_batch_broadcasts_a_single_element(G, seed):
    b = batch_of(G)
    X, Y, T, P, s = batch_inputs(G, 5, seed)
    np.testing.assert_allclose(b.compose(X[0], Y), b.compose(np.repeat(X[:1], 5, 0), Y), atol=1e-15)
    np.testing.assert_allclose(b.act(X[0], P), np.stack([G(X[0]).act(p) for p in P]), atol=1e-12)
    np.testing.assert_allclose(b.rplus(X, T[0]), b.rplus(X, np.repeat(T[:1], 5, 0)), atol=1e-15)
    np.testing.assert_allclose(b.interp(X, Y, 0.25), b.interp(X, Y, np.full(5, 0.25)), atol=1e-15)


@pytest.mark.parametrize("G", [g for g in GROUPS if g.__name__ in ANGLE], ids=lambda g: g.__name__)
def test_batch_float32_near_taylor_switch(G):
    # Small angles just above the Taylor switch (1e-3) are where float32 closed forms
    # lose digits to cancellation; float32 must still agree with float64 to ~1e-5.
    rng = np.random.default_rng(0)
    sl = ANGLE[G.__name__]
    T = rng.uniform(-1, 1, (40, G.dof))
    axis = rng.normal(size=(40, sl.stop - sl.start))
    angles = np.repeat([1.2e-3, 2e-3, 5e-3, 1e-2, 3e-2], 8)[:, None]
    T[:, sl] = angles * axis / np.linalg.norm(axis, axis=1, keepdims=True)
    T32 = T.astype(np.float32)
    T64 = T32.astype(np.float64)
    b = batch_of(G)
    for op in ("Exp", "Jr", "Jl", "Jr_inv", "Jl_inv"):
        got, want = getattr(b, op)(T32), getattr(b, op)(T64)
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=2e-5, err_msg=op)
    X = b.Exp(T64)
    np.testing.assert_allclose(b.Log(X.astype(np.float32)), b.Log(X), rtol=1e-5, atol=2e-5, err_msg="Log")


@pytest.mark.parametrize("G", GROUPS, ids=IDS)
def test_single_element_array_shapes(G):
    # Matrices keep their 2-D shape even when dof or dim is 1 (SO2, R1), as the batch kernels do.
    dof, dim = G.dof, G.dim
    X, Y, t = G.Random(seed=1), G.Random(seed=2), G.Tangent(np.full(dof, 0.1))
    assert X.Adj().shape == (dof, dof)
    for m in (t.Jr(), t.Jl(), t.Jr_inv(), t.Jl_inv(), t.ad()):
        assert m.shape == (dof, dof)
    for J in X.compose(Y, jacobians=True)[1:] + X.Log(jacobians=True)[1:] + X.rplus(t, jacobians=True)[1:]:
        assert J.shape == (dof, dof)
    _, J_p_x, J_p_p = X.act(np.zeros(dim), jacobians=True)
    assert J_p_x.shape == (dim, dof) and J_p_p.shape == (dim, dim)
    _, J_z_x, J_z_y, J_z_t = X.interp(Y, 0.3, jacobians=True)
    assert J_z_x.shape == J_z_y.shape == (dof, dof)
    # d interp / d t is a Jacobian with respect to a scalar: (dof, 1), and (N, dof, 1) in batches.
    _, _, _, bJ_z_t = batch_of(G).interp(X.coeffs(), Y.coeffs(), 0.3, jacobians=True)
    assert J_z_t.shape == bJ_z_t.shape[1:] == (dof, 1)
