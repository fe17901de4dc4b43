// The preintegrated IMU factor between two SE_2(3) states and the bias (R6,
// (b_a, b_g)) of the first: with the bias-corrected delta
//   DX^(b) = DX Exp(J_b (b - b_lin))                     (first order in the bias)
// and the prediction X_j = Gamma_T Phi_T(X_i) DX^(b) (imu_preintegration.h),
//   r = Log(DX^(b)^-1 Phi_T(X_i)^-1 Gamma_T^-1 X_j),  shape (9,), tangent order (rho, theta, nu).
// Keys: (X_i, b_i, X_j). The bias random walk is a between factor on the R6 biases.
#pragma once

#include <Eigen/Core>

#include <string>

#include "imu_preintegration.h"
#include "kinds.h"
#include "values.h"

namespace manif_py::estimation {

/// Log(A^-1 B): the relative error of B seen from A, written without rminus so that
/// it does not depend on the operand order rminus follows.
template <class G>
typename G::Tangent log_of_between(const G& A, const G& B) {
  return A.inverse().compose(B).Log();
}

/// What an IMU factor stores: the preintegrated delta, its bias Jacobian, the bias
/// it was computed at, its duration and the gravity vector of the world frame.
struct ImuMeasurement {
  SE23<double> delta;
  Matrix96d J_bias = Matrix96d::Zero();
  Vector6d bias_lin = Vector6d::Zero();
  double duration = 0.0;
  Eigen::Vector3d gravity = Eigen::Vector3d(0.0, 0.0, -9.81);

  /// Every number, for the graph's finiteness check.
  Eigen::VectorXd coeffs() const {
    Eigen::VectorXd c(10 + 54 + 6 + 1 + 3);
    c << delta.coeffs(), Eigen::Map<const Eigen::VectorXd>(J_bias.data(), 54), bias_lin, duration, gravity;
    return c;
  }
};

struct ImuFactor : FactorCommon<ImuMeasurement, 9, 9, 6, 9> {
  static constexpr Kind KeyKinds[3] = {Kind::SE23, Kind::R6, Kind::SE23};
  static std::string type_name() { return "imu SE23"; }

  Eigen::Matrix<double, 9, 1> error(const Values& v, Eigen::Matrix<double, 9, 24>* J) const {
    using G = SE23<double>;
    const ImuMeasurement& m = measured;
    const G xi = v.get<G>(keys[0]);
    const Vector6d b = v.get<Rn<double, 6>>(keys[1]).coeffs();
    const G xj = v.get<G>(keys[2]);
    const SE23Tangent<double> u(m.J_bias * (b - m.bias_lin));
    const G corrected = m.delta.compose(u.Exp());
    // between = Y^-1 W with Y = Phi_T(X_i), W = Gamma_T^-1 X_j; r = Log(corrected^-1 between).
    const G y = flow(xi, m.duration);
    const G w = gravity_element(m.gravity, m.duration).inverse().compose(xj);
    const G between = y.inverse().compose(w);
    const SE23Tangent<double> r = log_of_between(corrected, between);
    const G E = r.Exp();
    if (J) {
      const Matrix9d Jri = r.Jr_inv();
      J->block<9, 9>(0, 0) = -Jri * between.inverse().Adj() * flow_tangent_map(m.duration);
      J->block<9, 6>(0, 9) = -Jri * E.inverse().Adj() * u.Jr() * m.J_bias;
      J->block<9, 9>(0, 15) = Jri;
    }
    return r.coeffs();
  }
};

}  // namespace manif_py::estimation
