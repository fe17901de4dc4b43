// The matrix groups of the decomposition module, their orthonormal Lie algebra
// bases (trace metric <A, B> = tr(A^T B)), hat / vee, and the status codes the
// kernels report for inputs outside the group.
#pragma once

#include <Eigen/Core>

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>

namespace manif_py::decomp {

enum class Group { SO2, SL2, GL2, SL3, GL3 };

/// Why an input element was rejected (the bindings turn these into ValueErrors).
enum class Status {
  Ok,
  NotFinite,            // NaN or inf
  NonPositiveDet,       // det g <= 0: not in GL+(n)
  Singular,             // det g > 0 but numerically singular (sigma_min / sigma_max below n eps)
  NotUnitDet,           // SL(n) / SO(2) input with |det g - 1| above the tolerance
  NotRotation,          // SO(2) input with g g^T != I
  NotSymmetric,         // spd_* input that is not symmetric
  NotPositiveDefinite,  // spd_log / sqrt / inv_sqrt input with an eigenvalue <= 0
  Overflow,             // the result is not representable (spd_exp of a huge matrix)
  Underflow,            // a singular value of the result underflows to 0 (entries near the smallest double)
};

template <class S, int N>
using Mat = Eigen::Matrix<S, N, N>;
template <class S, int N>
using Vec = Eigen::Matrix<S, N, 1>;

constexpr int matrix_size(Group g) { return (g == Group::SL3 || g == Group::GL3) ? 3 : 2; }

/// Algebra dimension d: SO2 1, SL2 3, GL2 4, SL3 8, GL3 9.
constexpr int algebra_dim(Group g) {
  switch (g) {
    case Group::SO2: return 1;
    case Group::SL2: return 3;
    case Group::GL2: return 4;
    case Group::SL3: return 8;
    case Group::GL3: return 9;
  }
  return 0;
}

/// Number of symmetric (p) basis elements: SO2 0, SL2 2, GL2 3, SL3 5, GL3 6.
constexpr int p_dim(Group g) {
  switch (g) {
    case Group::SO2: return 0;
    case Group::SL2: return 2;
    case Group::GL2: return 3;
    case Group::SL3: return 5;
    case Group::GL3: return 6;
  }
  return 0;
}

constexpr bool is_special(Group g) { return g == Group::SL2 || g == Group::SL3 || g == Group::SO2; }

/// Tolerance on |det g - 1| for SL(n) / SO(2) inputs: 1e-6, or a few hundred ulps
/// for float where 1e-6 is below the rounding of a 3x3 determinant.
template <class S>
constexpr S unit_det_tol() {
  return std::max(S(1e-6), S(128) * std::numeric_limits<S>::epsilon());
}

/// The orthonormal basis of the algebra of `g`, in the documented order:
///   GL2: E11, (E12+E21)/sqrt2, E22, (E21-E12)/sqrt2
///   SL2: (E12+E21)/sqrt2, (E21-E12)/sqrt2, diag(1,-1)/sqrt2
///   SO2: (E21-E12)/sqrt2
///   GL3: E11, E22, E33, (E12+E21)/sqrt2, (E13+E31)/sqrt2, (E23+E32)/sqrt2,
///        (E32-E23)/sqrt2, (E13-E31)/sqrt2, (E21-E12)/sqrt2
///   SL3: diag(1,-1,0)/sqrt2, diag(1,1,-2)/sqrt6, then GL3's off-diagonal symmetric
///        and skew elements. Symmetric (p) elements come first except in SL2,
///        whose order is the paper's.
template <class S, int N>
struct Basis {
  std::array<Mat<S, N>, 9> e;
  std::array<bool, 9> symmetric{};
  int d = 0;

  explicit Basis(Group g) {
    using std::sqrt;
    const S r2 = S(1) / sqrt(S(2));
    const auto E = [](int i, int j) {
      Mat<S, N> m = Mat<S, N>::Zero();
      m(i, j) = S(1);
      return m;
    };
    int k = 0;
    const auto add = [&](const Mat<S, N>& m, bool sym) {
      e[k] = m;
      symmetric[k] = sym;
      ++k;
    };
    if constexpr (N == 2) {
      const Mat<S, 2> sym12 = r2 * (E(0, 1) + E(1, 0));
      const Mat<S, 2> skew = r2 * (E(1, 0) - E(0, 1));
      if (g == Group::GL2) {
        add(E(0, 0), true), add(sym12, true), add(E(1, 1), true), add(skew, false);
      } else if (g == Group::SL2) {
        add(sym12, true), add(skew, false), add(r2 * (E(0, 0) - E(1, 1)), true);
      } else {
        add(skew, false);
      }
    } else {
      if (g == Group::GL3) {
        add(E(0, 0), true), add(E(1, 1), true), add(E(2, 2), true);
      } else {
        const S r6 = S(1) / sqrt(S(6));
        add(r2 * (E(0, 0) - E(1, 1)), true);
        add(r6 * (E(0, 0) + E(1, 1)) - S(2) * r6 * E(2, 2), true);
      }
      add(r2 * (E(0, 1) + E(1, 0)), true), add(r2 * (E(0, 2) + E(2, 0)), true), add(r2 * (E(1, 2) + E(2, 1)), true);
      add(r2 * (E(2, 1) - E(1, 2)), false), add(r2 * (E(0, 2) - E(2, 0)), false), add(r2 * (E(1, 0) - E(0, 1)), false);
    }
    d = k;
  }

  /// X = sum_i x_i e_i.
  template <class V>
  Mat<S, N> hat(const V& x) const {
    Mat<S, N> X = Mat<S, N>::Zero();
    for (int i = 0; i < d; ++i) X += x[i] * e[i];
    return X;
  }
  /// x_i = <X, e_i> (orthogonal projection onto the algebra).
  template <class V>
  void vee(const Mat<S, N>& X, V&& x) const {
    for (int i = 0; i < d; ++i) x[i] = X.cwiseProduct(e[i]).sum();
  }
};

}  // namespace manif_py::decomp
