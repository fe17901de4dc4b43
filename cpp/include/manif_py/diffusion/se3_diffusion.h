// Forward noising and one reverse (posterior) step of the SE(3) diffusion of
// Jiang et al. (NeurIPS 2023), one element at a time, on the core's Exp/Log.
#pragma once

#include <manif_py/lie/se3.h>

#include "schedule.h"

namespace manif_py::diffusion {

/// Per-block noise scale: sigma_rot scales theta, sigma_trans scales rho.
template <class S>
inline Eigen::Matrix<S, 6, 1> scale_noise(const Eigen::Matrix<S, 6, 1>& eps, S sigma_rot, S sigma_trans) {
  Eigen::Matrix<S, 6, 1> v;
  v.template head<3>() = sigma_trans * eps.template head<3>();
  v.template tail<3>() = sigma_rot * eps.template tail<3>();
  return v;
}

/// H_t = Exp(sqrt(1 - abar_t) sig (.) eps) * Exp(sqrt(abar_t) Log H0).
template <class S>
inline SE3<S> diffuse(const SE3<S>& H0, const Eigen::Matrix<S, 6, 1>& eps, double alpha_bar, S sigma_rot,
                      S sigma_trans) {
  const S keep = S(std::sqrt(alpha_bar));
  const S noise = S(std::sqrt(1.0 - alpha_bar));
  const SE3<S> shrunk = SE3Tangent<S>(keep * H0.Log().coeffs()).Exp();
  const SE3<S> kick = SE3Tangent<S>(noise * scale_noise(eps, sigma_rot, sigma_trans)).Exp();
  return kick.compose(shrunk);
}

/// H_{t-1} = Exp(gamma0 Log H0_hat + gamma1 Log H_t), then, when `eps` is given
/// (and t > 1, decided by the caller), Exp(sqrt(beta_tilde) sig (.) eps) on the left.
template <class S>
inline SE3<S> posterior_step(const SE3<S>& H0_hat, const SE3<S>& H, double gamma0, double gamma1,
                             double beta_tilde, const Eigen::Matrix<S, 6, 1>* eps, S sigma_rot, S sigma_trans) {
  const Eigen::Matrix<S, 6, 1> mean = S(gamma0) * H0_hat.Log().coeffs() + S(gamma1) * H.Log().coeffs();
  const SE3<S> Hm = SE3Tangent<S>(mean).Exp();
  if (!eps) return Hm;
  const S scale = S(std::sqrt(beta_tilde));
  return SE3Tangent<S>(scale * scale_noise(*eps, sigma_rot, sigma_trans)).Exp().compose(Hm);
}

}  // namespace manif_py::diffusion
