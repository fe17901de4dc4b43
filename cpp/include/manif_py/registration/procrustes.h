// Weighted Procrustes (Kabsch with weighted centroids) and its exact gradient.
//
// Forward: (R, t) = argmin sum_i w_i |R s_i + t - y_i|^2 with det R = +1.
// With W = sum w, centroids s_bar, y_bar and M = sum w_i (y_i - y_bar)(s_i - s_bar)^T,
// t = y_bar - R s_bar and R maximises tr(R^T M): R = U diag(1, 1, det(U V^T)) V^T
// for M = U S V^T.
//
// Backward (implicit function theorem on SO(3)): at the optimum A = R^T M is
// symmetric. Perturbing R -> R Exp(w) and M -> M + dM keeps it symmetric iff
//   K w = vee(R^T dM - dM^T R),   K = tr(A) I - A,
// where K is the exact Hessian of -tr(R^T M) on SO(3). Its eigenvalues are the
// pairwise sums of the signed singular values (s1 + s2, s1 + d s3, s2 + d s3), so
// unlike the SVD derivative there is no 1 / (s_i - s_j): repeated singular values
// are harmless. K is singular only where the rotation is not unique (collinear
// weighted sets, or a reflection-ambiguous d = -1 with s2 = s3); there the pseudo-
// inverse gives the minimum-norm gradient and the forward reports ok = false.
#pragma once

#include <Eigen/Core>
#include <Eigen/Eigenvalues>
#include <Eigen/SVD>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <type_traits>

namespace manif_py::registration {

using Mat3d = Eigen::Matrix3d;
using Vec3d = Eigen::Vector3d;

/// Below this ratio of the smallest to the largest eigenvalue of K the rotation
/// is declared not unique. Float inputs carry ~1e-7 relative rounding already.
template <class S>
constexpr double procrustes_degenerate_ratio() {
  return std::is_same_v<S, float> ? 1e-6 : 1e-10;
}

/// Weighted centroids and cross-covariance of one problem (accumulated in double).
/// M is kept at unit scale: the true cross-covariance is M * cy * cs, with cs and cy
/// the powers of two nearest above the largest |coordinate| of src and tgt. The
/// rotation depends only on M's direction, and sum w dy ds^T over- or underflows for
/// clouds at 1e200 (1e400) or 1e-200; multiplying by powers of two is exact.
struct ProcrustesMoments {
  double W = 0;
  Vec3d s_bar = Vec3d::Zero(), y_bar = Vec3d::Zero();
  Mat3d M = Mat3d::Zero();      // sum w (y - y_bar)/cy ((s - s_bar)/cs)^T
  double inv_cs = 1, inv_cy = 1;  // 1 / cs, 1 / cy: normal doubles (exponents clamped to +-1000)

  static double inverse_scale(double largest) {
    int e = 0;
    std::frexp(largest, &e);
    return std::ldexp(1.0, -std::clamp(e, -1000, 1000));
  }

  /// (p - centroid) * f for a point p of S.
  template <class S>
  static Vec3d unit(const S* p, const Vec3d& centroid, double f) {
    return (Eigen::Map<const Eigen::Matrix<S, 3, 1>>(p).template cast<double>() - centroid) * f;
  }

  template <class S>
  void compute(const S* src, const S* tgt, const S* w, int64_t P) {
    W = 0;
    Vec3d ss = Vec3d::Zero(), ys = Vec3d::Zero();
    double smax = 0, ymax = 0;
    for (int64_t i = 0; i < P; ++i) {
      const double wi = double(w[i]);
      const Vec3d s = Eigen::Map<const Eigen::Matrix<S, 3, 1>>(src + 3 * i).template cast<double>();
      const Vec3d y = Eigen::Map<const Eigen::Matrix<S, 3, 1>>(tgt + 3 * i).template cast<double>();
      W += wi;
      ss += wi * s;
      ys += wi * y;
      smax = std::max(smax, s.cwiseAbs().maxCoeff());
      ymax = std::max(ymax, y.cwiseAbs().maxCoeff());
    }
    if (!(W > 0)) return;
    s_bar = ss / W;
    y_bar = ys / W;
    inv_cs = inverse_scale(smax);
    inv_cy = inverse_scale(ymax);
    // Second pass on centred points: no cancellation for clouds far from the origin.
    M.setZero();
    for (int64_t i = 0; i < P; ++i)
      M.noalias() += (double(w[i]) * unit(tgt + 3 * i, y_bar, inv_cy)) * unit(src + 3 * i, s_bar, inv_cs).transpose();
  }
};

/// The Hessian K = tr(A) I - A of the rotation sub-problem at R (A symmetrised).
inline Mat3d procrustes_hessian(const Mat3d& R, const Mat3d& M) {
  Mat3d A = R.transpose() * M;
  A = (0.5 * (A + A.transpose())).eval();
  return A.trace() * Mat3d::Identity() - A;
}

/// Solves one problem. Writes R (row-major 3x3) and t; returns ok. When the
/// total weight is <= eps, R = I and t = 0; when the rotation is not unique, R
/// is still a proper rotation (one optimum) and t = y_bar - R s_bar.
template <class S>
bool weighted_procrustes(const S* src, const S* tgt, const S* w, int64_t P, double eps, S* R_out, S* t_out) {
  ProcrustesMoments mo;
  mo.compute(src, tgt, w, P);
  Mat3d R = Mat3d::Identity();
  Vec3d t = Vec3d::Zero();
  bool ok = mo.W > eps;
  if (ok) {
    const Eigen::JacobiSVD<Mat3d> svd(mo.M, Eigen::ComputeFullU | Eigen::ComputeFullV);
    const Mat3d& U = svd.matrixU();
    const Mat3d& V = svd.matrixV();
    Vec3d d(1.0, 1.0, (U * V.transpose()).determinant() < 0 ? -1.0 : 1.0);
    R = U * d.asDiagonal() * V.transpose();
    t = mo.y_bar - R * mo.s_bar;
    const Eigen::SelfAdjointEigenSolver<Mat3d> es(procrustes_hessian(R, mo.M), Eigen::EigenvaluesOnly);
    const double lmax = es.eigenvalues()(2), lmin = es.eigenvalues()(0);
    ok = lmax > 0 && lmin > procrustes_degenerate_ratio<S>() * lmax;
  }
  Eigen::Map<Eigen::Matrix<S, 3, 3, Eigen::RowMajor>>{R_out} = R.cast<S>();
  Eigen::Map<Eigen::Matrix<S, 3, 1>>{t_out} = t.cast<S>();
  return ok;
}

/// Vector of the skew part: vee(X - X^T), so that <X, hat(z)> = z . vee_skew(X).
inline Vec3d vee_skew(const Mat3d& X) {
  return Vec3d(X(2, 1) - X(1, 2), X(0, 2) - X(2, 0), X(1, 0) - X(0, 1));
}

inline Mat3d hat3(const Vec3d& v) {
  Mat3d m;
  m << 0, -v(2), v(1), v(2), 0, -v(0), -v(1), v(0), 0;
  return m;
}

/// Gradient of a loss L(R, t) through the solver: given dL/dR (row-major 3x3) and
/// dL/dt at the forward's output, writes dL/dsrc, dL/dtgt (P x 3) and dL/dw (P).
/// Zero where the total weight is <= eps (the forward returned a constant there).
template <class S>
void weighted_procrustes_backward(const S* src, const S* tgt, const S* w, int64_t P, const S* R_in, const S* gR_in,
                                  const S* gt_in, double eps, S* g_src, S* g_tgt, S* g_w) {
  ProcrustesMoments mo;
  mo.compute(src, tgt, w, P);
  if (!(mo.W > eps)) {
    std::fill(g_src, g_src + 3 * P, S(0));
    std::fill(g_tgt, g_tgt + 3 * P, S(0));
    std::fill(g_w, g_w + P, S(0));
    return;
  }
  const Mat3d R = Eigen::Map<const Eigen::Matrix<S, 3, 3, Eigen::RowMajor>>(R_in).template cast<double>();
  const Mat3d GR = Eigen::Map<const Eigen::Matrix<S, 3, 3, Eigen::RowMajor>>(gR_in).template cast<double>();
  const Vec3d gt = Eigen::Map<const Eigen::Matrix<S, 3, 1>>(gt_in).template cast<double>();

  // dL = g_omega . omega + gt . (dy_bar - R ds_bar), with dR = R hat(omega) and
  // the -dR s_bar part of dt folded into g_omega.
  const Vec3d Rt_gt = R.transpose() * gt;
  const Vec3d g_omega = vee_skew(R.transpose() * GR) - hat3(mo.s_bar) * Rt_gt;

  // omega = K^-1 vee(R^T dM - dM^T R)  =>  dL/dM = R hat(K^+ g_omega).
  const Eigen::SelfAdjointEigenSolver<Mat3d> es(procrustes_hessian(R, mo.M));
  const Vec3d lam = es.eigenvalues();
  const double floor = procrustes_degenerate_ratio<S>() * std::max(lam(2), 0.0);
  Vec3d inv;
  for (int k = 0; k < 3; ++k) inv(k) = lam(k) > floor && lam(k) > 0 ? 1.0 / lam(k) : 0.0;
  const Mat3d& Q = es.eigenvectors();
  const Vec3d z = Q * inv.asDiagonal() * (Q.transpose() * g_omega);
  // GM = dL/dM at unit scale: the true dL/dM is GM / (cy cs) (M is stored divided by cy cs),
  // so every term below pairs it with dy / cy and ds / cs and divides by the remaining factor.
  const Mat3d GM = R * hat3(z);

  const double invW = 1.0 / mo.W;
  for (int64_t i = 0; i < P; ++i) {
    const double wi = double(w[i]);
    const Vec3d ds = Eigen::Map<const Eigen::Matrix<S, 3, 1>>(src + 3 * i).template cast<double>() - mo.s_bar;
    const Vec3d dy = Eigen::Map<const Eigen::Matrix<S, 3, 1>>(tgt + 3 * i).template cast<double>() - mo.y_bar;
    const Vec3d us = ds * mo.inv_cs, uy = dy * mo.inv_cy;
    const Vec3d gy_M = GM * us;
    const Vec3d gs = wi * ((GM.transpose() * uy) * mo.inv_cs - invW * Rt_gt);
    const Vec3d gy = wi * (gy_M * mo.inv_cy + invW * gt);
    Eigen::Map<Eigen::Matrix<S, 3, 1>>(g_src + 3 * i) = gs.cast<S>();
    Eigen::Map<Eigen::Matrix<S, 3, 1>>(g_tgt + 3 * i) = gy.cast<S>();
    g_w[i] = S(uy.dot(gy_M) + invW * (gt.dot(dy) - Rt_gt.dot(ds)));
  }
}

}  // namespace manif_py::registration
