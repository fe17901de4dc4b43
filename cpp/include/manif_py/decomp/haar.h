// Random elements of GL+(n) / SL(n) / SO(2) for the Monte Carlo group convolution:
// g = S^(1/2) R with S = expm(hat_p(v)), v ~ N(0, spd_std^2 I) in p-coordinates,
// R Haar-uniform in SO(n) (or equidistant angles in SO(2)); the exact inverse
// g^-1 = R^T S^(-1/2) comes from the same factors.
#pragma once

#include <manif_py/lie/common.h>

#include <cmath>
#include <cstdint>
#include <vector>

#include "spd.h"

namespace manif_py::decomp {

/// Portable draws from a 64-bit Mersenne twister (the standard distributions'
/// algorithms are implementation-defined, so they could differ across compilers).
struct PortableNormal {
  Rng rng;
  explicit PortableNormal(uint64_t seed) : rng(seed) {}
  /// Uniform in (0, 1) from the top 53 bits.
  double uniform() { return (double(rng() >> 11) + 0.5) * (1.0 / 9007199254740992.0); }
  /// Standard normal by Box-Muller (one value per call keeps the stream simple).
  double normal() {
    const double u1 = uniform(), u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }
};

enum class RotationSampling { Haar, Equidistant };

/// Fills g[i], g_inv[i] for i < n. Sequential on purpose: the draws depend on the
/// seed only, never on how a batch would be split over threads. Computed in
/// double and rounded to S.
template <class S, int N>
inline void sample(Group grp, int64_t n, uint64_t seed, double spd_std, RotationSampling rot, double offset,
                   Mat<S, N>* g, Mat<S, N>* g_inv) {
  PortableNormal draw(seed);
  const Basis<double, N> B(grp);
  for (int64_t i = 0; i < n; ++i) {
    Mat<double, N> R;
    if constexpr (N == 2) {
      const double t = rot == RotationSampling::Haar ? 2.0 * Constants<double>::pi * draw.uniform() - Constants<double>::pi
                                                     : offset + 2.0 * Constants<double>::pi * double(i) / double(n);
      R << std::cos(t), -std::sin(t), std::sin(t), std::cos(t);
    } else {
      // A normalised 4-D Gaussian is a uniform unit quaternion, hence Haar on SO(3).
      Eigen::Quaterniond q;
      do {
        q = Eigen::Quaterniond(draw.normal(), draw.normal(), draw.normal(), draw.normal());
      } while (q.squaredNorm() < 1e-20);
      R = q.normalized().toRotationMatrix();
    }
    Mat<double, N> half = Mat<double, N>::Identity(), inv_half = Mat<double, N>::Identity();
    if (spd_std > 0.0 && grp != Group::SO2) {
      Mat<double, N> Xp = Mat<double, N>::Zero();
      for (int k = 0; k < B.d; ++k)
        if (B.symmetric[k]) Xp += (spd_std * draw.normal()) * B.e[k];
      const SymEig<double, N> e = sym_eig<double>(Xp);
      half = e.apply([](double w) { return std::exp(0.5 * w); });
      inv_half = e.apply([](double w) { return std::exp(-0.5 * w); });
    }
    g[i] = (half * R).template cast<S>();
    g_inv[i] = (R.transpose() * inv_half).template cast<S>();
  }
}

}  // namespace manif_py::decomp
