"""SE(2) smoothing and mapping: a pose graph with landmarks, solved as one sparse
nonlinear least-squares problem.

A robot drives two laps of a loop; odometry links consecutive poses (between
factors) and every pose observes nearby landmarks by bearing and range. All
poses and landmark positions are estimated jointly (Levenberg-Marquardt), with
marginal covariances of the last pose and of a landmark.

Run: python examples/sam_se2.py
"""

import math

import numpy as np

import manif_py as mp
from manif_py.estimation import FactorGraph


def main(seed=2):
    rng = np.random.default_rng(seed)
    n = 200
    truth = [mp.SE2.from_xytheta(8 * math.cos(a), 5 * math.sin(a), a + math.pi / 2)
             for a in np.linspace(0, 4 * math.pi, n, endpoint=False)]
    landmarks = rng.uniform([-10, -7], [10, 7], size=(25, 2))
    odo_sigma = np.array([0.05, 0.02, 0.01])
    br_sigma = np.array([0.01, 0.05])  # bearing (rad), range (m)

    g = FactorGraph()
    # Initial guess: dead reckoning from the noisy odometry.
    odometry = [truth[i].between(truth[i + 1]).rplus(mp.SE2Tangent(rng.normal(0, odo_sigma)))
                for i in range(n - 1)]
    guess = [truth[0]]
    for Z in odometry:
        guess.append(guess[-1].compose(Z))
    poses = g.add_variables(mp.SE2, guess)
    g.add_prior(poses[0], truth[0], information=1e6)
    g.add_betweens(poses[:-1], poses[1:], odometry, np.diag(odo_sigma ** -2))

    # Bearing-range observations; each landmark starts at its first sighting.
    lm_key = {}
    pose_keys, lm_keys, meas = [], [], []
    for i, X in enumerate(truth):
        for j, p in enumerate(landmarks):
            q = X.inverse().act(p)
            r, b = np.linalg.norm(q), math.atan2(q[1], q[0])
            if r < 6.0:
                b, r = b + rng.normal(0, br_sigma[0]), r + rng.normal(0, br_sigma[1])
                if j not in lm_key:
                    lm_key[j] = g.add_variable(mp.R2(guess[i].act(np.array([r * math.cos(b), r * math.sin(b)]))))
                pose_keys.append(poses[i])
                lm_keys.append(lm_key[j])
                meas.append((b, r))
    g.add_range_bearings(pose_keys, lm_keys, meas, np.diag(br_sigma ** -2))
    print(g, f"({len(lm_key)} landmarks, {len(meas)} bearing-range observations)")

    result = g.solve(method="lm", covariances=[int(poses[-1]), lm_key[0]])
    print(result)
    err = np.array([result.values[int(poses[k])].rminus(truth[k]).coeffs() for k in range(n)])
    dr = np.array([guess[k].rminus(truth[k]).coeffs() for k in range(n)])
    print(f"max position error: dead reckoning {np.abs(dr[:, :2]).max():.3f} m -> SAM {np.abs(err[:, :2]).max():.3f} m")
    lm_err = [np.linalg.norm(result.values[lm_key[j]].coeffs() - landmarks[j]) for j in lm_key]
    print(f"max landmark error {max(lm_err):.3f} m")
    print("last pose marginal covariance (x, y, theta):\n", np.round(result.covariances[int(poses[-1])], 6))
    print("landmark 0 marginal covariance:\n", np.round(result.covariances[lm_key[0]], 6))


if __name__ == "__main__":
    main()
