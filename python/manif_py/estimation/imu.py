"""IMU preintegration on SE_2(3) and the preintegrated IMU factor.

The equations (computed in C++, cpp/include/manif_py/estimation/imu_preintegration.h):
a sample (a, w) held for dt at bias b = (b_a, b_g) is the SE_2(3) element
dX = (1/2 (a - b_a) dt^2, Exp((w - b_g) dt), (a - b_a) dt); samples compose as
DX <- Phi_dt(DX) dX with Phi_dt(p, R, v) = (p + v dt, R, v), and the states of two
keyframes satisfy X_j = Gamma_T Phi_T(X_i) DX, Gamma_T = (1/2 g T^2, I, g T).
"""

from dataclasses import dataclass

import numpy as np

from .. import _core, _estimation


def _density(noise, name):
    """A continuous-time noise density as a (3, 3) SPD covariance: a std (scalar), stds (3,) or (3, 3)."""
    arr = np.asarray(noise, dtype=np.float64)
    if arr.ndim == 0:
        cov = float(arr) ** 2 * np.eye(3)
        if not float(arr) > 0:
            raise ValueError(f"preintegrate_imu: argument '{name}' must be a positive standard deviation, got {noise!r}")
    elif arr.shape == (3,):
        if not np.all(arr > 0):
            raise ValueError(f"preintegrate_imu: argument '{name}' must hold positive standard deviations, got {arr}")
        cov = np.diag(arr ** 2)
    elif arr.shape == (3, 3):
        cov = arr
    else:
        raise ValueError(f"preintegrate_imu: argument '{name}' must be a scalar, (3,) or (3, 3); got shape {arr.shape}")
    if not np.all(np.isfinite(cov)) or not np.allclose(cov, cov.T, rtol=1e-9, atol=1e-300):
        raise ValueError(f"preintegrate_imu: argument '{name}' must be a finite symmetric matrix")
    try:
        np.linalg.cholesky(cov)
    except np.linalg.LinAlgError:
        raise ValueError(f"preintegrate_imu: argument '{name}' must be positive definite") from None
    return np.ascontiguousarray(cov)


@dataclass
class PreintegratedImu:
    """Samples between two keyframes, preintegrated at the bias ``bias`` (6,) = (b_a, b_g).

    delta: SE23 element DX; bias_jacobian (9, 6): d DX / d b in DX's right tangent;
    covariance (9, 9) of DX's right-tangent error; duration T (s).
    """

    delta: object
    bias_jacobian: np.ndarray
    covariance: np.ndarray
    bias: np.ndarray
    duration: float

    def corrected_delta(self, bias):
        """DX Exp(J_b (b - b_lin)): the delta at another bias, to first order."""
        u = self.bias_jacobian @ (np.asarray(bias, dtype=np.float64) - self.bias)
        return self.delta * _core.SE23Tangent(u).exp()

    def predict(self, X_i, bias, gravity=(0.0, 0.0, -9.81)):
        """X_j = Gamma_T Phi_T(X_i) DX(b): the state at the end of the interval."""
        g = np.asarray(gravity, dtype=np.float64)
        T = self.duration
        c = X_i.coeffs().copy()
        c[0:3] += T * c[7:10]  # Phi_T
        gam = np.concatenate([0.5 * T * T * g, [0, 0, 0, 1], T * g])
        return _core.SE23(gam) * _core.SE23(c) * self.corrected_delta(bias)


def preintegrate_imu(timestamps, accel, gyro, accel_noise, gyro_noise, bias=None):
    """Preintegrates IMU samples between two keyframes.

    timestamps (M,) strictly increasing (s); accel, gyro (M, 3): sample k is held over
    [t_k, t_{k+1}), so the last sample only closes the interval (M - 1 intervals, T = t_{M-1} - t_0).
    accel_noise, gyro_noise: continuous-time white-noise densities (m/s^2/sqrt(Hz), rad/s/sqrt(Hz)),
    a scalar std, stds (3,) or a (3, 3) covariance. bias (6,) = (b_a, b_g), default zeros.
    """
    t = np.asarray(timestamps, dtype=np.float64)
    if t.ndim != 1 or t.shape[0] < 2:
        raise ValueError(f"preintegrate_imu: argument 'timestamps' must have shape (M,) with M >= 2, got {t.shape}")
    if not np.all(np.isfinite(t)):
        raise ValueError("preintegrate_imu: argument 'timestamps' contains NaN or inf")
    bad = np.nonzero(np.diff(t) <= 0)[0]
    if bad.size:
        raise ValueError(f"preintegrate_imu: argument 'timestamps' must be strictly increasing; "
                         f"t[{bad[0] + 1}] = {t[bad[0] + 1]!r} <= t[{bad[0]}] = {t[bad[0]]!r}")
    arrays = {}
    for name, a in (("accel", accel), ("gyro", gyro)):
        a = np.asarray(a, dtype=np.float64)
        if a.shape != (t.shape[0], 3):
            raise ValueError(f"preintegrate_imu: argument '{name}' must have shape ({t.shape[0]}, 3), got {a.shape}")
        rows = np.nonzero(~np.all(np.isfinite(a), axis=1))[0]
        if rows.size:
            raise ValueError(f"preintegrate_imu: argument '{name}' sample {rows[0]} contains NaN or inf")
        arrays[name] = np.ascontiguousarray(a[:-1])
    b = np.zeros(6) if bias is None else np.asarray(bias, dtype=np.float64)
    if b.shape != (6,) or not np.all(np.isfinite(b)):
        raise ValueError(f"preintegrate_imu: argument 'bias' must be a finite (6,) array (b_a, b_g), got {b!r}")
    delta, jb, cov, T = _estimation.preintegrate_imu(
        arrays["accel"], arrays["gyro"], np.diff(t), b, _density(accel_noise, "accel_noise"),
        _density(gyro_noise, "gyro_noise"))
    return PreintegratedImu(_core.SE23(delta), jb, cov, b.copy(), float(T))
