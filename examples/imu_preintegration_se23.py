"""IMU preintegration on SE_2(3), fused with occasional position fixes, and the error-state
Kalman filter on SE_2(3) with the same samples.

A simulated IMU (200 Hz, gravity, accelerometer and gyroscope biases drifting as random walks,
white noise) rides a car-like 3D trajectory; a position fix (sigma 0.3 m) arrives every 2 s.
The factor graph has one SE23 state and one R6 bias per keyframe (every 0.5 s), a preintegrated
IMU factor between consecutive keyframes, bias random-walk factors and the fixes.

    python examples/imu_preintegration_se23.py --out docs/img/imu_se23.png
"""

import argparse
import time

import numpy as np

import manif_py as mp
from manif_py.estimation import ErrorStateKalmanFilter, FactorGraph, preintegrate_imu

GRAVITY = np.array([0.0, 0.0, -9.81])
NOISE = dict(accel=0.02, gyro=1.7e-3, accel_walk=3e-3, gyro_walk=2e-5, fix=0.3)


def _rot_z(yaw):
    c, s = np.cos(yaw), np.sin(yaw)
    return np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]])


def simulate(duration=60.0, rate=200.0, keyframe_every=0.5, fix_every=2.0, seed=0):
    """Truth, IMU samples and fixes. Truth is integrated from the clean samples with the same
    piecewise-constant model, so that the only errors are the simulated noise and biases."""
    rng = np.random.default_rng(seed)
    dt = 1.0 / rate
    n = int(round(duration * rate)) + 1
    t = np.arange(n) * dt
    # A wandering planar path with hills: heading follows the velocity, small roll and pitch.
    w = 2 * np.pi / duration
    pos = np.stack([30 * np.sin(w * t), 15 * np.sin(2 * w * t), 2 * np.sin(3 * w * t)], 1)
    vel = np.gradient(pos, dt, axis=0)
    acc_w = np.gradient(vel, dt, axis=0)
    yaw = np.unwrap(np.arctan2(vel[:, 1], vel[:, 0]))
    rolls = 0.05 * np.sin(5 * w * t)
    Rs = np.array([_rot_z(y) @ mp.SO3Tangent([r, 0.0, 0.0]).exp().rotation() for y, r in zip(yaw, rolls)])
    gyro_clean = np.array([mp.SO3.from_matrix(Rs[k].T @ Rs[k + 1]).Log().coeffs() / dt for k in range(n - 1)])
    gyro_clean = np.vstack([gyro_clean, gyro_clean[-1]])
    acc_clean = np.einsum("kji,kj->ki", Rs, acc_w - GRAVITY)
    # Truth by the discrete model.
    X = [mp.SE23(np.concatenate([pos[0], mp.SO3.from_matrix(Rs[0]).coeffs(), vel[0]]))]
    R, p, v = Rs[0], pos[0].copy(), vel[0].copy()
    for k in range(n - 1):
        a = R @ acc_clean[k] + GRAVITY
        p = p + v * dt + 0.5 * a * dt * dt
        v = v + a * dt
        R = R @ mp.SO3Tangent(gyro_clean[k] * dt).exp().rotation()
        X.append(mp.SE23(np.concatenate([p, mp.SO3.from_matrix(R).coeffs(), v])))
    # Biases (random walk) and white noise.
    b0 = np.array([0.1, -0.05, 0.08, 0.01, -0.005, 0.008])
    steps = rng.standard_normal((n, 6)) * np.sqrt(dt) * np.repeat([NOISE["accel_walk"], NOISE["gyro_walk"]], 3)
    bias = b0 + np.cumsum(steps, 0)
    acc = acc_clean + bias[:, :3] + rng.standard_normal((n, 3)) * NOISE["accel"] / np.sqrt(dt)
    gyro = gyro_clean + bias[:, 3:] + rng.standard_normal((n, 3)) * NOISE["gyro"] / np.sqrt(dt)
    kf = np.arange(0, n, int(round(keyframe_every * rate)))
    fix_kf = [i for i, k in enumerate(kf) if i > 0 and abs((t[k] / fix_every) - round(t[k] / fix_every)) < 1e-9]
    fixes = {i: np.array(X[kf[i]].translation()) + NOISE["fix"] * rng.standard_normal(3) for i in fix_kf}
    return dict(t=t, acc=acc, gyro=gyro, truth=X, bias=bias, keyframes=kf, fixes=fixes, dt=dt)


def preintegrate_all(sim, bias=np.zeros(6)):
    kf = sim["keyframes"]
    return [preintegrate_imu(sim["t"][a:b + 1], sim["acc"][a:b + 1], sim["gyro"][a:b + 1],
                             NOISE["accel"], NOISE["gyro"], bias=bias) for a, b in zip(kf[:-1], kf[1:])]


def _position_factor(z):
    """r = p(X) - z; the right Jacobian of p(X) is [R, 0, 0]."""
    def fn(X):
        J = np.zeros((3, 9))
        J[:, 0:3] = X.rotation()
        return X.translation() - z, [J]
    return fn


def build_graph(sim, pre):
    """Our factor graph; initial states by dead reckoning at zero bias."""
    g = FactorGraph()
    x0 = sim["truth"][0]
    states, biases = [g.add_variable(x0)], [g.add_variable(mp.R6(np.zeros(6)))]
    g.add_prior(states[0], x0, 1e6)
    g.add_prior(biases[0], mp.R6(np.zeros(6)), 1.0 / np.repeat([0.2, 0.02], 3) ** 2)
    X = x0
    walk = np.repeat([NOISE["accel_walk"], NOISE["gyro_walk"]], 3) ** 2
    for i, p in enumerate(pre):
        X = p.predict(X, np.zeros(6), GRAVITY)
        states.append(g.add_variable(X))
        biases.append(g.add_variable(mp.R6(np.zeros(6))))
        g.add_imu_factor(states[i], biases[i], states[i + 1], p, gravity=GRAVITY)
        g.add_between(biases[i], biases[i + 1], mp.R6(np.zeros(6)), 1.0 / (walk * p.duration))
    for i, z in sim["fixes"].items():
        g.add_factor([states[i]], _position_factor(z), 3, information=1.0 / NOISE["fix"] ** 2)
    return g, states, biases


def run_eskf(sim):
    """ESKF on SE23 at IMU rate; the biases are not part of its state (taken as zero), the
    position fixes correct the drift."""
    f = ErrorStateKalmanFilter(sim["truth"][0], 1e-6 * np.eye(9))
    fix_at = {sim["keyframes"][i]: z for i, z in sim["fixes"].items()}
    t, out = sim["t"], {}
    H = lambda X: (X.translation(), np.hstack([X.rotation(), np.zeros((3, 6))]))
    kf = set(sim["keyframes"].tolist())
    for k in range(len(t) - 1):
        if k in kf:
            out[k] = f.X
        step = preintegrate_imu(t[k:k + 2], sim["acc"][k:k + 2], sim["gyro"][k:k + 2], NOISE["accel"], NOISE["gyro"])

        def model(X, step=step):
            F = step.delta.inverse().Adj() @ np.block([[np.eye(3), np.zeros((3, 3)), step.duration * np.eye(3)],
                                                       [np.zeros((6, 3)), np.eye(6)]])
            return step.predict(X, np.zeros(6), GRAVITY), F, np.eye(9)

        f.predict_model(model, step.covariance)
        if k + 1 in fix_at:
            f.update(fix_at[k + 1], H, NOISE["fix"] ** 2 * np.eye(3))
    out[len(t) - 1] = f.X
    return np.array([out[k].translation() for k in sim["keyframes"]])


def rmse(a, b):
    return float(np.sqrt(np.mean(np.sum((a - b) ** 2, 1))))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default="imu_se23.png", help="trajectory-vs-truth picture (PNG)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    sim = simulate(seed=args.seed)
    t0 = time.perf_counter()
    pre = preintegrate_all(sim)
    t1 = time.perf_counter()
    g, states, _ = build_graph(sim, pre)
    dead = np.array([g.value(k).translation() for k in states])
    res = g.solve()
    truth = np.array([sim["truth"][k].translation() for k in sim["keyframes"]])
    est = np.array([res.values[k].translation() for k in states])
    eskf = run_eskf(sim)
    print(f"preintegration {1e3 * (t1 - t0):.1f} ms for {len(pre)} intervals; solve {res}")
    print(f"position RMSE vs truth: dead reckoning {rmse(dead, truth):.3f} m, graph {rmse(est, truth):.3f} m, "
          f"ESKF {rmse(eskf, truth):.3f} m")
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(7, 5))
    ax.plot(truth[:, 0], truth[:, 1], "k-", lw=2, label="truth")
    ax.plot(dead[:, 0], dead[:, 1], ":", color="gray", label="IMU only (dead reckoning)")
    ax.plot(est[:, 0], est[:, 1], "b-", label="factor graph (IMU + fixes)")
    ax.plot(eskf[:, 0], eskf[:, 1], "g--", label="ESKF on SE_2(3)")
    fx = np.array(list(sim["fixes"].values()))
    ax.plot(fx[:, 0], fx[:, 1], "r.", label="position fixes")
    lim = np.abs(truth[:, :2]).max() * 1.3
    ax.set_xlim(-lim, lim)
    ax.set_ylim(-lim, lim)
    ax.set_aspect("equal")
    ax.set_xlabel("x (m)")
    ax.set_ylabel("y (m)")
    ax.legend(loc="lower right", fontsize=8)
    ax.set_title("SE_2(3) IMU preintegration, 60 s at 200 Hz")
    fig.tight_layout()
    fig.savefig(args.out, dpi=110)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
