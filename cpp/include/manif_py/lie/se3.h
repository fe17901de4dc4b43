// SE(3): 3D rigid motions, stored as (tx, ty, tz, qx, qy, qz, qw). Tangent (rho, theta).
#pragma once

#include "so3.h"

namespace manif_py {

template <class S> class SE3;
template <class S> class SE3Tangent;

template <class S>
struct LieTraits<SE3<S>> {
  using Scalar = S;
  static constexpr int DoF = 6, RepSize = 7, Dim = 3, MatSize = 4;
  using Group = SE3<S>;
  using Tangent = SE3Tangent<S>;
  using AlgebraMatrix = Eigen::Matrix<S, 4, 4>;
};
template <class S>
struct LieTraits<SE3Tangent<S>> : LieTraits<SE3<S>> {};

template <class S>
class SE3Tangent : public TangentBase<SE3Tangent<S>> {
 public:
  using DataType = Eigen::Matrix<S, 6, 1>;
  using Jacobian = Eigen::Matrix<S, 6, 6>;
  using Vec3 = Eigen::Matrix<S, 3, 1>;
  SE3Tangent() : v_(DataType::Zero()) {}
  explicit SE3Tangent(const DataType& v) : v_(v) {}
  const DataType& coeffs() const { return v_; }
  DataType& coeffs() { return v_; }
  Vec3 lin() const { return v_.template head<3>(); }
  Vec3 ang() const { return v_.template tail<3>(); }

  SE3<S> Exp(Jacobian* J = nullptr) const {
    if (J) *J = Jr();
    const Vec3 th = ang();
    const So3ExpTerms<S> e(th);
    return SE3<S>(e.V(th, lin()), e.q);
  }
  Eigen::Matrix<S, 4, 4> hat() const {
    Eigen::Matrix<S, 4, 4> m = Eigen::Matrix<S, 4, 4>::Zero();
    m.template topLeftCorner<3, 3>() = skew(ang());
    m.template topRightCorner<3, 1>() = lin();
    return m;
  }
  static SE3Tangent vee(const Eigen::Matrix<S, 4, 4>& m) {
    DataType v;
    v << m(0, 3), m(1, 3), m(2, 3), m(2, 1), m(0, 2), m(1, 0);
    return SE3Tangent(v);
  }
  Jacobian Jr() const {
    Jacobian J;
    const Se3JacCoeffs<S> k(ang().squaredNorm());
    const Eigen::Matrix<S, 3, 3> Jr3 = so3_jr<S>(ang(), k);
    J.template topLeftCorner<3, 3>() = Jr3;
    J.template bottomRightCorner<3, 3>() = Jr3;
    J.template bottomLeftCorner<3, 3>().setZero();
    J.template topRightCorner<3, 3>() = se3_q<S>(-lin(), -ang(), k);
    return J;
  }
  Jacobian Jr_inv() const {
    Jacobian J;
    const Eigen::Matrix<S, 3, 3> Ji = so3_jr_inv<S>(ang());
    J.template topLeftCorner<3, 3>() = Ji;
    J.template bottomRightCorner<3, 3>() = Ji;
    J.template bottomLeftCorner<3, 3>().setZero();
    J.template topRightCorner<3, 3>() = -Ji * se3_q<S>(-lin(), -ang()) * Ji;
    return J;
  }
  Jacobian ad() const {
    Jacobian m = Jacobian::Zero();
    const Eigen::Matrix<S, 3, 3> T = skew(ang());
    m.template topLeftCorner<3, 3>() = T;
    m.template bottomRightCorner<3, 3>() = T;
    m.template topRightCorner<3, 3>() = skew(lin());
    return m;
  }

 private:
  DataType v_;
};

template <class S>
class SE3 : public LieGroupBase<SE3<S>> {
 public:
  using DataType = Eigen::Matrix<S, 7, 1>;
  using Tangent = SE3Tangent<S>;
  using Jacobian = Eigen::Matrix<S, 6, 6>;
  using Point = Eigen::Matrix<S, 3, 1>;
  using Rotation = Eigen::Matrix<S, 3, 3>;
  using Quaternion = Eigen::Quaternion<S>;

  SE3() : t_(Point::Zero()), q_(Quaternion::Identity()) {}
  SE3(const Point& t, const Quaternion& q) : t_(t), q_(q) {}
  template <class D>
  explicit SE3(const Eigen::MatrixBase<D>& d) : t_(d.template head<3>()), q_(d(6), d(3), d(4), d(5)) {}
  static SE3 Identity() { return SE3(); }

  DataType coeffs() const {
    DataType d;
    d << t_, q_.coeffs();
    return d;
  }
  const Point& translation() const { return t_; }
  const Quaternion& quat() const { return q_; }
  Rotation rotation() const { return q_.toRotationMatrix(); }
  Eigen::Matrix<S, 4, 4> matrix() const {
    Eigen::Matrix<S, 4, 4> m = Eigen::Matrix<S, 4, 4>::Identity();
    m.template topLeftCorner<3, 3>() = rotation();
    m.template topRightCorner<3, 1>() = t_;
    return m;
  }
  Jacobian Adj() const {
    Jacobian J;
    const Rotation R = rotation();
    J.template topLeftCorner<3, 3>() = R;
    J.template bottomRightCorner<3, 3>() = R;
    J.template topRightCorner<3, 3>() = skew(t_) * R;
    J.template bottomLeftCorner<3, 3>().setZero();
    return J;
  }

  SE3 inverse(Jacobian* J = nullptr) const {
    if (J) *J = -Adj();
    const Quaternion qi = q_.conjugate();
    return SE3(-(qi * t_), qi);
  }
  SE3 compose(const SE3& y, Jacobian* J_z_x = nullptr, Jacobian* J_z_y = nullptr) const {
    if (J_z_x) *J_z_x = y.inverse().Adj();
    if (J_z_y) J_z_y->setIdentity();
    return SE3(t_ + q_ * y.t_, q_ * y.q_);
  }
  Tangent Log(Jacobian* J = nullptr) const {
    const So3LogTerms<S> l(q_);
    typename Tangent::DataType v;
    v << l.V_inv(t_), l.theta;
    const Tangent tau(v);
    if (J) *J = tau.Jr_inv();
    return tau;
  }
  Point act(const Point& v, Eigen::Matrix<S, 3, 6>* J_v_x = nullptr,
            Eigen::Matrix<S, 3, 3>* J_v_v = nullptr) const {
    if (J_v_x || J_v_v) {
      const Rotation R = rotation();
      if (J_v_x) {
        J_v_x->template leftCols<3>() = R;
        J_v_x->template rightCols<3>() = -R * skew(v);
      }
      if (J_v_v) *J_v_v = R;
      return t_ + R * v;
    }
    return t_ + q_ * v;
  }
  /// Writes the storage coefficients to p[0 .. RepSize): straight from the members,
  /// with no temporary (a temporary vector read back at odd offsets stalls).
  void store(S* p) const {
    Eigen::Map<Point>{p} = t_;
    Eigen::Map<Eigen::Matrix<S, 4, 1>>{p + 3} = q_.coeffs();
  }
  void normalize() { q_.normalize(); }
  static SE3 Random(Rng& rng) {
    std::uniform_real_distribution<double> u(-1.0, 1.0);
    const Point t(S(u(rng)), S(u(rng)), S(u(rng)));
    return SE3(t, SO3<S>::Random(rng).quat());
  }

 private:
  Point t_;
  Quaternion q_;
};

}  // namespace manif_py
