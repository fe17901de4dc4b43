"""Batch constructors: batch.<Group>.from_matrix (every group), from_rt / as_rt
(SE2, SE3, Sim3), checked against the single-element API and against bad input."""

import numpy as np
import pytest

import manif_py as mp
from groups import GROUP_IDS, GROUPS, batch_of

QUAT_AT = {"SO3": 0, "SE3": 3, "SE23": 3, "SGal3": 3, "Sim3": 3}  # where the (x, y, z, w) block starts
RT_GROUPS = [mp.SE2, mp.SE3, mp.Sim3]


@pytest.mark.parametrize("G", GROUPS, ids=GROUP_IDS)
def test_from_matrix_inverts_matrix_and_agrees_with_single_element(G):
    B = batch_of(G)
    X = B.Random(200, seed=4)
    M = B.matrix(X)
    Y = B.from_matrix(M)
    assert Y.shape == X.shape and Y.dtype == np.float64
    np.testing.assert_allclose(B.matrix(Y), M, atol=1e-12)
    at = QUAT_AT.get(G.__name__)
    if at is not None:
        w = Y[:, at + 3]
        assert np.all(w >= 0), "batch from_matrix must return quaternions with w >= 0"
        # the same rotation as the input's quaternion, up to its sign
        sign = np.where(X[:, at + 3] < 0, -1.0, 1.0)[:, None]
        np.testing.assert_allclose(Y[:, at:at + 4], sign * X[:, at:at + 4], atol=1e-12)
    for i in range(0, 200, 37):
        single = G.from_matrix(M[i]) if hasattr(G, "from_matrix") else G(X[i])
        c = np.asarray(single.coeffs())
        np.testing.assert_allclose(B.matrix(c)[0], M[i], atol=1e-12)
        if at is not None and c[at + 3] < 0:  # single-element sign rule may differ: compare the rotation
            c = c.copy()
            c[at:at + 4] *= -1
        np.testing.assert_allclose(Y[i], c, atol=1e-12)


@pytest.mark.parametrize("G", GROUPS, ids=GROUP_IDS)
def test_from_matrix_accepts_a_single_matrix_float32_and_out(G):
    B = batch_of(G)
    X = B.Random(5, seed=1)
    M = B.matrix(X)
    np.testing.assert_allclose(B.from_matrix(M[0]), B.from_matrix(M[:1]), atol=0)
    f32 = B.from_matrix(M.astype(np.float32))
    assert f32.dtype == np.float32
    np.testing.assert_allclose(B.matrix(f32), M, atol=1e-5)
    out = np.empty_like(X)
    assert B.from_matrix(M, out=out) is out
    np.testing.assert_allclose(B.matrix(out), M, atol=1e-12)


def test_quaternion_sign_rule_near_pi_and_identity():
    # rotations of angle pi have w = 0: both signs of the axis are the same rotation
    angles = np.array([0.0, 1e-9, np.pi - 1e-9, np.pi, 3.0])
    tau = np.zeros((len(angles), 3))
    tau[:, 2] = angles
    R = mp.batch.SO3.matrix(mp.batch.SO3.Exp(tau))
    q = mp.batch.SO3.from_matrix(R)
    assert np.all(q[:, 3] >= 0)
    np.testing.assert_allclose(mp.batch.SO3.matrix(q), R, atol=1e-12)


@pytest.mark.parametrize("G", [g for g in GROUPS if g.__name__ in QUAT_AT or g.__name__ in ("SO2", "SE2")],
                         ids=lambda g: g.__name__)
def test_from_matrix_rejects_non_rotations_by_element(G):
    B = batch_of(G)
    M = B.matrix(B.Random(6, seed=2))
    bad = M.copy()
    bad[4, 0, 0] += 1e-3  # not orthonormal (Sim3: changes the scale too, still not a rotation)
    with pytest.raises(ValueError, match=r"from_matrix: argument 'M' element 4 "):
        B.from_matrix(bad)
    refl = M.copy()
    refl[2, :, 0] *= -1  # a reflection: det < 0
    with pytest.raises(ValueError, match="element 2"):
        B.from_matrix(refl)
    nan = M.copy()
    nan[1, 0, 1] = np.nan
    with pytest.raises(ValueError, match="element 1 contains NaN"):
        B.from_matrix(nan)


@pytest.mark.parametrize("G", [mp.SE2, mp.SE3, mp.SE23, mp.SGal3, mp.Sim3, mp.R3], ids=lambda g: g.__name__)
def test_from_matrix_rejects_wrong_constant_rows(G):
    B = batch_of(G)
    M = B.matrix(B.Random(4, seed=3))
    bad = M.copy()
    bad[3, -1, 0] = 0.5  # the last row must be (0, ..., 0, 1)
    with pytest.raises(ValueError, match="element 3 is not of the form"):
        B.from_matrix(bad)
    bad = M.copy()
    bad[0, -1, -1] = 2.0
    with pytest.raises(ValueError, match="element 0 is not of the form"):
        B.from_matrix(bad)


def test_rn_identity_block_is_checked():
    M = mp.batch.R3.matrix(mp.batch.R3.Random(3, seed=0))
    M[1, 0, 1] = 0.25
    with pytest.raises(ValueError, match="element 1 is not of the form"):
        mp.batch.R3.from_matrix(M)


def test_sim3_from_matrix_rejects_non_positive_determinant():
    M = mp.batch.Sim3.matrix(mp.batch.Sim3.Random(3, seed=0))
    M[2, :3, :3] *= -1  # det < 0
    with pytest.raises(ValueError, match="element 2 has a non-positive scale"):
        mp.batch.Sim3.from_matrix(M)


def test_from_matrix_shape_and_type_errors_name_the_argument():
    B = mp.batch.SE3
    with pytest.raises(ValueError, match=r"argument 'M' must have shape \(N, 4, 4\)"):
        B.from_matrix(np.zeros((5, 3, 3)))
    with pytest.raises(TypeError, match="argument 'M'"):
        B.from_matrix(np.zeros((2, 4, 4), dtype=complex))
    with pytest.raises(TypeError, match="argument 'M'"):
        B.from_matrix(None)
    with pytest.raises(ValueError, match="empty batch"):
        B.from_matrix(np.zeros((0, 4, 4)))


def test_from_matrix_checks_even_when_unchecked():
    M = mp.batch.SE3.matrix(mp.batch.SE3.Random(3, seed=0))
    M[0, 0, 0] = 3.0
    with mp.unchecked():
        with pytest.raises(ValueError, match="element 0"):
            mp.batch.SE3.from_matrix(M)


@pytest.mark.parametrize("G", RT_GROUPS, ids=lambda g: g.__name__)
def test_rt_round_trip_and_single_element_agreement(G):
    B = batch_of(G)
    X = B.Random(100, seed=5)
    parts = B.as_rt(X)
    d = B.dim
    assert parts[0].shape == (100, d, d) and parts[1].shape == (100, d)
    Y = B.from_rt(*parts)
    np.testing.assert_allclose(B.matrix(Y), B.matrix(X), atol=1e-12)
    for i in range(0, 100, 23):
        x = G(X[i])
        np.testing.assert_allclose(parts[0][i], x.rotation(), atol=1e-12)
        np.testing.assert_allclose(parts[1][i], x.translation(), atol=1e-12)
        if G is mp.Sim3:
            assert parts[2][i] == pytest.approx(x.scale(), abs=1e-14)
    if G is mp.SE3:
        for i in range(0, 100, 23):
            single = mp.SE3.from_rt(parts[0][i], parts[1][i])
            np.testing.assert_allclose(mp.SE3(Y[i]).transform(), single.transform(), atol=1e-12)


def test_from_rt_broadcasts_and_validates():
    R = mp.batch.SO3.matrix(mp.batch.SO3.Random(10, seed=0))
    X = mp.batch.SE3.from_rt(R, np.array([1.0, 2.0, 3.0]))
    assert X.shape == (10, 7)
    np.testing.assert_allclose(X[:, :3], np.tile([1.0, 2.0, 3.0], (10, 1)))
    assert np.all(X[:, 6] >= 0)
    bad = R.copy()
    bad[7] *= 1.01
    with pytest.raises(ValueError, match="from_rt: argument 'R' element 7"):
        mp.batch.SE3.from_rt(bad, np.zeros((10, 3)))
    t = np.zeros((10, 3))
    t[5, 1] = np.inf
    with pytest.raises(ValueError, match="argument 't' element 5 contains NaN or inf"):
        mp.batch.SE3.from_rt(R, t)
    with pytest.raises(ValueError, match="do not broadcast"):
        mp.batch.SE3.from_rt(R, np.zeros((9, 3)))
    with pytest.raises(ValueError, match=r"argument 'R' must have shape \(N, 3, 3\)"):
        mp.batch.SE3.from_rt(np.zeros((10, 2, 2)), t)


def test_sim3_from_rt_scale():
    R = mp.batch.SO3.matrix(mp.batch.SO3.Random(4, seed=1))
    t = np.arange(12.0).reshape(4, 3)
    X = mp.batch.Sim3.from_rt(R, t, np.array([0.5, 1.0, 2.0, 3.0]))
    np.testing.assert_allclose(X[:, 7], [0.5, 1.0, 2.0, 3.0])
    np.testing.assert_allclose(mp.batch.Sim3.from_rt(R, t)[:, 7], 1.0)
    Rb, tb, sb = mp.batch.Sim3.as_rt(X)
    np.testing.assert_allclose(Rb, R, atol=1e-12)
    np.testing.assert_allclose(tb, t)
    np.testing.assert_allclose(sb, [0.5, 1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="argument 's' element 1 has a non-positive scale"):
        mp.batch.Sim3.from_rt(R, t, np.array([1.0, -1.0, 1.0, 1.0]))


def test_se2_from_rt():
    th = np.linspace(-3, 3, 7)
    R = np.stack([np.stack([np.cos(th), -np.sin(th)], -1), np.stack([np.sin(th), np.cos(th)], -1)], 1)
    X = mp.batch.SE2.from_rt(R, np.ones((7, 2)))
    np.testing.assert_allclose(X[:, 2], np.cos(th), atol=1e-15)
    np.testing.assert_allclose(X[:, 3], np.sin(th), atol=1e-15)
    for i in range(7):
        single = mp.SE2.from_matrix(mp.batch.SE2.matrix(X)[i])
        np.testing.assert_allclose(single.coeffs(), X[i], atol=1e-15)


def test_as_rt_validates_its_input():
    X = mp.batch.SE3.Random(3, seed=0)
    X[1, 3:] = 2.0
    with pytest.raises(ValueError, match="as_rt: argument 'X' element 1"):
        mp.batch.SE3.as_rt(X)
