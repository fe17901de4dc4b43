// Iterative closest point as on-manifold Gauss-Newton on SE(3): correspondences
// from a kd-tree built once on the target, residuals linearised with the core's
// act Jacobian under right perturbation T <- T Exp(delta), optional robust IRLS.
#pragma once

#include <manif_py/lie/se3.h>

#include <Eigen/Cholesky>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "kdtree.h"
#include "parallel_items.h"

namespace manif_py::registration {

enum class IcpMethod { PointToPoint, PointToPlane };
enum class RobustKernel { None, Huber, Tukey };

struct IcpOptions {
  IcpMethod method = IcpMethod::PointToPlane;
  int max_iterations = 30;
  double max_distance = std::numeric_limits<double>::infinity();
  double tolerance = 1e-6;  // stop when |delta| (rad / length units) falls below
  RobustKernel kernel = RobustKernel::None;
  double kernel_scale = 1.0;  // Huber threshold / Tukey cut-off, in residual units
};

struct IcpResult {
  SE3<double> pose;
  double fitness = 0, inlier_rmse = 0;
  int iterations = 0;
  bool converged = false;
};

/// IRLS weight of a residual of magnitude r.
inline double robust_weight(RobustKernel kernel, double scale, double r) {
  switch (kernel) {
    case RobustKernel::Huber: return r <= scale ? 1.0 : scale / r;
    case RobustKernel::Tukey: {
      if (r >= scale) return 0.0;
      const double u = 1.0 - (r / scale) * (r / scale);
      return u * u;
    }
    default: return 1.0;
  }
}

/// Registers src (n_src x 3) onto the target of `tree` (normals n_tgt x 3, needed
/// for point-to-plane), starting at `init`.
template <class S>
IcpResult icp(const S* src, int64_t n_src, const KdTree<S>& tree, const S* tgt, const S* tgt_normals,
              const SE3<double>& init, const IcpOptions& opt) {
  using Vec3 = Eigen::Vector3d;
  using Mat6 = Eigen::Matrix<double, 6, 6>;
  using Vec6 = Eigen::Matrix<double, 6, 1>;
  IcpResult res;
  res.pose = init;
  const double max_d2 = opt.max_distance * opt.max_distance;
  const S bound = std::isfinite(max_d2) ? S(max_d2) : std::numeric_limits<S>::infinity();
  std::vector<int64_t> match(static_cast<size_t>(n_src), -1);
  std::vector<S> dist2(static_cast<size_t>(n_src));

  // The source is cut into a fixed number of blocks, each searched and summed
  // on one thread; the block sums are then added in order, so the result does
  // not depend on the thread count.
  const int64_t n_blocks = std::max<int64_t>(1, std::min<int64_t>(64, n_src / 256));
  const int64_t block_len = (n_src + n_blocks - 1) / n_blocks;
  std::vector<Mat6> H_blocks(static_cast<size_t>(n_blocks));
  std::vector<Vec6> g_blocks(static_cast<size_t>(n_blocks));
  std::vector<int64_t> used_blocks(static_cast<size_t>(n_blocks));

  // Nearest target point of every source point under T (searches seeded with
  // the last match: once the pose settles it is usually still the nearest, and
  // its distance prunes almost the whole tree); with `normal_equations`, also
  // the block's Gauss-Newton sums.
  const auto pass = [&](const SE3<double>& T, bool normal_equations) {
    const Eigen::Matrix3d R = T.rotation();
    const Vec3 t = T.translation();
    parallel_items(n_blocks, 24 * block_len, [&](int64_t b) {
      Mat6 H = Mat6::Zero();
      Vec6 g = Vec6::Zero();
      int64_t used = 0;
      for (int64_t i = b * block_len, end = std::min(n_src, (b + 1) * block_len); i < end; ++i) {
        const Vec3 p = Eigen::Map<const Eigen::Matrix<S, 3, 1>>(src + 3 * i).template cast<double>();
        const Eigen::Matrix<S, 3, 1> Tp_s = (R * p + t).template cast<S>();
        S d2;
        match[i] = tree.nearest(Tp_s.data(), d2, bound, match[i]);
        dist2[i] = d2;
        if (!normal_equations || match[i] < 0) continue;
        const Vec3 q = Eigen::Map<const Eigen::Matrix<S, 3, 1>>(tgt + 3 * match[i]).template cast<double>();
        // The core's act Jacobian under right perturbation: d(T p)/d delta = [R, -R hat(p)].
        Eigen::Matrix<double, 3, 6> J;
        const Vec3 Tp = T.act(p, &J);
        if (opt.method == IcpMethod::PointToPlane) {
          const Vec3 n = Eigen::Map<const Eigen::Matrix<S, 3, 1>>(tgt_normals + 3 * match[i]).template cast<double>();
          const double r = n.dot(Tp - q);
          const double w = robust_weight(opt.kernel, opt.kernel_scale, std::abs(r));
          const Vec6 Jr = J.transpose() * n;
          H.noalias() += w * Jr * Jr.transpose();
          g.noalias() += (w * r) * Jr;
          used += w > 0;
        } else {
          const Vec3 r = Tp - q;
          const double w = robust_weight(opt.kernel, opt.kernel_scale, r.norm());
          H.noalias() += w * J.transpose() * J;
          g.noalias() += w * J.transpose() * r;
          used += w > 0;
        }
      }
      H_blocks[b] = H;
      g_blocks[b] = g;
      used_blocks[b] = used;
    });
  };

  for (int it = 0; it < opt.max_iterations; ++it) {
    pass(res.pose, true);
    Mat6 H = Mat6::Zero();
    Vec6 g = Vec6::Zero();
    int64_t used = 0;
    for (int64_t b = 0; b < n_blocks; ++b) {
      H += H_blocks[b];
      g += g_blocks[b];
      used += used_blocks[b];
    }
    if (used < 6) break;  // too few (non-zero weight) pairs to constrain 6 degrees of freedom
    // A whisper of damping keeps symmetric targets (a plane, a sphere), whose
    // unobservable directions make H singular, from producing NaN.
    H.diagonal().array() += 1e-12 * (H.trace() + 1e-300);
    const Vec6 delta = -H.ldlt().solve(g);
    if (!delta.allFinite()) break;
    res.pose = res.pose.compose(SE3Tangent<double>(delta).Exp());
    res.pose.normalize();
    res.iterations = it + 1;
    if (delta.norm() < opt.tolerance) {
      res.converged = true;
      break;
    }
  }

  // Quality at the returned pose, as Open3D reports it.
  pass(res.pose, false);
  double sse = 0;
  int64_t inliers = 0;
  for (int64_t i = 0; i < n_src; ++i)
    if (match[i] >= 0) {
      sse += double(dist2[i]);
      ++inliers;
    }
  res.fitness = n_src ? double(inliers) / double(n_src) : 0.0;
  res.inlier_rmse = inliers ? std::sqrt(sse / double(inliers)) : 0.0;
  return res;
}

}  // namespace manif_py::registration
