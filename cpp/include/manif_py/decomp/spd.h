// Symmetric eigendecomposition (closed form for 2x2, Eigen's QR solver for 3x3)
// and the matrix functions built on it: exp, log, sqrt, inverse sqrt of symmetric
// / SPD matrices, with their Frechet derivatives (Daleckii-Krein formula).
#pragma once

#include <Eigen/Eigenvalues>

#include <cmath>

#include "groups.h"

namespace manif_py::decomp {

/// A = V diag(w) V^T with V orthogonal.
template <class S, int N>
struct SymEig {
  Vec<S, N> w;
  Mat<S, N> V;

  /// V diag(f(w)) V^T.
  template <class F>
  Mat<S, N> apply(const F& f) const {
    Vec<S, N> fw;
    for (int i = 0; i < N; ++i) fw[i] = f(w[i]);
    return V * fw.asDiagonal() * V.transpose();
  }
  /// Frechet derivative of A -> V diag(f(w)) V^T in direction E (symmetric):
  /// V (F o (V^T E V)) V^T with F_ij = divdiff(w_i, w_j), the first divided
  /// difference of f (f'(w_i) on the diagonal).
  template <class DD>
  Mat<S, N> frechet(const Mat<S, N>& E, const DD& divdiff) const {
    Mat<S, N> T = V.transpose() * E * V;
    for (int i = 0; i < N; ++i)
      for (int j = 0; j < N; ++j) T(i, j) *= divdiff(w[i], w[j]);
    return V * T * V.transpose();
  }
};

/// Closed form for 2x2: S = [[a, b], [b, d]], m = (a+d)/2, r = hypot((a-d)/2, b),
/// eigenvalues m +- r, first eigenvector at angle phi = 1/2 atan2(2b, a-d).
template <class S>
inline SymEig<S, 2> sym_eig(const Mat<S, 2>& A) {
  using std::atan2;
  using std::cos;
  using std::hypot;
  using std::sin;
  const S a = A(0, 0), b = S(0.5) * (A(0, 1) + A(1, 0)), d = A(1, 1);
  const S m = S(0.5) * (a + d), h = S(0.5) * (a - d);
  const S r = hypot(h, b);
  const S phi = S(0.5) * atan2(b, h);
  const S c = cos(phi), s = sin(phi);
  SymEig<S, 2> e;
  e.w << m + r, m - r;
  e.V << c, -s, s, c;
  return e;
}

/// 3x3: Eigen's tridiagonal QR solver (not computeDirect, whose eigenvectors
/// degrade for close eigenvalues); backward stable, exact for repeated ones.
template <class S>
inline SymEig<S, 3> sym_eig(const Mat<S, 3>& A) {
  const Mat<S, 3> Sym = S(0.5) * (A + A.transpose());
  Eigen::SelfAdjointEigenSolver<Mat<S, 3>> es(Sym, Eigen::ComputeEigenvectors);
  SymEig<S, 3> e;
  e.w = es.eigenvalues();
  e.V = es.eigenvectors();
  return e;
}

/// Divided differences (f(a) - f(b)) / (a - b), written so that they stay exact
/// to rounding as a -> b (the limit is f'(a)).
template <class S>
struct DivDiff {
  /// exp: e^((a+b)/2) sinh(t)/t with t = (a-b)/2.
  static S exp(S a, S b) {
    using std::exp;
    using std::sinh;
    const S t = S(0.5) * (a - b);
    const S shc = std::abs(t) < S(1e-4) ? S(1) + t * t / S(6) : sinh(t) / t;
    return exp(S(0.5) * (a + b)) * shc;
  }
  /// log (a, b > 0): 2 atanh(q) / (a - b) with q = (a-b)/(a+b) = 2/(a+b) atanh(q)/q.
  static S log(S a, S b) {
    using std::atanh;
    const S q = (a - b) / (a + b);
    const S ath = std::abs(q) < S(1e-4) ? S(1) + q * q / S(3) : atanh(q) / q;
    return S(2) / (a + b) * ath;
  }
  /// sqrt: 1 / (sqrt a + sqrt b).
  static S sqrt(S a, S b) { return S(1) / (std::sqrt(a) + std::sqrt(b)); }
  /// 1/sqrt: -1 / (sqrt a sqrt b (sqrt a + sqrt b)).
  static S inv_sqrt(S a, S b) {
    const S sa = std::sqrt(a), sb = std::sqrt(b);
    return -S(1) / (sa * sb * (sa + sb));
  }
};

/// Largest |A_ij - A_ji| against the tolerance for "symmetric": 1e-8 (double) or
/// 1e-4 (float) relative to the largest entry.
template <class S, int N>
inline bool is_symmetric(const Mat<S, N>& A) {
  const S tol = (sizeof(S) >= 8 ? S(1e-8) : S(1e-4)) * A.cwiseAbs().maxCoeff();
  return (A - A.transpose()).cwiseAbs().maxCoeff() <= tol;
}

enum class SpdFn { Exp, Log, Sqrt, InvSqrt };

/// f(A) for a symmetric (Exp) or SPD (Log, Sqrt, InvSqrt) matrix. A positive
/// definite input needs w_min > N eps w_max: below that the computed smallest
/// eigenvalue has no correct digit, so log / inverse sqrt would be noise.
template <class S, int N>
inline Status spd_function(SpdFn fn, const Mat<S, N>& A, Mat<S, N>& out) {
  if (!A.allFinite()) return Status::NotFinite;
  if (!is_symmetric<S, N>(A)) return Status::NotSymmetric;
  const SymEig<S, N> e = sym_eig<S>(Mat<S, N>(S(0.5) * (A + A.transpose())));
  if (fn != SpdFn::Exp && !(e.w.minCoeff() > S(N) * std::numeric_limits<S>::epsilon() * e.w.cwiseAbs().maxCoeff()))
    return Status::NotPositiveDefinite;
  switch (fn) {
    case SpdFn::Exp: out = e.apply([](S x) { return std::exp(x); }); break;
    case SpdFn::Log: out = e.apply([](S x) { return std::log(x); }); break;
    case SpdFn::Sqrt: out = e.apply([](S x) { return std::sqrt(x); }); break;
    case SpdFn::InvSqrt: out = e.apply([](S x) { return S(1) / std::sqrt(x); }); break;
  }
  if (!out.allFinite()) return Status::Overflow;
  return Status::Ok;
}

}  // namespace manif_py::decomp
