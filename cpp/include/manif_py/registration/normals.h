// Surface normals by PCA over the k nearest neighbours, with a sign convention.
#pragma once

#include <Eigen/Eigenvalues>

#include <vector>

#include "kdtree.h"

namespace manif_py::registration {

/// Unit normal of point i: the least-variance direction of its k neighbours
/// (itself included), flipped to face `viewpoint` if given, else away from
/// `centroid` (outward for closed, roughly convex shapes). A neighbourhood with
/// no spread (all points equal) gets an arbitrary unit normal, never NaN.
template <class S>
void estimate_normal(const KdTree<S>& tree, const S* pts, int64_t i, int k, const double* viewpoint,
                     const Eigen::Vector3d& centroid, int64_t* idx_buf, S* d2_buf, S* out) {
  const Eigen::Vector3d p = Eigen::Map<const Eigen::Matrix<S, 3, 1>>(pts + 3 * i).template cast<double>();
  const int found = tree.knn(pts + 3 * i, k, idx_buf, d2_buf);
  Eigen::Vector3d mean = Eigen::Vector3d::Zero();
  for (int j = 0; j < found; ++j)
    mean += Eigen::Map<const Eigen::Matrix<S, 3, 1>>(pts + 3 * idx_buf[j]).template cast<double>();
  mean /= double(found);
  Eigen::Matrix3d C = Eigen::Matrix3d::Zero();
  for (int j = 0; j < found; ++j) {
    const Eigen::Vector3d d = Eigen::Map<const Eigen::Matrix<S, 3, 1>>(pts + 3 * idx_buf[j]).template cast<double>() - mean;
    C.noalias() += d * d.transpose();
  }
  // The iterative solver: computeDirect loses the small eigenvector of thin
  // (nearly planar) neighbourhoods, which is exactly the one wanted.
  const Eigen::SelfAdjointEigenSolver<Eigen::Matrix3d> es(C);
  Eigen::Vector3d n = es.eigenvectors().col(0);
  const double len = n.norm();
  n = len > 0 ? Eigen::Vector3d(n / len) : Eigen::Vector3d::UnitZ();
  const Eigen::Vector3d toward = viewpoint ? Eigen::Vector3d(Eigen::Map<const Eigen::Vector3d>(viewpoint) - p)
                                           : Eigen::Vector3d(p - centroid);
  if (n.dot(toward) < 0) n = -n;
  Eigen::Map<Eigen::Matrix<S, 3, 1>>{out} = n.cast<S>();
}

}  // namespace manif_py::registration
