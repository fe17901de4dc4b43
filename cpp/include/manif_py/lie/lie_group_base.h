// CRTP bases: every operation that follows from inverse, compose, Exp, Log, Adj
// and Jr is written here once, for every group.
#pragma once

#include <unsupported/Eigen/MatrixFunctions>
#include <vector>

#include "common.h"

namespace manif_py {

template <class Derived>
struct LieTraits;

/// Right Jacobian from the small adjoint: Jr = int_0^1 exp(-u ad) du, read off
/// the top-right block of exp([[-ad, I], [0, 0]]). Used by groups whose closed
/// form is long (Sim(3), SGal(3)); exact to rounding at every angle.
template <class S, int N>
inline Eigen::Matrix<S, N, N> jr_from_ad(const Eigen::Matrix<S, N, N>& ad) {
  Eigen::Matrix<S, 2 * N, 2 * N> m = Eigen::Matrix<S, 2 * N, 2 * N>::Zero();
  m.template topLeftCorner<N, N>() = -ad;
  m.template topRightCorner<N, N>().setIdentity();
  const Eigen::Matrix<S, 2 * N, 2 * N> e = m.exp();
  return e.template topRightCorner<N, N>();
}

template <class Derived>
class TangentBase {
 public:
  using Tr = LieTraits<Derived>;
  using Scalar = typename Tr::Scalar;
  static constexpr int DoF = Tr::DoF;
  using Group = typename Tr::Group;
  using Jacobian = Eigen::Matrix<Scalar, DoF, DoF>;
  using DataType = Eigen::Matrix<Scalar, DoF, 1>;

  const Derived& derived() const { return static_cast<const Derived&>(*this); }

  Jacobian Jl() const { return Derived(-derived().coeffs()).Jr(); }
  Jacobian Jl_inv() const { return Derived(-derived().coeffs()).Jr_inv(); }

  /// Small adjoint: ad(a) b = vee(hat(a) hat(b) - hat(b) hat(a)).
  Jacobian ad_generic() const {
    Jacobian out;
    const auto A = derived().hat();
    for (int i = 0; i < DoF; ++i) {
      const auto G = Derived::generator(i);
      out.col(i) = Derived::vee(A * G - G * A).coeffs();
    }
    return out;
  }
  Jacobian Jr_inv_generic() const { return derived().Jr().inverse(); }

  Derived bracket(const Derived& b) const { return Derived(derived().ad() * b.coeffs()); }

  static typename Tr::AlgebraMatrix generator(int i) {
    DataType e = DataType::Zero();
    e(i) = Scalar(1);
    return Derived(e).hat();
  }
  Scalar inner(const Derived& b) const { return derived().coeffs().dot(b.coeffs()); }
  Scalar weightedNorm(const Jacobian& W) const {
    using std::sqrt;
    return sqrt(derived().coeffs().dot(W * derived().coeffs()));
  }
};

template <class Derived>
class LieGroupBase {
 public:
  using Tr = LieTraits<Derived>;
  using Scalar = typename Tr::Scalar;
  static constexpr int DoF = Tr::DoF;
  static constexpr int Dim = Tr::Dim;
  using Tangent = typename Tr::Tangent;
  using Jacobian = Eigen::Matrix<Scalar, DoF, DoF>;
  using TangentVec = Eigen::Matrix<Scalar, DoF, 1>;

  const Derived& derived() const { return static_cast<const Derived&>(*this); }

  /// z = x^-1 y.
  Derived between(const Derived& y, Jacobian* J_z_x = nullptr, Jacobian* J_z_y = nullptr) const {
    const Derived z = derived().inverse().compose(y);
    if (J_z_x) *J_z_x = -z.inverse().Adj();
    if (J_z_y) J_z_y->setIdentity();
    return z;
  }

  /// y = x Exp(t).
  Derived rplus(const Tangent& t, Jacobian* J_y_x = nullptr, Jacobian* J_y_t = nullptr) const {
    const Derived e = t.Exp();
    if (J_y_x) *J_y_x = e.inverse().Adj();
    if (J_y_t) *J_y_t = t.Jr();
    return derived().compose(e);
  }

  /// y = Exp(t) x.
  Derived lplus(const Tangent& t, Jacobian* J_y_x = nullptr, Jacobian* J_y_t = nullptr) const {
    if (J_y_x) J_y_x->setIdentity();
    if (J_y_t) *J_y_t = derived().inverse().Adj() * t.Jr();
    return t.Exp().compose(derived());
  }

  /// t = x (-) y = Log(y^-1 x), in the local frame of y, so that y.rplus(t) == x
  /// (the micro Lie theory paper's and manif's order).
  Tangent rminus(const Derived& y, Jacobian* J_t_x = nullptr, Jacobian* J_t_y = nullptr) const {
    const Tangent t = y.between(derived()).Log();
    if (J_t_x) *J_t_x = t.Jr_inv();
    if (J_t_y) *J_t_y = -t.Jl_inv();
    return t;
  }

  /// t = Log(x y^-1), in the global frame, so that y.lplus(t) == x.
  Tangent lminus(const Derived& y, Jacobian* J_t_x = nullptr, Jacobian* J_t_y = nullptr) const {
    const Tangent t = derived().compose(y.inverse()).Log();
    if (J_t_x || J_t_y) {
      const Jacobian J = t.Jr_inv() * y.Adj();
      if (J_t_x) *J_t_x = J;
      if (J_t_y) *J_t_y = -J;
    }
    return t;
  }

  /// Geodesic interpolation z = x Exp(s Log(x^-1 y)); s = 0 gives x, s = 1 gives y.
  Derived interp(const Derived& y, Scalar s, Jacobian* J_z_x = nullptr,
                 Jacobian* J_z_y = nullptr, TangentVec* J_z_s = nullptr) const {
    Jacobian J_d_x;
    const Derived d = between(y, J_z_x ? &J_d_x : nullptr);
    const Tangent tau = d.Log();
    const Tangent u(s * tau.coeffs());
    const Derived e = u.Exp();
    if (J_z_x || J_z_y || J_z_s) {
      const Jacobian Jru = u.Jr();
      if (J_z_s) *J_z_s = Jru * tau.coeffs();
      if (J_z_x || J_z_y) {
        const Jacobian K = s * Jru * tau.Jr_inv();  // d e / d d
        if (J_z_y) *J_z_y = K;
        if (J_z_x) *J_z_x = e.inverse().Adj() + K * J_d_x;
      }
    }
    return derived().compose(e);
  }

  /// Adjoint by its definition, Adj t = vee(X hat(t) X^-1); groups override
  /// it with their closed form where one is short.
  Jacobian Adj_generic() const {
    Jacobian out;
    const auto M = derived().matrix();
    const auto Minv = derived().inverse().matrix();
    for (int i = 0; i < DoF; ++i)
      out.col(i) = Tangent::vee(M * Tangent::generator(i) * Minv).coeffs();
    return out;
  }

  bool isApprox(const Derived& y, Scalar tol) const {
    return y.rminus(derived()).coeffs().norm() <= tol;
  }

  struct NoInterrupt {
    void operator()() const {}
  };

  /// Bi-invariant (Frechet) mean by fixed-point iteration in the tangent space
  /// at the current estimate. Returns the number of iterations used. `check_interrupt()` runs
  /// once per iteration and may throw to abandon a long average (a front end's Ctrl-C check).
  template <class Interrupt = NoInterrupt>
  static int average(const std::vector<Derived>& xs, const std::vector<Scalar>& weights,
                     Derived& mean, int max_iter = 50, Scalar tol = Scalar(1e-12),
                     const Interrupt& check_interrupt = Interrupt()) {
    mean = xs.front();
    Scalar wsum = Scalar(0);
    for (const Scalar w : weights) wsum += w;
    for (int it = 1; it <= max_iter; ++it) {
      check_interrupt();
      TangentVec acc = TangentVec::Zero();
      for (size_t i = 0; i < xs.size(); ++i) acc += weights[i] * xs[i].rminus(mean).coeffs();
      acc /= wsum;
      mean = mean.rplus(Tangent(acc));
      if (acc.norm() < tol) return it;
    }
    return max_iter;
  }
};

/// Left (global) Jacobian from a right (local) one: J_left = Adj(out) J Adj(in)^-1.
/// `adj_out` / `adj_in_inv` are null where that side is a vector (tangent, point).
template <class S, int R, int C>
inline void to_left(Eigen::Matrix<S, R, C>& J, const Eigen::Matrix<S, R, R>* adj_out,
                    const Eigen::Matrix<S, C, C>* adj_in_inv) {
  if (adj_out) J = (*adj_out * J).eval();
  if (adj_in_inv) J = (J * *adj_in_inv).eval();
}

}  // namespace manif_py
