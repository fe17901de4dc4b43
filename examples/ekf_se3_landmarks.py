"""SE(3) landmark localization with an error-state EKF.

A drone flies a helix among known 3D landmarks. Odometry is a noisy SE(3)
tangent increment (rho, theta) per step; each visible landmark is measured in
the body frame, z = X^-1 p + v. The 6x6 covariance lives in the right tangent
space of the pose; it is also reported in the world frame through the adjoint
(Adj P Adj^T), where its translation block is the position uncertainty in world axes.

Run: python examples/ekf_se3_landmarks.py
"""

import numpy as np

import manif_py as mp
from manif_py.estimation import ErrorStateKalmanFilter, local_to_global


def main(steps=200, seed=1):
    rng = np.random.default_rng(seed)
    landmarks = rng.uniform([-6, -6, -1], [6, 6, 6], size=(30, 3))
    u = np.array([0.1, 0.0, 0.02, 0.0, 0.0, 0.03])  # (rho, theta) per step
    Q = np.diag([0.01, 0.01, 0.01, 0.002, 0.002, 0.002]) ** 2
    R = np.eye(3) * 0.05**2
    X_true = mp.SE3(np.array([3.0, 0, 0, 0, 0, 0, 1.0]))
    ekf = ErrorStateKalmanFilter(X_true.rplus(mp.SE3Tangent(rng.normal(0, 0.05, 6))), np.eye(6) * 0.05**2)

    def measure(p):
        def h(X):
            Xi, J_xi_x = X.inverse(jacobians=True)
            q, J_q_xi, _ = Xi.act(p, jacobians=True)
            return q, J_q_xi @ J_xi_x
        return h

    for k in range(steps):
        X_true = X_true.rplus(mp.SE3Tangent(u + rng.multivariate_normal(np.zeros(6), Q)))
        ekf.predict(u, Q)
        seen = 0
        for p in landmarks:
            q = X_true.inverse().act(p)
            if np.linalg.norm(q) < 5.0:
                ekf.update(q + rng.multivariate_normal(np.zeros(3), R), measure(p), R)
                seen += 1
        if k % 40 == 0 or k == steps - 1:
            e = X_true.rminus(ekf.X).coeffs()
            sig_world = np.sqrt(np.diag(local_to_global(ekf.X, ekf.P))[:3])
            print(f"step {k:3d}: {seen:2d} landmarks, |position error| {np.linalg.norm(e[:3]):.3f} m, "
                  f"|rotation error| {np.linalg.norm(e[3:]):.4f} rad, world sigma xyz {np.round(sig_world, 3)}")
    e = X_true.rminus(ekf.X).coeffs()
    nees = e @ np.linalg.solve(ekf.P, e)
    print(f"final NEES {nees:.2f} (chi2 with 6 dof: 99% below 16.8)")


if __name__ == "__main__":
    main()
