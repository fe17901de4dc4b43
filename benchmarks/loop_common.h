// Shared scaffolding of the C++ loop benchmarks (baseline_loop.cpp, kernel_loop.cpp):
// random inputs laid out like the numpy arrays, a median timer, and a driver that
// prints one JSON object of ns per element per op.
#pragma once

#include <Eigen/Geometry>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <random>
#include <string>
#include <vector>

namespace loops {

using Vec3 = Eigen::Vector3d;
using Quat = Eigen::Quaterniond;

inline Eigen::Map<Vec3> v3(double* p) { return Eigen::Map<Vec3>(p); }
inline Eigen::Map<Eigen::Vector4d> v4(double* p) { return Eigen::Map<Eigen::Vector4d>(p); }

/// Median over `repeats` runs of body(), in ns per element.
inline double time_ns(int64_t n, int repeats, const std::function<void()>& body) {
  std::vector<double> runs;
  for (int r = 0; r < repeats; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    body();
    const auto t1 = std::chrono::steady_clock::now();
    runs.push_back(std::chrono::duration<double, std::nano>(t1 - t0).count() / double(n));
  }
  std::sort(runs.begin(), runs.end());
  return runs[runs.size() / 2];
}

inline std::vector<double> random_poses(int64_t n, std::mt19937_64& rng) {
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  std::normal_distribution<double> g;
  std::vector<double> x(7 * n);
  for (int64_t i = 0; i < n; ++i) {
    Eigen::Vector4d q(g(rng), g(rng), g(rng), g(rng));
    q.normalize();
    for (int k = 0; k < 3; ++k) x[7 * i + k] = u(rng);
    for (int k = 0; k < 4; ++k) x[7 * i + 3 + k] = q[k];
  }
  return x;
}

inline std::vector<double> uniform(int64_t count, std::mt19937_64& rng) {
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  std::vector<double> v(count);
  for (auto& e : v) e = u(rng);
  return v;
}

/// Inputs ((N, 7) poses tx ty tz qx qy qz qw, (N, 6) tangents, (N, 3) points and
/// rotation vectors, (N, 4) quaternions x y z w) and preallocated outputs.
struct Data {
  int64_t n;
  std::vector<double> X, Y, tau, P, th, Q, out7, out6, out3, out4;
  explicit Data(int64_t n_) : n(n_) {
    std::mt19937_64 rng(42);
    X = random_poses(n, rng);
    Y = random_poses(n, rng);
    tau = uniform(6 * n, rng);
    P = uniform(3 * n, rng);
    th = uniform(3 * n, rng);
    Q.resize(4 * n);
    for (int64_t i = 0; i < n; ++i) v4(&Q[4 * i]) = Eigen::Map<const Eigen::Vector4d>(&X[7 * i + 3]);
    out7.resize(7 * n), out6.resize(6 * n), out3.resize(3 * n), out4.resize(4 * n);
  }
};

struct Op {
  const char* name;
  std::function<void()> body;
};

/// Times each op (median of `repeats`) and prints {"n": N, "op": ns, ...}.
inline void run_ops(const Data& d, const std::vector<Op>& ops, int repeats) {
  std::printf("{\"n\": %lld", static_cast<long long>(d.n));
  double checksum = 0;
  const int64_t m = d.n / 2;
  for (const auto& op : ops) {
    const double ns = time_ns(d.n, repeats, op.body);
    checksum += d.out7[7 * m] + d.out6[6 * m] + d.out3[3 * m] + d.out4[4 * m];  // keeps the results alive
    std::printf(", \"%s\": %.3f", op.name, ns);
    std::fflush(stdout);
  }
  std::printf(", \"checksum\": %.6g}\n", checksum);
}

}  // namespace loops
