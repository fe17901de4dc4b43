// The built-in factors. Each computes its unwhitened residual r (Dim) and, on
// request, the right Jacobians of r with respect to its variables, stacked side
// by side in key order: J = [dr/dx_0 | dr/dx_1 | ...], shape (Dim, TotalDoF).
// Whitening by the square-root information and the robust loss are applied by
// the factor container (factor_set.h), once for every factor type.
#pragma once

#include <Eigen/Core>

#include <array>
#include <cmath>
#include <string>

#include "kinds.h"
#include "values.h"

namespace manif_py::estimation {

/// Wraps an angle to (-pi, pi].
inline double wrap_angle(double a) {
  const double pi = Constants<double>::pi;
  a = std::fmod(a + pi, 2.0 * pi);
  if (a <= 0.0) a += 2.0 * pi;
  return a - pi;
}

/// Jr^-1(t), the inverse right Jacobian used by the between factors.
template <class T>
typename T::Jacobian right_jacobian_inverse(const T& t) {
  return t.Jr_inv();
}

/// Sim3: the core inverts Jr, itself a 14x14 matrix exponential (about 10 us). Near the
/// identity, where a solve spends its iterations, the Bernoulli series
/// Jr^-1 = I + ad/2 + sum_k B_2k / (2k)! ad^2k is exact to double precision within a few
/// products of 7x7 matrices: it converges for spectral radius of ad < 2 pi, and that radius
/// is hypot(|theta|, sigma) (rho only adds nilpotent terms). Larger errors take the core's path.
inline Sim3Tangent<double>::Jacobian right_jacobian_inverse(const Sim3Tangent<double>& t) {
  using J7 = Sim3Tangent<double>::Jacobian;
  const double radius = std::hypot(t.ang().norm(), t.sigma());
  if (!(radius < 0.5) || !(t.lin().norm() < 1e3)) return t.Jr_inv();
  // B_2k / (2k)! for k = 1..9: 1/12, -1/720, 1/30240, -1/1209600, 1/47900160, ...
  static constexpr double c[9] = {1.0 / 12.0,          -1.0 / 720.0,         1.0 / 30240.0,
                                  -1.0 / 1209600.0,    1.0 / 47900160.0,     -691.0 / 1307674368000.0,
                                  1.0 / 74724249600.0, -3617.0 / 10670622842880000.0,
                                  43867.0 / 5109094217170944000.0};
  const J7 ad = t.ad();
  const J7 ad2 = ad * ad;
  J7 acc = c[8] * ad2;  // Horner in ad^2
  for (int k = 7; k >= 0; --k) acc = (acc + c[k] * J7::Identity()) * ad2;
  return J7::Identity() + 0.5 * ad + acc;
}

/// Common members: keys, measurement, square-root information, loss slot.
template <class Meas, int Dim_, int... DoFs_>
struct FactorCommon {
  static constexpr int Dim = Dim_;
  static constexpr int NumKeys = sizeof...(DoFs_);
  static constexpr std::array<int, NumKeys> DoFs{DoFs_...};
  static constexpr int TotalDoF = (DoFs_ + ...);
  using Residual = Eigen::Matrix<double, Dim, 1>;
  using Jacobian = Eigen::Matrix<double, Dim, TotalDoF>;
  using SqrtInfo = Eigen::Matrix<double, Dim, Dim>;
  using Measurement = Meas;

  std::array<int, NumKeys> keys{};
  Meas measured;
  SqrtInfo sqrt_info = SqrtInfo::Identity();
  int loss_id = 0;  ///< 0: the solve-level loss; otherwise an entry of the graph's loss table
};

/// Prior on one variable: r = Log(X_prior^-1 X) = X (-) X_prior, shape (dof,).
template <class G>
struct PriorFactor : FactorCommon<G, LieTraits<G>::DoF, LieTraits<G>::DoF> {
  static constexpr int D = LieTraits<G>::DoF;
  static constexpr Kind KeyKinds[1] = {KindOf<G>::value};
  static std::string type_name() { return std::string("prior ") + KindOf<G>::name; }

  Eigen::Matrix<double, D, 1> error(const Values& v, Eigen::Matrix<double, D, D>* J) const {
    const G x = v.get<G>(this->keys[0]);
    return x.rminus(this->measured, J, nullptr).coeffs();
  }
};

/// Relative measurement Z of X_i^-1 X_j: r = Log(Z^-1 X_i^-1 X_j), shape (dof,).
/// J_i = -Jr^-1(r) Adj(X_j^-1 X_i), J_j = Jr^-1(r).
template <class G>
struct BetweenFactor : FactorCommon<G, LieTraits<G>::DoF, LieTraits<G>::DoF, LieTraits<G>::DoF> {
  static constexpr int D = LieTraits<G>::DoF;
  static constexpr Kind KeyKinds[2] = {KindOf<G>::value, KindOf<G>::value};
  static std::string type_name() { return std::string("between ") + KindOf<G>::name; }

  Eigen::Matrix<double, D, 1> error(const Values& v, Eigen::Matrix<double, D, 2 * D>* J) const {
    const G xi = v.get<G>(this->keys[0]);
    const G xj = v.get<G>(this->keys[1]);
    const G d = xi.inverse().compose(xj);
    const auto t = this->measured.inverse().compose(d).Log();
    if (J) {
      const Eigen::Matrix<double, D, D> Jri = right_jacobian_inverse(t);
      J->template rightCols<D>() = Jri;
      J->template leftCols<D>() = -Jri * d.inverse().Adj();
    }
    return t.coeffs();
  }
};

/// A landmark l (R^dim) observed in the local frame of a pose X (SE2 or SE3):
/// r = X^-1 l - z, shape (dim,). Keys: (pose, landmark).
template <class G>
struct PointFactor
    : FactorCommon<Eigen::Matrix<double, LieTraits<G>::Dim, 1>, LieTraits<G>::Dim, LieTraits<G>::DoF,
                   LieTraits<G>::Dim> {
  static constexpr int D = LieTraits<G>::DoF, N = LieTraits<G>::Dim;
  using Landmark = Rn<double, N>;
  static constexpr Kind KeyKinds[2] = {KindOf<G>::value, KindOf<Landmark>::value};
  static std::string type_name() { return std::string("point ") + KindOf<G>::name; }

  Eigen::Matrix<double, N, 1> error(const Values& v, Eigen::Matrix<double, N, D + N>* J) const {
    const G x = v.get<G>(this->keys[0]);
    const Eigen::Matrix<double, N, 1> l = v.get<Landmark>(this->keys[1]).coeffs();
    if (!J) return x.inverse().act(l) - this->measured;
    Eigen::Matrix<double, D, D> J_inv_x;
    const G xi = x.inverse(&J_inv_x);
    Eigen::Matrix<double, N, D> J_p_inv;
    Eigen::Matrix<double, N, N> J_p_l;
    const Eigen::Matrix<double, N, 1> p = xi.act(l, &J_p_inv, &J_p_l);
    J->template leftCols<D>() = J_p_inv * J_inv_x;
    J->template rightCols<N>() = J_p_l;
    return p - this->measured;
  }
};

/// Bearing and range of a planar landmark l (R2) from a pose X (SE2), measured
/// in the frame of X: z = (bearing, range), r = (wrap(atan2(p_y, p_x) - bearing),
/// |p| - range) with p = X^-1 l. Keys: (pose, landmark).
struct RangeBearingFactor : FactorCommon<Eigen::Vector2d, 2, 3, 2> {
  static constexpr Kind KeyKinds[2] = {Kind::SE2, Kind::R2};
  static std::string type_name() { return "range-bearing SE2"; }

  Eigen::Vector2d error(const Values& v, Eigen::Matrix<double, 2, 5>* J) const {
    const SE2<double> x = v.get<SE2<double>>(keys[0]);
    const Eigen::Vector2d l = v.get<Rn<double, 2>>(keys[1]).coeffs();
    const Eigen::Matrix2d R = x.rotation();
    const Eigen::Vector2d p = R.transpose() * (l - x.translation());
    const double r2 = p.squaredNorm(), r = std::sqrt(r2);
    if (J) {
      // dp/dX = [-I, (p_y, -p_x)^T], dp/dl = R^T.
      Eigen::Matrix<double, 2, 5> J_p;
      J_p << -1.0, 0.0, p.y(), R(0, 0), R(1, 0),  //
          0.0, -1.0, -p.x(), R(0, 1), R(1, 1);
      Eigen::Matrix2d J_z_p;
      J_z_p << -p.y() / r2, p.x() / r2,  //
          p.x() / r, p.y() / r;
      *J = J_z_p * J_p;
    }
    return Eigen::Vector2d(wrap_angle(std::atan2(p.y(), p.x()) - measured(0)), r - measured(1));
  }
};

}  // namespace manif_py::estimation
