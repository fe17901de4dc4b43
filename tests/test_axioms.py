"""Identities of the micro Lie theory on the hard elements of every group:
Jacobian relations, adjoints, hat/vee, matrix exponential, averages."""

import numpy as np
import pytest
from scipy.linalg import expm

import manif_py as mp
from groups import ANGLE_SLICE, GROUP_IDS, GROUPS, batch_of, hard_cases

ATOL = 1e-9


def elements(group):
    for kind, X, tau, Y in hard_cases(group, seed=5):
        for i in range(X.shape[0]):
            yield kind, group(X[i]), group.Tangent(tau[i]), group(Y[i])


@pytest.mark.parametrize("group", GROUPS, ids=GROUP_IDS)
def test_left_and_right_jacobians_are_related_by_the_adjoint(group):
    for kind, X, t, Y in elements(group):
        Jr, Jl = t.Jr(), t.Jl()
        np.testing.assert_allclose(Jl, group.Exp(t).Adj() @ Jr, atol=ATOL, err_msg=kind)
        np.testing.assert_allclose((-t).Jr(), Jl, atol=ATOL, err_msg=kind)
        np.testing.assert_allclose(Jr @ t.Jr_inv(), np.eye(group.dof), atol=1e-8, err_msg=kind)
        np.testing.assert_allclose(Jl @ t.Jl_inv(), np.eye(group.dof), atol=1e-8, err_msg=kind)


@pytest.mark.parametrize("group", GROUPS, ids=GROUP_IDS)
def test_adjoint_is_a_homomorphism_and_matches_its_definition(group):
    rng = np.random.default_rng(0)
    for kind, X, t, Y in elements(group):
        np.testing.assert_allclose((X * Y).Adj(), X.Adj() @ Y.Adj(), atol=ATOL, err_msg=kind)
        np.testing.assert_allclose(X.inverse().Adj(), np.linalg.inv(X.Adj()), atol=1e-8, err_msg=kind)
        tau = group.Tangent(rng.normal(size=group.dof))
        M = X.matrix()
        expected = group.Tangent.vee(M @ tau.hat() @ np.linalg.inv(M)).coeffs()
        np.testing.assert_allclose(X.Adj() @ tau.coeffs(), expected, atol=ATOL, err_msg=kind)


@pytest.mark.parametrize("group", GROUPS, ids=GROUP_IDS)
def test_small_adjoint_is_the_bracket(group):
    rng = np.random.default_rng(1)
    for kind, X, a, Y in elements(group):
        b = group.Tangent(rng.normal(size=group.dof))
        A, B = a.hat(), b.hat()
        expected = group.Tangent.vee(A @ B - B @ A).coeffs()
        np.testing.assert_allclose(a.ad() @ b.coeffs(), expected, atol=ATOL, err_msg=kind)
        np.testing.assert_allclose(a.bracket(b).coeffs(), expected, atol=ATOL, err_msg=kind)


@pytest.mark.parametrize("group", GROUPS, ids=GROUP_IDS)
def test_hat_vee_generators_and_the_matrix_exponential(group):
    for i in range(group.dof):
        e = np.zeros(group.dof)
        e[i] = 1.0
        np.testing.assert_array_equal(group.Tangent.generator(i), group.Tangent(e).hat())
    for kind, X, t, Y in elements(group):
        np.testing.assert_allclose(group.Tangent.vee(t.hat()).coeffs(), t.coeffs(), atol=0)
        np.testing.assert_allclose(group.Exp(t).matrix(), expm(t.hat()), atol=1e-9, err_msg=kind)
        np.testing.assert_allclose(X.log(), X.Log().hat(), atol=0)
        assert group.exp(X.log()).is_approx(X, 1e-9)


@pytest.mark.parametrize("group", GROUPS, ids=GROUP_IDS)
def test_log_inverts_exp_inside_the_injectivity_radius(group):
    for kind, X, t, Y in elements(group):
        np.testing.assert_allclose(group.Exp(t).Log().coeffs(), t.coeffs(), atol=1e-9, err_msg=kind)
        assert group.Exp(X.Log()).is_approx(X, 1e-9), kind


@pytest.mark.parametrize("group", GROUPS, ids=GROUP_IDS)
def test_tangent_jacobian_batches_equal_single_elements(group):
    b = batch_of(group)
    for kind, X, tau, Y in hard_cases(group, seed=3):
        for name in ("Jr", "Jl", "Jr_inv", "Jl_inv", "ad", "hat"):
            batch = getattr(b, name)(tau)
            for i in range(tau.shape[0]):
                np.testing.assert_allclose(getattr(group.Tangent(tau[i]), name)(), batch[i], atol=1e-12)
        np.testing.assert_allclose(b.vee(b.hat(tau)), tau, atol=0)
        adj = b.Adj(X)
        mats = b.matrix(X)
        for i in range(X.shape[0]):
            np.testing.assert_allclose(group(X[i]).Adj(), adj[i], atol=1e-12)
            np.testing.assert_allclose(group(X[i]).matrix(), mats[i], atol=1e-12)


@pytest.mark.parametrize("group", GROUPS, ids=GROUP_IDS)
def test_frechet_mean(group):
    rng = np.random.default_rng(2)
    center = group.Random(seed=3)
    # A symmetric cloud +-tau around the centre averages back to the centre.
    taus = [rng.normal(scale=0.3, size=group.dof) for _ in range(4)]
    cloud = [center.rplus(t) for t in taus] + [center.rplus(-t) for t in taus]
    mean = group.average(cloud)
    # Bi-invariant mean: the residuals Log(mean^-1 X_i) sum to zero.
    residual = sum(x.rminus(mean).coeffs() for x in cloud)
    np.testing.assert_allclose(residual, 0, atol=1e-9)
    # A weight of one on a single element returns that element.
    w = np.zeros(len(cloud))
    w[2] = 1.0
    assert group.average(cloud, weights=w).is_approx(cloud[2], 1e-9)


@pytest.mark.parametrize("group", GROUPS, ids=GROUP_IDS)
def test_interpolation_follows_the_geodesic(group):
    X, Y = group.Random(seed=1), group.Random(seed=2)
    assert X.interp(Y, 0.0).is_approx(X, 1e-12)
    assert X.interp(Y, 1.0).is_approx(Y, 1e-9)
    mid = X.interp(Y, 0.5)
    # The midpoint is equidistant: |Log(X^-1 M)| = |Log(M^-1 Y)|.
    assert np.isclose(mid.rminus(X).norm(), Y.rminus(mid).norm(), atol=1e-9)
    assert X.slerp(Y, 0.25) == X.interp(Y, 0.25)


@pytest.mark.parametrize("group", GROUPS, ids=GROUP_IDS)
def test_tangent_metrics(group):
    rng = np.random.default_rng(4)
    a = group.Tangent(rng.normal(size=group.dof))
    b = group.Tangent(rng.normal(size=group.dof))
    assert np.isclose(a.inner(b), a.coeffs() @ b.coeffs())
    W = np.diag(rng.uniform(0.5, 2.0, group.dof))
    assert np.isclose(a.weighted_norm(W), np.sqrt(a.coeffs() @ W @ a.coeffs()))
    assert np.isclose(a.norm(), np.linalg.norm(a.coeffs()))


def test_near_pi_rotation_log_takes_the_short_way():
    # A rotation by pi + eps about z is a rotation by -(pi - eps).
    R = mp.SO3.Exp([0, 0, np.pi + 1e-3])
    np.testing.assert_allclose(R.Log().coeffs(), [0, 0, -(np.pi - 1e-3)], atol=1e-12)
    assert mp.SO3.Exp([0, 0, np.pi]).Log().norm() == pytest.approx(np.pi)


def test_angle_slices_cover_all_rotating_groups():
    assert set(ANGLE_SLICE) == {g.__name__ for g in GROUPS if not g.__name__.startswith("R")}
