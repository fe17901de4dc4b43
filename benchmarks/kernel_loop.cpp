// manif_py's own scalar kernels (cpp/include, Ops<G>) in a plain single-threaded
// C++ loop, without Python: separates the cost of the kernels and of the
// per-element input validation from that of the bindings.
//
// Mode "validated" loads every element as the batch bindings do (inspect_rep on
// group elements, a finiteness check on tangents and points); mode "raw" skips it.
//
// Build: g++ -O3 -DNDEBUG -fno-math-errno -std=c++17 -I<cpp/include> -I<eigen3> kernel_loop.cpp
// Run:   ./kernel_loop N [repeats] [validated|raw]   -> one JSON object, ns per element per op.
#include <manif_py/lie/ops.h>
#include <manif_py/lie/validate.h>

#include <cmath>
#include <cstring>

#include "loop_common.h"

namespace {

using SE3 = manif_py::SE3<double>;
using SO3 = manif_py::SO3<double>;
constexpr auto kRight = manif_py::Convention::Right;

/// A group element read in place from its storage, validated as the batch bindings'
/// load_group does when V (finiteness, unit norm; renormalised only beyond rounding).
template <class G, bool V>
G load(const double* p) {
  const Eigen::Map<const typename G::DataType> m(p);
  if constexpr (V) {
    bool renormalise = false;
    if (manif_py::inspect_rep<G>(m, renormalise) != manif_py::RepStatus::Ok) std::abort();
    if (renormalise) {
      typename G::DataType d = m;
      manif_py::renormalise_rep<G>(d);
      return G(d);
    }
  }
  return G(m);
}

/// A fixed-size vector, checked for NaN/inf (one test on the sum) when V.
template <int N, bool V>
Eigen::Matrix<double, N, 1> load_vec(const double* p) {
  const Eigen::Map<const Eigen::Matrix<double, N, 1>> m(p);
  if constexpr (V) {
    if (!std::isfinite(m.sum())) std::abort();
  }
  return m;
}

template <int N, class V>
void store(double* p, const V& v) {
  Eigen::Map<Eigen::Matrix<double, N, 1>>{p} = v;
}

/// A group element written as the batch bindings write it (G::store, straight from
/// the members): storing .coeffs() builds a temporary vector first, and reading it
/// back at odd offsets stalls store forwarding (it made SE3 compose look 2x slower).
template <class G>
void store_group(double* p, const G& g) {
  g.store(p);
}

/// The ops, with (V) or without per-element validation compiled in.
template <bool V>
std::vector<loops::Op> make_ops(loops::Data& d) {
  const int64_t n = d.n;
  using O = manif_py::Ops<SE3>;
  using OS = manif_py::Ops<SO3>;
  return std::vector<loops::Op>{
      {"se3_exp", [&d, n] {
         for (int64_t i = 0; i < n; ++i)
           store_group(&d.out7[7 * i], O::exp(SE3::Tangent(load_vec<6, V>(&d.tau[6 * i])), nullptr, kRight));
       }},
      {"se3_log", [&d, n] {
         for (int64_t i = 0; i < n; ++i) store<6>(&d.out6[6 * i], O::log(load<SE3, V>(&d.X[7 * i]), nullptr, kRight).coeffs());
       }},
      {"se3_compose", [&d, n] {
         for (int64_t i = 0; i < n; ++i)
           store_group(&d.out7[7 * i], O::compose(load<SE3, V>(&d.X[7 * i]), load<SE3, V>(&d.Y[7 * i]), nullptr, nullptr, kRight));
       }},
      {"se3_inverse", [&d, n] {
         for (int64_t i = 0; i < n; ++i) store_group(&d.out7[7 * i], O::inverse(load<SE3, V>(&d.X[7 * i]), nullptr, kRight));
       }},
      {"se3_act", [&d, n] {
         for (int64_t i = 0; i < n; ++i)
           store<3>(&d.out3[3 * i], O::act(load<SE3, V>(&d.X[7 * i]), load_vec<3, V>(&d.P[3 * i]), nullptr, nullptr, kRight));
       }},
      {"se3_act_one", [&d, n] {
         const Eigen::Matrix4d M = load<SE3, V>(&d.X[0]).matrix();
         for (int64_t i = 0; i < n; ++i)
           store<3>(&d.out3[3 * i], M.topLeftCorner<3, 3>() * load_vec<3, V>(&d.P[3 * i]) + M.topRightCorner<3, 1>());
       }},
      {"so3_exp", [&d, n] {
         for (int64_t i = 0; i < n; ++i)
           store_group(&d.out4[4 * i], OS::exp(SO3::Tangent(load_vec<3, V>(&d.th[3 * i])), nullptr, kRight));
       }},
      {"so3_log", [&d, n] {
         for (int64_t i = 0; i < n; ++i) store<3>(&d.out3[3 * i], OS::log(load<SO3, V>(&d.Q[4 * i]), nullptr, kRight).coeffs());
       }},
  };
}

}  // namespace

int main(int argc, char** argv) {
  loops::Data d(argc > 1 ? std::atoll(argv[1]) : 1000000);
  const int reps = argc > 2 ? std::atoi(argv[2]) : 7;
  const bool raw = argc > 3 && std::strcmp(argv[3], "raw") == 0;
  loops::run_ops(d, raw ? make_ops<false>(d) : make_ops<true>(d), reps);
  return 0;
}
