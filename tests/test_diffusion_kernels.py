"""SE(3) diffusion kernels: the cosine schedule against a numpy transcription of
its formulas, forward noising and posterior steps against the SE(3) core, noise
statistics, float32, and bad input."""

import numpy as np
import pytest

import manif_py as mp
from manif_py.registration import kernels as K

SE3 = mp.batch.SE3


def random_poses(rng, n, scale=1.0):
    q = rng.normal(size=(n, 4))
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    return np.concatenate([scale * rng.uniform(-1, 1, size=(n, 3)), q], axis=1)


def schedule_reference(T, s):
    t = np.arange(T + 1)
    f = np.cos((t / T + s) / (1 + s) * np.pi / 2) ** 2
    abar = f / f[0]
    beta = np.zeros(T + 1)
    beta[1:] = np.minimum(1 - abar[1:] / abar[:-1], 0.999)
    alpha = 1 - beta
    g0, g1, bt = np.zeros(T + 1), np.zeros(T + 1), np.zeros(T + 1)
    g0[1:] = beta[1:] * np.sqrt(abar[:-1]) / (1 - abar[1:])
    g1[1:] = (1 - abar[:-1]) * np.sqrt(alpha[1:]) / (1 - abar[1:])
    bt[1:] = (1 - abar[:-1]) / (1 - abar[1:]) * beta[1:]
    return dict(alpha_bar=abar, beta=beta, alpha=alpha, gamma0=g0, gamma1=g1, beta_tilde=bt)


@pytest.mark.parametrize("T,s", [(200, 0.008), (5, 0.008), (50, 0.02), (1, 0.008)])
def test_schedule_matches_formulas(T, s):
    got = K.cosine_schedule(T, s)
    ref = schedule_reference(T, s)
    assert set(got) == set(ref)
    for key in ref:
        assert got[key].shape == (T + 1,) and got[key].dtype == np.float64
        np.testing.assert_allclose(got[key], ref[key], rtol=1e-12, atol=1e-14, err_msg=key)
    assert got["alpha_bar"][0] == 1.0 and got["beta"][0] == 0.0
    assert np.all(np.diff(got["alpha_bar"]) < 0)


def scaled(eps, sigma):
    return np.concatenate([sigma[1] * eps[:, :3], sigma[0] * eps[:, 3:]], axis=1)


@pytest.mark.parametrize("T,sigma", [(200, (0.05, 0.03)), (5, (0.1, 0.01))])
def test_diffuse_matches_core(T, sigma):
    rng = np.random.default_rng(1)
    n = 64
    H0 = random_poses(rng, n)
    t = rng.integers(1, T + 1, size=n)
    eps = rng.normal(size=(n, 6))
    abar = K.cosine_schedule(T)["alpha_bar"][t][:, None]
    ref = SE3.compose(SE3.Exp(np.sqrt(1 - abar) * scaled(eps, sigma)), SE3.Exp(np.sqrt(abar) * SE3.Log(H0)))
    got = K.diffuse(H0, t, eps, T=T, sigma=sigma)
    assert got.shape == (n, 7) and got.dtype == np.float64
    np.testing.assert_allclose(SE3.rminus(got, ref), 0, atol=1e-12)


def test_diffuse_at_alpha_bar_near_one_returns_H0():
    rng = np.random.default_rng(2)
    H0 = random_poses(rng, 16)
    T = 100000  # alpha_bar_1 = 1 - 4e-7: almost no shrinkage, almost no noise
    abar1 = K.cosine_schedule(T)["alpha_bar"][1]
    assert 1 - abar1 < 1e-6
    got = K.diffuse(H0, np.ones(16, dtype=np.int64), rng.normal(size=(16, 6)), T=T)
    # Noise of size sqrt(1 - abar) * sigma * |eps| and shrinkage (1 - sqrt(abar)) |Log H0|.
    assert np.abs(SE3.rminus(got, H0)).max() < 6 * np.sqrt(1 - abar1) * 0.05 + 4 * (1 - np.sqrt(abar1))


def test_diffuse_noise_statistics():
    """Log(H_t Exp(sqrt(abar) Log H0)^-1) is the scaled noise: zero mean and
    covariance (1 - abar) diag(sig_trans^2 I, sig_rot^2 I) over many draws."""
    rng = np.random.default_rng(3)
    n, T, tstep, sigma = 20000, 200, 120, (0.05, 0.03)
    H0 = np.tile(random_poses(rng, 1), (n, 1))
    eps = rng.normal(size=(n, 6))
    Ht = K.diffuse(H0, np.full(n, tstep), eps, T=T, sigma=sigma)
    abar = K.cosine_schedule(T)["alpha_bar"][tstep]
    mean_pose = SE3.Exp(np.sqrt(abar) * SE3.Log(H0))
    xi = SE3.Log(SE3.compose(Ht, SE3.inverse(mean_pose)))
    expected_var = (1 - abar) * np.array([sigma[1]] * 3 + [sigma[0]] * 3) ** 2
    sd = np.sqrt(expected_var)
    assert np.all(np.abs(xi.mean(0)) < 5 * sd / np.sqrt(n))
    cov = np.cov(xi.T)
    np.testing.assert_allclose(np.diag(cov), expected_var, rtol=0.05)
    off = cov / np.sqrt(np.outer(expected_var, expected_var)) - np.eye(6)
    assert np.abs(off).max() < 0.05
    # And the pose's own log concentrates at sqrt(abar) Log H0 (noise is small).
    np.testing.assert_allclose(SE3.Log(Ht).mean(0), np.sqrt(abar) * SE3.Log(H0[:1])[0], atol=0.01)


def posterior_reference(H0_hat, H, t, eps, T, sigma):
    sch = K.cosine_schedule(T)
    g0, g1, bt = sch["gamma0"][t][:, None], sch["gamma1"][t][:, None], sch["beta_tilde"][t][:, None]
    out = SE3.Exp(g0 * SE3.Log(H0_hat) + g1 * SE3.Log(H))
    if eps is not None:
        noisy = SE3.compose(SE3.Exp(np.sqrt(bt) * scaled(eps, sigma)), out)
        out = np.where((t > 1)[:, None], noisy, out)
    return out


@pytest.mark.parametrize("with_noise", [False, True])
@pytest.mark.parametrize("T,sigma", [(200, (0.05, 0.03)), (5, (0.1, 0.01))])
def test_posterior_step_matches_core(with_noise, T, sigma):
    rng = np.random.default_rng(4)
    n = 50
    H0_hat, H = random_poses(rng, n), random_poses(rng, n)
    t = rng.integers(1, T + 1, size=n)
    t[:3] = 1  # the last step never adds noise
    eps = rng.normal(size=(n, 6)) if with_noise else None
    got = K.posterior_step(H0_hat, H, t, eps, T=T, sigma=sigma)
    ref = posterior_reference(H0_hat, H, t, eps, T, sigma)
    np.testing.assert_allclose(SE3.rminus(got, ref), 0, atol=1e-12)
    if with_noise:
        det = K.posterior_step(H0_hat[:3], H[:3], t[:3], None, T=T, sigma=sigma)
        np.testing.assert_allclose(got[:3], det, atol=1e-15)


def test_posterior_chain_reaches_estimate():
    """With a perfect network (H0_hat = H0) the deterministic chain ends at H0."""
    rng = np.random.default_rng(5)
    H0 = random_poses(rng, 8, scale=0.3)
    T = 5
    H = SE3.Identity(8) if hasattr(SE3, "Identity") else np.tile([0, 0, 0, 0, 0, 0, 1.0], (8, 1))
    for t in range(T, 0, -1):
        H = K.posterior_step(H0, H, np.full(8, t), None, T=T, sigma=(0.1, 0.01))
    # At t = 1, gamma0 = 1 and gamma1 = 0 (alpha_bar_0 = 1), so H_0 = H0_hat exactly.
    np.testing.assert_allclose(SE3.rminus(H, H0), 0, atol=1e-12)


def test_float32_matches_float64():
    rng = np.random.default_rng(6)
    H0, H = random_poses(rng, 32), random_poses(rng, 32)
    t = rng.integers(1, 201, size=32)
    eps = rng.normal(size=(32, 6))
    d64 = K.diffuse(H0, t, eps)
    d32 = K.diffuse(H0.astype(np.float32), t, eps.astype(np.float32))
    assert d32.dtype == np.float32
    assert np.abs(SE3.rminus(d32.astype(np.float64), d64)).max() < 1e-4
    p64 = K.posterior_step(H0, H, t, eps)
    p32 = K.posterior_step(H0.astype(np.float32), H.astype(np.float32), t, eps.astype(np.float32))
    assert np.abs(SE3.rminus(p32.astype(np.float64), p64)).max() < 1e-4


def names(arg, *also):
    def check(info):
        msg = str(info.value)
        assert not arg or f"'{arg}'" in msg, msg
        for s in also:
            assert s in msg, msg
    return check


@pytest.mark.parametrize("call,exc,arg,also", [
    (lambda H0, t, e: K.diffuse(H0[:, :6], t, e), ValueError, "H0", ("(N, 7)",)),
    (lambda H0, t, e: K.diffuse(H0, t, e[:, :5]), ValueError, "eps", ("(N, 6)",)),
    (lambda H0, t, e: K.diffuse(H0, t * 0, e), ValueError, "t", ("[1, T]",)),
    (lambda H0, t, e: K.diffuse(H0, t + 200, e), ValueError, "t", ("[1, T]",)),
    (lambda H0, t, e: K.diffuse(H0, t.astype(float), e), TypeError, "t", ("integers",)),
    (lambda H0, t, e: K.diffuse(H0 * 2, t, e), ValueError, "H0", ("unit norm",)),
    (lambda H0, t, e: K.diffuse(H0, t, np.where(e > 1, np.nan, e)), ValueError, "eps", ("NaN",)),
    (lambda H0, t, e: K.diffuse(H0, t[:3], e), ValueError, "t", ()),
    (lambda H0, t, e: K.diffuse(H0[:0], t[:0], e[:0]), ValueError, "", ("empty",)),
    (lambda H0, t, e: K.diffuse(H0, t, e, T=0), ValueError, "T", ()),
    (lambda H0, t, e: K.diffuse(H0, t, e, sigma=(0.1,)), ValueError, "sigma", ("(2,)",)),
    (lambda H0, t, e: K.diffuse(H0, t, e, sigma=(-0.1, 0.1)), ValueError, "sigma", ()),
    (lambda H0, t, e: K.diffuse(None, t, e), TypeError, "H0", ()),
    (lambda H0, t, e: K.posterior_step(H0, H0[:, :3], t), ValueError, "H", ("(N, 7)",)),
    (lambda H0, t, e: K.posterior_step(H0, H0, t, e[:, :4]), ValueError, "eps", ("(N, 6)",)),
    (lambda H0, t, e: K.posterior_step(H0, H0, t * 0, e), ValueError, "t", ("[1, T]",)),
    (lambda H0, t, e: K.posterior_step(H0, H0, np.array(["a"] * 10), e), TypeError, "t", ()),
    (lambda H0, t, e: K.posterior_step(np.full((10, 7), np.inf), H0, t), ValueError, "H0_hat", ("NaN or inf",)),
    (lambda H0, t, e: K.cosine_schedule(10, s=-1.0), ValueError, "s", ()),
])
def test_bad_input(call, exc, arg, also):
    rng = np.random.default_rng(7)
    H0 = random_poses(rng, 10)
    t = rng.integers(1, 201, size=10)
    e = rng.normal(size=(10, 6))
    with pytest.raises(exc) as info:
        call(H0, t, e)
    names(arg, *also)(info)
