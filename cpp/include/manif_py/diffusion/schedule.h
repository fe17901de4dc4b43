// Cosine noise schedule (Nichol & Dhariwal 2021) and the DDPM posterior
// coefficients derived from it, tabulated for t = 0 .. T.
#pragma once

#include <algorithm>
#include <cmath>
#include <vector>

namespace manif_py::diffusion {

/// All arrays have T + 1 entries indexed by the step t; t = 0 is the clean
/// signal (alpha_bar = 1, beta = 0, posterior coefficients 0).
struct CosineSchedule {
  int T = 0;
  double s = 0.008;
  std::vector<double> alpha_bar, beta, alpha, gamma0, gamma1, beta_tilde;

  /// Betas are clipped here so the last steps do not destroy the signal in one go.
  static constexpr double max_beta = 0.999;

  CosineSchedule(int T_, double s_) : T(T_), s(s_) {
    const double half_pi = 1.57079632679489661923;
    const auto f = [&](int t) {
      const double c = std::cos((double(t) / T + s) / (1.0 + s) * half_pi);
      return c * c;
    };
    const size_t n = static_cast<size_t>(T) + 1;
    alpha_bar.assign(n, 1.0);
    beta.assign(n, 0.0);
    alpha.assign(n, 1.0);
    gamma0.assign(n, 0.0);
    gamma1.assign(n, 0.0);
    beta_tilde.assign(n, 0.0);
    const double f0 = f(0);
    for (int t = 1; t <= T; ++t) alpha_bar[t] = f(t) / f0;
    for (int t = 1; t <= T; ++t) {
      beta[t] = std::min(1.0 - alpha_bar[t] / alpha_bar[t - 1], max_beta);
      alpha[t] = 1.0 - beta[t];
      const double one_minus = 1.0 - alpha_bar[t];
      gamma0[t] = beta[t] * std::sqrt(alpha_bar[t - 1]) / one_minus;
      gamma1[t] = (1.0 - alpha_bar[t - 1]) * std::sqrt(alpha[t]) / one_minus;
      beta_tilde[t] = (1.0 - alpha_bar[t - 1]) / one_minus * beta[t];
    }
  }
};

}  // namespace manif_py::diffusion
