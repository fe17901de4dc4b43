"""Conversions and Python conveniences: matrices, quaternions, Euler angles and
angle-axis against scipy, pickling / copy / repr / equality, the @ operator, and
batch Identity / Random with their seeding and threading."""

import copy
import itertools
import pickle
import warnings

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

import manif_py as mp

GROUPS = list(mp.GROUPS)
IDS = [g.__name__ for g in GROUPS]
MATRIX_GROUPS = [g for g in GROUPS if hasattr(g, "from_matrix")]
ANGLE = {"SO2": slice(0, 1), "SE2": slice(2, 3), "SO3": slice(0, 3), "SE3": slice(3, 6),
         "SE23": slice(3, 6), "Sim3": slice(3, 6), "SGal3": slice(6, 9)}

TAIT_BRYAN = ["".join(p) for p in itertools.permutations("xyz")]
PROPER = [a + b + a for a in "xyz" for b in "xyz" if a != b]
SEQS = [s for seq in TAIT_BRYAN + PROPER for s in (seq, seq.upper())]


def batch_of(G):
    return getattr(mp.batch, G.__name__)


def hard_elements(G, n_random=5):
    """Identity, random elements, and elements with rotation angle near 0 and near pi."""
    xs = [G.Identity()] + [G.Random(seed=s) for s in range(n_random)]
    sl = ANGLE.get(G.__name__)
    if sl is not None:
        rng = np.random.default_rng(1)
        for angle in (1e-9, 1e-4, np.pi - 1e-6, np.pi - 1e-9):
            t = rng.uniform(-1, 1, G.dof)
            axis = rng.normal(size=sl.stop - sl.start)
            t[sl] = angle * axis / np.linalg.norm(axis)
            xs.append(G.Exp(t))
    return xs


def wrap(a):
    return (np.asarray(a) + np.pi) % (2 * np.pi) - np.pi


def assert_same_angles(got, want, atol):
    np.testing.assert_allclose(wrap(np.asarray(got) - np.asarray(want)), 0, atol=atol)


def scipy_euler(q, seq):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # scipy's gimbal lock warning
        return Rotation.from_quat(q).as_euler(seq)


# ---------------------------------------------------------------- matrices


@pytest.mark.parametrize("G", MATRIX_GROUPS, ids=[g.__name__ for g in MATRIX_GROUPS])
def test_matrix_round_trip(G):
    for X in hard_elements(G):
        M = X.matrix()
        Y = G.from_matrix(M)
        assert Y.is_approx(X, 1e-9), (X, Y)
        np.testing.assert_allclose(Y.matrix(), M, atol=1e-12)
    M = batch_of(G).matrix(batch_of(G).Random(4, seed=0))
    for X, Mi in zip(batch_of(G).Random(4, seed=0), M):
        np.testing.assert_allclose(G(X).matrix(), Mi, atol=1e-15)


@pytest.mark.parametrize("G", GROUPS, ids=IDS)
def test_matrix_acts_like_act(G):
    for X in hard_elements(G, 2):
        p = np.linspace(-1, 2, G.dim)
        M = X.matrix()
        if M.shape[0] == G.dim:  # pure rotations: no homogeneous coordinate
            np.testing.assert_allclose(X.act(p), M @ p, atol=1e-12)
        else:
            h = np.zeros(M.shape[0])
            h[:G.dim], h[-1] = p, 1.0
            if G.__name__ == "SE23":  # [[R, p, v], [0, 1, 0], [0, 0, 1]] acts on (p, 1, 0)
                h[3], h[4] = 1.0, 0.0
            np.testing.assert_allclose(X.act(p), (M @ h)[:G.dim], atol=1e-12)


# ---------------------------------------------------------------- SO3 against scipy


def test_so3_quaternion_and_matrix_agree_with_scipy():
    for X in hard_elements(mp.SO3, 20):
        q = X.quat()
        r = Rotation.from_quat(q)
        np.testing.assert_allclose(X.rotation(), r.as_matrix(), atol=1e-12)
        np.testing.assert_allclose(X.coeffs(), q)
        # from_matrix gives the same rotation (quaternion up to sign).
        q2 = mp.SO3.from_matrix(r.as_matrix()).quat()
        assert min(np.abs(q2 - q).max(), np.abs(q2 + q).max()) < 1e-12
        # Log is the rotation vector (angle <= pi; near pi the sign of the axis is free).
        rv, lg = r.as_rotvec(), X.Log().coeffs()
        assert min(np.abs(rv - lg).max(), np.abs(rv + lg).max()) < 1e-8
        p = np.array([0.3, -1.2, 2.0])
        np.testing.assert_allclose(X.act(p), r.apply(p), atol=1e-12)
    a, b = mp.SO3.Random(seed=1), mp.SO3.Random(seed=2)
    np.testing.assert_allclose((a * b).rotation(), (Rotation.from_quat(a.quat()) * Rotation.from_quat(b.quat())).as_matrix(),
                               atol=1e-12)


def test_so3_exp_agrees_with_scipy_rotvec():
    rng = np.random.default_rng(3)
    for v in rng.normal(size=(20, 3)) * 1.5:
        np.testing.assert_allclose(mp.SO3.Exp(v).rotation(), Rotation.from_rotvec(v).as_matrix(), atol=1e-12)


def test_angle_axis():
    rng = np.random.default_rng(4)
    for _ in range(20):
        angle, axis = rng.uniform(-2 * np.pi, 2 * np.pi), rng.normal(size=3) * 3
        X = mp.SO3.from_angle_axis(angle, axis)
        r = Rotation.from_rotvec(angle * axis / np.linalg.norm(axis))
        np.testing.assert_allclose(X.rotation(), r.as_matrix(), atol=1e-12)
        a, u = X.angle_axis()
        assert 0 <= a <= np.pi and abs(np.linalg.norm(u) - 1) < 1e-12
        np.testing.assert_allclose(a, r.magnitude(), atol=1e-12)
        assert mp.SO3.from_angle_axis(a, u).is_approx(X, 1e-12)
    a, u = mp.SO3.Identity().angle_axis()
    assert a == 0 and np.linalg.norm(u) == pytest.approx(1)
    a, u = mp.SO3.from_angle_axis(np.pi, [0, 0, 2]).angle_axis()
    assert a == pytest.approx(np.pi) and abs(u[2]) == pytest.approx(1)


# ---------------------------------------------------------------- Euler angles


def test_all_twelve_sequences_in_both_forms_are_covered():
    assert len(set(SEQS)) == 24


@pytest.mark.parametrize("seq", SEQS)
def test_from_euler_matches_scipy(seq):
    rng = np.random.default_rng(5)
    for angles in rng.uniform(-np.pi, np.pi, (30, 3)):
        got = mp.SO3.from_euler(seq, angles).rotation()
        np.testing.assert_allclose(got, Rotation.from_euler(seq, angles).as_matrix(), atol=1e-12)


@pytest.mark.parametrize("seq", SEQS)
def test_as_euler_matches_scipy(seq):
    rng = np.random.default_rng(6)
    for q in Rotation.random(30, random_state=rng).as_quat():
        got = mp.SO3(q).as_euler(seq)
        assert_same_angles(got, scipy_euler(q, seq), 1e-9)
        assert mp.SO3.from_euler(seq, got).is_approx(mp.SO3(q), 1e-9)


def gimbal_middle(seq):
    """Middle angles at gimbal lock for this sequence."""
    return [0.0, np.pi] if seq[0].lower() == seq[2].lower() else [np.pi / 2, -np.pi / 2]


@pytest.mark.parametrize("seq", SEQS)
def test_as_euler_near_gimbal_lock(seq):
    for mid in gimbal_middle(seq):
        for d in (1e-3, 1e-5, 1e-6):
            b = mid + d if mid in (0.0, -np.pi / 2) else mid - d  # stay inside the valid range
            X = mp.SO3.from_euler(seq, [0.4, b, -1.1])
            got = X.as_euler(seq)
            assert_same_angles(got, scipy_euler(X.quat(), seq), 1e-6)
            assert mp.SO3.from_euler(seq, got).is_approx(X, 1e-9)


@pytest.mark.parametrize("seq", SEQS)
def test_as_euler_at_gimbal_lock(seq):
    # At gimbal lock only a sum or difference of the outer angles is defined; like
    # scipy, the third angle (in the order of `seq`) is set to 0.
    for mid in gimbal_middle(seq):
        X = mp.SO3.from_euler(seq, [0.4, mid, -1.1])
        got = X.as_euler(seq)
        assert mp.SO3.from_euler(seq, got).is_approx(X, 1e-9), got
        assert got[2] == pytest.approx(0, abs=1e-12)
        assert_same_angles(got, scipy_euler(X.quat(), seq), 1e-6)


@pytest.mark.parametrize("seq", ["xyz", "ZYX", "zxz", "YXY"])
def test_euler_ranges(seq):
    proper = seq[0].lower() == seq[2].lower()
    for q in Rotation.random(50, random_state=7).as_quat():
        a, b, c = mp.SO3(q).as_euler(seq)
        assert -np.pi <= a <= np.pi and -np.pi <= c <= np.pi
        assert (0 <= b <= np.pi) if proper else (-np.pi / 2 <= b <= np.pi / 2)


# ---------------------------------------------------------------- Python object protocol


def objects(G):
    return [G.Random(seed=3), G.Identity(), G.Tangent(np.linspace(-0.5, 0.7, G.dof)), G.Tangent.Zero()]


@pytest.mark.parametrize("G", GROUPS, ids=IDS)
def test_pickle_copy_deepcopy_repr(G):
    for x in objects(G):
        for y in (pickle.loads(pickle.dumps(x, protocol=p)) for p in range(2, pickle.HIGHEST_PROTOCOL + 1)):
            assert type(y) is type(x)
            np.testing.assert_array_equal(y.coeffs(), x.coeffs())
        for y in (copy.copy(x), copy.deepcopy(x), copy.deepcopy([x])[0]):
            assert type(y) is type(x) and y is not x
            np.testing.assert_array_equal(y.coeffs(), x.coeffs())
        r = repr(x)
        assert r.startswith(type(x).__name__ + "(")
        y = eval(r, {type(x).__name__: type(x)})  # repr round-trips exactly
        np.testing.assert_array_equal(y.coeffs(), x.coeffs())


@pytest.mark.parametrize("G", GROUPS, ids=IDS)
def test_equality_with_tolerance(G):
    X = G.Random(seed=4)
    t = np.linspace(0.2, 1.0, G.dof)
    assert X == X.rplus(1e-13 * t)
    assert not (X == X.rplus(1e-6 * t))
    assert X != X.rplus(1e-6 * t)
    assert X.is_approx(X.rplus(1e-6 * t), tol=1e-4)
    assert not X.is_approx(X.rplus(1e-6 * t), tol=1e-8)
    assert X != G.Random(seed=5)
    assert (X == "SE3") is False and (X == X.Log()) is False and (X == None) is False  # noqa: E711
    T = G.Tangent(t)
    assert T == G.Tangent(t + 1e-13) and T != G.Tangent(t + 1e-6)
    with pytest.raises(TypeError):
        hash(X)  # mutable (normalize) and compared with a tolerance: not hashable
    with pytest.raises(TypeError):
        hash(T)


@pytest.mark.parametrize("G", GROUPS, ids=IDS)
def test_matmul_operator(G):
    X, Y = G.Random(seed=6), G.Random(seed=7)
    assert (X @ Y).is_approx(X * Y, 1e-14)
    rng = np.random.default_rng(8)
    p = rng.uniform(-2, 2, G.dim)
    np.testing.assert_allclose(X @ p, X.act(p), atol=1e-14)
    np.testing.assert_allclose(X @ list(p), X.act(p), atol=1e-14)
    P = rng.uniform(-2, 2, (7, G.dim))
    out = X @ P
    assert out.shape == (7, G.dim)
    np.testing.assert_allclose(out, np.stack([X.act(pi) for pi in P]), atol=1e-12)
    np.testing.assert_allclose(out, batch_of(G).act(np.repeat(X.coeffs()[None], 7, 0), P), atol=1e-12)


# ---------------------------------------------------------------- batch Identity / Random


@pytest.fixture
def restore_threads():
    yield
    mp.set_num_threads(0)
    mp.set_parallel_threshold(20000)


@pytest.mark.parametrize("G", GROUPS, ids=IDS)
def test_batch_identity_and_random(G):
    b = batch_of(G)
    I = b.Identity(5)
    assert I.shape == (5, G.rep_size) and I.dtype == np.float64
    np.testing.assert_array_equal(I, np.tile(G.Identity().coeffs(), (5, 1)))
    for dtype in (None, np.float64, np.float32):
        R = b.Random(6, seed=11, dtype=dtype)
        assert R.shape == (6, G.rep_size) and R.dtype == (dtype or np.float64)
        for row in R.astype(np.float64):
            G(row)  # every row is a valid element (unit rotation part, positive scale)
    np.testing.assert_array_equal(b.Random(6, seed=11), b.Random(6, seed=11))
    assert not np.array_equal(b.Random(6, seed=11), b.Random(6, seed=12))
    assert not np.array_equal(b.Random(6), b.Random(6))  # unseeded calls differ
    assert np.all(np.abs(b.Random(1000, seed=1)[:, :G.dim]).max(axis=0) > 0.5)  # spread out, not constant


@pytest.mark.parametrize("G", [mp.SE3, mp.SO2, mp.Sim3], ids=["SE3", "SO2", "Sim3"])
def test_batch_random_independent_of_threads(G, restore_threads):
    b, n = batch_of(G), 30000
    mp.set_num_threads(1)
    one = b.Random(n, seed=42)
    one32 = b.Random(n, seed=42, dtype=np.float32)
    mp.set_num_threads(2)
    np.testing.assert_array_equal(b.Random(n, seed=42), one)
    np.testing.assert_array_equal(b.Random(n, seed=42, dtype=np.float32), one32)
    mp.set_parallel_threshold(1)  # Random parallelises over blocks: force several threads
    np.testing.assert_array_equal(b.Random(n, seed=42), one)
    # A prefix does not depend on the length asked for.
    np.testing.assert_array_equal(b.Random(5000, seed=42), one[:5000])


@pytest.mark.parametrize("G", [mp.SE3, mp.SE2, mp.SGal3], ids=["SE3", "SE2", "SGal3"])
def test_batch_ops_independent_of_threads(G, restore_threads):
    b, n = batch_of(G), 30000
    X, Y = b.Random(n, seed=1), b.Random(n, seed=2)
    mp.set_num_threads(1)
    ref = [b.compose(X, Y, jacobians=True), b.Log(X), b.act(X, Y[:, :G.dim])]
    mp.set_num_threads(2)
    assert mp.get_num_threads() == 2
    got = [b.compose(X, Y, jacobians=True), b.Log(X), b.act(X, Y[:, :G.dim])]
    for r, g in zip(ref[0] + tuple(ref[1:]), got[0] + tuple(got[1:])):
        np.testing.assert_array_equal(g, r)


def test_set_num_threads_validation(restore_threads):
    mp.set_num_threads(3)
    assert mp.get_num_threads() == 3
    mp.set_num_threads(0)
    assert mp.get_num_threads() >= 1
    with pytest.raises(ValueError, match="'n'"):
        mp.set_num_threads(-1)
    for bad in ("2", 2.5, None):
        with pytest.raises(TypeError):
            mp.set_num_threads(bad)
    with pytest.raises(ValueError, match="'n'"):
        mp.set_parallel_threshold(0)
    assert mp.get_num_threads() >= 1
