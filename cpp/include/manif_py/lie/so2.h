// SO(2): planar rotations, stored as (cos, sin). Tangent: the angle.
#pragma once

#include "lie_group_base.h"

namespace manif_py {

template <class S> class SO2;
template <class S> class SO2Tangent;

template <class S>
struct LieTraits<SO2<S>> {
  using Scalar = S;
  static constexpr int DoF = 1, RepSize = 2, Dim = 2, MatSize = 2;
  using Group = SO2<S>;
  using Tangent = SO2Tangent<S>;
  using AlgebraMatrix = Eigen::Matrix<S, 2, 2>;
};
template <class S>
struct LieTraits<SO2Tangent<S>> : LieTraits<SO2<S>> {};

template <class S>
class SO2Tangent : public TangentBase<SO2Tangent<S>> {
 public:
  using DataType = Eigen::Matrix<S, 1, 1>;
  using Jacobian = Eigen::Matrix<S, 1, 1>;
  SO2Tangent() : v_(DataType::Zero()) {}
  explicit SO2Tangent(const DataType& v) : v_(v) {}
  const DataType& coeffs() const { return v_; }
  DataType& coeffs() { return v_; }
  S angle() const { return v_(0); }

  SO2<S> Exp(Jacobian* J = nullptr) const {
    using std::cos;
    using std::sin;
    if (J) J->setIdentity();
    return SO2<S>(cos(angle()), sin(angle()));
  }
  Eigen::Matrix<S, 2, 2> hat() const {
    Eigen::Matrix<S, 2, 2> m;
    m << S(0), -angle(), angle(), S(0);
    return m;
  }
  static SO2Tangent vee(const Eigen::Matrix<S, 2, 2>& m) { return SO2Tangent(DataType(m(1, 0))); }
  Jacobian Jr() const { return Jacobian::Identity(); }
  Jacobian Jr_inv() const { return Jacobian::Identity(); }
  Jacobian ad() const { return Jacobian::Zero(); }

 private:
  DataType v_;
};

template <class S>
class SO2 : public LieGroupBase<SO2<S>> {
 public:
  using DataType = Eigen::Matrix<S, 2, 1>;
  using Tangent = SO2Tangent<S>;
  using Jacobian = Eigen::Matrix<S, 1, 1>;
  using Point = Eigen::Matrix<S, 2, 1>;
  using Rotation = Eigen::Matrix<S, 2, 2>;

  SO2() : d_(S(1), S(0)) {}
  SO2(S c, S s) : d_(c, s) {}
  template <class D>
  explicit SO2(const Eigen::MatrixBase<D>& d) : d_(d) {}
  static SO2 Identity() { return SO2(); }
  static SO2 fromAngle(S a) { return Tangent(typename Tangent::DataType(a)).Exp(); }

  const DataType& coeffs() const { return d_; }
  DataType& coeffs() { return d_; }
  S real() const { return d_(0); }
  S imag() const { return d_(1); }
  S angle() const { return std::atan2(imag(), real()); }
  Rotation rotation() const {
    Rotation r;
    r << real(), -imag(), imag(), real();
    return r;
  }
  Rotation matrix() const { return rotation(); }
  Jacobian Adj() const { return Jacobian::Identity(); }

  SO2 inverse(Jacobian* J = nullptr) const {
    if (J) *J = -Jacobian::Identity();
    return SO2(real(), -imag());
  }
  SO2 compose(const SO2& y, Jacobian* J_z_x = nullptr, Jacobian* J_z_y = nullptr) const {
    if (J_z_x) J_z_x->setIdentity();
    if (J_z_y) J_z_y->setIdentity();
    return SO2(real() * y.real() - imag() * y.imag(), imag() * y.real() + real() * y.imag());
  }
  Tangent Log(Jacobian* J = nullptr) const {
    if (J) J->setIdentity();
    return Tangent(typename Tangent::DataType(angle()));
  }
  Point act(const Point& v, Eigen::Matrix<S, 2, 1>* J_v_x = nullptr,
            Eigen::Matrix<S, 2, 2>* J_v_v = nullptr) const {
    const Rotation R = rotation();
    if (J_v_x) *J_v_x = R * Point(-v.y(), v.x());
    if (J_v_v) *J_v_v = R;
    return R * v;
  }
  /// Writes the storage coefficients to p[0 .. RepSize): straight from the members,
  /// with no temporary (a temporary vector read back at odd offsets stalls).
  void store(S* p) const {
    Eigen::Map<DataType> m(p);
    m = d_;
  }
  void normalize() { d_.normalize(); }
  static SO2 Random(Rng& rng) {
    std::uniform_real_distribution<double> u(-Constants<double>::pi, Constants<double>::pi);
    return fromAngle(S(u(rng)));
  }

 private:
  DataType d_;
};

}  // namespace manif_py
