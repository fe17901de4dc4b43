// Bindings of the per-element decomposition kernels: polar, the SPD matrix
// functions, the chart xi and its inverse with Jacobians, hat / vee, haar_weight.
#include <manif_py/decomp/chart.h>
#include <manif_py/decomp/spd.h>

#include <type_traits>

#include "decomp_args.h"

namespace manif_py::decomp_bind {
namespace {

template <class S, int N>
using RowMat = Eigen::Matrix<S, N, N, Eigen::RowMajor>;

/// Calls f(S{}, integral_constant<int, N>{}) for the runtime (float32?, n).
template <class F>
py::object dispatch(bool f32, int n, const F& f) {
  using I2 = std::integral_constant<int, 2>;
  using I3 = std::integral_constant<int, 3>;
  if (f32) return n == 2 ? f(float{}, I2{}) : f(float{}, I3{});
  return n == 2 ? f(double{}, I2{}) : f(double{}, I3{});
}

std::string mat_shape(int n) { return "(N, " + std::to_string(n) + ", " + std::to_string(n) + ")"; }

/// A batch of coordinate vectors (N, d), N >= 1.
py::array vector_batch(py::handle h, const std::string& fn, const char* arg, int d) {
  const std::string want = "(N, " + std::to_string(d) + ")";
  py::array a = real_array(h, fn, arg, want);
  if (!(a.ndim() == 2 && a.shape(1) == d))
    throw py::value_error(fn + ": argument '" + arg + "' must have shape " + want + ", got " + shape_of(a));
  if (a.shape(0) == 0)
    throw py::value_error(fn + ": argument '" + arg + "' is an empty batch; expected shape " + want + " with N >= 1");
  return a;
}

py::object polar_py(py::handle g_h) {
  const std::string fn = "polar";
  py::array a = matrix_batch(g_h, fn, "g");
  const int n = int(a.shape(1));
  const int64_t count = a.shape(0);
  return dispatch(is_f32(a), n, [&](auto s, auto nt) -> py::object {
    using S = decltype(s);
    constexpr int N = decltype(nt)::value;
    const S* src = static_cast<const S*>(a.data());
    py::array_t<S> P({py::ssize_t(count), py::ssize_t(N), py::ssize_t(N)}), R({py::ssize_t(count), py::ssize_t(N), py::ssize_t(N)});
    S* pp = P.mutable_data();
    S* rp = R.mutable_data();
    Errors err;
    run_loop(count, [&](int64_t i) {
      const decomp::Mat<S, N> g = Eigen::Map<const RowMat<S, N>>(src + i * N * N);
      decomp::Polar<S, N> pol;
      const Status st = decomp::polar<S>(g, pol);
      if (st != Status::Ok) return err.report(i, st, "g");
      Eigen::Map<RowMat<S, N>>(pp + i * N * N) = pol.P();
      Eigen::Map<RowMat<S, N>>(rp + i * N * N) = pol.R;
    });
    err.raise_if_any(fn, Group::GL2, mat_shape(N) + " with det > 0");
    return py::make_tuple(P, R);
  });
}

template <decomp::SpdFn F>
py::object spd_py(py::handle h, const char* fn_name, const char* arg) {
  const std::string fn = fn_name;
  py::array a = matrix_batch(h, fn, arg);
  const int n = int(a.shape(1));
  const int64_t count = a.shape(0);
  return dispatch(is_f32(a), n, [&](auto s, auto nt) -> py::object {
    using S = decltype(s);
    constexpr int N = decltype(nt)::value;
    const S* src = static_cast<const S*>(a.data());
    py::array_t<S> out({py::ssize_t(count), py::ssize_t(N), py::ssize_t(N)});
    S* op = out.mutable_data();
    Errors err;
    run_loop(count, [&](int64_t i) {
      const decomp::Mat<S, N> A = Eigen::Map<const RowMat<S, N>>(src + i * N * N);
      decomp::Mat<S, N> r;
      const Status st = decomp::spd_function<S, N>(F, A, r);
      if (st != Status::Ok) return err.report(i, st, arg);
      Eigen::Map<RowMat<S, N>>(op + i * N * N) = r;
    });
    err.raise_if_any(fn, Group::GL2, mat_shape(N) + (F == decomp::SpdFn::Exp ? " symmetric" : " symmetric positive definite"));
    return out;
  });
}

py::object chart_py(py::handle group, py::handle x_h, bool jacobians) {
  const std::string fn = "chart";
  const Group grp = parse_group(group, fn);
  const int d = decomp::algebra_dim(grp), n = decomp::matrix_size(grp);
  py::array a = vector_batch(x_h, fn, "x", d);
  const int64_t count = a.shape(0);
  return dispatch(is_f32(a), n, [&](auto s, auto nt) -> py::object {
    using S = decltype(s);
    constexpr int N = decltype(nt)::value;
    const decomp::Basis<S, N> B(grp);
    const S* src = static_cast<const S*>(a.data());
    py::array_t<S> g({py::ssize_t(count), py::ssize_t(N), py::ssize_t(N)});
    py::array_t<S> J;
    if (jacobians) J = py::array_t<S>({py::ssize_t(count), py::ssize_t(N * N), py::ssize_t(d)});
    S* gp = g.mutable_data();
    S* jp = jacobians ? J.mutable_data() : nullptr;
    Errors err;
    run_loop(count, [&](int64_t i) {
      decomp::Mat<S, N> out;
      const Status st = decomp::chart<S, N>(B, src + i * d, out, jp ? jp + i * N * N * d : nullptr);
      if (st != Status::Ok) return err.report(i, st, "x");
      Eigen::Map<RowMat<S, N>>(gp + i * N * N) = out;
    });
    err.raise_if_any(fn, grp, "(N, " + std::to_string(d) + ")");
    if (jacobians) return py::make_tuple(g, J);
    return g;
  });
}

py::object chart_inv_py(py::handle group, py::handle g_h, bool jacobians) {
  const std::string fn = "chart_inv";
  const Group grp = parse_group(group, fn);
  const int d = decomp::algebra_dim(grp), n = decomp::matrix_size(grp);
  py::array a = matrix_batch(g_h, fn, "g", n);
  const int64_t count = a.shape(0);
  return dispatch(is_f32(a), n, [&](auto s, auto nt) -> py::object {
    using S = decltype(s);
    constexpr int N = decltype(nt)::value;
    const decomp::Basis<S, N> B(grp);
    const S* src = static_cast<const S*>(a.data());
    py::array_t<S> x({py::ssize_t(count), py::ssize_t(d)});
    py::array_t<S> J;
    if (jacobians) J = py::array_t<S>({py::ssize_t(count), py::ssize_t(d), py::ssize_t(N * N)});
    S* xp = x.mutable_data();
    S* jp = jacobians ? J.mutable_data() : nullptr;
    Errors err;
    run_loop(count, [&](int64_t i) {
      const decomp::Mat<S, N> g = Eigen::Map<const RowMat<S, N>>(src + i * N * N);
      const Status st = decomp::chart_inv<S, N>(grp, B, g, xp + i * d, jp ? jp + i * d * N * N : nullptr);
      if (st != Status::Ok) return err.report(i, st, "g");
    });
    err.raise_if_any(fn, grp, mat_shape(N) + " in " + group_name(grp));
    if (jacobians) return py::make_tuple(x, J);
    return x;
  });
}

py::object hat_py(py::handle group, py::handle x_h) {
  const std::string fn = "hat";
  const Group grp = parse_group(group, fn);
  const int d = decomp::algebra_dim(grp), n = decomp::matrix_size(grp);
  py::array a = vector_batch(x_h, fn, "x", d);
  const int64_t count = a.shape(0);
  return dispatch(is_f32(a), n, [&](auto s, auto nt) -> py::object {
    using S = decltype(s);
    constexpr int N = decltype(nt)::value;
    const decomp::Basis<S, N> B(grp);
    const S* src = static_cast<const S*>(a.data());
    py::array_t<S> X({py::ssize_t(count), py::ssize_t(N), py::ssize_t(N)});
    S* op = X.mutable_data();
    Errors err;
    run_loop(count, [&](int64_t i) {
      const S* xi = src + i * d;
      for (int k = 0; k < d; ++k)
        if (!std::isfinite(xi[k])) return err.report(i, Status::NotFinite, "x");
      Eigen::Map<RowMat<S, N>>(op + i * N * N) = B.hat(xi);
    });
    err.raise_if_any(fn, grp, "(N, " + std::to_string(d) + ")");
    return X;
  });
}

py::object vee_py(py::handle group, py::handle X_h) {
  const std::string fn = "vee";
  const Group grp = parse_group(group, fn);
  const int d = decomp::algebra_dim(grp), n = decomp::matrix_size(grp);
  py::array a = matrix_batch(X_h, fn, "X", n);
  const int64_t count = a.shape(0);
  return dispatch(is_f32(a), n, [&](auto s, auto nt) -> py::object {
    using S = decltype(s);
    constexpr int N = decltype(nt)::value;
    const decomp::Basis<S, N> B(grp);
    const S* src = static_cast<const S*>(a.data());
    py::array_t<S> x({py::ssize_t(count), py::ssize_t(d)});
    S* op = x.mutable_data();
    Errors err;
    run_loop(count, [&](int64_t i) {
      const decomp::Mat<S, N> X = Eigen::Map<const RowMat<S, N>>(src + i * N * N);
      if (!X.allFinite()) return err.report(i, Status::NotFinite, "X");
      B.vee(X, op + i * d);
    });
    err.raise_if_any(fn, grp, mat_shape(N));
    return x;
  });
}

py::object haar_weight_py(py::handle g_h) {
  const std::string fn = "haar_weight";
  py::array a = matrix_batch(g_h, fn, "g");
  const int n = int(a.shape(1));
  const int64_t count = a.shape(0);
  return dispatch(is_f32(a), n, [&](auto s, auto nt) -> py::object {
    using S = decltype(s);
    constexpr int N = decltype(nt)::value;
    const S* src = static_cast<const S*>(a.data());
    py::array_t<S> w{py::ssize_t(count)};
    S* wp = w.mutable_data();
    Errors err;
    run_loop(count, [&](int64_t i) {
      const decomp::Mat<S, N> g = Eigen::Map<const RowMat<S, N>>(src + i * N * N);
      const Status st = decomp::check_gl_plus<S, N>(g);
      if (st != Status::Ok) return err.report(i, st, "g");
      // 1 / det g = 2^(-N e) / det(g 2^-e): the determinant at unit scale cannot underflow
      // to a false zero; a weight beyond the largest finite S is an overflow, not a singular g.
      const int e = decomp::scale_exponent<S, N>(g);
      wp[i] = std::ldexp(S(1) / decomp::scaled<S, N>(g, e).determinant(), -N * e);
      if (!std::isfinite(wp[i])) err.report(i, Status::Overflow, "g");
    });
    err.raise_if_any(fn, Group::GL2, mat_shape(N) + " with det > 0");
    return w;
  });
}

}  // namespace

void bind_groups(py::module_& m) {
  m.def("polar", &polar_py, py::arg("g"));
  m.def("spd_exp", [](py::handle S) { return spd_py<decomp::SpdFn::Exp>(S, "spd_exp", "S"); }, py::arg("S"));
  m.def("spd_log", [](py::handle P) { return spd_py<decomp::SpdFn::Log>(P, "spd_log", "P"); }, py::arg("P"));
  m.def("spd_sqrt", [](py::handle P) { return spd_py<decomp::SpdFn::Sqrt>(P, "spd_sqrt", "P"); }, py::arg("P"));
  m.def("spd_inv_sqrt", [](py::handle P) { return spd_py<decomp::SpdFn::InvSqrt>(P, "spd_inv_sqrt", "P"); }, py::arg("P"));
  m.def("chart", &chart_py, py::arg("group"), py::arg("x"), py::arg("jacobians") = false);
  m.def("chart_inv", &chart_inv_py, py::arg("group"), py::arg("g"), py::arg("jacobians") = false);
  m.def("hat", &hat_py, py::arg("group"), py::arg("x"));
  m.def("vee", &vee_py, py::arg("group"), py::arg("X"));
  m.def("haar_weight", &haar_weight_py, py::arg("g"));
}

}  // namespace manif_py::decomp_bind
