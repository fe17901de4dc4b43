// Bindings of the batched weighted Procrustes solver and its analytic backward.
#include <manif_py/registration/parallel_items.h>
#include <manif_py/registration/procrustes.h>

#include "reg_args.h"

namespace manif_py::py_bind {
namespace {

namespace rg = manif_py::registration;
using reg::Arr;
using reg::read_array;

struct Problem {
  py::ssize_t B = 0, P = 0;
};

/// src, tgt (B, P, 3) and w (B, P) >= 0, read and checked together.
template <class S>
Problem read_problem(py::handle srch, py::handle tgth, py::handle wh, const std::string& fn, Arr<S>& src, Arr<S>& tgt,
                     Arr<S>& w) {
  src = read_array<S>(srch, fn, "src", {-1, -1, 3}, "(B, P, 3)");
  const Problem pr{src.shape(0), src.shape(1)};
  const std::string bp = "(B, P) = (" + std::to_string(pr.B) + ", " + std::to_string(pr.P) + ")";
  tgt = read_array<S>(tgth, fn, "tgt", {pr.B, pr.P, 3}, "(B, P, 3) = (" + std::to_string(pr.B) + ", " + std::to_string(pr.P) + ", 3) like 'src'");
  w = read_array<S>(wh, fn, "w", {pr.B, pr.P}, bp + " like 'src'");
  reg::require_nonempty(src, 0, fn, "src", "problems (B = 0)");
  reg::require_nonempty(src, 1, fn, "src", "points (P = 0)");
  const S* wp = w.data();
  for (py::ssize_t i = 0; i < w.size(); ++i)
    if (wp[i] < S(0))
      throw py::value_error(fn + ": argument 'w' must be non-negative (shape " + bp + "), element " +
                            std::to_string(i) + " is " + std::to_string(double(wp[i])));
  return pr;
}

template <class S>
py::tuple procrustes_impl(py::handle srch, py::handle tgth, py::handle wh, double eps) {
  const std::string fn = "weighted_procrustes";
  reg::check_finite_scalar(eps, fn, "eps", false);
  Arr<S> src, tgt, w;
  const Problem pr = read_problem<S>(srch, tgth, wh, fn, src, tgt, w);
  py::array_t<S> R({pr.B, py::ssize_t(3), py::ssize_t(3)});
  py::array_t<S> t({pr.B, py::ssize_t(3)});
  py::array_t<bool> ok(pr.B);
  const S *ps = src.data(), *pt = tgt.data(), *pw = w.data();
  S *pR = R.mutable_data(), *ptt = t.mutable_data();
  bool* pok = ok.mutable_data();
  {
    py::gil_scoped_release release;
    rg::parallel_items(pr.B, 1 + pr.P / 4, [&](int64_t b) {
      pok[b] = rg::weighted_procrustes(ps + 3 * pr.P * b, pt + 3 * pr.P * b, pw + pr.P * b, pr.P, eps, pR + 9 * b, ptt + 3 * b);
    });
  }
  return py::make_tuple(R, t, ok);
}

template <class S>
py::tuple backward_impl(py::handle srch, py::handle tgth, py::handle wh, py::handle Rh, py::handle th, py::handle gRh,
                        py::handle gth, double eps) {
  const std::string fn = "weighted_procrustes_backward";
  reg::check_finite_scalar(eps, fn, "eps", false);
  Arr<S> src, tgt, w;
  const Problem pr = read_problem<S>(srch, tgth, wh, fn, src, tgt, w);
  const std::string b33 = "(B, 3, 3) with B = " + std::to_string(pr.B);
  const std::string b3 = "(B, 3) with B = " + std::to_string(pr.B);
  const Arr<S> R = read_array<S>(Rh, fn, "R", {pr.B, 3, 3}, b33);
  read_array<S>(th, fn, "t", {pr.B, 3}, b3);  // checked for consistency; the gradient does not need it
  const Arr<S> gR = read_array<S>(gRh, fn, "grad_R", {pr.B, 3, 3}, b33);
  const Arr<S> gt = read_array<S>(gth, fn, "grad_t", {pr.B, 3}, b3);
  py::array_t<S> g_src({pr.B, pr.P, py::ssize_t(3)});
  py::array_t<S> g_tgt({pr.B, pr.P, py::ssize_t(3)});
  py::array_t<S> g_w({pr.B, pr.P});
  const S *ps = src.data(), *pt = tgt.data(), *pw = w.data(), *pR = R.data(), *pgR = gR.data(), *pgt = gt.data();
  S *os = g_src.mutable_data(), *ot = g_tgt.mutable_data(), *ow = g_w.mutable_data();
  {
    py::gil_scoped_release release;
    rg::parallel_items(pr.B, 1 + pr.P / 2, [&](int64_t b) {
      const int64_t o3 = 3 * pr.P * b;
      rg::weighted_procrustes_backward(ps + o3, pt + o3, pw + pr.P * b, pr.P, pR + 9 * b, pgR + 9 * b, pgt + 3 * b, eps,
                                       os + o3, ot + o3, ow + pr.P * b);
    });
  }
  return py::make_tuple(g_src, g_tgt, g_w);
}

}  // namespace

void bind_procrustes(py::module_& m) {
  m.def(
      "weighted_procrustes",
      [](py::handle src, py::handle tgt, py::handle w, double eps) {
        return reg::wants_float32(src) ? procrustes_impl<float>(src, tgt, w, eps) : procrustes_impl<double>(src, tgt, w, eps);
      },
      py::arg("src"), py::arg("tgt"), py::arg("w"), py::arg("eps") = 1e-8);
  m.def(
      "weighted_procrustes_backward",
      [](py::handle src, py::handle tgt, py::handle w, py::handle R, py::handle t, py::handle grad_R, py::handle grad_t,
         double eps) {
        return reg::wants_float32(src) ? backward_impl<float>(src, tgt, w, R, t, grad_R, grad_t, eps)
                                       : backward_impl<double>(src, tgt, w, R, t, grad_R, grad_t, eps);
      },
      py::arg("src"), py::arg("tgt"), py::arg("w"), py::arg("R"), py::arg("t"), py::arg("grad_R"), py::arg("grad_t"),
      py::arg("eps") = 1e-8);
}

}  // namespace manif_py::py_bind
