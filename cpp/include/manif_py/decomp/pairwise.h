// The kernel-network inputs of a group convolution over R^2 x| H, H in {SO2, SL2,
// GL+(2)}, for every (output sample, input sample, kernel grid point) at once:
// [h_i^-1 y, p-coordinates of xi^-1(h_i^-1 h~_j), cos theta, sin theta].
#pragma once

#include <cmath>
#include <cstdint>
#include <vector>

#include "groups.h"

namespace manif_py::decomp {

/// Chart features of g in GL+(2): the p-coordinates of xi^-1(g) followed by
/// (cos theta, sin theta) of its polar rotation; returns how many were written
/// (2 for SO2, 4 for SL2, 5 for GL2). 1/2 logm(C), C = g g^T = [[a, b], [b, d]], is
/// (log det g)/2 I plus atanh(r/m)/(2r) times C's traceless part, which stays
/// exact as r -> 0 (isotropic g).
inline int chart_features(Group grp, const Mat<double, 2>& g, double* f) {
  const double g11 = g(0, 0), g12 = g(0, 1), g21 = g(1, 0), g22 = g(1, 1);
  const double theta = std::atan2(g21 - g12, g11 + g22);
  int k = 0;
  if (grp != Group::SO2) {
    const double a = g11 * g11 + g12 * g12, b = g11 * g21 + g12 * g22, d = g21 * g21 + g22 * g22;
    const double m = 0.5 * (a + d), h = 0.5 * (a - d);
    const double r = std::hypot(h, b);
    const double q = r / m;
    const double fr = q < 1e-4 ? (1.0 + q * q / 3.0) / m : std::atanh(q) / r;
    const double half_log_det = 0.5 * std::log(g11 * g22 - g12 * g21);
    const double L11 = half_log_det + 0.5 * fr * h, L22 = half_log_det - 0.5 * fr * h, L12 = 0.5 * fr * b;
    const double s2 = 1.4142135623730951;
    if (grp == Group::GL2) {
      f[k++] = L11, f[k++] = s2 * L12, f[k++] = L22;
    } else {
      f[k++] = s2 * L12, f[k++] = (L11 - L22) / s2;
    }
  }
  f[k++] = std::cos(theta);
  f[k++] = std::sin(theta);
  return k;
}

/// Number of chart features per pair: c = 2 + p_dim(group).
constexpr int chart_feature_count(Group g) { return 2 + p_dim(g); }

/// The kernel grid: linspace(-1, 1, k) in both axes, index row * k + col,
/// point (x = col coordinate, y = row coordinate).
inline double grid_coord(int i, int k) { return k == 1 ? -1.0 : -1.0 + 2.0 * double(i) / double(k - 1); }

/// Writes the rows [i_begin, i_end) of the output: inputs (M, K, k*k, 2 + C),
/// mask (M, k*k). h_out_inv (M, 2, 2) and h_in (K, 2, 2) are row-major and
/// validated. C (the chart feature count) is a template argument so that the
/// store loop, which dominates the cost, is unrolled.
template <int C, class S>
inline void pairwise_rows_fixed(Group grp, const double* h_out_inv, const double* h_in, int64_t K, int k,
                                int64_t i_begin, int64_t i_end, S* inputs, bool* mask) {
  constexpr int width = 2 + C;
  const int kk = k * k;
  std::vector<S> pts(size_t(2 * kk));
  double feats[8];
  for (int64_t i = i_begin; i < i_end; ++i) {
    const double* A = h_out_inv + 4 * i;
    // h_i^-1 y for the k*k grid points.
    for (int r = 0; r < k; ++r) {
      const double yy = grid_coord(r, k);
      for (int col = 0; col < k; ++col) {
        const double xx = grid_coord(col, k);
        const double px = A[0] * xx + A[1] * yy, py = A[2] * xx + A[3] * yy;
        const int y = r * k + col;
        mask[i * kk + y] = std::abs(px) <= 1.0 + 1e-6 && std::abs(py) <= 1.0 + 1e-6;
        pts[size_t(2 * y)] = S(px);
        pts[size_t(2 * y + 1)] = S(py);
      }
    }
    S* row = inputs + i * K * kk * width;
    for (int64_t j = 0; j < K; ++j) {
      const double* Bj = h_in + 4 * j;
      Mat<double, 2> g;
      g << A[0] * Bj[0] + A[1] * Bj[2], A[0] * Bj[1] + A[1] * Bj[3],  //
          A[2] * Bj[0] + A[3] * Bj[2], A[2] * Bj[1] + A[3] * Bj[3];
      chart_features(grp, g, feats);
      S f[C];
      for (int q = 0; q < C; ++q) f[q] = S(feats[q]);
      S* out = row + j * kk * width;
      const S* p = pts.data();
      for (int y = 0; y < kk; ++y, out += width) {
        out[0] = p[2 * y];
        out[1] = p[2 * y + 1];
        for (int q = 0; q < C; ++q) out[2 + q] = f[q];
      }
    }
  }
}

template <class S>
inline void pairwise_rows(Group grp, const double* h_out_inv, const double* h_in, int64_t K, int k, int64_t i_begin,
                          int64_t i_end, S* inputs, bool* mask) {
  switch (chart_feature_count(grp)) {
    case 2: return pairwise_rows_fixed<2, S>(grp, h_out_inv, h_in, K, k, i_begin, i_end, inputs, mask);
    case 4: return pairwise_rows_fixed<4, S>(grp, h_out_inv, h_in, K, k, i_begin, i_end, inputs, mask);
    default: return pairwise_rows_fixed<5, S>(grp, h_out_inv, h_in, K, k, i_begin, i_end, inputs, mask);
  }
}

}  // namespace manif_py::decomp
