"""Sim(3) pose graphs and SE_2(3) IMU preintegration: manif_py.estimation against GTSAM in the same run.

IMU: the simulated IMU of examples/imu_preintegration_se23.py; both libraries preintegrate the same
samples (GTSAM: PreintegratedImuMeasurements + ImuFactor + BetweenFactorConstantBias + GPSFactor),
start from the same dead-reckoned estimate and run Levenberg-Marquardt. Scored: chi2 under each
library's own graph and both solutions under GTSAM's graph, keyframe position RMSE against the
truth, and times (preintegration, solve).

Sim(3): a monocular-style graph, poses around a loop driven several times, odometry with noise and a
scale drift (every relative scale biased by +0.3%), loop closures to the previous lap; both solve
from the odometry chain; chi2 of both solutions scored under GTSAM's graph.

    python benchmarks/bench_sim3_imu.py [--poses 2000] [--seed 0]
"""

import argparse
import importlib.util
import pathlib
import time

import numpy as np

import manif_py as mp
from manif_py.estimation import FactorGraph

import gtsam
from gtsam.symbol_shorthand import B, V, X

HERE = pathlib.Path(__file__).resolve().parent


def _example():
    spec = importlib.util.spec_from_file_location("imu_example", HERE.parent / "examples" / "imu_preintegration_se23.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _pose3(x):
    q = x.coeffs()[3:7]
    return gtsam.Pose3(gtsam.Rot3.Quaternion(q[3], q[0], q[1], q[2]), gtsam.Point3(*x.translation()))


def bench_imu(seed):
    ex = _example()
    sim = ex.simulate(seed=seed)
    N = ex.NOISE
    t0 = time.perf_counter()
    pre = ex.preintegrate_all(sim)
    t_pre_ours = time.perf_counter() - t0
    g, states, biases = ex.build_graph(sim, pre)
    init_states = [g.value(k) for k in states]
    t0 = time.perf_counter()
    res = g.solve(relative_tolerance=1e-6)
    t_ours = time.perf_counter() - t0

    # GTSAM on the same samples.
    params = gtsam.PreintegrationParams.MakeSharedU(9.81)
    params.setAccelerometerCovariance(N["accel"] ** 2 * np.eye(3))
    params.setGyroscopeCovariance(N["gyro"] ** 2 * np.eye(3))
    params.setIntegrationCovariance(1e-12 * np.eye(3))
    kf, t, acc, gyro = sim["keyframes"], sim["t"], sim["acc"], sim["gyro"]
    t0 = time.perf_counter()
    pims = []
    for a, b in zip(kf[:-1], kf[1:]):
        pim = gtsam.PreintegratedImuMeasurements(params, gtsam.imuBias.ConstantBias())
        for k in range(a, b):
            pim.integrateMeasurement(acc[k], gyro[k], t[k + 1] - t[k])
        pims.append(pim)
    t_pre_gtsam = time.perf_counter() - t0
    graph = gtsam.NonlinearFactorGraph()
    x0 = sim["truth"][0]
    graph.add(gtsam.PriorFactorPose3(X(0), _pose3(x0), gtsam.noiseModel.Isotropic.Sigma(6, 1e-3)))
    graph.add(gtsam.PriorFactorVector(V(0), x0.linear_velocity(), gtsam.noiseModel.Isotropic.Sigma(3, 1e-3)))
    graph.add(gtsam.PriorFactorConstantBias(B(0), gtsam.imuBias.ConstantBias(),
                                            gtsam.noiseModel.Diagonal.Sigmas(np.repeat([0.2, 0.02], 3))))
    walk = np.repeat([N["accel_walk"], N["gyro_walk"]], 3)
    for i, pim in enumerate(pims):
        graph.add(gtsam.ImuFactor(X(i), V(i), X(i + 1), V(i + 1), B(i), pim))
        graph.add(gtsam.BetweenFactorConstantBias(B(i), B(i + 1), gtsam.imuBias.ConstantBias(),
                                                  gtsam.noiseModel.Diagonal.Sigmas(walk * np.sqrt(pim.deltaTij()))))
    for i, z in sim["fixes"].items():
        graph.add(gtsam.GPSFactor(X(i), gtsam.Point3(*z), gtsam.noiseModel.Isotropic.Sigma(3, N["fix"])))

    def to_values(xs, bs):
        v = gtsam.Values()
        for i, (x, b) in enumerate(zip(xs, bs)):
            v.insert(X(i), _pose3(x))
            v.insert(V(i), x.linear_velocity())
            v.insert(B(i), gtsam.imuBias.ConstantBias(b[:3], b[3:]))
        return v

    init = to_values(init_states, [np.zeros(6)] * len(states))
    lm = gtsam.LevenbergMarquardtParams()
    lm.setRelativeErrorTol(1e-6)
    lm.setMaxIterations(100)
    t0 = time.perf_counter()
    sol = gtsam.LevenbergMarquardtOptimizer(graph, init, lm).optimize()
    t_gtsam = time.perf_counter() - t0
    ours_vals = to_values([res.values[k] for k in states], [res.values[k].coeffs() for k in biases])
    truth = np.array([sim["truth"][k].translation() for k in kf])
    est = np.array([res.values[k].translation() for k in states])
    est_g = np.array([sol.atPose3(X(i)).translation() for i in range(len(states))])
    return dict(
        keyframes=len(states), samples=len(t),
        chi2_ours_own=res.final_chi2, chi2_ours_under_gtsam=2 * graph.error(ours_vals),
        chi2_gtsam=2 * graph.error(sol), rmse_ours=ex.rmse(est, truth), rmse_gtsam=ex.rmse(est_g, truth),
        t_pre_ours=t_pre_ours, t_pre_gtsam=t_pre_gtsam, t_ours=t_ours, t_gtsam=t_gtsam,
        iterations=res.iterations)


def _sim3(t, R, s):
    return mp.Sim3(np.concatenate([t, mp.SO3.from_matrix(R).coeffs(), [s]]))


def _gtsam_sim3(x):
    c = x.coeffs()
    # GTSAM maps p -> s (R p + t); ours p -> s R p + t.
    return gtsam.Similarity3(gtsam.Rot3.Quaternion(c[6], c[3], c[4], c[5]), gtsam.Point3(*(c[:3] / c[7])), c[7])


def bench_sim3(poses, seed, laps=4):
    rng = np.random.default_rng(seed)
    per_lap = poses // laps
    ang = 2 * np.pi * np.arange(poses) / per_lap
    truth = []
    for k, a in enumerate(ang):
        p = np.array([20 * np.cos(a), 20 * np.sin(a), 0.5 * np.sin(3 * a) + 0.02 * k / per_lap])
        R = mp.SO3Tangent([0.0, 0.0, a + np.pi / 2]).exp().rotation()
        truth.append(_sim3(p, R, 1.0))
    sig = np.array([0.02, 0.02, 0.02, 0.005, 0.005, 0.005, 0.003])
    info = np.diag(1.0 / sig ** 2)
    edges = []
    for k in range(poses - 1):
        noise = rng.standard_normal(7) * sig
        noise[6] += 0.003  # scale drift
        edges.append((k, k + 1, (truth[k].inverse() * truth[k + 1]).rplus(mp.Sim3Tangent(noise))))
    for k in range(per_lap, poses, 10):
        noise = rng.standard_normal(7) * sig
        edges.append((k - per_lap, k, (truth[k - per_lap].inverse() * truth[k]).rplus(mp.Sim3Tangent(noise))))
    init = [truth[0]]
    for i, j, z in edges[:poses - 1]:
        init.append(init[-1] * z)
    # ours
    g = FactorGraph()
    keys = g.add_variables(mp.Sim3, np.stack([x.coeffs() for x in init]))
    g.add_prior(int(keys[0]), truth[0], 1e6)
    g.add_betweens([e[0] for e in edges], [e[1] for e in edges], [e[2] for e in edges], info)
    t0 = time.perf_counter()
    res = g.solve(relative_tolerance=1e-6)
    t_ours = time.perf_counter() - t0
    # GTSAM: Similarity3 tangent order (omega, u, lambda) = our (theta, rho, sigma).
    perm = [3, 4, 5, 0, 1, 2, 6]
    graph = gtsam.NonlinearFactorGraph()
    graph.add(gtsam.PriorFactorSimilarity3(0, _gtsam_sim3(truth[0]), gtsam.noiseModel.Isotropic.Sigma(7, 1e-3)))
    nm = gtsam.noiseModel.Gaussian.Information(info[np.ix_(perm, perm)])
    for i, j, z in edges:
        graph.add(gtsam.BetweenFactorSimilarity3(i, j, _gtsam_sim3(z), nm))
    v0 = gtsam.Values()
    for k, x in enumerate(init):
        v0.insert(k, _gtsam_sim3(x))
    lm = gtsam.LevenbergMarquardtParams()
    lm.setRelativeErrorTol(1e-6)
    lm.setMaxIterations(100)
    out = dict(poses=poses, edges=len(edges), chi2_init_gtsam=2 * graph.error(v0), chi2_ours_own=res.final_chi2,
               t_ours=t_ours, iterations=res.iterations)
    vo = gtsam.Values()
    for k in range(poses):
        vo.insert(k, _gtsam_sim3(res.values[int(keys[k])]))
    out["chi2_ours_under_gtsam"] = 2 * graph.error(vo)
    try:
        t0 = time.perf_counter()
        sol = gtsam.LevenbergMarquardtOptimizer(graph, v0, lm).optimize()
        out["t_gtsam"] = time.perf_counter() - t0
        out["chi2_gtsam"] = 2 * graph.error(sol)
    except RuntimeError as e:
        out["gtsam_error"] = str(e).splitlines()[0]
    est = np.array([res.values[int(k)].translation() for k in keys])
    out["rmse_ours"] = float(np.sqrt(np.mean(np.sum((est - np.array([x.translation() for x in truth])) ** 2, 1))))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--poses", type=int, default=2000, help="Sim(3) graph size")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    imu = bench_imu(args.seed)
    print("IMU (SE_2(3)), {keyframes} keyframes, {samples} samples".format(**imu))
    print(f"  chi2: ours {imu['chi2_ours_own']:.4f} (own graph), ours under GTSAM's graph "
          f"{imu['chi2_ours_under_gtsam']:.4f}, GTSAM {imu['chi2_gtsam']:.4f}")
    print(f"  position RMSE vs truth: ours {imu['rmse_ours']:.4f} m, GTSAM {imu['rmse_gtsam']:.4f} m")
    print(f"  preintegration: ours {1e3 * imu['t_pre_ours']:.1f} ms, GTSAM {1e3 * imu['t_pre_gtsam']:.1f} ms "
          f"(ratio {imu['t_pre_ours'] / imu['t_pre_gtsam']:.2f})")
    print(f"  solve: ours {1e3 * imu['t_ours']:.1f} ms, GTSAM {1e3 * imu['t_gtsam']:.1f} ms "
          f"(ratio {imu['t_ours'] / imu['t_gtsam']:.2f})")
    s = bench_sim3(args.poses, args.seed)
    print("Sim(3) pose graph, {poses} poses, {edges} edges".format(**s))
    print(f"  chi2: initial {s['chi2_init_gtsam']:.1f}; ours {s['chi2_ours_own']:.2f} (own graph), "
          f"ours under GTSAM's graph {s['chi2_ours_under_gtsam']:.2f}", end="")
    if "chi2_gtsam" in s:
        print(f", GTSAM {s['chi2_gtsam']:.2f}")
        print(f"  solve: ours {1e3 * s['t_ours']:.1f} ms, GTSAM {1e3 * s['t_gtsam']:.1f} ms "
              f"(ratio {s['t_ours'] / s['t_gtsam']:.2f})")
    else:
        print(f"\n  GTSAM failed: {s['gtsam_error']}; ours {1e3 * s['t_ours']:.1f} ms")
    print(f"  ours: position RMSE vs truth {s['rmse_ours']:.3f} m, {s['iterations']} iterations")


if __name__ == "__main__":
    main()
