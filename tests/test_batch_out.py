"""out= on the batch ops: results written into the caller's arrays (returned as
given), identical to the allocating call; in place on an input is allowed, any
other overlap, a wrong shape, dtype or layout is a named error."""

import numpy as np
import pytest

import manif_py as mp

B = mp.batch.SE3


@pytest.fixture
def XY():
    return B.Random(300, seed=1), B.Random(300, seed=2)


def test_out_matches_the_allocating_call_for_every_op(XY):
    X, Y = XY
    tau = B.Log(X)
    P = np.random.default_rng(0).uniform(-1, 1, (300, 3))
    calls = {
        "compose": (lambda **k: B.compose(X, Y, **k), 3), "between": (lambda **k: B.between(X, Y, **k), 3),
        "inverse": (lambda **k: B.inverse(X, **k), 2), "Log": (lambda **k: B.Log(X, **k), 2),
        "Exp": (lambda **k: B.Exp(tau, **k), 2), "act": (lambda **k: B.act(X, P, **k), 3),
        "rplus": (lambda **k: B.rplus(X, tau, **k), 3), "lplus": (lambda **k: B.lplus(X, tau, **k), 3),
        "rminus": (lambda **k: B.rminus(X, Y, **k), 3), "lminus": (lambda **k: B.lminus(X, Y, **k), 3),
        "interp": (lambda **k: B.interp(X, Y, 0.3, **k), 4),
    }
    for name, (f, k) in calls.items():
        ref = f()
        out = np.full_like(ref, np.nan)
        assert f(out=out) is out, name
        np.testing.assert_array_equal(out, ref, err_msg=name)
        refs = f(jacobians=True)
        assert len(refs) == k
        outs = tuple(np.full_like(r, np.nan) for r in refs)
        got = f(jacobians=True, out=outs)
        assert all(g is o for g, o in zip(got, outs)), name
        for g, r in zip(got, refs):
            np.testing.assert_array_equal(g, r, err_msg=name)


def test_out_on_matrix_maps_and_unchecked(XY):
    X, _ = XY
    for name in ("Adj", "matrix", "normalize"):
        ref = getattr(B, name)(X)
        out = np.empty_like(ref)
        assert getattr(B, name)(X, out=out) is out
        np.testing.assert_array_equal(out, ref)
    tau = B.Log(X)
    for name in ("Jr", "Jl", "Jr_inv", "Jl_inv", "ad", "hat"):
        ref = getattr(B, name)(tau)
        out = np.empty_like(ref)
        np.testing.assert_array_equal(getattr(B, name)(tau, out=out), ref)
    out = np.empty_like(tau)
    np.testing.assert_array_equal(B.vee(B.hat(tau), out=out), tau)
    Z = np.empty_like(X)
    with mp.unchecked():
        B.compose(X, X, out=Z)
    np.testing.assert_array_equal(Z, B.compose(X, X))


def test_in_place_on_an_input(XY):
    X, Y = XY
    ref = B.compose(X, Y)
    Xc = X.copy()
    assert B.compose(Xc, Y, out=Xc) is Xc
    np.testing.assert_array_equal(Xc, ref)
    Yc = Y.copy()
    B.compose(X, Yc, out=Yc)
    np.testing.assert_array_equal(Yc, ref)


def test_single_element_broadcast_with_out(XY):
    X, Y = XY
    out = np.empty_like(Y)
    B.compose(X[0], Y, out=out)
    np.testing.assert_array_equal(out, B.compose(X[0], Y))
    P = np.ones((300, 3))
    pts = np.empty_like(P)
    B.act(X[0], P, out=pts)
    np.testing.assert_array_equal(pts, B.act(X[0], P))


def test_overlap_other_than_element_for_element_is_rejected(XY):
    X, Y = XY
    buf = np.concatenate([X, X[:1]])
    with pytest.raises(ValueError, match="argument 'out' overlaps input 'X'"):
        B.compose(buf[1:], Y, out=buf[:-1])
    one = X[:1].copy()
    big = np.empty((300, 7))
    big[0] = one[0]
    with pytest.raises(ValueError, match="overlaps input 'X'"):
        B.compose(big[0], Y, out=big)  # a broadcast element would be overwritten at i = 0
    Xb = X.copy()
    with pytest.raises(ValueError, match="overlaps input 'X'"):
        B.Log(Xb, out=Xb.reshape(-1)[:1800].reshape(300, 6))  # same memory, rows of another width
    Z = np.empty((300, 7))
    J = np.empty((300, 6, 6))
    with pytest.raises(ValueError, match="arguments 'out\\[1\\]' and 'out\\[2\\]' overlap"):
        B.compose(X, Y, jacobians=True, out=(Z, J, J))


def test_bad_out_is_a_named_error(XY):
    X, Y = XY
    with pytest.raises(ValueError, match=r"argument 'out' must have shape \(300, 7\), got \(300, 6\)"):
        B.compose(X, Y, out=np.empty((300, 6)))
    with pytest.raises(TypeError, match="argument 'out' must have dtype float64"):
        B.compose(X, Y, out=np.empty((300, 7), dtype=np.float32))
    with pytest.raises(TypeError, match="argument 'out' must be a numpy array"):
        B.compose(X, Y, out=[[0.0] * 7] * 300)
    with pytest.raises(ValueError, match="writeable C-contiguous"):
        B.compose(X, Y, out=np.empty((7, 300)).T)
    ro = np.empty((300, 7))
    ro.flags.writeable = False
    with pytest.raises(ValueError, match="writeable C-contiguous"):
        B.compose(X, Y, out=ro)
    with pytest.raises(TypeError, match="with jacobians=True, argument 'out' must be a tuple of 3 arrays"):
        B.compose(X, Y, jacobians=True, out=np.empty((300, 7)))
    with pytest.raises(ValueError, match=r"argument 'out\[1\]' must have shape \(300, 6, 6\)"):
        B.compose(X, Y, jacobians=True, out=(np.empty((300, 7)), np.empty((300, 6)), np.empty((300, 6, 6))))
    f = mp.batch.SE3.compose(X.astype(np.float32), Y.astype(np.float32), out=np.empty((300, 7), np.float32))
    assert f.dtype == np.float32


def test_a_bad_element_still_raises_with_out(XY):
    X, Y = XY
    bad = X.copy()
    bad[7, 3:] = 3.0
    with pytest.raises(ValueError, match="argument 'X' element 7"):
        B.compose(bad, Y, out=np.empty_like(X))
