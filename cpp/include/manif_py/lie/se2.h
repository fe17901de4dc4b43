// SE(2): planar rigid motions, stored as (x, y, cos, sin). Tangent (rho_x, rho_y, theta).
#pragma once

#include "lie_group_base.h"

namespace manif_py {

template <class S> class SE2;
template <class S> class SE2Tangent;

template <class S>
struct LieTraits<SE2<S>> {
  using Scalar = S;
  static constexpr int DoF = 3, RepSize = 4, Dim = 2, MatSize = 3;
  using Group = SE2<S>;
  using Tangent = SE2Tangent<S>;
  using AlgebraMatrix = Eigen::Matrix<S, 3, 3>;
};
template <class S>
struct LieTraits<SE2Tangent<S>> : LieTraits<SE2<S>> {};

/// sin(t)/t, (1-cos t)/t, (t - sin t)/t^2, (1 - cos t)/t^2 with Taylor forms.
template <class S>
struct Se2Coeffs {
  S A, B, C, D;
  explicit Se2Coeffs(S angle) {
    using T = CoeffScalar<S>;
    using std::cos;
    using std::sin;
    const T t = angle, t2 = t * t;
    if (t2 < Constants<T>::small_angle_sq) {
      A = S(T(1) - t2 / T(6));
      B = S(t / T(2) - t * t2 / T(24));
      C = S(t / T(6) - t * t2 / T(120));
      D = S(T(0.5) - t2 / T(24));
    } else {
      const T s = sin(t), sh = sin(t / T(2));
      const T one_minus_cos = T(2) * sh * sh;  // without cancellation
      A = S(s / t);
      B = S(one_minus_cos / t);
      C = S((t - s) / t2);
      D = S(one_minus_cos / t2);
    }
  }
};

template <class S>
class SE2Tangent : public TangentBase<SE2Tangent<S>> {
 public:
  using DataType = Eigen::Matrix<S, 3, 1>;
  using Jacobian = Eigen::Matrix<S, 3, 3>;
  SE2Tangent() : v_(DataType::Zero()) {}
  explicit SE2Tangent(const DataType& v) : v_(v) {}
  const DataType& coeffs() const { return v_; }
  DataType& coeffs() { return v_; }
  S x() const { return v_(0); }
  S y() const { return v_(1); }
  S angle() const { return v_(2); }

  SE2<S> Exp(Jacobian* J = nullptr) const {
    using std::cos;
    using std::sin;
    const Se2Coeffs<S> k(angle());
    if (J) *J = Jr();
    return SE2<S>(k.A * x() - k.B * y(), k.B * x() + k.A * y(), cos(angle()), sin(angle()));
  }
  Eigen::Matrix<S, 3, 3> hat() const {
    Eigen::Matrix<S, 3, 3> m;
    m << S(0), -angle(), x(), angle(), S(0), y(), S(0), S(0), S(0);
    return m;
  }
  static SE2Tangent vee(const Eigen::Matrix<S, 3, 3>& m) {
    return SE2Tangent(DataType(m(0, 2), m(1, 2), m(1, 0)));
  }
  Jacobian Jr() const {
    const Se2Coeffs<S> k(angle());
    Jacobian J;
    J << k.A, k.B, k.C * x() - k.D * y(),  //
        -k.B, k.A, k.D * x() + k.C * y(),  //
        S(0), S(0), S(1);
    return J;
  }
  Jacobian Jr_inv() const { return Jr().inverse(); }
  Jacobian ad() const {
    Jacobian m;
    m << S(0), -angle(), y(), angle(), S(0), -x(), S(0), S(0), S(0);
    return m;
  }

 private:
  DataType v_;
};

template <class S>
class SE2 : public LieGroupBase<SE2<S>> {
 public:
  using DataType = Eigen::Matrix<S, 4, 1>;
  using Tangent = SE2Tangent<S>;
  using Jacobian = Eigen::Matrix<S, 3, 3>;
  using Point = Eigen::Matrix<S, 2, 1>;
  using Rotation = Eigen::Matrix<S, 2, 2>;

  SE2() { d_ << S(0), S(0), S(1), S(0); }
  SE2(S x, S y, S c, S s) { d_ << x, y, c, s; }
  template <class D>
  explicit SE2(const Eigen::MatrixBase<D>& d) : d_(d) {}
  static SE2 Identity() { return SE2(); }

  const DataType& coeffs() const { return d_; }
  DataType& coeffs() { return d_; }
  S x() const { return d_(0); }
  S y() const { return d_(1); }
  S real() const { return d_(2); }
  S imag() const { return d_(3); }
  S angle() const { return std::atan2(imag(), real()); }
  Point translation() const { return d_.template head<2>(); }
  Rotation rotation() const {
    Rotation r;
    r << real(), -imag(), imag(), real();
    return r;
  }
  Eigen::Matrix<S, 3, 3> matrix() const {
    Eigen::Matrix<S, 3, 3> m = Eigen::Matrix<S, 3, 3>::Identity();
    m.template topLeftCorner<2, 2>() = rotation();
    m.template topRightCorner<2, 1>() = translation();
    return m;
  }
  Jacobian Adj() const {
    Jacobian J = Jacobian::Identity();
    J.template topLeftCorner<2, 2>() = rotation();
    J(0, 2) = y();
    J(1, 2) = -x();
    return J;
  }

  SE2 inverse(Jacobian* J = nullptr) const {
    if (J) *J = -Adj();
    const Point t = -rotation().transpose() * translation();
    return SE2(t.x(), t.y(), real(), -imag());
  }
  SE2 compose(const SE2& o, Jacobian* J_z_x = nullptr, Jacobian* J_z_y = nullptr) const {
    if (J_z_x) *J_z_x = o.inverse().Adj();
    if (J_z_y) J_z_y->setIdentity();
    const Point t = translation() + rotation() * o.translation();
    return SE2(t.x(), t.y(), real() * o.real() - imag() * o.imag(),
               imag() * o.real() + real() * o.imag());
  }
  Tangent Log(Jacobian* J = nullptr) const {
    const S th = angle();
    const Se2Coeffs<S> k(th);
    const S den = k.A * k.A + k.B * k.B;
    const Tangent t(typename Tangent::DataType((k.A * x() + k.B * y()) / den,
                                               (-k.B * x() + k.A * y()) / den, th));
    if (J) *J = t.Jr_inv();
    return t;
  }
  Point act(const Point& v, Eigen::Matrix<S, 2, 3>* J_v_x = nullptr,
            Eigen::Matrix<S, 2, 2>* J_v_v = nullptr) const {
    const Rotation R = rotation();
    if (J_v_x) {
      J_v_x->template leftCols<2>() = R;
      J_v_x->col(2) = R * Point(-v.y(), v.x());
    }
    if (J_v_v) *J_v_v = R;
    return translation() + R * v;
  }
  /// Writes the storage coefficients to p[0 .. RepSize): straight from the members,
  /// with no temporary (a temporary vector read back at odd offsets stalls).
  void store(S* p) const {
    Eigen::Map<DataType> m(p);
    m = d_;
  }
  void normalize() { d_.template tail<2>().normalize(); }
  static SE2 Random(Rng& rng) {
    std::uniform_real_distribution<double> u(-1.0, 1.0);
    const S a = S(u(rng) * Constants<double>::pi);
    return SE2(S(u(rng)), S(u(rng)), std::cos(a), std::sin(a));
  }

 private:
  DataType d_;
};

}  // namespace manif_py
