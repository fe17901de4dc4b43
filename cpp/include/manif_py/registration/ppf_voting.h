// Point-pair-feature voting for global pose hypotheses over all of SO(3):
// Drost, Ulrich, Navab, Ilic (CVPR 2010) with refinements of Vidal, Lin, Marti
// (Sensors 2018): scene reference points sub-sampled (the caller picks them),
// each quantised scene feature also looked up in the neighbouring bin on the side
// its value lies closer to, and greedy pose clustering of the per-reference peaks.
//
// The model's table is a dense CSR over the quantised key space: offsets[key] ..
// offsets[key + 1] index the (reference point, alpha_m) of every ordered model pair
// with that key, in (reference, other) order. A lookup is two reads, not a search.
//
// Poses map the scan into the model's frame: m = T_m^-1 Rx(alpha) T_s s, where T_x
// takes a reference point to the origin with its normal on +x and alpha is the
// voted alpha_m - alpha_s. Results depend only on the inputs, never on the thread
// count: each reference votes alone, and clustering runs in one fixed order.
#pragma once

#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <vector>

#include "parallel_items.h"
#include "ppf.h"

namespace manif_py::registration {

/// How features are quantised: distance in steps of `distance_step` (absolute units)
/// into `distance_bins` bins, each angle in `angle_bins` bins of pi / angle_bins
/// (plus one for an angle of exactly pi).
struct PpfQuantisation {
  double distance_step = 0;
  int distance_bins = 0;
  int angle_bins = 0;

  int64_t angle_slots() const { return int64_t(angle_bins) + 1; }
  int64_t table_size() const { return int64_t(distance_bins) * angle_slots() * angle_slots() * angle_slots(); }
  int64_t key(int64_t qd, int64_t q1, int64_t q2, int64_t q3) const {
    const int64_t B = angle_slots();
    return ((qd * B + q1) * B + q2) * B + q3;
  }
};

struct PpfTable {
  std::vector<int64_t> offsets;  // (table_size + 1,)
  std::vector<int32_t> ref;      // (P,) reference point of each pair
  std::vector<double> alpha;     // (P,) alpha_m of each pair, in (-pi, pi]
};

/// The four features (distance, angle(n1, d), angle(n2, d), angle(n1, n2)), d = p2 - p1.
inline Eigen::Vector4d ppf_pair_feature(const Eigen::Vector3d& p1, const Eigen::Vector3d& n1, const Eigen::Vector3d& p2,
                                        const Eigen::Vector3d& n2) {
  const Eigen::Vector3d d = p2 - p1;
  return {d.norm(), vector_angle<double>(n1, d), vector_angle<double>(n2, d), vector_angle<double>(n1, n2)};
}

/// The feature in units of bins: (d / step, a1 / da, a2 / da, a3 / da).
inline Eigen::Vector4d ppf_quantised(const Eigen::Vector4d& f, const PpfQuantisation& q) {
  const double da = M_PI / q.angle_bins;
  return {f[0] / q.distance_step, f[1] / da, f[2] / da, f[3] / da};
}

/// Rigid map (R, t) taking point p to the origin and its unit normal n onto +x
/// (Rodrigues about n x e_x; a normal on -x turns by pi about z).
struct PpfFrame {
  Eigen::Matrix3d R;
  Eigen::Vector3d t;
};

inline PpfFrame ppf_frame(const Eigen::Vector3d& p, const Eigen::Vector3d& n) {
  const Eigen::Vector3d x(1, 0, 0);
  Eigen::Vector3d axis = n.cross(x);
  const double s = axis.norm(), c = n.dot(x);
  const double ang = std::atan2(s, c);
  axis = s > 1e-12 ? Eigen::Vector3d(axis / s) : Eigen::Vector3d(0, 0, 1);
  Eigen::Matrix3d K;
  K << 0, -axis[2], axis[1], axis[2], 0, -axis[0], -axis[1], axis[0], 0;
  PpfFrame f;
  f.R = Eigen::Matrix3d::Identity() + std::sin(ang) * K + (1 - std::cos(ang)) * (K * K);
  f.t = -(f.R * p);
  return f;
}

/// Angle about +x of `other` in the reference's frame.
inline double ppf_alpha(const PpfFrame& f, const Eigen::Vector3d& other) {
  const Eigen::Vector3d q = f.R * other + f.t;
  return std::atan2(q[2], q[1]);
}

/// Integer key of a quantised feature, or -1 when it lies outside the table.
inline int64_t ppf_key_of_bins(const int64_t b[4], const PpfQuantisation& q) {
  if (b[0] < 0 || b[0] >= q.distance_bins) return -1;
  for (int k = 1; k < 4; ++k)
    if (b[k] < 0 || b[k] > q.angle_bins) return -1;
  return q.key(b[0], b[1], b[2], b[3]);
}

/// Table of every ordered pair (i, j), i != j, of the model's points (m, 3) and normals.
inline PpfTable build_ppf_table(const double* pts, const double* nrm, int64_t m, const PpfQuantisation& q) {
  using V3 = Eigen::Map<const Eigen::Vector3d>;
  const int64_t row = m > 0 ? m - 1 : 0;
  std::vector<int64_t> keys(static_cast<size_t>(m * row));
  std::vector<double> alphas(keys.size());
  parallel_items(m, 8 * m, [&](int64_t i) {
    const PpfFrame fr = ppf_frame(V3(pts + 3 * i), V3(nrm + 3 * i));
    int64_t slot = i * row;
    for (int64_t j = 0; j < m; ++j) {
      if (j == i) continue;
      const Eigen::Vector4d v = ppf_quantised(ppf_pair_feature(V3(pts + 3 * i), V3(nrm + 3 * i), V3(pts + 3 * j),
                                                               V3(nrm + 3 * j)), q);
      const int64_t b[4] = {int64_t(std::floor(v[0])), int64_t(std::floor(v[1])), int64_t(std::floor(v[2])),
                            int64_t(std::floor(v[3]))};
      keys[slot] = ppf_key_of_bins(b, q);
      alphas[slot] = ppf_alpha(fr, V3(pts + 3 * j));
      ++slot;
    }
  });
  // Counting sort by key; within a key, pairs stay in (i, j) order.
  PpfTable t;
  t.offsets.assign(static_cast<size_t>(q.table_size() + 1), 0);
  for (int64_t k : keys)
    if (k >= 0) ++t.offsets[static_cast<size_t>(k + 1)];
  std::partial_sum(t.offsets.begin(), t.offsets.end(), t.offsets.begin());
  t.ref.resize(static_cast<size_t>(t.offsets.back()));
  t.alpha.resize(t.ref.size());
  std::vector<int64_t> fill(t.offsets.begin(), t.offsets.end() - 1);
  for (size_t s = 0; s < keys.size(); ++s) {
    if (keys[s] < 0) continue;
    const int64_t at = fill[static_cast<size_t>(keys[s])]++;
    t.ref[static_cast<size_t>(at)] = static_cast<int32_t>(static_cast<int64_t>(s) / row);
    t.alpha[static_cast<size_t>(at)] = alphas[s];
  }
  return t;
}

/// Borrowed view of a table (from Python arrays or a PpfTable).
struct PpfTableView {
  const int64_t* offsets;
  const int32_t* ref;
  const double* alpha;
  int64_t model_points;
};

struct PpfVoteOptions {
  int alpha_bins = 30;          // bins of alpha over 2 pi
  double spread_margin = 0.25;  // a feature this close (in bins) to an edge also votes across it
  double max_distance = 0;      // scene pairs farther apart than this (the model's diameter) are skipped
};

/// The peak of one reference's accumulator (model reference x alpha bin).
struct PpfPeak {
  int32_t model_ref = 0;
  int32_t alpha_bin = 0;
  int32_t votes = 0;
};

/// Votes of scene reference `r` against every other scene point into acc (m * alpha_bins), zeroed first.
inline void ppf_vote_reference(const PpfTableView& table, const PpfQuantisation& q, const PpfVoteOptions& o,
                               const double* sp, const double* sn, int64_t n, int64_t r, std::vector<int32_t>& acc) {
  using V3 = Eigen::Map<const Eigen::Vector3d>;
  const int A = o.alpha_bins;
  acc.assign(static_cast<size_t>(table.model_points * A), 0);
  const PpfFrame fr = ppf_frame(V3(sp + 3 * r), V3(sn + 3 * r));
  const double two_pi = 2 * M_PI;
  for (int64_t j = 0; j < n; ++j) {
    if (j == r) continue;
    const Eigen::Vector4d f = ppf_pair_feature(V3(sp + 3 * r), V3(sn + 3 * r), V3(sp + 3 * j), V3(sn + 3 * j));
    if (!(f[0] <= o.max_distance)) continue;
    const Eigen::Vector4d v = ppf_quantised(f, q);
    const double alpha_s = ppf_alpha(fr, V3(sp + 3 * j));
    int64_t base[4], side[4];
    bool near[4];
    for (int k = 0; k < 4; ++k) {
      const double b = std::floor(v[k]), frac = v[k] - b;
      base[k] = int64_t(b);
      side[k] = frac >= 0.5 ? 1 : -1;
      near[k] = std::min(frac, 1 - frac) < o.spread_margin;
    }
    // The feature's own bin (mask 0) and, per dimension near an edge, the bin across it.
    for (int mask = 0; mask < 16; ++mask) {
      int64_t b[4];
      bool usable = true;
      for (int k = 0; k < 4; ++k) {
        const int bit = (mask >> k) & 1;
        if (bit && !near[k]) usable = false;
        b[k] = base[k] + side[k] * bit;
      }
      if (!usable) continue;
      const int64_t key = ppf_key_of_bins(b, q);
      if (key < 0) continue;
      for (int64_t e = table.offsets[key], end = table.offsets[key + 1]; e < end; ++e) {
        const double a = table.alpha[e] - alpha_s;
        int64_t bin = int64_t(std::floor((a + M_PI) / two_pi * A)) % A;
        if (bin < 0) bin += A;
        ++acc[static_cast<size_t>(int64_t(table.ref[e]) * A + bin)];
      }
    }
  }
}

/// The scan -> model pose of a peak: T_m^-1 Rx(alpha) T_s, alpha at the bin's centre.
inline Eigen::Matrix4d ppf_peak_pose(const PpfFrame& fm, const PpfFrame& fs, int alpha_bin, int alpha_bins) {
  const double a = (alpha_bin + 0.5) / alpha_bins * 2 * M_PI - M_PI;
  Eigen::Matrix3d Rx;
  Rx << 1, 0, 0, 0, std::cos(a), -std::sin(a), 0, std::sin(a), std::cos(a);
  Eigen::Matrix4d T = Eigen::Matrix4d::Identity();
  const Eigen::Matrix3d Rm_inv = fm.R.transpose();
  T.topLeftCorner<3, 3>() = Rm_inv * Rx * fs.R;
  T.topRightCorner<3, 1>() = Rm_inv * (Rx * fs.t - fm.t);
  return T;
}

/// Peaks (one per reference) and their poses (4x4 column-major each) for the scene references `refs`.
inline void ppf_vote(const PpfTableView& table, const PpfQuantisation& q, const PpfVoteOptions& o, const double* mp,
                     const double* mn, const double* sp, const double* sn, int64_t n, const int64_t* refs,
                     int64_t n_refs, PpfPeak* peaks, Eigen::Matrix4d* poses) {
  using V3 = Eigen::Map<const Eigen::Vector3d>;
  // One reference is n lookups of up to 16 bins: costed as many cheap elements so each is its own task.
  parallel_items(n_refs, 64 * (n + 1), [&](int64_t i) {
    std::vector<int32_t> acc;
    ppf_vote_reference(table, q, o, sp, sn, n, refs[i], acc);
    // First maximum: ties go to the lowest (model reference, alpha bin), independent of threads.
    const auto best = std::max_element(acc.begin(), acc.end());
    const int64_t at = best - acc.begin();
    PpfPeak p;
    p.model_ref = static_cast<int32_t>(at / o.alpha_bins);
    p.alpha_bin = static_cast<int32_t>(at % o.alpha_bins);
    p.votes = acc.empty() ? 0 : *best;
    peaks[i] = p;
    poses[i] = ppf_peak_pose(ppf_frame(V3(mp + 3 * p.model_ref), V3(mn + 3 * p.model_ref)),
                             ppf_frame(V3(sp + 3 * refs[i]), V3(sn + 3 * refs[i])), p.alpha_bin, o.alpha_bins);
  });
}

/// Rotation angle between the rotation blocks of two poses.
inline double ppf_rotation_angle(const Eigen::Matrix4d& a, const Eigen::Matrix4d& b) {
  const double c = ((a.topLeftCorner<3, 3>().transpose() * b.topLeftCorner<3, 3>()).trace() - 1) / 2;
  return std::acos(std::clamp(c, -1.0, 1.0));
}

struct PpfCluster {
  Eigen::Matrix4d pose;  // the strongest member's pose
  double score = 0;      // the members' votes summed
};

/// Greedy clustering, strongest first (ties by index): a pose joins the first cluster
/// whose centre is within both bounds, else starts one. Returns the top_k by score.
inline std::vector<PpfCluster> ppf_cluster(const Eigen::Matrix4d* poses, const double* votes, int64_t n,
                                           double max_rotation, double max_translation, int64_t top_k) {
  std::vector<int64_t> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), int64_t(0));
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return votes[a] > votes[b]; });
  std::vector<PpfCluster> clusters;
  for (int64_t i : order) {
    bool joined = false;
    for (auto& c : clusters) {
      if (ppf_rotation_angle(c.pose, poses[i]) < max_rotation &&
          (c.pose.topRightCorner<3, 1>() - poses[i].topRightCorner<3, 1>()).norm() < max_translation) {
        c.score += votes[i];
        joined = true;
        break;
      }
    }
    if (!joined) clusters.push_back({poses[i], votes[i]});
  }
  std::stable_sort(clusters.begin(), clusters.end(),
                   [](const PpfCluster& a, const PpfCluster& b) { return a.score > b.score; });
  if (static_cast<int64_t>(clusters.size()) > top_k) clusters.resize(static_cast<size_t>(top_k));
  return clusters;
}

}  // namespace manif_py::registration
