// Plain single-threaded C++/Eigen loops: the floor for the batch benchmarks.
//
// The same arithmetic as a Lie-group batch kernel, with no validation, no
// Python and no threads: SE3 as Eigen::Quaterniond + Vector3d over arrays laid
// out like the numpy ones ((N, 7) poses tx ty tz qx qy qz qw, (N, 6) tangents
// rho theta, (N, 3) points, (N, 4) quaternions x y z w).
//
// Build: g++ -O3 -fno-math-errno -std=c++17 -I<eigen3> baseline_loop.cpp
// Run:   ./baseline_loop N [repeats]   -> one JSON object, ns per element per op.
#include <cmath>

#include "loop_common.h"

namespace {

using loops::Quat, loops::Vec3, loops::v3, loops::v4;
constexpr double kSmall = 1e-10;  // squared-angle threshold of the Taylor branches

Quat so3_exp(const Vec3& th) {
  const double t2 = th.squaredNorm();
  double k, w;
  if (t2 < kSmall) {
    k = 0.5 - t2 / 48.0;
    w = 1.0 - t2 / 8.0;
  } else {
    const double t = std::sqrt(t2);
    k = std::sin(0.5 * t) / t;
    w = std::cos(0.5 * t);
  }
  return Quat(w, k * th.x(), k * th.y(), k * th.z());
}

Vec3 so3_log(const Quat& q) {
  const double s2 = q.vec().squaredNorm();
  const double w = q.w();
  double k;
  if (s2 < kSmall * kSmall) {
    k = 2.0 / w * (1.0 - s2 / (3.0 * w * w));
  } else {
    const double s = std::sqrt(s2);
    k = 2.0 * (w < 0 ? std::atan2(-s, -w) : std::atan2(s, w)) / s;
  }
  return k * q.vec();
}

/// Exp of (rho, theta): t = V rho with V = I + a W + b W^2, q = exp(theta).
void se3_exp(const double* tau, double* out) {
  const Vec3 rho(tau[0], tau[1], tau[2]), th(tau[3], tau[4], tau[5]);
  const double t2 = th.squaredNorm();
  double a, b;
  if (t2 < kSmall) {
    a = 0.5 - t2 / 24.0;
    b = 1.0 / 6.0 - t2 / 120.0;
  } else {
    const double t = std::sqrt(t2);
    a = (1.0 - std::cos(t)) / t2;
    b = (t - std::sin(t)) / (t2 * t);
  }
  const Vec3 tr = th.cross(rho);
  v3(out) = rho + a * tr + b * th.cross(tr);
  v4(out + 3) = so3_exp(th).coeffs();
}

/// Log: theta = log(q), rho = V^-1 t = t - 1/2 W t + c W^2 t.
void se3_log(const double* x, double* out) {
  const Vec3 t(x[0], x[1], x[2]);
  const Quat q(x[6], x[3], x[4], x[5]);
  const Vec3 th = so3_log(q);
  const double t2 = th.squaredNorm();
  double c;
  if (t2 < kSmall) {
    c = 1.0 / 12.0 + t2 / 720.0;
  } else {
    const double n = std::sqrt(t2), h = 0.5 * n;
    c = (1.0 - h * std::cos(h) / std::sin(h)) / t2;
  }
  const Vec3 wt = th.cross(t);
  v3(out) = t - 0.5 * wt + c * th.cross(wt);
  v3(out + 3) = th;
}

void se3_compose(const double* x, const double* y, double* out) {
  const Quat qx(x[6], x[3], x[4], x[5]), qy(y[6], y[3], y[4], y[5]);
  v3(out) = Eigen::Map<const Vec3>(x) + qx * Eigen::Map<const Vec3>(y);
  v4(out + 3) = (qx * qy).coeffs();
}

void se3_inverse(const double* x, double* out) {
  const Quat qi = Quat(x[6], x[3], x[4], x[5]).conjugate();
  v3(out) = -(qi * Eigen::Map<const Vec3>(x));
  v4(out + 3) = qi.coeffs();
}

void se3_act(const double* x, const double* p, double* out) {
  const Quat q(x[6], x[3], x[4], x[5]);
  v3(out) = Eigen::Map<const Vec3>(x) + q * Eigen::Map<const Vec3>(p);
}

}  // namespace

int main(int argc, char** argv) {
  loops::Data d(argc > 1 ? std::atoll(argv[1]) : 1000000);
  const int reps = argc > 2 ? std::atoi(argv[2]) : 7;
  const int64_t n = d.n;
  const std::vector<loops::Op> ops = {
      {"se3_exp", [&] { for (int64_t i = 0; i < n; ++i) se3_exp(&d.tau[6 * i], &d.out7[7 * i]); }},
      {"se3_log", [&] { for (int64_t i = 0; i < n; ++i) se3_log(&d.X[7 * i], &d.out6[6 * i]); }},
      {"se3_compose", [&] { for (int64_t i = 0; i < n; ++i) se3_compose(&d.X[7 * i], &d.Y[7 * i], &d.out7[7 * i]); }},
      {"se3_inverse", [&] { for (int64_t i = 0; i < n; ++i) se3_inverse(&d.X[7 * i], &d.out7[7 * i]); }},
      {"se3_act", [&] { for (int64_t i = 0; i < n; ++i) se3_act(&d.X[7 * i], &d.P[3 * i], &d.out3[3 * i]); }},
      {"se3_act_one", [&] {
         const Eigen::Matrix3d R = Quat(d.X[6], d.X[3], d.X[4], d.X[5]).toRotationMatrix();
         const Vec3 t(d.X[0], d.X[1], d.X[2]);
         for (int64_t i = 0; i < n; ++i) v3(&d.out3[3 * i]) = R * Eigen::Map<const Vec3>(&d.P[3 * i]) + t;
       }},
      {"so3_exp", [&] {
         for (int64_t i = 0; i < n; ++i) v4(&d.out4[4 * i]) = so3_exp(Eigen::Map<const Vec3>(&d.th[3 * i])).coeffs();
       }},
      {"so3_log", [&] {
         for (int64_t i = 0; i < n; ++i) v3(&d.out3[3 * i]) = so3_log(Quat(d.Q[4 * i + 3], d.Q[4 * i], d.Q[4 * i + 1], d.Q[4 * i + 2]));
       }},
  };
  loops::run_ops(d, ops, reps);
  return 0;
}
