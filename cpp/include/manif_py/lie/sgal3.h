// SGal(3): the special Galilean group (rotation, velocity, position, time), stored
// as (tx, ty, tz, qx, qy, qz, qw, vx, vy, vz, s). Tangent (rho, nu, theta, s).
// Matrix form [[R, v, t], [0, 1, s], [0, 0, 1]].
#pragma once

#include "so3.h"

namespace manif_py {

template <class S> class SGal3;
template <class S> class SGal3Tangent;

template <class S>
struct LieTraits<SGal3<S>> {
  using Scalar = S;
  static constexpr int DoF = 10, RepSize = 11, Dim = 3, MatSize = 5;
  using Group = SGal3<S>;
  using Tangent = SGal3Tangent<S>;
  using AlgebraMatrix = Eigen::Matrix<S, 5, 5>;
};
template <class S>
struct LieTraits<SGal3Tangent<S>> : LieTraits<SGal3<S>> {};

template <class S>
class SGal3Tangent : public TangentBase<SGal3Tangent<S>> {
 public:
  using DataType = Eigen::Matrix<S, 10, 1>;
  using Jacobian = Eigen::Matrix<S, 10, 10>;
  using Vec3 = Eigen::Matrix<S, 3, 1>;
  SGal3Tangent() : v_(DataType::Zero()) {}
  explicit SGal3Tangent(const DataType& v) : v_(v) {}
  const DataType& coeffs() const { return v_; }
  DataType& coeffs() { return v_; }
  Vec3 lin() const { return v_.template segment<3>(0); }
  Vec3 linVel() const { return v_.template segment<3>(3); }
  Vec3 ang() const { return v_.template segment<3>(6); }
  S time() const { return v_(9); }

  SGal3<S> Exp(Jacobian* J = nullptr) const {
    if (J) *J = Jr();
    const Eigen::Matrix<S, 3, 3> V = so3_jr<S>(-ang());
    const Vec3 nu = linVel();
    return SGal3<S>(V * lin() + time() * (so3_n<S>(ang()) * nu), quat_exp(ang()), V * nu, time());
  }
  Eigen::Matrix<S, 5, 5> hat() const {
    Eigen::Matrix<S, 5, 5> m = Eigen::Matrix<S, 5, 5>::Zero();
    m.template topLeftCorner<3, 3>() = skew(ang());
    m.template block<3, 1>(0, 3) = linVel();
    m.template block<3, 1>(0, 4) = lin();
    m(3, 4) = time();
    return m;
  }
  static SGal3Tangent vee(const Eigen::Matrix<S, 5, 5>& m) {
    DataType v;
    v << m(0, 4), m(1, 4), m(2, 4), m(0, 3), m(1, 3), m(2, 3), m(2, 1), m(0, 2), m(1, 0), m(3, 4);
    return SGal3Tangent(v);
  }
  Jacobian ad() const {
    Jacobian m = Jacobian::Zero();
    const Eigen::Matrix<S, 3, 3> T = skew(ang());
    m.template block<3, 3>(0, 0) = T;
    m.template block<3, 3>(0, 3) = -time() * Eigen::Matrix<S, 3, 3>::Identity();
    m.template block<3, 3>(0, 6) = skew(lin());
    m.template block<3, 1>(0, 9) = linVel();
    m.template block<3, 3>(3, 3) = T;
    m.template block<3, 3>(3, 6) = skew(linVel());
    m.template block<3, 3>(6, 6) = T;
    return m;
  }
  Jacobian Jr() const { return jr_from_ad<S, 10>(ad()); }
  Jacobian Jr_inv() const { return Jr().inverse(); }

 private:
  DataType v_;
};

template <class S>
class SGal3 : public LieGroupBase<SGal3<S>> {
 public:
  using DataType = Eigen::Matrix<S, 11, 1>;
  using Tangent = SGal3Tangent<S>;
  using Jacobian = Eigen::Matrix<S, 10, 10>;
  using Point = Eigen::Matrix<S, 3, 1>;
  using Rotation = Eigen::Matrix<S, 3, 3>;
  using Quaternion = Eigen::Quaternion<S>;

  SGal3() : t_(Point::Zero()), q_(Quaternion::Identity()), v_(Point::Zero()), s_(S(0)) {}
  SGal3(const Point& t, const Quaternion& q, const Point& v, S s) : t_(t), q_(q), v_(v), s_(s) {}
  template <class D>
  explicit SGal3(const Eigen::MatrixBase<D>& d)
      : t_(d.template head<3>()), q_(d(6), d(3), d(4), d(5)), v_(d.template segment<3>(7)), s_(d(10)) {}
  static SGal3 Identity() { return SGal3(); }

  DataType coeffs() const {
    DataType d;
    d << t_, q_.coeffs(), v_, s_;
    return d;
  }
  const Point& translation() const { return t_; }
  const Point& linearVelocity() const { return v_; }
  S time() const { return s_; }
  const Quaternion& quat() const { return q_; }
  Rotation rotation() const { return q_.toRotationMatrix(); }
  Eigen::Matrix<S, 5, 5> matrix() const {
    Eigen::Matrix<S, 5, 5> m = Eigen::Matrix<S, 5, 5>::Identity();
    m.template topLeftCorner<3, 3>() = rotation();
    m.template block<3, 1>(0, 3) = v_;
    m.template block<3, 1>(0, 4) = t_;
    m(3, 4) = s_;
    return m;
  }
  Jacobian Adj() const { return this->Adj_generic(); }

  SGal3 inverse(Jacobian* J = nullptr) const {
    if (J) *J = -Adj();
    const Quaternion qi = q_.conjugate();
    return SGal3(-(qi * (t_ - s_ * v_)), qi, -(qi * v_), -s_);
  }
  SGal3 compose(const SGal3& y, Jacobian* J_z_x = nullptr, Jacobian* J_z_y = nullptr) const {
    if (J_z_x) *J_z_x = y.inverse().Adj();
    if (J_z_y) J_z_y->setIdentity();
    return SGal3(t_ + q_ * y.t_ + y.s_ * v_, q_ * y.q_, v_ + q_ * y.v_, s_ + y.s_);
  }
  Tangent Log(Jacobian* J = nullptr) const {
    const Point th = quat_log(q_);
    const Eigen::Matrix<S, 3, 3> Ji = so3_jr_inv<S>(-th);
    const Point nu = Ji * v_;
    typename Tangent::DataType d;
    d << Ji * (t_ - s_ * (so3_n<S>(th) * nu)), nu, th, s_;
    const Tangent tau(d);
    if (J) *J = tau.Jr_inv();
    return tau;
  }
  /// Acts on a point at time 0: R p + t.
  Point act(const Point& p, Eigen::Matrix<S, 3, 10>* J_v_x = nullptr,
            Eigen::Matrix<S, 3, 3>* J_v_v = nullptr) const {
    const Rotation R = rotation();
    if (J_v_x) {
      J_v_x->setZero();
      J_v_x->template leftCols<3>() = R;
      J_v_x->template middleCols<3>(6) = -R * skew(p);
      J_v_x->col(9) = v_;
    }
    if (J_v_v) *J_v_v = R;
    return t_ + R * p;
  }
  /// Writes the storage coefficients to p[0 .. RepSize): straight from the members,
  /// with no temporary (a temporary vector read back at odd offsets stalls).
  void store(S* p) const {
    Eigen::Map<Point>{p} = t_;
    Eigen::Map<Eigen::Matrix<S, 4, 1>>{p + 3} = q_.coeffs();
    Eigen::Map<Point>{p + 7} = v_;
    p[10] = s_;
  }
  void normalize() { q_.normalize(); }
  static SGal3 Random(Rng& rng) {
    std::uniform_real_distribution<double> u(-1.0, 1.0);
    const Point t(S(u(rng)), S(u(rng)), S(u(rng)));
    const Quaternion q = SO3<S>::Random(rng).quat();
    const Point v(S(u(rng)), S(u(rng)), S(u(rng)));
    return SGal3(t, q, v, S(u(rng)));
  }

 private:
  Point t_;
  Quaternion q_;
  Point v_;
  S s_;
};

}  // namespace manif_py
