// R^n: the vector space as a (commutative) Lie group under addition.
#pragma once

#include "lie_group_base.h"

namespace manif_py {

template <class S, int N> class Rn;
template <class S, int N> class RnTangent;

template <class S, int N>
struct LieTraits<Rn<S, N>> {
  using Scalar = S;
  static constexpr int DoF = N, RepSize = N, Dim = N, MatSize = N + 1;
  using Group = Rn<S, N>;
  using Tangent = RnTangent<S, N>;
  using AlgebraMatrix = Eigen::Matrix<S, N + 1, N + 1>;
};
template <class S, int N>
struct LieTraits<RnTangent<S, N>> : LieTraits<Rn<S, N>> {};

template <class S, int N>
class RnTangent : public TangentBase<RnTangent<S, N>> {
 public:
  using DataType = Eigen::Matrix<S, N, 1>;
  using Jacobian = Eigen::Matrix<S, N, N>;
  RnTangent() : v_(DataType::Zero()) {}
  explicit RnTangent(const DataType& v) : v_(v) {}
  const DataType& coeffs() const { return v_; }
  DataType& coeffs() { return v_; }
  Rn<S, N> Exp(Jacobian* J = nullptr) const {
    if (J) J->setIdentity();
    return Rn<S, N>(v_);
  }
  Eigen::Matrix<S, N + 1, N + 1> hat() const {
    Eigen::Matrix<S, N + 1, N + 1> m = Eigen::Matrix<S, N + 1, N + 1>::Zero();
    m.template topRightCorner<N, 1>() = v_;
    return m;
  }
  static RnTangent vee(const Eigen::Matrix<S, N + 1, N + 1>& m) {
    return RnTangent(m.template topRightCorner<N, 1>());
  }
  Jacobian Jr() const { return Jacobian::Identity(); }
  Jacobian Jr_inv() const { return Jacobian::Identity(); }
  Jacobian ad() const { return Jacobian::Zero(); }

 private:
  DataType v_;
};

template <class S, int N>
class Rn : public LieGroupBase<Rn<S, N>> {
 public:
  using DataType = Eigen::Matrix<S, N, 1>;
  using Tangent = RnTangent<S, N>;
  using Jacobian = Eigen::Matrix<S, N, N>;
  using Point = Eigen::Matrix<S, N, 1>;

  Rn() : d_(DataType::Zero()) {}
  template <class D>
  explicit Rn(const Eigen::MatrixBase<D>& d) : d_(d) {}
  static Rn Identity() { return Rn(); }
  const DataType& coeffs() const { return d_; }
  DataType& coeffs() { return d_; }
  Eigen::Matrix<S, N + 1, N + 1> matrix() const {
    Eigen::Matrix<S, N + 1, N + 1> m = Eigen::Matrix<S, N + 1, N + 1>::Identity();
    m.template topRightCorner<N, 1>() = d_;
    return m;
  }
  Jacobian Adj() const { return Jacobian::Identity(); }
  Rn inverse(Jacobian* J = nullptr) const {
    if (J) *J = -Jacobian::Identity();
    return Rn(-d_);
  }
  Rn compose(const Rn& y, Jacobian* J_z_x = nullptr, Jacobian* J_z_y = nullptr) const {
    if (J_z_x) J_z_x->setIdentity();
    if (J_z_y) J_z_y->setIdentity();
    return Rn(d_ + y.d_);
  }
  Tangent Log(Jacobian* J = nullptr) const {
    if (J) J->setIdentity();
    return Tangent(d_);
  }
  Point act(const Point& v, Jacobian* J_v_x = nullptr, Jacobian* J_v_v = nullptr) const {
    if (J_v_x) J_v_x->setIdentity();
    if (J_v_v) J_v_v->setIdentity();
    return d_ + v;
  }
  /// Writes the storage coefficients to p[0 .. RepSize): straight from the members,
  /// with no temporary (a temporary vector read back at odd offsets stalls).
  void store(S* p) const {
    Eigen::Map<DataType> m(p);
    m = d_;
  }
  void normalize() {}
  static Rn Random(Rng& rng) {
    std::uniform_real_distribution<double> u(-1.0, 1.0);
    DataType d;
    for (int i = 0; i < N; ++i) d(i) = S(u(rng));
    return Rn(d);
  }

 private:
  DataType d_;
};

}  // namespace manif_py
