// SE_2(3): extended poses (rotation, position, velocity), stored as
// (px, py, pz, qx, qy, qz, qw, vx, vy, vz). Tangent (rho, theta, nu).
#pragma once

#include "so3.h"

namespace manif_py {

template <class S> class SE23;
template <class S> class SE23Tangent;

template <class S>
struct LieTraits<SE23<S>> {
  using Scalar = S;
  static constexpr int DoF = 9, RepSize = 10, Dim = 3, MatSize = 5;
  using Group = SE23<S>;
  using Tangent = SE23Tangent<S>;
  using AlgebraMatrix = Eigen::Matrix<S, 5, 5>;
};
template <class S>
struct LieTraits<SE23Tangent<S>> : LieTraits<SE23<S>> {};

template <class S>
class SE23Tangent : public TangentBase<SE23Tangent<S>> {
 public:
  using DataType = Eigen::Matrix<S, 9, 1>;
  using Jacobian = Eigen::Matrix<S, 9, 9>;
  using Vec3 = Eigen::Matrix<S, 3, 1>;
  SE23Tangent() : v_(DataType::Zero()) {}
  explicit SE23Tangent(const DataType& v) : v_(v) {}
  const DataType& coeffs() const { return v_; }
  DataType& coeffs() { return v_; }
  Vec3 lin() const { return v_.template segment<3>(0); }
  Vec3 ang() const { return v_.template segment<3>(3); }
  Vec3 vel() const { return v_.template segment<3>(6); }

  SE23<S> Exp(Jacobian* J = nullptr) const {
    if (J) *J = Jr();
    const Vec3 th = ang();
    const So3ExpTerms<S> e(th);
    return SE23<S>(e.V(th, lin()), e.q, e.V(th, vel()));
  }
  Eigen::Matrix<S, 5, 5> hat() const {
    Eigen::Matrix<S, 5, 5> m = Eigen::Matrix<S, 5, 5>::Zero();
    m.template topLeftCorner<3, 3>() = skew(ang());
    m.template block<3, 1>(0, 3) = lin();
    m.template block<3, 1>(0, 4) = vel();
    return m;
  }
  static SE23Tangent vee(const Eigen::Matrix<S, 5, 5>& m) {
    DataType v;
    v << m(0, 3), m(1, 3), m(2, 3), m(2, 1), m(0, 2), m(1, 0), m(0, 4), m(1, 4), m(2, 4);
    return SE23Tangent(v);
  }
  Jacobian Jr() const {
    Jacobian J = Jacobian::Zero();
    const Se3JacCoeffs<S> k(ang().squaredNorm());
    const Eigen::Matrix<S, 3, 3> Jr3 = so3_jr<S>(ang(), k);
    J.template block<3, 3>(0, 0) = Jr3;
    J.template block<3, 3>(3, 3) = Jr3;
    J.template block<3, 3>(6, 6) = Jr3;
    J.template block<3, 3>(0, 3) = se3_q<S>(-lin(), -ang(), k);
    J.template block<3, 3>(6, 3) = se3_q<S>(-vel(), -ang(), k);
    return J;
  }
  Jacobian Jr_inv() const {
    Jacobian J = Jacobian::Zero();
    const Eigen::Matrix<S, 3, 3> Ji = so3_jr_inv<S>(ang());
    J.template block<3, 3>(0, 0) = Ji;
    J.template block<3, 3>(3, 3) = Ji;
    J.template block<3, 3>(6, 6) = Ji;
    J.template block<3, 3>(0, 3) = -Ji * se3_q<S>(-lin(), -ang()) * Ji;
    J.template block<3, 3>(6, 3) = -Ji * se3_q<S>(-vel(), -ang()) * Ji;
    return J;
  }
  Jacobian ad() const {
    Jacobian m = Jacobian::Zero();
    const Eigen::Matrix<S, 3, 3> T = skew(ang());
    m.template block<3, 3>(0, 0) = T;
    m.template block<3, 3>(3, 3) = T;
    m.template block<3, 3>(6, 6) = T;
    m.template block<3, 3>(0, 3) = skew(lin());
    m.template block<3, 3>(6, 3) = skew(vel());
    return m;
  }

 private:
  DataType v_;
};

template <class S>
class SE23 : public LieGroupBase<SE23<S>> {
 public:
  using DataType = Eigen::Matrix<S, 10, 1>;
  using Tangent = SE23Tangent<S>;
  using Jacobian = Eigen::Matrix<S, 9, 9>;
  using Point = Eigen::Matrix<S, 3, 1>;
  using Rotation = Eigen::Matrix<S, 3, 3>;
  using Quaternion = Eigen::Quaternion<S>;

  SE23() : p_(Point::Zero()), q_(Quaternion::Identity()), v_(Point::Zero()) {}
  SE23(const Point& p, const Quaternion& q, const Point& v) : p_(p), q_(q), v_(v) {}
  template <class D>
  explicit SE23(const Eigen::MatrixBase<D>& d)
      : p_(d.template head<3>()), q_(d(6), d(3), d(4), d(5)), v_(d.template tail<3>()) {}
  static SE23 Identity() { return SE23(); }

  DataType coeffs() const {
    DataType d;
    d << p_, q_.coeffs(), v_;
    return d;
  }
  const Point& translation() const { return p_; }
  const Point& linearVelocity() const { return v_; }
  const Quaternion& quat() const { return q_; }
  Rotation rotation() const { return q_.toRotationMatrix(); }
  Eigen::Matrix<S, 5, 5> matrix() const {
    Eigen::Matrix<S, 5, 5> m = Eigen::Matrix<S, 5, 5>::Identity();
    m.template topLeftCorner<3, 3>() = rotation();
    m.template block<3, 1>(0, 3) = p_;
    m.template block<3, 1>(0, 4) = v_;
    return m;
  }
  Jacobian Adj() const {
    Jacobian J = Jacobian::Zero();
    const Rotation R = rotation();
    J.template block<3, 3>(0, 0) = R;
    J.template block<3, 3>(3, 3) = R;
    J.template block<3, 3>(6, 6) = R;
    J.template block<3, 3>(0, 3) = skew(p_) * R;
    J.template block<3, 3>(6, 3) = skew(v_) * R;
    return J;
  }

  SE23 inverse(Jacobian* J = nullptr) const {
    if (J) *J = -Adj();
    const Quaternion qi = q_.conjugate();
    return SE23(-(qi * p_), qi, -(qi * v_));
  }
  SE23 compose(const SE23& y, Jacobian* J_z_x = nullptr, Jacobian* J_z_y = nullptr) const {
    if (J_z_x) *J_z_x = y.inverse().Adj();
    if (J_z_y) J_z_y->setIdentity();
    return SE23(p_ + q_ * y.p_, q_ * y.q_, v_ + q_ * y.v_);
  }
  Tangent Log(Jacobian* J = nullptr) const {
    const So3LogTerms<S> l(q_);
    typename Tangent::DataType d;
    d << l.V_inv(p_), l.theta, l.V_inv(v_);
    const Tangent tau(d);
    if (J) *J = tau.Jr_inv();
    return tau;
  }
  Point act(const Point& x, Eigen::Matrix<S, 3, 9>* J_v_x = nullptr,
            Eigen::Matrix<S, 3, 3>* J_v_v = nullptr) const {
    const Rotation R = rotation();
    if (J_v_x) {
      J_v_x->template leftCols<3>() = R;
      J_v_x->template middleCols<3>(3) = -R * skew(x);
      J_v_x->template rightCols<3>().setZero();
    }
    if (J_v_v) *J_v_v = R;
    return p_ + R * x;
  }
  /// Writes the storage coefficients to p[0 .. RepSize): straight from the members,
  /// with no temporary (a temporary vector read back at odd offsets stalls).
  void store(S* p) const {
    Eigen::Map<Point>{p} = p_;
    Eigen::Map<Eigen::Matrix<S, 4, 1>>{p + 3} = q_.coeffs();
    Eigen::Map<Point>{p + 7} = v_;
  }
  void normalize() { q_.normalize(); }
  static SE23 Random(Rng& rng) {
    std::uniform_real_distribution<double> u(-1.0, 1.0);
    const Point p(S(u(rng)), S(u(rng)), S(u(rng)));
    const Quaternion q = SO3<S>::Random(rng).quat();
    const Point v(S(u(rng)), S(u(rng)), S(u(rng)));
    return SE23(p, q, v);
  }

 private:
  Point p_;
  Quaternion q_;
  Point v_;
};

}  // namespace manif_py
