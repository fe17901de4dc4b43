// Robust losses rho(s) of the squared whitened residual norm s = r^T Omega r,
// used by iteratively reweighted least squares: each factor's contribution to
// the normal equations is scaled by the weight rho'(s).
#pragma once

#include <cmath>
#include <stdexcept>
#include <string>

namespace manif_py::estimation {

enum class LossType : int { None = 0, Huber = 1, Cauchy = 2 };

struct Loss {
  LossType type = LossType::None;
  double k = 1.0;  ///< threshold, in units of whitened residual norm (sigmas)

  static Loss none() { return {}; }
  static Loss make(LossType t, double k) {
    if (t != LossType::None && !(k > 0.0 && std::isfinite(k)))
      throw std::invalid_argument("robust loss threshold k must be positive and finite, got " +
                                  std::to_string(k));
    return Loss{t, k};
  }

  /// rho(s): s for no loss; Huber: s inside k, 2 k sqrt(s) - k^2 outside;
  /// Cauchy: k^2 log(1 + s / k^2). All equal s to first order at s = 0.
  double rho(double s) const {
    switch (type) {
      case LossType::None: return s;
      case LossType::Huber: {
        const double e = std::sqrt(s);
        return e <= k ? s : 2.0 * k * e - k * k;
      }
      case LossType::Cauchy: return k * k * std::log1p(s / (k * k));
    }
    return s;
  }

  /// The IRLS weight rho'(s) in (0, 1].
  double weight(double s) const {
    switch (type) {
      case LossType::None: return 1.0;
      case LossType::Huber: {
        const double e = std::sqrt(s);
        return e <= k ? 1.0 : k / e;
      }
      case LossType::Cauchy: return 1.0 / (1.0 + s / (k * k));
    }
    return 1.0;
  }

  std::string describe() const {
    switch (type) {
      case LossType::None: return "none";
      case LossType::Huber: return "huber(" + std::to_string(k) + ")";
      case LossType::Cauchy: return "cauchy(" + std::to_string(k) + ")";
    }
    return "?";
  }
};

}  // namespace manif_py::estimation
