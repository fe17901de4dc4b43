// Where the time of a batch call goes, piece by piece, in C++ alone (no Python):
// the SE3 compose kernel into a reused output, with the bindings' per-element
// validation, into a fresh output per call (page faults, with and without huge
// pages), the fixed costs of a call (hardware_concurrency, a thread start), and
// the Jacobian kernels (compute and store). bench_batch.py measures the whole calls.
//
// Build: g++ -O3 -DNDEBUG -fno-math-errno -std=c++17 -I<cpp/include> -I<eigen3> batch_costs.cpp -pthread
// Run:   ./batch_costs [N]   -> one line per piece, ns per element (or per call).
#include <manif_py/lie.h>
#include <manif_py/lie/ops.h>
#include <manif_py/lie/validate.h>
#include <sys/mman.h>

#include <cstdlib>
#include <thread>

#include "loop_common.h"

namespace {

using SE3 = manif_py::SE3<double>;
using O = manif_py::Ops<SE3>;
using J6 = Eigen::Matrix<double, 6, 6>;
constexpr auto kRight = manif_py::Convention::Right;

SE3 load(const double* p, bool check) {
  const Eigen::Map<const Eigen::Matrix<double, 7, 1>> m(p);
  if (check) {
    bool renormalise = false;
    if (manif_py::inspect_rep<SE3>(m, renormalise) != manif_py::RepStatus::Ok) std::abort();
  }
  return SE3(m);
}

void compose_into(const loops::Data& d, double* out, bool check) {
  for (int64_t i = 0; i < d.n; ++i) O::compose(load(&d.X[7 * i], check), load(&d.Y[7 * i], check), nullptr, nullptr, kRight).store(out + 7 * i);
}

/// A fresh output per call, as numpy gives: its pages are faulted in (and zeroed
/// by the kernel) while the kernel writes them.
void compose_fresh(const loops::Data& d, bool huge) {
  const size_t bytes = size_t(7) * d.n * sizeof(double);
  void* p = std::aligned_alloc(size_t(1) << 21, (bytes + (size_t(1) << 21) - 1) & ~((size_t(1) << 21) - 1));
  if (huge) madvise(p, bytes, MADV_HUGEPAGE);
  compose_into(d, static_cast<double*>(p), false);
  volatile double keep = static_cast<double*>(p)[d.n];
  (void)keep;
  std::free(p);
}

void put6(double* p, const Eigen::Matrix<double, 6, 1>& v) {
  Eigen::Map<Eigen::Matrix<double, 6, 1>> m(p);
  m = v;
}

void put(double* p, const J6& j) {
  Eigen::Map<Eigen::Matrix<double, 6, 6, Eigen::RowMajor>> m(p);
  m = j;
}

}  // namespace

int main(int argc, char** argv) {
  const loops::Data d(argc > 1 ? std::atoll(argv[1]) : 1000000);
  const int64_t n = d.n;
  std::vector<double> out(7 * n), Ja(36 * n), Jb(36 * n), out6(6 * n);
  auto row = [](const char* what, double ns) { std::printf("%-52s %8.1f\n", what, ns); };
  row("compose, reused output, unchecked (ns/el)", loops::time_ns(n, 7, [&] { compose_into(d, out.data(), false); }));
  row("compose, reused output, validated (ns/el)", loops::time_ns(n, 7, [&] { compose_into(d, out.data(), true); }));
  row("compose, fresh output per call, 4 KiB pages (ns/el)", loops::time_ns(n, 7, [&] { compose_fresh(d, false); }));
  row("compose, fresh output per call, huge pages (ns/el)", loops::time_ns(n, 7, [&] { compose_fresh(d, true); }));
  {
    const int calls = 2000;
    unsigned sum = 0;
    const double hc = loops::time_ns(calls, 3, [&] { for (int c = 0; c < calls; ++c) sum += std::thread::hardware_concurrency(); });
    row("std::thread::hardware_concurrency() (ns/call)", hc);
    const double spawn = loops::time_ns(200, 3, [&] { for (int c = 0; c < 200; ++c) std::thread([] {}).join(); });
    row("start + join one thread (ns/call)", spawn);
    if (sum == 0) std::abort();
  }
  const auto X = [&](int64_t i) { return load(&d.X[7 * i], false); };
  const auto Y = [&](int64_t i) { return load(&d.Y[7 * i], false); };
  const auto T = [&](int64_t i) { return SE3::Tangent(Eigen::Map<const Eigen::Matrix<double, 6, 1>>(&d.tau[6 * i])); };
  row("compose + J_z_x + J_z_y, stored (ns/el)", loops::time_ns(n, 5, [&] {
        for (int64_t i = 0; i < n; ++i) {
          J6 a, b;
          O::compose(X(i), Y(i), &a, &b, kRight).store(&out[7 * i]);
          put(&Ja[36 * i], a), put(&Jb[36 * i], b);
        }
      }));
  row("storing two 6x6 matrices alone (ns/el)", loops::time_ns(n, 5, [&] {
        for (int64_t i = 0; i < n; ++i) {
          const J6 a = J6::Constant(double(i));
          put(&Ja[36 * i], a), put(&Jb[36 * i], a);
        }
      }));
  row("Log (ns/el)", loops::time_ns(n, 5, [&] {
        for (int64_t i = 0; i < n; ++i) put6(&out6[6 * i], O::log(X(i), nullptr, kRight).coeffs());
      }));
  row("Log + J, stored (ns/el)", loops::time_ns(n, 5, [&] {
        for (int64_t i = 0; i < n; ++i) {
          J6 a;
          put6(&out6[6 * i], O::log(X(i), &a, kRight).coeffs());
          put(&Ja[36 * i], a);
        }
      }));
  row("Exp (ns/el)", loops::time_ns(n, 5, [&] { for (int64_t i = 0; i < n; ++i) O::exp(T(i), nullptr, kRight).store(&out[7 * i]); }));
  row("Exp + J, stored (ns/el)", loops::time_ns(n, 5, [&] {
        for (int64_t i = 0; i < n; ++i) {
          J6 a;
          O::exp(T(i), &a, kRight).store(&out[7 * i]);
          put(&Ja[36 * i], a);
        }
      }));
  return 0;
}
