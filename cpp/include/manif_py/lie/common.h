// Shared constants and small helpers for the Lie group core.
#pragma once

#include <Eigen/Core>
#include <Eigen/Geometry>
#include <cmath>
#include <random>
#include <type_traits>

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

/// Scalar type for the trigonometric coefficients: float kernels compute them in
/// double, since (t - sin t)/t^3 and friends cancel catastrophically in float.
template <class S>
using CoeffScalar = std::conditional_t<std::is_same_v<S, float>, double, S>;

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
  explicit So3Coeffs(S theta_sq_in) {
    using C = CoeffScalar<S>;
    using std::cos;
    using std::sin;
    using std::sqrt;
    const C theta_sq = theta_sq_in;
    if (theta_sq < Constants<C>::small_angle_sq) {
      a = S(C(0.5) - theta_sq / C(24));
      b = S(C(1) / C(6) - theta_sq / C(120));
    } else {
      const C t = sqrt(theta_sq);
      const C sh = sin(t / C(2));
      a = S(C(2) * sh * sh / theta_sq);  // (1 - cos t)/t^2 without cancellation
      b = S((t - sin(t)) / (theta_sq * t));
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
  using C = CoeffScalar<S>;
  using std::cos;
  using std::sin;
  using std::sqrt;
  const C t2 = theta.squaredNorm();
  S c;
  if (t2 < Constants<C>::small_angle_sq) {
    c = S(C(1) / C(12) + t2 / C(720));
  } else {
    const C t = sqrt(t2);
    const C half = t / C(2);
    c = S((C(1) - half * cos(half) / sin(half)) / t2);
  }
  const Eigen::Matrix<S, 3, 3> W = skew(theta);
  return Eigen::Matrix<S, 3, 3>::Identity() + S(0.5) * W + c * W * W;
}

/// Every coefficient of the SE(3)-like Jacobians from one sin/cos:
/// a = (1 - cos t)/t^2 and b = (t - sin t)/t^3 (Jr of SO(3)), and
/// c2 = (t^2 + 2 cos t - 2)/(2 t^4), c3 = (2 t - 3 sin t + t cos t)/(2 t^5) (the Q block).
/// Below t^2 = 1e-2 three-term Taylor series (error < 1e-16) replace the cancelling forms.
template <class S>
struct Se3JacCoeffs {
  S a, b, c2, c3;
  explicit Se3JacCoeffs(S theta_sq) {
    using C = CoeffScalar<S>;
    using std::cos;
    using std::sin;
    using std::sqrt;
    const C t2 = theta_sq;
    if (t2 < C(1e-2)) {
      const C t4 = t2 * t2;
      a = S(C(1) / C(2) - t2 / C(24) + t4 / C(720));
      b = S(C(1) / C(6) - t2 / C(120) + t4 / C(5040));
      c2 = S(C(1) / C(24) - t2 / C(720) + t4 / C(40320));
      c3 = S(C(1) / C(120) - t2 / C(2520) + t4 / C(120960));
    } else {
      const C t = sqrt(t2), s = sin(t), c = cos(t), sh = sin(t / C(2));
      a = S(C(2) * sh * sh / t2);
      b = S((t - s) / (t2 * t));
      c2 = S((t2 + C(2) * c - C(2)) / (C(2) * t2 * t2));
      c3 = S((C(2) * t - C(3) * s + t * c) / (C(2) * t2 * t2 * t));
    }
  }
};

/// The off-diagonal block Q(rho, theta) of the SE(3) left Jacobian (Barfoot):
/// Q = P/2 + b (TP + PT + TPT) + c2 (TTP + PTT - 3 TPT) + c3 (TPTT + TTPT), T = theta^, P = rho^.
/// T and P are skew, so PT = (TP)^T, PTT = -(TTP)^T, TTPT = (TPTT)^T: four products, not seven.
/// The right Jacobian uses Q(-rho, -theta).
template <class S>
inline Eigen::Matrix<S, 3, 3> se3_q(const Eigen::Matrix<S, 3, 1>& rho, const Eigen::Matrix<S, 3, 1>& theta,
                                    const Se3JacCoeffs<S>& k) {
  const Eigen::Matrix<S, 3, 3> P = skew(rho), T = skew(theta);
  const Eigen::Matrix<S, 3, 3> TP = T * P;
  const Eigen::Matrix<S, 3, 3> TPT = TP * T;
  const Eigen::Matrix<S, 3, 3> TTP = T * TP;
  const Eigen::Matrix<S, 3, 3> TPTT = TPT * T;
  return S(0.5) * P + k.b * (TP + TP.transpose() + TPT) + k.c2 * (TTP - TTP.transpose() - S(3) * TPT) +
         k.c3 * (TPTT + TPTT.transpose());
}

template <class S>
inline Eigen::Matrix<S, 3, 3> se3_q(const Eigen::Matrix<S, 3, 1>& rho, const Eigen::Matrix<S, 3, 1>& theta) {
  return se3_q(rho, theta, Se3JacCoeffs<S>(theta.squaredNorm()));
}

/// Right Jacobian of SO(3) from precomputed coefficients: I - a W + b W^2.
template <class S>
inline Eigen::Matrix<S, 3, 3> so3_jr(const Eigen::Matrix<S, 3, 1>& theta, const Se3JacCoeffs<S>& k) {
  const Eigen::Matrix<S, 3, 3> W = skew(theta);
  return Eigen::Matrix<S, 3, 3>::Identity() - k.a * W + k.b * W * W;
}

/// N(theta) = sum_k theta_hat^k / (k+2)!, the double integral of the rotation
/// that couples velocity into position in SGal(3).
template <class S>
inline Eigen::Matrix<S, 3, 3> so3_n(const Eigen::Matrix<S, 3, 1>& theta) {
  using C = CoeffScalar<S>;
  using std::cos;
  using std::sin;
  using std::sqrt;
  const C t2 = theta.squaredNorm();
  S b, c;
  if (t2 < C(1e-4)) {
    b = S(C(1) / C(6) - t2 / C(120));
    c = S(C(1) / C(24) - t2 / C(720));
  } else {
    const C t = sqrt(t2);
    b = S((t - sin(t)) / (t2 * t));
    c = S((t2 / C(2) + cos(t) - C(1)) / (t2 * t2));
  }
  const Eigen::Matrix<S, 3, 3> W = skew(theta);
  return S(0.5) * Eigen::Matrix<S, 3, 3>::Identity() + b * W + c * W * W;
}

/// Unit quaternion Exp of a rotation vector.
template <class S>
inline Eigen::Quaternion<S> quat_exp(const Eigen::Matrix<S, 3, 1>& theta) {
  using C = CoeffScalar<S>;
  using std::cos;
  using std::sin;
  using std::sqrt;
  const C t2 = theta.squaredNorm();
  S k, w;
  if (t2 < Constants<C>::small_angle_sq) {
    k = S(C(0.5) - t2 / C(48));
    w = S(C(1) - t2 / C(8));
  } else {
    const C t = sqrt(t2);
    k = S(sin(t / C(2)) / t);
    w = S(cos(t / C(2)));
  }
  return Eigen::Quaternion<S>(w, k * theta.x(), k * theta.y(), k * theta.z());
}

/// Everything SE(3)-like Exp maps need from one sin/cos of the half angle:
/// the quaternion and the coefficients a, b of V = Jl(theta) = I + a W + b W^2.
template <class S>
struct So3ExpTerms {
  Eigen::Quaternion<S> q;
  S a, b;
  explicit So3ExpTerms(const Eigen::Matrix<S, 3, 1>& theta) {
    using C = CoeffScalar<S>;
    using std::cos;
    using std::sin;
    using std::sqrt;
    const C t2 = theta.squaredNorm();
    S k, w;
    if (t2 < Constants<C>::small_angle_sq) {
      k = S(C(0.5) - t2 / C(48));
      w = S(C(1) - t2 / C(8));
      a = S(C(0.5) - t2 / C(24));
      b = S(C(1) / C(6) - t2 / C(120));
    } else {
      const C t = sqrt(t2);
      const C sh = sin(t / C(2)), ch = cos(t / C(2));
      k = S(sh / t);
      w = S(ch);
      a = S(C(2) * sh * sh / t2);
      b = S((t - C(2) * sh * ch) / (t2 * t));
    }
    q = Eigen::Quaternion<S>(w, k * theta.x(), k * theta.y(), k * theta.z());
  }
  /// V x = x + a theta x x + b theta x (theta x x), given theta.
  Eigen::Matrix<S, 3, 1> V(const Eigen::Matrix<S, 3, 1>& theta, const Eigen::Matrix<S, 3, 1>& x) const {
    const Eigen::Matrix<S, 3, 1> tx = theta.cross(x);
    return x + a * tx + b * theta.cross(tx);
  }
};

/// Log of a unit quaternion together with the coefficient c of
/// Jl(theta)^-1 = I - 1/2 W + c W^2, c = (1 - (t/2) cot(t/2)) / t^2, from the
/// quaternion itself (cot(t/2) = w / |v|), so SE(3)-like Log maps need one atan2.
template <class S>
struct So3LogTerms {
  Eigen::Matrix<S, 3, 1> theta;
  S c;
  explicit So3LogTerms(const Eigen::Quaternion<S>& q) {
    using C = CoeffScalar<S>;
    using std::atan2;
    using std::sqrt;
    Eigen::Matrix<C, 3, 1> v = q.vec().template cast<C>();
    C w = q.w();
    if (w < C(0)) {  // q and -q are the same rotation: take the short way
      v = -v;
      w = -w;
    }
    const C s2 = v.squaredNorm();
    if (s2 < Constants<C>::small_angle_sq * Constants<C>::small_angle_sq) {
      const Eigen::Matrix<C, 3, 1> th = (C(2) / w * (C(1) - s2 / (C(3) * w * w))) * v;
      theta = th.template cast<S>();
      c = S(C(1) / C(12) + th.squaredNorm() / C(720));
    } else {
      const C s = sqrt(s2);
      const C half = atan2(s, w);
      theta = ((C(2) * half / s) * v).template cast<S>();
      const C t2 = C(4) * half * half;
      // The product c t^2 is what enters, and it is exact to rounding even where c is not.
      c = S(t2 < Constants<C>::small_angle_sq ? C(1) / C(12) + t2 / C(720) : (C(1) - half * w / s) / t2);
    }
  }
  /// Jl(theta)^-1 x.
  Eigen::Matrix<S, 3, 1> V_inv(const Eigen::Matrix<S, 3, 1>& x) const {
    const Eigen::Matrix<S, 3, 1> tx = theta.cross(x);
    return x - S(0.5) * tx + c * theta.cross(tx);
  }
};

/// Rotation vector of a unit quaternion, angle in [-pi, pi] (shortest path).
template <class S>
inline Eigen::Matrix<S, 3, 1> quat_log(const Eigen::Quaternion<S>& q) {
  using C = CoeffScalar<S>;
  using std::atan2;
  using std::sqrt;
  const Eigen::Matrix<C, 3, 1> v = q.vec().template cast<C>();
  const C sin_sq = v.squaredNorm();
  const C w = q.w();
  C k;
  if (sin_sq < Constants<C>::small_angle_sq * Constants<C>::small_angle_sq) {
    // 2 atan(s/w)/s ~ 2/w (1 - s^2/(3 w^2)); sign of w picks the short way.
    k = C(2) / w * (C(1) - sin_sq / (C(3) * w * w));
  } else {
    const C s = sqrt(sin_sq);
    const C angle = w < C(0) ? atan2(-s, -w) : atan2(s, w);
    k = C(2) * angle / s;
  }
  return (k * v).template cast<S>();
}

}  // namespace manif_py
