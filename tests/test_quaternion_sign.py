"""One rule for the quaternion's sign (q and -q are one rotation): constructors from a
rotation give scipy's canonical form (w > 0; at w = 0 the first non-zero of x, y, z
positive); Exp gives w = cos(|v|/2), so both agree for |v| < pi and Log(from_matrix(R))
round-trips."""

import numpy as np
import pytest

import manif_py as mp


def _quat_of(X):
    """The (x, y, z, w) part of an element's coefficients."""
    c = X.coeffs()
    return {"SO3": c, "SE3": c[3:7], "Sim3": c[3:7], "SE23": c[3:7], "SGal3": c[3:7]}[type(X).__name__]


def _canonical(q):
    lead = q[3] if q[3] != 0 else next((v for v in q[:3] if v != 0), 0.0)
    return lead > 0


def _rotation_vectors(n, rng):
    """Rotation vectors with angles spread over (0, pi), including near 0 and near pi."""
    axes = rng.normal(size=(n, 3))
    axes /= np.linalg.norm(axes, axis=1, keepdims=True)
    angles = np.concatenate([rng.uniform(0, np.pi, n - 4), [1e-9, 1e-4, np.pi - 1e-4, np.pi - 1e-9]])
    return axes * angles[:, None]


@pytest.mark.parametrize("name", ["SO3", "SE3", "Sim3", "SE23", "SGal3"])
def test_from_matrix_agrees_with_exp_below_pi(name):
    G = getattr(mp, name)
    rng = np.random.default_rng(3)
    for w in _rotation_vectors(60, rng):
        tau = np.zeros(G.dof)
        sl = {"SO3": slice(0, 3), "SE3": slice(3, 6), "Sim3": slice(3, 6), "SE23": slice(3, 6), "SGal3": slice(6, 9)}[name]
        tau[sl] = w
        X = G.Exp(tau)
        Y = G.from_matrix(X.matrix())
        np.testing.assert_allclose(Y.coeffs(), X.coeffs(), atol=1e-9)


@pytest.mark.parametrize("name", ["SO3", "SE3", "Sim3", "SE23", "SGal3"])
def test_from_matrix_is_canonical_for_every_rotation(name):
    G = getattr(mp, name)
    for seed in range(200):
        X = G.Random(seed=seed)
        assert _canonical(_quat_of(G.from_matrix(X.matrix()))), seed


def test_half_turns_take_the_first_nonzero_axis_positive():
    for axis in np.eye(3):
        for sign in (1.0, -1.0):
            R = mp.SO3.Exp(sign * np.pi * axis).matrix()
            q = mp.SO3.from_matrix(R).coeffs()
            np.testing.assert_allclose(q, np.append(axis, 0.0), atol=1e-12)


def test_from_rt_is_canonical():
    for seed in range(50):
        X = mp.SE3.Random(seed=seed)
        M = X.matrix()
        assert _canonical(mp.SE3.from_rt(M[:3, :3], M[:3, 3]).coeffs()[3:])


def test_raw_coefficients_keep_the_callers_sign():
    # A quaternion given as coefficients is the caller's data: its sign is not changed.
    q = np.array([0.0, 0.0, -np.sin(0.25), -np.cos(0.25)])
    np.testing.assert_allclose(mp.SO3(q).coeffs(), q)
