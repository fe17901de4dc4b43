// Shared constants and small helpers for the Lie group core.
#pragma once

#include <Eigen/Core>
#include <Eigen/Geometry>
#include <cmath>
#include <random>

namespace manif_py {

/// Which frame Jacobians are expressed in. Right (local) is the default of the
/// micro Lie theory paper; left (global) ones are derived from right ones by the
/// adjoint, never computed by a second code path.
enum class Convention { Right, Left };

using Rng = std::mt19937_64;

template <class S>
struct Constants {
  /// Below this squared angle the closed forms switch to Taylor expansions.
  static constexpr S small_angle_sq = S(1e-6);
  /// Tolerance on |q|^2 - 1 inside which a quaternion is silently normalised.
  static constexpr S unit_tol = S(1e-5);
  static constexpr S pi = S(3.14159265358979323846);
};

template <class S>
inline Eigen::Matrix<S, 3, 3> skew(const Eigen::Matrix<S, 3, 1>& v) {
  Eigen::Matrix<S, 3, 3> m;
  m << S(0), -v.z(), v.y(),  //
      v.z(), S(0), -v.x(),   //
      -v.y(), v.x(), S(0);
  return m;
}

/// Coefficients of the SO(3) series written in theta_hat = skew(theta):
/// a = (1 - cos t)/t^2, b = (t - sin t)/t^3, with their Taylor forms near 0.
template <class S>
struct So3Coeffs {
  S a, b;
  explicit So3Coeffs(S theta_sq) {
    using std::cos;
    using std::sin;
    using std::sqrt;
    if (theta_sq < Constants<S>::small_angle_sq) {
      a = S(0.5) - theta_sq / S(24);
      b = S(1) / S(6) - theta_sq / S(120);
    } else {
      const S t = sqrt(theta_sq);
      a = (S(1) - cos(t)) / theta_sq;
      b = (t - sin(t)) / (theta_sq * t);
    }
  }
};

/// Right Jacobian of SO(3) at theta.
template <class S>
inline Eigen::Matrix<S, 3, 3> so3_jr(const Eigen::Matrix<S, 3, 1>& theta) {
  const So3Coeffs<S> c(theta.squaredNorm());
  const Eigen::Matrix<S, 3, 3> W = skew(theta);
  return Eigen::Matrix<S, 3, 3>::Identity() - c.a * W + c.b * W * W;
}

/// Inverse of the right Jacobian of SO(3). The coefficient
/// 1/t^2 - (1 + cos t)/(2 t sin t) is written as (1 - (t/2) cot(t/2)) / t^2 so
/// that it stays finite at t = pi.
template <class S>
inline Eigen::Matrix<S, 3, 3> so3_jr_inv(const Eigen::Matrix<S, 3, 1>& theta) {
  using std::cos;
  using std::sin;
  using std::sqrt;
  const S t2 = theta.squaredNorm();
  S c;
  if (t2 < Constants<S>::small_angle_sq) {
    c = S(1) / S(12) + t2 / S(720);
  } else {
    const S t = sqrt(t2);
    const S half = t / S(2);
    c = (S(1) - half * cos(half) / sin(half)) / t2;
  }
  const Eigen::Matrix<S, 3, 3> W = skew(theta);
  return Eigen::Matrix<S, 3, 3>::Identity() + S(0.5) * W + c * W * W;
}

/// The off-diagonal block Q(rho, theta) of the SE(3) left Jacobian (Barfoot).
/// The right Jacobian uses Q(-rho, -theta).
template <class S>
inline Eigen::Matrix<S, 3, 3> se3_q(const Eigen::Matrix<S, 3, 1>& rho,
                                    const Eigen::Matrix<S, 3, 1>& theta) {
  using std::cos;
  using std::sin;
  using std::sqrt;
  const S t2 = theta.squaredNorm();
  S c1, c2, c3;
  if (t2 < S(1e-4)) {
    c1 = S(1) / S(6) - t2 / S(120);
    c2 = S(1) / S(24) - t2 / S(720);
    c3 = S(1) / S(120) - t2 / S(2520);
  } else {
    const S t = sqrt(t2);
    const S s = sin(t), c = cos(t);
    c1 = (t - s) / (t2 * t);
    c2 = (t2 + S(2) * c - S(2)) / (S(2) * t2 * t2);
    c3 = (S(2) * t - S(3) * s + t * c) / (S(2) * t2 * t2 * t);
  }
  const Eigen::Matrix<S, 3, 3> P = skew(rho), T = skew(theta);
  const Eigen::Matrix<S, 3, 3> TP = T * P, PT = P * T, TPT = TP * T;
  return S(0.5) * P + c1 * (TP + PT + TPT) + c2 * (T * TP + PT * T - S(3) * TPT) +
         c3 * (TPT * T + T * TPT);
}

/// N(theta) = sum_k theta_hat^k / (k+2)!, the double integral of the rotation
/// that couples velocity into position in SGal(3).
template <class S>
inline Eigen::Matrix<S, 3, 3> so3_n(const Eigen::Matrix<S, 3, 1>& theta) {
  using std::cos;
  using std::sin;
  using std::sqrt;
  const S t2 = theta.squaredNorm();
  S b, c;
  if (t2 < S(1e-4)) {
    b = S(1) / S(6) - t2 / S(120);
    c = S(1) / S(24) - t2 / S(720);
  } else {
    const S t = sqrt(t2);
    b = (t - sin(t)) / (t2 * t);
    c = (t2 / S(2) + cos(t) - S(1)) / (t2 * t2);
  }
  const Eigen::Matrix<S, 3, 3> W = skew(theta);
  return S(0.5) * Eigen::Matrix<S, 3, 3>::Identity() + b * W + c * W * W;
}

/// Unit quaternion Exp of a rotation vector.
template <class S>
inline Eigen::Quaternion<S> quat_exp(const Eigen::Matrix<S, 3, 1>& theta) {
  using std::cos;
  using std::sin;
  using std::sqrt;
  const S t2 = theta.squaredNorm();
  S k, w;
  if (t2 < Constants<S>::small_angle_sq) {
    k = S(0.5) - t2 / S(48);
    w = S(1) - t2 / S(8);
  } else {
    const S t = sqrt(t2);
    k = sin(t / S(2)) / t;
    w = cos(t / S(2));
  }
  return Eigen::Quaternion<S>(w, k * theta.x(), k * theta.y(), k * theta.z());
}

/// Rotation vector of a unit quaternion, angle in [-pi, pi] (shortest path).
template <class S>
inline Eigen::Matrix<S, 3, 1> quat_log(const Eigen::Quaternion<S>& q) {
  using std::atan2;
  using std::sqrt;
  const Eigen::Matrix<S, 3, 1> v = q.vec();
  const S sin_sq = v.squaredNorm();
  const S w = q.w();
  S k;
  if (sin_sq < Constants<S>::small_angle_sq * Constants<S>::small_angle_sq) {
    // 2 atan(s/w)/s ~ 2/w (1 - s^2/(3 w^2)); sign of w picks the short way.
    k = S(2) / w * (S(1) - sin_sq / (S(3) * w * w));
  } else {
    const S s = sqrt(sin_sq);
    const S angle = w < S(0) ? atan2(-s, -w) : atan2(s, w);
    k = S(2) * angle / s;
  }
  return k * v;
}

}  // namespace manif_py
