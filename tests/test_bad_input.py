"""Bad input never crashes: it raises ValueError/TypeError whose message names the
argument (and the expected shape, or the element index for batches)."""

import contextlib
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest

import manif_py as mp

GROUPS = list(mp.GROUPS)
IDS = [g.__name__ for g in GROUPS]
# Groups whose storage holds a unit complex number / quaternion, and where it starts.
UNIT_PART = {"SO2": (0, 2), "SE2": (2, 2), "SO3": (0, 4), "SE3": (3, 4), "SE23": (3, 4), "SGal3": (3, 4), "Sim3": (3, 4)}
UNIT_GROUPS = [g for g in GROUPS if g.__name__ in UNIT_PART]
MATRIX_GROUPS = [g for g in GROUPS if hasattr(g, "from_matrix")]
BAD_CONVENTIONS = ["up", "Right", "", 3, b"right"]


def batch_of(G):
    return getattr(mp.batch, G.__name__)


@contextlib.contextmanager
def raises_naming(arg, *also, exc=(ValueError, TypeError)):
    """The block raises `exc`, and the message names `arg` (quoted) and contains `also`."""
    with pytest.raises(exc) as info:
        yield info
    msg = str(info.value)
    assert f"'{arg}'" in msg, f"message does not name argument {arg!r}: {msg}"
    for s in also:
        assert s in msg, f"message lacks {s!r}: {msg}"


def shape_of(*dims):
    return "(" + ", ".join(map(str, dims)) + ("," if len(dims) == 1 else "") + ")"


# ---------------------------------------------------------------- wrong shapes


@pytest.mark.parametrize("G", GROUPS, ids=IDS)
@pytest.mark.parametrize("delta", [-1, 1])
def test_wrong_shape_single(G, delta):
    with raises_naming("coeffs", shape_of(G.rep_size)):
        G(np.zeros(G.rep_size + delta))
    with raises_naming("coeffs", shape_of(G.rep_size)):
        G(np.zeros((1, G.rep_size)))
    with raises_naming("coeffs", shape_of(G.dof)):
        G.Tangent(np.zeros(G.dof + delta))
    with raises_naming("tau", shape_of(G.dof)):
        G.Exp(np.zeros(G.dof + delta))
    with raises_naming("tau", shape_of(G.dof)):
        G.Identity().rplus(np.zeros(G.dof + delta))
    with raises_naming("point", shape_of(G.dim)):
        G.Identity().act(np.zeros(G.dim + delta))
    m = G.Identity().matrix().shape[0]
    with raises_naming("M", shape_of(m, m)):
        G.exp(np.zeros((m + delta, m + delta)))


@pytest.mark.parametrize("G", MATRIX_GROUPS, ids=[g.__name__ for g in MATRIX_GROUPS])
def test_wrong_shape_from_matrix(G):
    m = G.Identity().matrix().shape[0]
    arg = "R" if G.__name__ in ("SO2", "SO3") else "T"
    for bad in (np.eye(m + 1), np.eye(m - 1), np.eye(m).ravel(), np.eye(m)[None]):
        with raises_naming(arg, shape_of(m, m)):
            G.from_matrix(bad)


@pytest.mark.parametrize("G", GROUPS, ids=IDS)
def test_wrong_shape_batch(G):
    b, rep, dof, dim = batch_of(G), G.rep_size, G.dof, G.dim
    with raises_naming("X", f"(N, {rep})"):
        b.inverse(np.zeros((3, rep + 1)))
    with raises_naming("X", f"(N, {rep})"):
        b.Log(np.zeros((2, 3, rep)))
    with raises_naming("tau", f"(N, {dof})"):
        b.Exp(np.zeros((3, dof + 1)))
    with raises_naming("points", f"(N, {dim})"):
        b.act(b.Identity(3), np.zeros((3, dim + 1)))
    with raises_naming("Y", f"(N, {rep})"):
        b.compose(b.Identity(3), np.zeros((3, rep - 1 if rep > 1 else 2)))


# ---------------------------------------------------------------- wrong dtypes

BAD_VALUES = {
    "str": "abc",
    "str_array": lambda n: np.array(["a"] * n),
    "complex": lambda n: np.zeros(n, complex),
    "object": lambda n: np.array([0.0] * (n - 1) + [None], dtype=object),
    "None": None,
    "list_with_None": lambda n: [0.0] * (n - 1) + [None],
    "dict": {},
}


def bad_value(kind, n):
    v = BAD_VALUES[kind]
    return v(n) if callable(v) else v


@pytest.mark.filterwarnings("ignore:Casting complex values")
@pytest.mark.parametrize("kind", list(BAD_VALUES))
@pytest.mark.parametrize("G", GROUPS, ids=IDS)
def test_wrong_dtype_single(G, kind):
    with raises_naming("coeffs"):
        G(bad_value(kind, G.rep_size))
    with raises_naming("coeffs"):
        G.Tangent(bad_value(kind, G.dof))
    with raises_naming("tau"):
        G.Exp(bad_value(kind, G.dof))
    with raises_naming("point"):
        G.Identity().act(bad_value(kind, G.dim))


@pytest.mark.filterwarnings("ignore:Casting complex values")
@pytest.mark.parametrize("kind", list(BAD_VALUES))
@pytest.mark.parametrize("G", GROUPS, ids=IDS)
def test_wrong_dtype_batch(G, kind):
    b = batch_of(G)
    n = G.rep_size
    v = bad_value(kind, n)
    if isinstance(v, np.ndarray):
        v = np.stack([v, v])
    with raises_naming("X"):
        b.inverse(v)
    with raises_naming("Y"):
        b.compose(b.Identity(2), v)


@pytest.mark.parametrize("G", MATRIX_GROUPS, ids=[g.__name__ for g in MATRIX_GROUPS])
def test_wrong_dtype_from_matrix(G):
    m = G.Identity().matrix().shape[0]
    arg = "R" if G.__name__ in ("SO2", "SO3") else "T"
    for bad in (None, "eye", np.eye(m, dtype=complex), np.eye(m).astype(object)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with raises_naming(arg):
                G.from_matrix(bad)


@pytest.mark.parametrize("G", [mp.SE3, mp.SO2, mp.R3], ids=["SE3", "SO2", "R3"])
def test_complex_rejected_without_misleading_cast_warning(G):
    # A complex input is an error; it must not first warn "discarding the imaginary part".
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with raises_naming("coeffs", "complex", exc=TypeError):
            G(np.zeros(G.rep_size, complex))
    assert [str(w.message) for w in caught] == []


CONVENIENCE_BAD = {
    "from_euler-str": ("angles", lambda: mp.SO3.from_euler("xyz", "abc")),
    "from_euler-complex": ("angles", lambda: mp.SO3.from_euler("xyz", np.array([1j, 0, 0]))),
    "from_euler-None": ("angles", lambda: mp.SO3.from_euler("xyz", None)),
    "matmul-str": ("points", lambda: mp.SE3.Random(seed=1) @ "abc"),
    "matmul-complex": ("points", lambda: mp.SE3.Random(seed=1) @ np.array([1j, 0.0, 0.0])),
    "matmul-None": ("points", lambda: mp.SE3.Random(seed=1) @ None),
    "matmul-shape": ("points", lambda: mp.SE3.Random(seed=1) @ np.zeros((2, 2))),
}


@pytest.mark.parametrize("case", list(CONVENIENCE_BAD))
def test_python_conveniences_reject_bad_input(case):
    arg, call = CONVENIENCE_BAD[case]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with raises_naming(arg):
            call()


# ---------------------------------------------------------------- NaN / inf


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf], ids=["nan", "inf", "-inf"])
@pytest.mark.parametrize("G", GROUPS, ids=IDS)
def test_nonfinite_single(G, bad):
    c = G.Identity().coeffs()
    c[0] = bad
    with raises_naming("coeffs", "NaN or inf", exc=ValueError):
        G(c)
    t = np.zeros(G.dof)
    t[-1] = bad
    with raises_naming("coeffs", "NaN or inf", exc=ValueError):
        G.Tangent(t)
    with raises_naming("tau", "NaN or inf", exc=ValueError):
        G.Exp(t)
    with raises_naming("tau", "NaN or inf", exc=ValueError):
        G.Identity().rplus(t)
    p = np.zeros(G.dim)
    p[0] = bad
    with raises_naming("point", "NaN or inf", exc=ValueError):
        G.Identity().act(p)
    M = G.Identity().matrix()
    M[0, -1] = bad
    with raises_naming("M", "NaN or inf", exc=ValueError):
        G.Tangent.vee(M)
    with raises_naming("M", "NaN or inf", exc=ValueError):
        G.exp(M)
    if hasattr(G, "from_matrix"):
        arg = "R" if G.__name__ in ("SO2", "SO3") else "T"
        with raises_naming(arg, "NaN or inf", exc=ValueError):
            G.from_matrix(M)
    with pytest.raises(ValueError, match="'t'"):
        G.Identity().interp(G.Identity(), bad)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("G", GROUPS, ids=IDS)
def test_nonfinite_batch_names_element(G, dtype):
    b = batch_of(G)
    X = b.Random(6, seed=0).astype(dtype)
    X[4, 0] = np.nan
    with raises_naming("X", "element 4", "NaN or inf", exc=ValueError):
        b.inverse(X)
    with raises_naming("Y", "element 4", exc=ValueError):
        b.compose(b.Random(6, seed=1).astype(dtype), X)
    T = np.zeros((6, G.dof), dtype)
    T[2, -1] = np.inf
    with raises_naming("tau", "element 2", exc=ValueError):
        b.Exp(T)
    P = np.zeros((6, G.dim), dtype)
    P[5, 0] = -np.inf
    with raises_naming("points", "element 5", exc=ValueError):
        b.act(b.Random(6, seed=1).astype(dtype), P)
    with raises_naming("points", "element 5", exc=ValueError):  # one element acting on many points
        b.act(b.Identity(1)[0].astype(dtype), P)
    t = np.array([0.0, 0.5, np.nan], dtype)
    with raises_naming("t", "element 2", exc=ValueError):
        b.interp(b.Random(3, seed=1).astype(dtype), b.Random(3, seed=2).astype(dtype), t)
    M = b.hat(np.zeros((3, G.dof), dtype))
    M[1, 0, 0] = np.nan
    with raises_naming("M", "element 1", exc=ValueError):
        b.vee(M)


def test_nonfinite_batch_threaded_reports_first_element():
    b = mp.batch.SE3
    X = b.Random(30000, seed=3)
    X[20000, 1] = np.nan  # found first by the second thread (elements 15000..29999)
    X[14999, 1] = np.inf  # found last by the first thread, but it is the lowest index
    try:
        mp.set_num_threads(2)
        with raises_naming("X", "element 14999", exc=ValueError):
            b.Log(X)
    finally:
        mp.set_num_threads(0)  # the default: all hardware threads


# ---------------------------------------------------------------- unit parts


def scaled_unit(G, n2, batch=None):
    """Coeffs of a random element (or of a batch of them) whose unit part has squared norm n2."""
    off, size = UNIT_PART[G.__name__]
    c = batch_of(G).Random(batch, seed=5) if batch else G.Random(seed=5).coeffs()
    c[..., off:off + size] *= np.sqrt(n2)
    return c


@pytest.mark.parametrize("G", UNIT_GROUPS, ids=[g.__name__ for g in UNIT_GROUPS])
def test_nearly_unit_is_normalised(G):
    off, size = UNIT_PART[G.__name__]
    for n2 in (1 + 9e-6, 1 - 9e-6):
        c = scaled_unit(G, n2)
        x = G(c)
        u = x.coeffs()[off:off + size]
        assert abs(np.linalg.norm(u) - 1) < 1e-14
        np.testing.assert_allclose(u, c[off:off + size] / np.sqrt(n2), atol=1e-15)
        rest = np.delete(x.coeffs(), range(off, off + size))
        np.testing.assert_array_equal(rest, np.delete(c, range(off, off + size)))
        for dtype in (np.float64, np.float32):
            out = batch_of(G).normalize(scaled_unit(G, n2, batch=4).astype(dtype))
            assert out.dtype == dtype
            np.testing.assert_allclose(np.linalg.norm(out[:, off:off + size], axis=1), 1, atol=1e-6)


@pytest.mark.parametrize("G", UNIT_GROUPS, ids=[g.__name__ for g in UNIT_GROUPS])
def test_non_unit_is_rejected(G):
    for n2 in (1 + 1.1e-5, 1 - 1.1e-5, 4.0, 0.0):
        with raises_naming("coeffs", "unit", exc=ValueError):
            G(scaled_unit(G, n2))
    X = batch_of(G).Random(5, seed=2)
    X[3] = scaled_unit(G, 1.5)
    with raises_naming("X", "element 3", "unit", exc=ValueError):
        batch_of(G).Log(X)
    with raises_naming("X", "element 3", "unit", exc=ValueError):
        batch_of(G).Log(X.astype(np.float32))


# ---------------------------------------------------------------- from_matrix


def rot3(seed=0):
    return mp.SO3.Random(seed=seed).rotation()


def embed(G, R):
    """A homogeneous matrix of G with rotation block R."""
    M = G.Random(seed=1).matrix()
    k = R.shape[0]
    if G.__name__ == "Sim3":
        M[:3, :3] = 2.0 * R
    else:
        M[:k, :k] = R
    return M


ROT_GROUPS = [g for g in MATRIX_GROUPS]


@pytest.mark.parametrize("G", ROT_GROUPS, ids=[g.__name__ for g in ROT_GROUPS])
def test_from_matrix_rejects_non_rotations(G):
    k = 2 if G.__name__ in ("SO2", "SE2") else 3
    R = rot3()[:k, :k] if k == 3 else mp.SO2(0.7).rotation()
    arg = "R" if G.__name__ in ("SO2", "SO3") else "T"
    reflect = R @ np.diag([1.0] * (k - 1) + [-1.0])  # orthonormal, det = -1
    sheared = R.copy()
    sheared[0, 1] += 1e-3  # not orthonormal
    stretched = R * 1.01 if G.__name__ != "Sim3" else R @ np.diag([1.0] * (k - 1) + [1.2])
    for bad in (reflect, sheared, stretched, np.zeros((k, k))):
        M = bad if G.__name__ in ("SO2", "SO3") else embed(G, bad)
        with raises_naming(arg, exc=ValueError):
            G.from_matrix(M)
    # A rotation that is orthonormal to 1e-9 is accepted.
    ok = R + 1e-9 * np.eye(k)
    G.from_matrix(ok if G.__name__ in ("SO2", "SO3") else embed(G, ok))


@pytest.mark.parametrize("G", [g for g in ROT_GROUPS if g.__name__ not in ("SO2", "SO3")],
                         ids=lambda g: g.__name__)
def test_from_matrix_rejects_bad_bottom_rows(G):
    good = G.Random(seed=4).matrix()
    m = good.shape[0]
    first_fixed = {"SE2": 2, "SE3": 3, "Sim3": 3, "SE23": 3, "SGal3": 3}[G.__name__]
    for r in range(first_fixed, m):
        for c in range(m):
            if G.__name__ == "SGal3" and (r, c) == (3, 4):
                continue  # the time entry is free
            M = good.copy()
            M[r, c] += 0.5
            with raises_naming("T", exc=ValueError):
                G.from_matrix(M)


def test_se3_from_rt_validates_both_arguments():
    with raises_naming("R", exc=ValueError):
        mp.SE3.from_rt(2 * np.eye(3), np.zeros(3))
    with raises_naming("t", exc=ValueError):
        mp.SE3.from_rt(np.eye(3), [0, np.nan, 0])
    with raises_naming("t", "(3,)", exc=ValueError):
        mp.SE3.from_rt(np.eye(3), np.zeros(2))


# ---------------------------------------------------------------- Sim3 scale


@pytest.mark.parametrize("s", [0.0, -1.0, -1e-300])
def test_sim3_non_positive_scale(s):
    c = mp.Sim3.Random(seed=0).coeffs()
    c[7] = s
    with raises_naming("coeffs", "scale", exc=ValueError):
        mp.Sim3(c)
    X = mp.batch.Sim3.Random(4, seed=0)
    X[2, 7] = s
    with raises_naming("X", "element 2", "scale", exc=ValueError):
        mp.batch.Sim3.inverse(X)
    M = np.eye(4)
    M[:3, :3] = s * rot3(2)
    with raises_naming("T", exc=ValueError):
        mp.Sim3.from_matrix(M)


# ---------------------------------------------------------------- batches


@pytest.mark.parametrize("G", GROUPS, ids=IDS)
def test_empty_batches(G):
    b = batch_of(G)
    X0, T0, P0 = np.zeros((0, G.rep_size)), np.zeros((0, G.dof)), np.zeros((0, G.dim))
    I1 = b.Identity(1)[0]
    calls = [
        lambda: b.inverse(X0), lambda: b.Log(X0), lambda: b.Exp(T0), lambda: b.Adj(X0),
        lambda: b.matrix(X0), lambda: b.compose(X0, X0), lambda: b.compose(I1, X0),
        lambda: b.act(X0, P0), lambda: b.act(I1, P0), lambda: b.rplus(X0, T0),
        lambda: b.rminus(X0, X0), lambda: b.interp(X0, X0, 0.5), lambda: b.Jr(T0),
        lambda: b.inverse(X0.astype(np.float32)),
    ]
    for call in calls:
        with pytest.raises(ValueError, match="empty"):
            call()
    for n in (0, -1):
        with raises_naming("n", exc=ValueError):
            b.Random(n)
        with raises_naming("n", exc=ValueError):
            b.Identity(n)


@pytest.mark.parametrize("G", GROUPS, ids=IDS)
def test_mismatched_batch_sizes(G):
    b = batch_of(G)
    X3, X4 = b.Random(3, seed=0), b.Random(4, seed=1)
    with raises_naming("Y", "4", "3", exc=ValueError):
        b.compose(X3, X4)
    with raises_naming("points", exc=ValueError):
        b.act(X3, np.zeros((4, G.dim)))
    with raises_naming("tau", exc=ValueError):
        b.rplus(X3, np.zeros((4, G.dof)))
    with raises_naming("t", exc=ValueError):
        b.interp(X3, X3, np.zeros(4))


# ---------------------------------------------------------------- conventions


def single_calls(G, conv, jac):
    X, Y = G.Random(seed=1), G.Random(seed=2)
    t, p = np.zeros(G.dof), np.zeros(G.dim)
    kw = dict(jacobians=jac, convention=conv)
    return {
        "inverse": lambda: X.inverse(**kw), "compose": lambda: X.compose(Y, **kw),
        "between": lambda: X.between(Y, **kw), "Log": lambda: X.Log(**kw),
        "Exp": lambda: G.Exp(t, **kw), "Tangent.Exp": lambda: G.Tangent(t).Exp(**kw),
        "act": lambda: X.act(p, **kw), "rplus": lambda: X.rplus(t, **kw),
        "lplus": lambda: X.lplus(t, **kw), "rminus": lambda: X.rminus(Y, **kw),
        "lminus": lambda: X.lminus(Y, **kw), "interp": lambda: X.interp(Y, 0.3, **kw),
    }


@pytest.mark.parametrize("jac", [True, False], ids=["jac", "nojac"])
@pytest.mark.parametrize("G", GROUPS, ids=IDS)
def test_bad_convention_single(G, jac):
    # A typo in `convention` is an error even when no Jacobian is requested.
    for conv in BAD_CONVENTIONS:
        for name, call in single_calls(G, conv, jac).items():
            with raises_naming("convention", "'right'", "'left'", exc=ValueError):
                call()
    for conv in ("right", "left", "local", "global"):
        for call in single_calls(G, conv, jac).values():
            call()


@pytest.mark.parametrize("jac", [True, False], ids=["jac", "nojac"])
@pytest.mark.parametrize("G", GROUPS, ids=IDS)
def test_bad_convention_batch(G, jac):
    b = batch_of(G)
    X = b.Random(3, seed=0)
    T, P = np.zeros((3, G.dof)), np.zeros((3, G.dim))
    for conv in BAD_CONVENTIONS:
        kw = dict(jacobians=jac, convention=conv)
        for call in (lambda: b.inverse(X, **kw), lambda: b.compose(X, X, **kw), lambda: b.Log(X, **kw),
                     lambda: b.Exp(T, **kw), lambda: b.act(X, P, **kw), lambda: b.rplus(X, T, **kw),
                     lambda: b.lminus(X, X, **kw), lambda: b.interp(X, X, 0.5, **kw)):
            with raises_naming("convention", exc=ValueError):
                call()


# ---------------------------------------------------------------- misc arguments


@pytest.mark.parametrize("G", GROUPS, ids=IDS)
def test_generator_index_out_of_range(G):
    for i in (-1, G.dof, G.dof + 10):
        with raises_naming("i", f"[0, {G.dof})", exc=ValueError):
            G.Tangent.generator(i)
    with pytest.raises(TypeError):
        G.Tangent.generator("0")
    assert G.Tangent.generator(G.dof - 1).shape == G.Identity().matrix().shape


@pytest.mark.parametrize("G", GROUPS, ids=IDS)
def test_average_bad_input(G):
    xs = [G.Random(seed=s) for s in range(3)]
    with raises_naming("elements", "empty", exc=ValueError):
        G.average([])
    with raises_naming("weights", "(3,)", exc=ValueError):
        G.average(xs, weights=[1.0, 1.0])
    for w in ([1.0, -1.0, 1.0], [1.0, np.nan, 1.0], [np.inf, 1.0, 1.0], [0.0, 0.0, 0.0]):
        with raises_naming("weights", exc=ValueError):
            G.average(xs, weights=w)
    for w in ("abc", [1.0, None, 1.0], np.array([1j, 1, 1])):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with raises_naming("weights"):
                G.average(xs, weights=w)
    assert G.average(xs, weights=[0.0, 1.0, 0.0]).is_approx(xs[1], 1e-9)


@pytest.mark.parametrize("seq", ["xy", "xyzx", "xYz", "xxy", "xyy", "abc", "XXZ", "", "x y", 3, None])
def test_euler_seq_errors(seq):
    with raises_naming("seq", exc=ValueError):
        mp.SO3.from_euler(seq, [0.1, 0.2, 0.3])
    with raises_naming("seq", exc=ValueError):
        mp.SO3.Identity().as_euler(seq)


def test_euler_angle_errors():
    for angles in ([0.1, 0.2], np.zeros((1, 3)), [0.0, np.nan, 0.0], [np.inf, 0, 0]):
        with raises_naming("angles", exc=ValueError):
            mp.SO3.from_euler("xyz", angles)


SEEDED = {
    "Random": lambda G, seed: G.Random(seed=seed),
    "Tangent.Random": lambda G, seed: G.Tangent.Random(seed=seed),
    "batch.Random": lambda G, seed: batch_of(G).Random(3, seed=seed),
}


@pytest.mark.parametrize("seed", [-1, 2**70, 1.5, "a"])
@pytest.mark.parametrize("fn", list(SEEDED))
def test_bad_seeds(fn, seed):
    # A seed must be an integer in [0, 2**64); anything else is a clean error naming 'seed'.
    with raises_naming("seed"):
        SEEDED[fn](mp.SE3, seed)


@pytest.mark.parametrize("dtype", [np.complex128, np.int32, "foo"])
def test_batch_random_bad_dtype(dtype):
    with raises_naming("dtype"):
        mp.batch.SE3.Random(3, dtype=dtype)


def test_other_scalar_arguments():
    with raises_naming("axis", exc=ValueError):
        mp.SO3.from_angle_axis(1.0, [0, 0, 0])
    with raises_naming("angle", exc=ValueError):
        mp.SO3.from_angle_axis(np.nan, [1, 0, 0])
    with raises_naming("angle", exc=ValueError):
        mp.SO2(np.inf)
    with pytest.raises(ValueError, match="finite"):
        mp.SE2.from_xytheta(0.0, np.nan, 0.0)
    with raises_naming("n", exc=ValueError):
        mp.Rn(7)
    with raises_naming("W", "(6, 6)", exc=ValueError):
        mp.SE3Tangent.Zero().weighted_norm(np.eye(3))


def test_wrong_types_between_groups():
    with pytest.raises(TypeError):
        mp.SE3.Identity().compose(mp.SO3.Identity())
    with pytest.raises(TypeError):
        mp.SE3.Identity() * mp.SO3.Identity()
    # Another group's tangent is a wrong type, not a vector of the wrong size.
    with raises_naming("tau", "SO3Tangent", exc=TypeError):
        mp.SE3.Identity().rplus(mp.SO3Tangent.Zero())
    assert (mp.SE3.Identity() == mp.SO3.Identity()) is False


# ---------------------------------------------------------------- never crashes the interpreter

NASTY = r"""
import numpy as np, pickle, struct, manif_py as mp
def expect_error(f):
    try:
        f()
    except (ValueError, TypeError):
        return
    raise SystemExit("no error raised")
mp.set_num_threads(2)
X = mp.batch.SE3.Random(50000, seed=1); X[40000:, 6] = 7.0; X[45000, 0] = np.nan
expect_error(lambda: mp.batch.SE3.compose(X, X, jacobians=True))
expect_error(lambda: mp.batch.SE3.act(X[0], np.full((50000, 3), np.nan)))
expect_error(lambda: mp.batch.SO3.Exp(np.full((1, 10**6), np.inf)))
expect_error(lambda: mp.batch.SE3.compose(np.zeros((0, 7)), np.zeros((5, 7))))
expect_error(lambda: mp.batch.Sim3.interp(np.zeros((3, 8)), np.zeros((3, 8)), np.full(3, np.nan)))
expect_error(lambda: mp.batch.SE23.Log(np.zeros((2, 10), dtype=object)))
expect_error(lambda: mp.batch.SE3.inverse(np.lib.stride_tricks.as_strided(np.zeros(7), (10**6, 7), (0, 8))[:, ::2]))
expect_error(lambda: mp.SE3.from_matrix(np.full((4, 4), np.inf)))
expect_error(lambda: mp.Sim3.from_matrix(np.zeros((4, 4))))
expect_error(lambda: mp.SO3([0, 0, 0, 0]))
expect_error(lambda: mp.SGal3(np.full(11, np.nan)))
expect_error(lambda: mp.SE3Tangent.generator(2**40))
expect_error(lambda: mp.SO3.average([]))
# The pickled state is a list of floats (big-endian in the binary protocols): w = 1.0 -> 7.0.
data = pickle.dumps(mp.SE3.Identity())
edited = data.replace(struct.pack(">d", 1.0), struct.pack(">d", 7.0))
assert edited != data
expect_error(lambda: pickle.loads(edited))
print("SURVIVED")
"""


def test_nasty_inputs_do_not_crash_the_interpreter():
    r = subprocess.run([sys.executable, "-c", textwrap.dedent(NASTY)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, f"rc={r.returncode}\nstdout={r.stdout}\nstderr={r.stderr[-2000:]}"
    assert "SURVIVED" in r.stdout
