// On-manifold IMU preintegration on SE_2(3) (extended poses (p, R, v), tangent
// (rho, theta, nu)), after Forster et al. (T-RO 2017) written with the group
// operations of the micro Lie theory paper (Sola et al.).
//
// One sample (accelerometer a, gyroscope w, held for dt), bias b = (b_a, b_g):
//   a~ = a - b_a,  w~ = w - b_g
//   dX_k = (1/2 a~ dt^2, Exp(w~ dt), a~ dt)                  (an SE_2(3) element)
//   DX_{k+1} = Phi_dt(DX_k) dX_k,   Phi_dt(p, R, v) = (p + v dt, R, v)
// Phi_dt is a group automorphism of SE_2(3); its tangent map is
//   F_dt (rho, theta, nu) = (rho + dt nu, theta, nu).
// Between keyframes i and j (T = sum dt), with gravity g and Gamma_T = (1/2 g T^2, I, g T):
//   X_j = Gamma_T Phi_T(X_i) DX      (exact for piecewise-constant samples)
// Right-tangent error of DX, DX_true = DX Exp(eps):
//   eps_{k+1} = A_k eps_k + B_k n_k,   A_k = Adj(dX_k^-1) F_dt,
//   B_k = d dX_k / d(a~, w~) = [[R_k^T dt^2 / 2, 0], [0, Jr(w~ dt) dt], [R_k^T dt, 0]],  R_k = Exp(w~ dt)
//   Sigma_{k+1} = A_k Sigma_k A_k^T + B_k diag(Sigma_a / dt, Sigma_g / dt) B_k^T
// (Sigma_a, Sigma_g: continuous-time noise densities, units^2 s), and the Jacobian of
// DX with respect to the bias (right tangent): J_{k+1} = A_k J_k - B_k.
#pragma once

#include <Eigen/Core>
#include <Eigen/Dense>

#include <cmath>
#include <stdexcept>
#include <string>

#include <manif_py/lie/se23.h>

namespace manif_py::estimation {

using Vector6d = Eigen::Matrix<double, 6, 1>;
using Matrix9d = Eigen::Matrix<double, 9, 9>;
using Matrix96d = Eigen::Matrix<double, 9, 6>;

/// The tangent map F_dt of Phi_dt(p, R, v) = (p + v dt, R, v) (a group automorphism).
inline Matrix9d flow_tangent_map(double dt) {
  Matrix9d F = Matrix9d::Identity();
  F.block<3, 3>(0, 6) = dt * Eigen::Matrix3d::Identity();
  return F;
}

/// Phi_dt(X) = (p + v dt, R, v).
inline SE23<double> flow(const SE23<double>& X, double dt) {
  return SE23<double>(X.translation() + dt * X.linearVelocity(), X.quat(), X.linearVelocity());
}

/// Gamma_T = (1/2 g T^2, I, g T): the effect of gravity over T.
inline SE23<double> gravity_element(const Eigen::Vector3d& g, double T) {
  return SE23<double>(0.5 * T * T * g, Eigen::Quaterniond::Identity(), T * g);
}

/// The preintegrated measurement between two keyframes.
struct PreintegratedImu {
  SE23<double> delta;                          ///< DX at the linearisation bias
  Matrix96d J_bias = Matrix96d::Zero();        ///< d DX / d b (right tangent), b = (b_a, b_g)
  Matrix9d covariance = Matrix9d::Zero();      ///< of the right-tangent error of DX
  Vector6d bias_lin = Vector6d::Zero();        ///< the bias the samples were corrected with
  double duration = 0.0;                       ///< T
  int samples = 0;
};

/// Accumulates samples into a PreintegratedImu.
class ImuPreintegrator {
 public:
  /// acc_cov, gyro_cov: continuous-time noise densities (3, 3), symmetric positive definite.
  ImuPreintegrator(const Vector6d& bias_lin, const Eigen::Matrix3d& acc_cov, const Eigen::Matrix3d& gyro_cov)
      : acc_cov_(acc_cov), gyro_cov_(gyro_cov) {
    m_.bias_lin = bias_lin;
  }

  /// One sample held for dt > 0.
  void integrate(const Eigen::Vector3d& acc, const Eigen::Vector3d& gyro, double dt) {
    if (!(dt > 0.0) || !std::isfinite(dt))
      throw std::invalid_argument("IMU sample " + std::to_string(m_.samples) + ": dt must be positive and finite");
    const Eigen::Vector3d a = acc - m_.bias_lin.head<3>();
    const Eigen::Vector3d w = gyro - m_.bias_lin.tail<3>();
    const SO3Tangent<double> wdt(w * dt);
    const SO3<double> dR = wdt.Exp();
    const Eigen::Matrix3d RT = dR.rotation().transpose();
    const SE23<double> step(0.5 * dt * dt * a, dR.quat(), dt * a);

    const Matrix9d A = step.inverse().Adj() * flow_tangent_map(dt);
    Matrix96d B = Matrix96d::Zero();
    B.block<3, 3>(0, 0) = 0.5 * dt * dt * RT;
    B.block<3, 3>(3, 3) = wdt.Jr() * dt;
    B.block<3, 3>(6, 0) = dt * RT;

    Eigen::Matrix<double, 6, 6> Qd = Eigen::Matrix<double, 6, 6>::Zero();
    Qd.block<3, 3>(0, 0) = acc_cov_ / dt;
    Qd.block<3, 3>(3, 3) = gyro_cov_ / dt;

    m_.covariance = A * m_.covariance * A.transpose() + B * Qd * B.transpose();
    m_.covariance = 0.5 * (m_.covariance + m_.covariance.transpose());
    m_.J_bias = A * m_.J_bias - B;
    m_.delta = flow(m_.delta, dt).compose(step);
    m_.duration += dt;
    ++m_.samples;
  }

  const PreintegratedImu& result() const { return m_; }

 private:
  Eigen::Matrix3d acc_cov_, gyro_cov_;
  PreintegratedImu m_;
};

}  // namespace manif_py::estimation
