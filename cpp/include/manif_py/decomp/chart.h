// The global chart of GL+(n) / SL(n) from the polar decomposition (Mironenco &
// Forre 2024): xi(x) = expm(X_p) expm(X_k) with X = hat(x) split into its
// symmetric part X_p and skew part X_k, and xi^-1(g) = vee(1/2 logm(g g^T) + log R).
// Jacobians are assembled column by column from exact directional derivatives.
#pragma once

#include <manif_py/lie/common.h>

#include <cmath>

#include "polar.h"

namespace manif_py::decomp {

/// exp of a skew matrix, log of a rotation, and their derivatives, for n = 2 and 3.
template <class S, int N>
struct Rotations;

template <class S>
struct Rotations<S, 2> {
  static Mat<S, 2> exp(const Mat<S, 2>& Xk) {
    const S t = Xk(1, 0);
    Mat<S, 2> R;
    R << std::cos(t), -std::sin(t), std::sin(t), std::cos(t);
    return R;
  }
  /// d/dt exp(Xk + t D) = D exp(Xk): 2x2 skew matrices commute.
  static Mat<S, 2> dexp(const Mat<S, 2>&, const Mat<S, 2>& R, const Mat<S, 2>& D) { return D * R; }
  /// log R = theta [[0, -1], [1, 0]], theta in (-pi, pi].
  static Mat<S, 2> log(const Mat<S, 2>& R) {
    const S t = std::atan2(R(1, 0), R(0, 0));
    Mat<S, 2> L;
    L << S(0), -t, t, S(0);
    return L;
  }
  /// d log R for dR = W R (W skew): W itself.
  static Mat<S, 2> dlog(const Mat<S, 2>&, const Mat<S, 2>& W) { return W; }
};

template <class S>
struct Rotations<S, 3> {
  static Vec<S, 3> vee3(const Mat<S, 3>& K) { return Vec<S, 3>(K(2, 1), K(0, 2), K(1, 0)); }
  static Mat<S, 3> exp(const Mat<S, 3>& Xk) { return quat_exp<S>(vee3(Xk)).toRotationMatrix(); }
  /// dR = skew(Jl(w) dw) R with Jl(w) = Jr(-w).
  static Mat<S, 3> dexp(const Mat<S, 3>& Xk, const Mat<S, 3>& R, const Mat<S, 3>& D) {
    const Vec<S, 3> w = vee3(Xk);
    return skew<S>(Vec<S, 3>(so3_jr<S>(Vec<S, 3>(-w)) * vee3(D))) * R;
  }
  static Mat<S, 3> log(const Mat<S, 3>& R) { return skew<S>(quat_log<S>(Eigen::Quaternion<S>(R))); }
  /// dR = W R gives d log R = skew(Jl(w)^-1 vee(W)), Jl^-1(w) = Jr^-1(-w).
  static Mat<S, 3> dlog(const Mat<S, 3>& L, const Mat<S, 3>& W) {
    const Vec<S, 3> w = vee3(L);
    return skew<S>(Vec<S, 3>(so3_jr_inv<S>(Vec<S, 3>(-w)) * vee3(W)));
  }
};

/// g = xi(x) for x (d,). J, when given, receives d vec_rowmajor(g) / dx as an
/// (N*N, d) row-major block.
template <class S, int N>
inline Status chart(const Basis<S, N>& B, const S* x, Mat<S, N>& g, S* J = nullptr) {
  for (int i = 0; i < B.d; ++i)
    if (!std::isfinite(x[i])) return Status::NotFinite;
  const Mat<S, N> X = B.hat(x);
  const Mat<S, N> Xp = S(0.5) * (X + X.transpose());
  const Mat<S, N> Xk = S(0.5) * (X - X.transpose());
  const SymEig<S, N> e = sym_eig<S>(Xp);
  const Mat<S, N> Ep = e.apply([](S v) { return std::exp(v); });
  const Mat<S, N> R = Rotations<S, N>::exp(Xk);
  g = Ep * R;
  if (!g.allFinite()) return Status::Overflow;
  if (J) {
    const int d = B.d;
    for (int i = 0; i < d; ++i) {
      const Mat<S, N> dg = B.symmetric[i] ? Mat<S, N>(e.frechet(B.e[i], &DivDiff<S>::exp) * R)
                                          : Mat<S, N>(Ep * Rotations<S, N>::dexp(Xk, R, B.e[i]));
      for (int r = 0; r < N; ++r)
        for (int c = 0; c < N; ++c) J[(r * N + c) * d + i] = dg(r, c);
    }
  }
  return Status::Ok;
}

/// Checks the group-specific constraints beyond GL+(n): det g = 1 for SL(n),
/// g g^T = I for SO(2) (both within unit_det_tol).
template <class S, int N>
inline Status check_member(Group grp, const Mat<S, N>& g) {
  if (!is_special(grp)) return Status::Ok;
  const S tol = unit_det_tol<S>();
  if (std::abs(g.determinant() - S(1)) > tol) return Status::NotUnitDet;
  if (grp == Group::SO2 && (g * g.transpose() - Mat<S, N>::Identity()).cwiseAbs().maxCoeff() > tol)
    return Status::NotRotation;
  return Status::Ok;
}

/// x = xi^-1(g) (d,). J, when given, receives dx / d vec_rowmajor(g) as a (d, N*N)
/// row-major block.
template <class S, int N>
inline Status chart_inv(Group grp, const Basis<S, N>& B, const Mat<S, N>& g, S* x, S* J = nullptr) {
  Polar<S, N> pol;
  if (const Status st = polar<S>(g, pol); st != Status::Ok) return st;
  if (const Status st = check_member<S, N>(grp, g); st != Status::Ok) return st;
  // 1/2 logm(g g^T) = logm(P) = U diag(log sigma) U^T.
  Vec<S, N> log_sigma = pol.sigma.array().log();
  const Mat<S, N> L = pol.U * log_sigma.asDiagonal() * pol.U.transpose();
  const Mat<S, N> Lk = Rotations<S, N>::log(pol.R);
  B.vee(Mat<S, N>(L + Lk), x);
  if (J) {
    const int d = B.d;
    SymEig<S, N> C;  // g g^T = U diag(sigma^2) U^T
    C.V = pol.U;
    C.w = pol.sigma.array().square();
    for (int a = 0; a < N; ++a) {
      for (int b = 0; b < N; ++b) {
        Mat<S, N> E = Mat<S, N>::Zero();
        E(a, b) = S(1);
        // d(1/2 logm C) with dC = E g^T + g E^T.
        const Mat<S, N> dC = E * g.transpose() + g * E.transpose();
        const Mat<S, N> dL = S(0.5) * C.frechet(dC, &DivDiff<S>::log);
        // dg R^T = dP + P W with W = dR R^T skew: the skew part gives the
        // Sylvester equation P W + W P = dg R^T - R dg^T, diagonal in P's eigenbasis.
        Mat<S, N> Wt = pol.U.transpose() * (E * pol.R.transpose() - pol.R * E.transpose()) * pol.U;
        for (int i = 0; i < N; ++i)
          for (int j = 0; j < N; ++j) Wt(i, j) /= pol.sigma[i] + pol.sigma[j];
        const Mat<S, N> W = pol.U * Wt * pol.U.transpose();
        const Mat<S, N> dX = dL + Rotations<S, N>::dlog(Lk, W);
        for (int i = 0; i < d; ++i) J[i * N * N + a * N + b] = dX.cwiseProduct(B.e[i]).sum();
      }
    }
  }
  return Status::Ok;
}

}  // namespace manif_py::decomp
