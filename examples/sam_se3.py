"""SE(3) smoothing and mapping: camera-like poses observing 3D points.

Poses on an orbit around a point cloud; odometry between consecutive poses and
every point within range measured in the body frame (z = X^-1 p + v, e.g. from a
depth camera). One loop closure ties the end to the start. Solved jointly with
Levenberg-Marquardt; a robust Huber loss guards against two corrupted point
measurements.

Run: python examples/sam_se3.py
"""

import numpy as np

import manif_py as mp
from manif_py.estimation import FactorGraph


def look_at(eye, target):
    """Pose at `eye` whose x axis points at `target` (z up)."""
    x = (target - eye) / np.linalg.norm(target - eye)
    y = np.cross([0, 0, 1.0], x)
    y /= np.linalg.norm(y)
    R = np.column_stack([x, y, np.cross(x, y)])
    T = np.eye(4)
    T[:3, :3], T[:3, 3] = R, eye
    return mp.SE3.from_matrix(T)


def main(seed=3):
    rng = np.random.default_rng(seed)
    n = 120
    angles = np.linspace(0, 2 * np.pi, n, endpoint=False)
    truth = [look_at(np.array([6 * np.cos(a), 6 * np.sin(a), 1.0 + 0.5 * np.sin(3 * a)]), np.zeros(3)) for a in angles]
    points = rng.uniform(-2, 2, size=(60, 3))
    odo_sigma = np.array([0.02, 0.02, 0.02, 0.005, 0.005, 0.005])
    pt_sigma = 0.03

    g = FactorGraph()
    odometry = [truth[i].between(truth[i + 1]).rplus(mp.SE3Tangent(rng.normal(0, odo_sigma))) for i in range(n - 1)]
    guess = [truth[0]]
    for Z in odometry:
        guess.append(guess[-1].compose(Z))
    poses = g.add_variables(mp.SE3, guess)
    g.add_prior(poses[0], truth[0], 1e6)
    info = np.diag(odo_sigma ** -2)
    g.add_betweens(poses[:-1], poses[1:], odometry, info)
    g.add_between(poses[-1], poses[0], truth[-1].between(truth[0]).rplus(mp.SE3Tangent(rng.normal(0, odo_sigma))), info)

    pts = g.add_variables(mp.R3, points + rng.normal(0, 0.3, points.shape))  # rough initial map
    pk, lk, z = [], [], []
    for i, X in enumerate(truth):
        q = X.inverse() @ points  # (N, 3) in the body frame
        near = np.flatnonzero(np.linalg.norm(q, axis=1) < 7.0)
        pk += [poses[i]] * len(near)
        lk += list(pts[near])
        z += list(q[near] + rng.normal(0, pt_sigma, (len(near), 3)))
    z = np.array(z)
    z[5] += [2.0, -1.0, 0.5]  # two gross outliers
    z[500] += [-1.5, 0.0, 1.0]
    g.add_points(pk, lk, z, np.eye(3) / pt_sigma ** 2)
    print(g, f"({len(z)} point observations)")

    result = g.solve(method="lm", robust=("huber", 3.0))
    print(result)
    err = np.array([result.values[int(poses[k])].rminus(truth[k]).coeffs() for k in range(n)])
    dr = np.array([guess[k].rminus(truth[k]).coeffs() for k in range(n)])
    print(f"max position error: dead reckoning {np.abs(dr[:, :3]).max():.3f} m -> SAM {np.abs(err[:, :3]).max():.4f} m")
    print(f"max point error {np.abs(result.values.array(pts) - points).max():.4f} m")


if __name__ == "__main__":
    main()
