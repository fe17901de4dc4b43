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

/// The exponent e with max |g_ij| = f 2^e, f in [0.5, 1) (0 for g = 0). Dividing by
/// 2^e is exact, and keeps determinants and singular values of g / 2^e away from
/// overflow and underflow: det(1e-160 g) underflows, det(1e160 g) overflows.
template <class S, int N>
inline int scale_exponent(const Mat<S, N>& g) {
  int e = 0;
  std::frexp(g.cwiseAbs().maxCoeff(), &e);
  return e;
}

/// g 2^-k, exactly (std::ldexp per entry: no intermediate 2^-k that could overflow).
template <class S, int N>
inline Mat<S, N> scaled(const Mat<S, N>& g, int k) {
  return g.unaryExpr([k](S v) { return std::ldexp(v, -k); });
}

/// Checks that g is in GL+(n) (finite, det g > 0, the sign taken at unit scale).
template <class S, int N>
inline Status check_gl_plus(const Mat<S, N>& g) {
  if (!g.allFinite()) return Status::NotFinite;
  if (!(scaled<S, N>(g, scale_exponent<S, N>(g)).determinant() > S(0))) return Status::NonPositiveDet;
  return Status::Ok;
}

/// Singular values of the unit-scale factor back at g's scale: Overflow / Underflow where
/// they do not fit in S (entries within a factor n of the largest finite value, or so
/// close to the smallest that a singular value rounds to 0).
template <class S, int N>
inline Status rescale_sigma(Vec<S, N>& sigma, int e) {
  for (int k = 0; k < N; ++k) sigma[k] = std::ldexp(sigma[k], e);
  if (!sigma.allFinite()) return Status::Overflow;
  if (!(sigma.minCoeff() > S(0))) return Status::Underflow;
  return Status::Ok;
}

/// n = 2 closed form: theta = atan2(g21 - g12, g11 + g22) makes g R^T symmetric
/// with positive trace; P = g R^T. (g11 + g22, g21 - g12) = (0, 0) only when det g < 0.
/// Factorised at unit scale (g / 2^e): R does not depend on the scale, sigma scales with it.
template <class S>
inline Status polar(const Mat<S, 2>& g_in, Polar<S, 2>& out) {
  using std::atan2;
  using std::cos;
  using std::sin;
  if (const Status st = check_gl_plus<S, 2>(g_in); st != Status::Ok) return st;
  const int ex = scale_exponent<S, 2>(g_in);
  const Mat<S, 2> g = scaled<S, 2>(g_in, ex);
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
  return rescale_sigma<S, 2>(out.sigma, ex);
}

/// n = 3 via the one-sided Jacobi SVD g = U diag(sigma) V^T (relative accuracy
/// for the small singular values, unlike an eigensolver on g g^T, which squares
/// the condition number): P = U diag(sigma) U^T, R = U V^T (det +1 since det g > 0).
template <class S>
inline Status polar(const Mat<S, 3>& g_in, Polar<S, 3>& out) {
  if (const Status st = check_gl_plus<S, 3>(g_in); st != Status::Ok) return st;
  const int ex = scale_exponent<S, 3>(g_in);  // unit scale, as for n = 2
  const Mat<S, 3> g = scaled<S, 3>(g_in, ex);
  Eigen::JacobiSVD<Mat<S, 3>, Eigen::NoQRPreconditioner> svd(g, Eigen::ComputeFullU | Eigen::ComputeFullV);
  out.U = svd.matrixU();
  out.sigma = svd.singularValues();
  out.R = svd.matrixU() * svd.matrixV().transpose();
  if (!(out.sigma[2] > S(3) * std::numeric_limits<S>::epsilon() * out.sigma[0])) return Status::Singular;
  return rescale_sigma<S, 3>(out.sigma, ex);
}

}  // namespace manif_py::decomp
