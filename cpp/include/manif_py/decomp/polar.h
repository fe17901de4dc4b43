// Left polar (Cartan) decomposition g = P R of an element of GL+(n): P = (g g^T)^(1/2)
// symmetric positive definite, R in SO(n). P is kept as its eigendecomposition
// U diag(sigma) U^T, which the chart and its Jacobians reuse.
#pragma once

#include <Eigen/SVD>

#include <cmath>

#include "spd.h"

namespace manif_py::decomp {

template <class S, int N>
struct Polar {
  Mat<S, N> R;      // rotation factor
  Mat<S, N> U;      // eigenvectors of P (= left singular vectors of g)
  Vec<S, N> sigma;  // eigenvalues of P (= singular values of g), all > 0
  Mat<S, N> P() const { return U * sigma.asDiagonal() * U.transpose(); }
};

/// Checks that g is in GL+(n) and not numerically singular.
template <class S, int N>
inline Status check_gl_plus(const Mat<S, N>& g) {
  if (!g.allFinite()) return Status::NotFinite;
  if (!(g.determinant() > S(0))) return Status::NonPositiveDet;
  return Status::Ok;
}

/// n = 2 closed form: theta = atan2(g21 - g12, g11 + g22) makes g R^T symmetric
/// with positive trace; P = g R^T. (g11 + g22, g21 - g12) = (0, 0) only when det g < 0.
template <class S>
inline Status polar(const Mat<S, 2>& g, Polar<S, 2>& out) {
  using std::atan2;
  using std::cos;
  using std::sin;
  if (const Status st = check_gl_plus<S, 2>(g); st != Status::Ok) return st;
  const S theta = atan2(g(1, 0) - g(0, 1), g(0, 0) + g(1, 1));
  const S c = cos(theta), s = sin(theta);
  out.R << c, -s, s, c;
  Mat<S, 2> P = g * out.R.transpose();
  P(0, 1) = P(1, 0) = S(0.5) * (P(0, 1) + P(1, 0));
  const SymEig<S, 2> e = sym_eig<S>(P);
  // The small eigenvalue m - r cancels for nearly singular g; det P = det g is
  // exact to rounding, so take it as det / (m + r).
  out.sigma[0] = e.w[0];
  out.sigma[1] = g.determinant() / e.w[0];
  out.U = e.V;
  if (!(out.sigma[1] > S(2) * std::numeric_limits<S>::epsilon() * out.sigma[0])) return Status::Singular;
  return Status::Ok;
}

/// n = 3 via the one-sided Jacobi SVD g = U diag(sigma) V^T (relative accuracy
/// for the small singular values, unlike an eigensolver on g g^T, which squares
/// the condition number): P = U diag(sigma) U^T, R = U V^T (det +1 since det g > 0).
template <class S>
inline Status polar(const Mat<S, 3>& g, Polar<S, 3>& out) {
  if (const Status st = check_gl_plus<S, 3>(g); st != Status::Ok) return st;
  Eigen::JacobiSVD<Mat<S, 3>, Eigen::NoQRPreconditioner> svd(g, Eigen::ComputeFullU | Eigen::ComputeFullV);
  out.U = svd.matrixU();
  out.sigma = svd.singularValues();
  out.R = svd.matrixU() * svd.matrixV().transpose();
  if (!(out.sigma[2] > S(3) * std::numeric_limits<S>::epsilon() * out.sigma[0])) return Status::Singular;
  return Status::Ok;
}

}  // namespace manif_py::decomp
