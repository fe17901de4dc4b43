"""SE(2) landmark localization with an error-state EKF.

A robot drives a circle among known landmarks, with noisy odometry (a tangent
increment u = (v dt, 0, w dt)) and noisy landmark positions measured in its own
frame (z = X^-1 p + v). The filter keeps X and the covariance P of the error
xi in X_true = X Exp(xi). Printed: the error and its 3-sigma bound along the way.

Run: python examples/ekf_se2_landmarks.py
"""

import numpy as np

import manif_py as mp
from manif_py.estimation import ErrorStateKalmanFilter


def main(steps=300, seed=0):
    rng = np.random.default_rng(seed)
    landmarks = np.array([[2.0, 0.0], [2.0, 1.0], [2.0, -1.0], [-2.0, 0.0], [0.0, 2.5]])
    u = np.array([0.1, 0.0, 0.05])  # per step: 0.1 m forward, 0.05 rad left
    Q = np.diag([0.01, 0.001, 0.005]) ** 2  # odometry noise
    R = np.diag([0.05, 0.05]) ** 2  # landmark position noise
    X_true = mp.SE2.Identity()
    ekf = ErrorStateKalmanFilter(mp.SE2.from_xytheta(0.1, -0.1, 0.05), np.diag([0.1, 0.1, 0.05]) ** 2)

    def measure(p):
        """h(X) = X^-1 p and its right Jacobian (2, 3)."""
        def h(X):
            Xi, J_xi_x = X.inverse(jacobians=True)
            q, J_q_xi, _ = Xi.act(p, jacobians=True)
            return q, J_q_xi @ J_xi_x
        return h

    print(" step |  error x      y    theta |  3 sigma x   y     theta")
    for k in range(steps):
        X_true = X_true.rplus(mp.SE2Tangent(u + rng.multivariate_normal(np.zeros(3), Q)))
        ekf.predict(u, Q)
        for p in landmarks:
            q = X_true.inverse().act(p)
            if np.linalg.norm(q) < 3.0 and q[0] > 0:  # sensor range and field of view
                ekf.update(q + rng.multivariate_normal(np.zeros(2), R), measure(p), R)
        if k % 50 == 0 or k == steps - 1:
            e = X_true.rminus(ekf.X).coeffs()
            s = 3 * np.sqrt(np.diag(ekf.P))
            print(f" {k:4d} | {e[0]:+.3f} {e[1]:+.3f} {e[2]:+.4f} | {s[0]:.3f} {s[1]:.3f} {s[2]:.4f}")
    e = X_true.rminus(ekf.X).coeffs()
    inside = np.abs(e) <= 3 * np.sqrt(np.diag(ekf.P))
    print("final estimate", ekf.X)
    print("truth         ", X_true)
    print("final error inside its 3-sigma bound:", bool(inside.all()))


if __name__ == "__main__":
    main()
