"""IMU preintegration on SE_2(3) and the IMU factor: Jacobians against finite differences,
exactness on noise-free data, bad input as named errors."""

import numpy as np
import pytest

import manif_py as mp
from manif_py.estimation import FactorGraph, preintegrate_imu

G = np.array([0.0, 0.0, -9.81])


def _samples(n=50, dt=0.01, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(n) * dt
    acc = np.array([0.3, -0.2, 9.81]) + 0.5 * rng.standard_normal((n, 3))
    gyro = np.array([0.1, -0.3, 0.5]) + 0.2 * rng.standard_normal((n, 3))
    return t, acc, gyro


def test_bias_jacobian_matches_finite_differences():
    t, acc, gyro = _samples()
    b0 = np.array([0.05, -0.02, 0.1, 0.01, -0.03, 0.02])
    p = preintegrate_imu(t, acc, gyro, 1e-2, 1e-3, bias=b0)
    eps = 1e-6
    J = np.zeros((9, 6))
    for k in range(6):
        b = b0.copy()
        b[k] += eps
        d = preintegrate_imu(t, acc, gyro, 1e-2, 1e-3, bias=b).delta
        J[:, k] = (p.delta.inverse() * d).Log().coeffs() / eps
    np.testing.assert_allclose(p.bias_jacobian, J, atol=1e-5)


def test_noise_free_prediction_is_exact():
    """Integrate a state sample by sample (ground truth) and compare with Gamma Phi(X_i) DX."""
    t, acc, gyro = _samples()
    Xi = mp.SE23.Random()
    R, p, v = Xi.rotation(), Xi.translation(), Xi.linear_velocity()
    for k in range(len(t) - 1):
        dt = t[k + 1] - t[k]
        a_w = R @ acc[k] + G
        p = p + v * dt + 0.5 * a_w * dt * dt
        v = v + a_w * dt
        R = R @ mp.SO3Tangent(gyro[k] * dt).exp().rotation()
    pre = preintegrate_imu(t, acc, gyro, 1e-2, 1e-3)
    Xj = pre.predict(Xi, np.zeros(6), G)
    np.testing.assert_allclose(Xj.translation(), p, atol=1e-10)
    np.testing.assert_allclose(Xj.linear_velocity(), v, atol=1e-10)
    np.testing.assert_allclose(Xj.rotation(), R, atol=1e-10)


def test_covariance_matches_monte_carlo():
    t, acc, gyro = _samples(n=20)
    sa, sg = 0.2, 0.05
    p = preintegrate_imu(t, acc, gyro, sa, sg)
    rng = np.random.default_rng(1)
    dt = t[1] - t[0]
    errs = []
    for _ in range(3000):
        na = rng.standard_normal(acc.shape) * sa / np.sqrt(dt)
        ng = rng.standard_normal(gyro.shape) * sg / np.sqrt(dt)
        d = preintegrate_imu(t, acc + na, gyro + ng, sa, sg).delta
        errs.append((p.delta.inverse() * d).Log().coeffs())
    C = np.cov(np.array(errs).T)
    scale = np.sqrt(np.outer(np.diag(p.covariance), np.diag(p.covariance)))
    assert np.max(np.abs(C - p.covariance) / scale) < 0.12


def _imu_graph(seed=0):
    t, acc, gyro = _samples(seed=seed)
    pre = preintegrate_imu(t, acc, gyro, 1e-2, 1e-3, bias=np.full(6, 0.01))
    rng = np.random.default_rng(seed)
    g = FactorGraph()
    xi = g.add_variable(mp.SE23.Random())
    b = g.add_variable(mp.R6(0.05 * rng.standard_normal(6)))
    xj = g.add_variable(mp.SE23.Random())
    fid = g.add_imu_factor(xi, b, xj, pre, gravity=G)
    return g, fid, (xi, b, xj)


def test_imu_factor_jacobians_match_finite_differences():
    g, fid, keys = _imu_graph()
    J = g.jacobians(fid)
    r0 = g.residual(fid)
    eps = 1e-7
    for k, Jk in zip(keys, J):
        X0 = g.value(k)
        num = np.zeros_like(Jk)
        for c in range(Jk.shape[1]):
            tau = np.zeros(Jk.shape[1])
            tau[c] = eps
            g.set_value(k, X0.rplus(type(X0).Tangent(tau)))
            num[:, c] = (g.residual(fid) - r0) / eps
        g.set_value(k, X0)
        np.testing.assert_allclose(Jk, num, rtol=1e-4, atol=1e-4 * np.abs(Jk).max())


@pytest.mark.parametrize("group", [mp.SE23, mp.SGal3, mp.Sim3])
def test_between_and_prior_jacobians_on_new_groups(group):
    g = FactorGraph()
    a = g.add_variable(group.Random())
    b = g.add_variable(group.Random())
    fp = g.add_prior(a, group.Random(), 4.0)
    fb = g.add_between(a, b, group.Random(), 9.0, robust="cauchy")
    eps = 1e-7
    for fid in (fp, fb):
        r0 = g.residual(fid)
        for k, Jk in zip([a] if fid == fp else [a, b], g.jacobians(fid)):
            X0 = g.value(k)
            num = np.zeros_like(Jk)
            for c in range(Jk.shape[1]):
                tau = np.zeros(Jk.shape[1])
                tau[c] = eps
                g.set_value(k, X0.rplus(group.Tangent(tau)))
                num[:, c] = (g.residual(fid) - r0) / eps
            g.set_value(k, X0)
            np.testing.assert_allclose(Jk, num, atol=2e-5 * max(1.0, np.abs(Jk).max()))
    res = g.solve(covariances=[a, b])
    assert res.converged and res.final_chi2 < 1e-12
    # prior information 4 on a: marginal covariance of a is I/4.
    np.testing.assert_allclose(res.covariances[a], np.eye(group.Identity().dof) / 4.0, atol=1e-9)


def test_sim3_scale_must_be_positive():
    g = FactorGraph()
    with pytest.raises(ValueError, match="scale"):
        g.add_variables(mp.Sim3, np.array([[0, 0, 0, 0, 0, 0, 1, -1.0]]))


def test_bad_imu_input_is_a_named_error():
    t, acc, gyro = _samples(n=5)
    with pytest.raises(ValueError, match="timestamps.*strictly increasing"):
        preintegrate_imu(t[::-1], acc, gyro, 1e-2, 1e-3)
    bad = acc.copy()
    bad[2, 1] = np.nan
    with pytest.raises(ValueError, match="accel.*sample 2"):
        preintegrate_imu(t, bad, gyro, 1e-2, 1e-3)
    with pytest.raises(ValueError, match="gyro_noise.*positive definite"):
        preintegrate_imu(t, acc, gyro, 1e-2, -np.eye(3))
    with pytest.raises(ValueError, match="accel_noise"):
        preintegrate_imu(t, acc, gyro, 0.0, 1e-3)
    with pytest.raises(ValueError, match="gyro.*shape"):
        preintegrate_imu(t, acc, gyro[:3], 1e-2, 1e-3)


def _example():
    import importlib.util
    import pathlib
    path = pathlib.Path(__file__).resolve().parents[1] / "examples" / "imu_preintegration_se23.py"
    spec = importlib.util.spec_from_file_location("imu_example", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_graph_and_eskf_on_se23_beat_dead_reckoning():
    ex = _example()
    sim = ex.simulate(duration=20.0, seed=3)
    pre = ex.preintegrate_all(sim)
    g, states, _ = ex.build_graph(sim, pre)
    dead = np.array([g.value(k).translation() for k in states])
    res = g.solve()
    truth = np.array([sim["truth"][k].translation() for k in sim["keyframes"]])
    est = np.array([res.values[k].translation() for k in states])
    eskf = ex.run_eskf(sim)
    assert res.converged
    assert ex.rmse(est, truth) < 0.5
    assert ex.rmse(eskf, truth) < 0.5 * ex.rmse(dead, truth)
    assert ex.rmse(est, truth) < ex.rmse(eskf, truth)


def test_sim3_g2o_round_trip(tmp_path):
    from manif_py.estimation import read_sim3_g2o, write_sim3_g2o
    g = FactorGraph()
    xs = [mp.Sim3.Random() for _ in range(4)]
    keys = g.add_variables(mp.Sim3, xs)
    edges = [(0, 1, xs[0].inverse() * xs[1]), (1, 2, mp.Sim3.Random()), (2, 3, xs[2].inverse() * xs[3]),
             (3, 0, xs[3].inverse() * xs[0])]
    A = np.random.default_rng(0).standard_normal((7, 7))
    info = A @ A.T + 7 * np.eye(7)
    path = tmp_path / "sim3.g2o"
    write_sim3_g2o(path, g, edges, info, ids=[10, 20, 30, 2**60], fixed=[0])
    h, ids = read_sim3_g2o(path)
    assert list(ids) == [10, 20, 30, 2**60]
    for k in range(4):
        np.testing.assert_allclose(h.value(k).coeffs(), xs[k].coeffs(), atol=1e-15)
    for i, j, Z in edges:
        g.add_between(i, j, Z, info)
    assert h.num_factors == 4 and h.is_fixed(0)
    np.testing.assert_allclose(h.chi2(), g.chi2(), rtol=1e-12)
    h.solve()
    path.write_text("VERTEX_SIM3:QUAT 0 0 0 0 0 0 0 1 -2\n")
    with pytest.raises(ValueError, match="scale"):
        read_sim3_g2o(path)
    path.write_text("EDGE_SIM3:QUAT 0 1 0 0 0\n")
    with pytest.raises(ValueError, match="38 fields"):
        read_sim3_g2o(path)
