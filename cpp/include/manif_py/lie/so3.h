// SO(3): 3D rotations, stored as a unit quaternion (x, y, z, w). Tangent: rotation vector.
#pragma once

#include "lie_group_base.h"

namespace manif_py {

template <class S> class SO3;
template <class S> class SO3Tangent;

template <class S>
struct LieTraits<SO3<S>> {
  using Scalar = S;
  static constexpr int DoF = 3, RepSize = 4, Dim = 3, MatSize = 3;
  using Group = SO3<S>;
  using Tangent = SO3Tangent<S>;
  using AlgebraMatrix = Eigen::Matrix<S, 3, 3>;
};
template <class S>
struct LieTraits<SO3Tangent<S>> : LieTraits<SO3<S>> {};

template <class S>
class SO3Tangent : public TangentBase<SO3Tangent<S>> {
 public:
  using DataType = Eigen::Matrix<S, 3, 1>;
  using Jacobian = Eigen::Matrix<S, 3, 3>;
  SO3Tangent() : v_(DataType::Zero()) {}
  explicit SO3Tangent(const DataType& v) : v_(v) {}
  const DataType& coeffs() const { return v_; }
  DataType& coeffs() { return v_; }

  SO3<S> Exp(Jacobian* J = nullptr) const {
    if (J) *J = Jr();
    return SO3<S>(quat_exp(v_));
  }
  Eigen::Matrix<S, 3, 3> hat() const { return skew(v_); }
  static SO3Tangent vee(const Eigen::Matrix<S, 3, 3>& m) {
    return SO3Tangent(DataType(m(2, 1), m(0, 2), m(1, 0)));
  }
  Jacobian Jr() const { return so3_jr(v_); }
  Jacobian Jr_inv() const { return so3_jr_inv(v_); }
  Jacobian ad() const { return skew(v_); }

 private:
  DataType v_;
};

template <class S>
class SO3 : public LieGroupBase<SO3<S>> {
 public:
  using DataType = Eigen::Matrix<S, 4, 1>;
  using Tangent = SO3Tangent<S>;
  using Jacobian = Eigen::Matrix<S, 3, 3>;
  using Point = Eigen::Matrix<S, 3, 1>;
  using Rotation = Eigen::Matrix<S, 3, 3>;
  using Quaternion = Eigen::Quaternion<S>;

  SO3() : q_(Quaternion::Identity()) {}
  explicit SO3(const Quaternion& q) : q_(q) {}
  template <class D>
  explicit SO3(const Eigen::MatrixBase<D>& d) : q_(d(3), d(0), d(1), d(2)) {}
  static SO3 Identity() { return SO3(); }

  DataType coeffs() const { return q_.coeffs(); }
  const Quaternion& quat() const { return q_; }
  Rotation rotation() const { return q_.toRotationMatrix(); }
  Rotation matrix() const { return rotation(); }
  Jacobian Adj() const { return rotation(); }

  SO3 inverse(Jacobian* J = nullptr) const {
    if (J) *J = -rotation();
    return SO3(q_.conjugate());
  }
  SO3 compose(const SO3& y, Jacobian* J_z_x = nullptr, Jacobian* J_z_y = nullptr) const {
    if (J_z_x) *J_z_x = y.rotation().transpose();
    if (J_z_y) J_z_y->setIdentity();
    return SO3(q_ * y.q_);
  }
  Tangent Log(Jacobian* J = nullptr) const {
    const Tangent t(quat_log(q_));
    if (J) *J = t.Jr_inv();
    return t;
  }
  Point act(const Point& v, Eigen::Matrix<S, 3, 3>* J_v_x = nullptr,
            Eigen::Matrix<S, 3, 3>* J_v_v = nullptr) const {
    if (J_v_x || J_v_v) {
      const Rotation R = rotation();
      if (J_v_x) *J_v_x = -R * skew(v);
      if (J_v_v) *J_v_v = R;
      return R * v;
    }
    return q_ * v;
  }
  /// Writes the storage coefficients to p[0 .. RepSize): straight from the members,
  /// with no temporary (a temporary vector read back at odd offsets stalls).
  void store(S* p) const {
    Eigen::Map<Eigen::Matrix<S, 4, 1>>{p} = q_.coeffs();
  }
  void normalize() { q_.normalize(); }
  static SO3 Random(Rng& rng) {
    // Uniform (Haar) rotations: a normalised 4D Gaussian.
    std::normal_distribution<double> n(0.0, 1.0);
    Eigen::Vector4d g(n(rng), n(rng), n(rng), n(rng));
    g.normalize();
    return SO3(Quaternion(S(g(3)), S(g(0)), S(g(1)), S(g(2))));
  }

 private:
  Quaternion q_;
};

}  // namespace manif_py
