// Sim(3): 3D similarities, stored as (tx, ty, tz, qx, qy, qz, qw, s), s > 0.
// Tangent (rho, theta, sigma) with scale = exp(sigma).
#pragma once

#include "so3.h"

namespace manif_py {

template <class S> class Sim3;
template <class S> class Sim3Tangent;

template <class S>
struct LieTraits<Sim3<S>> {
  using Scalar = S;
  static constexpr int DoF = 7, RepSize = 8, Dim = 3, MatSize = 4;
  using Group = Sim3<S>;
  using Tangent = Sim3Tangent<S>;
  using AlgebraMatrix = Eigen::Matrix<S, 4, 4>;
};
template <class S>
struct LieTraits<Sim3Tangent<S>> : LieTraits<Sim3<S>> {};

/// W = int_0^1 exp(u (theta_hat + sigma I)) du, the map from rho to translation.
template <class S>
inline Eigen::Matrix<S, 3, 3> sim3_w(const Eigen::Matrix<S, 3, 1>& theta, S sigma) {
  Eigen::Matrix<S, 6, 6> m = Eigen::Matrix<S, 6, 6>::Zero();
  m.template topLeftCorner<3, 3>() = skew(theta) + sigma * Eigen::Matrix<S, 3, 3>::Identity();
  m.template topRightCorner<3, 3>().setIdentity();
  const Eigen::Matrix<S, 6, 6> e = m.exp();
  return e.template topRightCorner<3, 3>();
}

template <class S>
class Sim3Tangent : public TangentBase<Sim3Tangent<S>> {
 public:
  using DataType = Eigen::Matrix<S, 7, 1>;
  using Jacobian = Eigen::Matrix<S, 7, 7>;
  using Vec3 = Eigen::Matrix<S, 3, 1>;
  Sim3Tangent() : v_(DataType::Zero()) {}
  explicit Sim3Tangent(const DataType& v) : v_(v) {}
  const DataType& coeffs() const { return v_; }
  DataType& coeffs() { return v_; }
  Vec3 lin() const { return v_.template segment<3>(0); }
  Vec3 ang() const { return v_.template segment<3>(3); }
  S sigma() const { return v_(6); }

  Sim3<S> Exp(Jacobian* J = nullptr) const {
    using std::exp;
    if (J) *J = Jr();
    return Sim3<S>(sim3_w(ang(), sigma()) * lin(), quat_exp(ang()), exp(sigma()));
  }
  Eigen::Matrix<S, 4, 4> hat() const {
    Eigen::Matrix<S, 4, 4> m = Eigen::Matrix<S, 4, 4>::Zero();
    m.template topLeftCorner<3, 3>() =
        skew(ang()) + sigma() * Eigen::Matrix<S, 3, 3>::Identity();
    m.template topRightCorner<3, 1>() = lin();
    return m;
  }
  static Sim3Tangent vee(const Eigen::Matrix<S, 4, 4>& m) {
    DataType v;
    v << m(0, 3), m(1, 3), m(2, 3), m(2, 1), m(0, 2), m(1, 0), m.template topLeftCorner<3, 3>().trace() / S(3);
    return Sim3Tangent(v);
  }
  Jacobian ad() const {
    Jacobian m = Jacobian::Zero();
    const Eigen::Matrix<S, 3, 3> T = skew(ang());
    m.template block<3, 3>(0, 0) = T + sigma() * Eigen::Matrix<S, 3, 3>::Identity();
    m.template block<3, 3>(0, 3) = skew(lin());
    m.template block<3, 1>(0, 6) = -lin();
    m.template block<3, 3>(3, 3) = T;
    return m;
  }
  Jacobian Jr() const { return jr_from_ad<S, 7>(ad()); }
  Jacobian Jr_inv() const { return Jr().inverse(); }

 private:
  DataType v_;
};

template <class S>
class Sim3 : public LieGroupBase<Sim3<S>> {
 public:
  using DataType = Eigen::Matrix<S, 8, 1>;
  using Tangent = Sim3Tangent<S>;
  using Jacobian = Eigen::Matrix<S, 7, 7>;
  using Point = Eigen::Matrix<S, 3, 1>;
  using Rotation = Eigen::Matrix<S, 3, 3>;
  using Quaternion = Eigen::Quaternion<S>;

  Sim3() : t_(Point::Zero()), q_(Quaternion::Identity()), s_(S(1)) {}
  Sim3(const Point& t, const Quaternion& q, S s) : t_(t), q_(q), s_(s) {}
  template <class D>
  explicit Sim3(const Eigen::MatrixBase<D>& d)
      : t_(d.template head<3>()), q_(d(6), d(3), d(4), d(5)), s_(d(7)) {}
  static Sim3 Identity() { return Sim3(); }

  DataType coeffs() const {
    DataType d;
    d << t_, q_.coeffs(), s_;
    return d;
  }
  const Point& translation() const { return t_; }
  const Quaternion& quat() const { return q_; }
  S scale() const { return s_; }
  Rotation rotation() const { return q_.toRotationMatrix(); }
  Eigen::Matrix<S, 4, 4> matrix() const {
    Eigen::Matrix<S, 4, 4> m = Eigen::Matrix<S, 4, 4>::Identity();
    m.template topLeftCorner<3, 3>() = s_ * rotation();
    m.template topRightCorner<3, 1>() = t_;
    return m;
  }
  Jacobian Adj() const {
    Jacobian J = Jacobian::Zero();
    const Rotation R = rotation();
    J.template block<3, 3>(0, 0) = s_ * R;
    J.template block<3, 3>(0, 3) = skew(t_) * R;
    J.template block<3, 1>(0, 6) = -t_;
    J.template block<3, 3>(3, 3) = R;
    J(6, 6) = S(1);
    return J;
  }

  Sim3 inverse(Jacobian* J = nullptr) const {
    if (J) *J = -Adj();
    const Quaternion qi = q_.conjugate();
    return Sim3(-(qi * t_) / s_, qi, S(1) / s_);
  }
  Sim3 compose(const Sim3& y, Jacobian* J_z_x = nullptr, Jacobian* J_z_y = nullptr) const {
    if (J_z_x) *J_z_x = y.inverse().Adj();
    if (J_z_y) J_z_y->setIdentity();
    return Sim3(t_ + s_ * (q_ * y.t_), q_ * y.q_, s_ * y.s_);
  }
  Tangent Log(Jacobian* J = nullptr) const {
    using std::log;
    const Point th = quat_log(q_);
    const S sigma = log(s_);
    typename Tangent::DataType d;
    d << sim3_w(th, sigma).partialPivLu().solve(t_), th, sigma;
    const Tangent tau(d);
    if (J) *J = tau.Jr_inv();
    return tau;
  }
  Point act(const Point& v, Eigen::Matrix<S, 3, 7>* J_v_x = nullptr,
            Eigen::Matrix<S, 3, 3>* J_v_v = nullptr) const {
    const Rotation sR = s_ * rotation();
    if (J_v_x) {
      J_v_x->template leftCols<3>() = sR;
      J_v_x->template middleCols<3>(3) = -sR * skew(v);
      J_v_x->col(6) = sR * v;
    }
    if (J_v_v) *J_v_v = sR;
    return t_ + sR * v;
  }
  /// Writes the storage coefficients to p[0 .. RepSize): straight from the members,
  /// with no temporary (a temporary vector read back at odd offsets stalls).
  void store(S* p) const {
    Eigen::Map<Point>{p} = t_;
    Eigen::Map<Eigen::Matrix<S, 4, 1>>{p + 3} = q_.coeffs();
    p[7] = s_;
  }
  void normalize() { q_.normalize(); }
  static Sim3 Random(Rng& rng) {
    std::uniform_real_distribution<double> u(-1.0, 1.0);
    const Point t(S(u(rng)), S(u(rng)), S(u(rng)));
    const Quaternion q = SO3<S>::Random(rng).quat();
    return Sim3(t, q, S(std::exp(0.5 * u(rng))));
  }

 private:
  Point t_;
  Quaternion q_;
  S s_;
};

}  // namespace manif_py
