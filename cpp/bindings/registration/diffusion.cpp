// Bindings of the SE(3) diffusion kernels: the cosine schedule, forward noising
// and the posterior step, batched over elements with the GIL released.
#include <manif_py/diffusion/se3_diffusion.h>

#include "reg_args.h"

namespace manif_py::py_bind {
namespace {

using diffusion::CosineSchedule;

CosineSchedule make_schedule(int64_t T, double s, const std::string& fn) {
  if (T < 1 || T > 1000000) throw py::value_error(fn + ": argument 'T' must be an integer in [1, 1e6], got " + std::to_string(T));
  reg::check_finite_scalar(s, fn, "s", true);
  return CosineSchedule(static_cast<int>(T), s);
}

/// Time steps: integers in [1, T], shape (N,) or a scalar.
BatchArg<int64_t> read_steps(py::handle h, int64_t T, const std::string& fn) {
  if (h.is_none()) throw py::type_error(fn + ": argument 't' must be integers of shape (N,), got None");
  py::array raw = py::array::ensure(h);
  if (!raw) {
    PyErr_Clear();
    throw py::type_error(fn + ": argument 't' must be integers of shape (N,)");
  }
  const char k = raw.dtype().kind();
  if (k != 'i' && k != 'u')
    throw py::type_error(fn + ": argument 't' must hold integers (shape (N,)), got dtype " + std::string(py::str(raw.dtype())));
  BatchArg<int64_t> t = batch_arg<int64_t>(raw, {}, fn, "t");
  const int64_t* p = t.arr.data();
  for (py::ssize_t i = 0; i < t.arr.size(); ++i)
    if (p[i] < 1 || p[i] > T)
      throw py::value_error(fn + ": argument 't' element " + std::to_string(i) + " = " + std::to_string(p[i]) +
                            " is outside [1, T] = [1, " + std::to_string(T) + "]");
  return t;
}

/// The steps' batch shape as a BatchArg<S>, for batch_size (which takes one type).
template <class S>
BatchArg<S> shape_of(const BatchArg<int64_t>& t) {
  BatchArg<S> a;
  a.n = t.n;
  a.stride = t.stride;
  a.name = t.name;
  return a;
}

void check_sigma(double sr, double st, const std::string& fn) {
  if (!std::isfinite(sr) || !std::isfinite(st) || sr < 0 || st < 0)
    throw py::value_error(fn + ": argument 'sigma' must be two finite non-negative numbers (rotation, translation)");
}

template <class S>
py::array diffuse_impl(py::handle H0h, py::handle th, py::handle epsh, int64_t T, double sr, double st, double s) {
  const std::string fn = "diffuse";
  const CosineSchedule sch = make_schedule(T, s, fn);
  check_sigma(sr, st, fn);
  const auto H0 = batch_arg<S>(H0h, {7}, fn, "H0");
  const auto eps = batch_arg<S>(epsh, {6}, fn, "eps");
  const auto t = read_steps(th, T, fn);
  const int64_t n = batch_size(fn, H0, eps, shape_of<S>(t));
  BatchOut<S> out(n, {7});
  BatchErrors err;
  run_batch(fn, n, err, [&](int64_t i) {
    SE3<S> g;
    Eigen::Matrix<S, 6, 1> e;
    if (!load_group(H0, i, g, err) || !load_vec<6>(eps, i, e, err)) return out.fill_nan(i);
    out.put_group(i, diffusion::diffuse(g, e, sch.alpha_bar[*t.at(i)], S(sr), S(st)));
  });
  return out.arr;
}

template <class S>
py::array posterior_impl(py::handle H0h, py::handle Hh, py::handle th, py::handle epsh, int64_t T, double sr, double st,
                         double s) {
  const std::string fn = "posterior_step";
  const CosineSchedule sch = make_schedule(T, s, fn);
  check_sigma(sr, st, fn);
  const auto H0 = batch_arg<S>(H0h, {7}, fn, "H0_hat");
  const auto H = batch_arg<S>(Hh, {7}, fn, "H");
  const auto t = read_steps(th, T, fn);
  const bool noisy = !epsh.is_none();
  const auto eps = noisy ? batch_arg<S>(epsh, {6}, fn, "eps") : BatchArg<S>{};
  const int64_t n = noisy ? batch_size(fn, H0, H, shape_of<S>(t), eps) : batch_size(fn, H0, H, shape_of<S>(t));
  BatchOut<S> out(n, {7});
  BatchErrors err;
  run_batch(fn, n, err, [&](int64_t i) {
    SE3<S> a, b;
    if (!load_group(H0, i, a, err) || !load_group(H, i, b, err)) return out.fill_nan(i);
    const int64_t ti = *t.at(i);
    Eigen::Matrix<S, 6, 1> e;
    // No noise is added on the last step (t = 1), as in DDPM sampling.
    const bool add_noise = noisy && ti > 1;
    if (add_noise && !load_vec<6>(eps, i, e, err)) return out.fill_nan(i);
    out.put_group(i, diffusion::posterior_step(a, b, sch.gamma0[ti], sch.gamma1[ti], sch.beta_tilde[ti],
                                               add_noise ? &e : nullptr, S(sr), S(st)));
  });
  return out.arr;
}

}  // namespace

void bind_diffusion(py::module_& m) {
  m.def(
      "cosine_schedule",
      [](int64_t T, double s) {
        const CosineSchedule sch = make_schedule(T, s, "cosine_schedule");
        py::dict d;
        const auto arr = [](const std::vector<double>& v) {
          py::array_t<double> a(static_cast<py::ssize_t>(v.size()));
          std::copy(v.begin(), v.end(), a.mutable_data());
          return a;
        };
        d["alpha_bar"] = arr(sch.alpha_bar);
        d["beta"] = arr(sch.beta);
        d["alpha"] = arr(sch.alpha);
        d["gamma0"] = arr(sch.gamma0);
        d["gamma1"] = arr(sch.gamma1);
        d["beta_tilde"] = arr(sch.beta_tilde);
        return d;
      },
      py::arg("T"), py::arg("s") = 0.008);
  m.def(
      "diffuse",
      [](py::handle H0, py::handle t, py::handle eps, int64_t T, double sigma_rot, double sigma_trans, double s) {
        return is_float32(H0) ? diffuse_impl<float>(H0, t, eps, T, sigma_rot, sigma_trans, s)
                              : diffuse_impl<double>(H0, t, eps, T, sigma_rot, sigma_trans, s);
      },
      py::arg("H0"), py::arg("t"), py::arg("eps"), py::arg("T") = 200, py::arg("sigma_rot") = 0.05,
      py::arg("sigma_trans") = 0.03, py::arg("s") = 0.008);
  m.def(
      "posterior_step",
      [](py::handle H0_hat, py::handle H, py::handle t, py::handle eps, int64_t T, double sigma_rot, double sigma_trans,
         double s) {
        return is_float32(H0_hat) ? posterior_impl<float>(H0_hat, H, t, eps, T, sigma_rot, sigma_trans, s)
                                  : posterior_impl<double>(H0_hat, H, t, eps, T, sigma_rot, sigma_trans, s);
      },
      py::arg("H0_hat"), py::arg("H"), py::arg("t"), py::arg("eps") = py::none(), py::arg("T") = 200,
      py::arg("sigma_rot") = 0.05, py::arg("sigma_trans") = 0.03, py::arg("s") = 0.008);
}

}  // namespace manif_py::py_bind
