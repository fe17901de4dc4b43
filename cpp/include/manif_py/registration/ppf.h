// RPM-Net local features: for point i and each of its k nearest neighbours j in
// a ball, [x_i, x_j - x_i, |d|, angle(n_i, d), angle(n_j, d), angle(n_i, n_j)]
// with d = x_j - x_i and angles by atan2(|a x b|, a . b) (stable at 0 and pi).
#pragma once

#include <cmath>

#include "kdtree.h"

namespace manif_py::registration {

constexpr int ppf_feature_dim = 10;

template <class S>
inline S vector_angle(const Eigen::Matrix<S, 3, 1>& a, const Eigen::Matrix<S, 3, 1>& b) {
  using std::atan2;
  // "+ 0" turns a -0 dot product (a zero offset d against a normal with negative
  // components) into +0, so the self pair reads angle 0 rather than pi.
  return atan2(a.cross(b).norm(), a.dot(b) + S(0));
}

/// Fills idx (k) and feats (k x 10) for point i. Neighbours beyond the radius are
/// replaced by the nearest one (the point itself), as RPM-Net pads its groups.
template <class S>
void ppf_point(const KdTree<S>& tree, const S* pts, const S* nrm, int64_t i, int k, S radius, int64_t* idx,
               S* d2_buf, S* feats) {
  using V3 = Eigen::Matrix<S, 3, 1>;
  int found = tree.knn(pts + 3 * i, k, idx, d2_buf, radius * radius);
  if (found == 0) {  // radius 0: the point itself is still its own neighbour
    idx[0] = i;
    found = 1;
  }
  for (int j = found; j < k; ++j) idx[j] = idx[0];
  const V3 xi = Eigen::Map<const V3>(pts + 3 * i);
  const V3 ni = Eigen::Map<const V3>(nrm + 3 * i);
  for (int j = 0; j < k; ++j) {
    const V3 xj = Eigen::Map<const V3>(pts + 3 * idx[j]);
    const V3 nj = Eigen::Map<const V3>(nrm + 3 * idx[j]);
    const V3 d = xj - xi;
    S* f = feats + ppf_feature_dim * j;
    Eigen::Map<V3>{f} = xi;
    Eigen::Map<V3>(f + 3) = d;
    f[6] = d.norm();
    f[7] = vector_angle(ni, d);
    f[8] = vector_angle(nj, d);
    f[9] = vector_angle(ni, nj);
  }
}

}  // namespace manif_py::registration
