// One templated binding of a group and its tangent for single elements,
// instantiated once per group (the bindings are not written eight times).
#pragma once

#include <pybind11/stl.h>

#include <manif_py/lie/ops.h>

#include "construct_guard.h"
#include "convert.h"

namespace manif_py::py_bind {

template <class T>
inline T random_from(py::handle seed) {
  if (seed.is_none()) return T::Random(global_rng());
  Rng rng(read_seed(seed, "Random"));
  return T::Random(rng);
}

template <class G>
struct SingleBinder {
  using Tr = LieTraits<G>;
  using S = double;
  static constexpr int DoF = Tr::DoF, Rep = Tr::RepSize, Dim = Tr::Dim, Mat = Tr::MatSize;
  using Tangent = typename Tr::Tangent;
  using O = Ops<G>;
  using Jac = typename O::Jac;
  using Point = typename O::Point;

  std::string gname, tname;

  static G make_group(py::handle h, const std::string& fn, const char* arg) {
    auto d = read_vector<Rep>(h, fn, arg);
    check_group_rep<G>(d, fn, arg);
    return G(d);
  }
  /// Arithmetic must not build what the constructor refuses (x / 0, x * nan, overflow).
  static Tangent finite_tangent(const typename Tangent::DataType& v, const std::string& fn) {
    if (!v.allFinite()) throw py::value_error(fn + ": result is not finite (NaN or inf); check the scalar operand");
    return Tangent(v);
  }
  /// Exp of a huge tangent overflows (a scale exp(1e8), a rotation angle whose norm is inf):
  /// refuse it instead of returning an element the constructor would refuse.
  static const G& finite_group(const G& x, const std::string& fn,
                               const char* why = "the tangent is too large for this map") {
    if (!x.coeffs().allFinite()) throw py::value_error(fn + ": result is not finite (" + why + ")");
    return x;
  }
  /// Jacobians overflow before the element does (SGal3, Sim3 at |tau| ~ 1e18): refuse them too.
  template <class... J>
  static void finite_jacobians(const std::string& fn, const J&... js) {
    if (!(std::isfinite(js.sum()) && ...))
      throw py::value_error(fn + ": Jacobians are not finite (the tangent is too large for this map)");
  }
  static Tangent read_tangent(py::handle h, const std::string& fn, const char* arg) {
    if (py::isinstance<Tangent>(h)) return h.cast<const Tangent&>();
    return Tangent(read_vector<DoF>(h, fn, arg));
  }

  /// result alone, or (result, J...) as numpy arrays when Jacobians were asked for.
  template <class R, class... J>
  static py::object pack(bool jac, R&& r, const J&... js) {
    if (!jac) return py::cast(std::forward<R>(r));
    return py::make_tuple(py::cast(std::forward<R>(r)), to_array(js)...);
  }

  void bind_tangent(py::module_& m) const {
    const std::string tn = tname;
    py::class_<Tangent> t(m, tn.c_str(),
                          ("Tangent (Lie algebra coordinates) of " + gname + ", " + std::to_string(DoF) +
                           " coefficients. Construct from an array of shape (" + std::to_string(DoF) + ",).").c_str());
    t.def(py::init([tn](py::handle v) { return Tangent(read_vector<DoF>(v, tn, "coeffs")); }), py::arg("coeffs"))
        .def_static("Zero", [] { return Tangent(); })
        .def_static("Random", [](py::handle seed) {
          // Uniform in [-1, 1] per coordinate (pi-scaled for angles is left to the user).
          Rng rng = seed.is_none() ? Rng(global_rng()()) : Rng(read_seed(seed, "Random"));
          std::uniform_real_distribution<double> u(-1.0, 1.0);
          typename Tangent::DataType v;
          for (int i = 0; i < DoF; ++i) v(i) = u(rng);
          return Tangent(v);
        }, py::arg("seed") = py::none())
        .def_property_readonly_static("dof", [](py::handle) { return DoF; })
        .def("coeffs", [](const Tangent& a) { return to_vec(a.coeffs()); }, "The coefficients as a numpy array (dof,).")
        .def("hat", [](const Tangent& a) { return to_array(a.hat()); }, "Lie algebra matrix (the paper's tau^).")
        .def_static("vee", [tn](py::handle M) { return Tangent::vee(read_matrix<Mat, Mat>(M, tn + ".vee", "M")); },
                    py::arg("M"), "Tangent from a Lie algebra matrix (inverse of hat).")
        .def("Exp", [tn](const Tangent& a, bool jac, py::handle conv) {
          const Convention c = parse_convention(conv, "Exp");
          if (!jac) return py::cast(finite_group(a.Exp(), tn + ".Exp"));
          Jac J;
          const G x = O::exp(a, &J, c);
          return pack(true, finite_group(x, tn + ".Exp"), J);
        }, py::arg("jacobians") = false, py::arg("convention") = "right",
             "Exp map to the group; with jacobians=True also J_X_tau (Jr, or Jl for convention='left').")
        .def("exp", [tn](const Tangent& a) { return finite_group(a.Exp(), tn + ".exp"); }, "Same element as Exp (exp(tau^) for the matrix form).")
        .def("Jr", [](const Tangent& a) { return to_array(a.Jr()); }, "Right Jacobian Jr(tau).")
        .def("Jl", [](const Tangent& a) { return to_array(a.Jl()); }, "Left Jacobian Jl(tau) = Jr(-tau).")
        .def("Jr_inv", [](const Tangent& a) { return to_array(a.Jr_inv()); }, "Inverse of the right Jacobian.")
        .def("Jl_inv", [](const Tangent& a) { return to_array(a.Jl_inv()); }, "Inverse of the left Jacobian.")
        .def("ad", [](const Tangent& a) { return to_array(a.ad()); }, "Small adjoint matrix: ad(a) b = [a, b].")
        .def("bracket", [](const Tangent& a, const Tangent& b) { return a.bracket(b); }, py::arg("other"),
             "Lie bracket [a, b] = vee(a^ b^ - b^ a^).")
        .def_static("generator", [tn](int i) {
          if (i < 0 || i >= DoF) throw py::value_error(tn + ".generator: argument 'i' must be in [0, " + std::to_string(DoF) + "), got " + std::to_string(i));
          return to_array(Tangent::generator(i));
        }, py::arg("i"), "The i-th generator E_i = hat(e_i).")
        .def("inner", [](const Tangent& a, const Tangent& b) { return a.inner(b); }, py::arg("other"))
        .def("norm", [](const Tangent& a) { return a.coeffs().norm(); })
        .def("weighted_norm", [tn](const Tangent& a, py::handle W) {
          return a.weightedNorm(read_matrix<DoF, DoF>(W, tn + ".weighted_norm", "W"));
        }, py::arg("W"), "sqrt(tau^T W tau).")
        .def("__add__", [](const Tangent& a, const Tangent& b) { return Tangent(a.coeffs() + b.coeffs()); })
        .def("__sub__", [](const Tangent& a, const Tangent& b) { return Tangent(a.coeffs() - b.coeffs()); })
        .def("__neg__", [](const Tangent& a) { return Tangent(-a.coeffs()); })
        .def("__mul__", [tn](const Tangent& a, double s) { return finite_tangent(s * a.coeffs(), tn + ".__mul__"); })
        .def("__rmul__", [tn](const Tangent& a, double s) { return finite_tangent(s * a.coeffs(), tn + ".__rmul__"); })
        .def("__truediv__", [tn](const Tangent& a, double s) { return finite_tangent(a.coeffs() / s, tn + ".__truediv__"); })
        .def("is_approx", [](const Tangent& a, const Tangent& b, double tol) { return (a.coeffs() - b.coeffs()).norm() <= tol; },
             py::arg("other"), py::arg("tol") = 1e-10)
        .def("__eq__", [](const Tangent& a, py::handle b) {
          if (!py::isinstance<Tangent>(b)) return false;
          return (a.coeffs() - b.cast<const Tangent&>().coeffs()).norm() <= 1e-10;
        })
        .def("__array__", [](const Tangent& a, py::args, py::kwargs) { return to_vec(a.coeffs()); })
        .def("__repr__", [tn](const Tangent& a) { return tn + "(" + std::string(py::repr(to_vec(a.coeffs()).attr("tolist")())) + ")"; })
        .def("__copy__", [](const Tangent& a) { return a; })
        .def("__deepcopy__", [](const Tangent& a, py::handle) { return a; });
    guard_construction(t, [](py::handle self) { return to_vec(self.cast<const Tangent&>().coeffs()); });
    t.attr("__hash__") = py::none();
  }

  py::class_<G> bind_group(py::module_& m) const {
    const std::string gn = gname;
    // Error-message prefixes, built once (not per call).
    const std::string fn_Exp = gn + ".Exp";
    const std::string fn___add__ = gn + ".__add__";
    const std::string fn_act = gn + ".act";
    const std::string fn_average = gn + ".average";
    const std::string fn_exp = gn + ".exp";
    const std::string fn_lplus = gn + ".lplus";
    const std::string fn_rplus = gn + ".rplus";
    const std::string fn_compose = gn + ".compose";
    const std::string fn___mul__ = gn + ".__mul__";
    static constexpr const char* overflow = "the product overflows";
    py::class_<G> g(m, gn.c_str(),
                    (gname + ": element stored as " + std::to_string(Rep) + " coefficients, " + std::to_string(DoF) +
                     " degrees of freedom. Construct from an array of shape (" + std::to_string(Rep) + ",).").c_str());
    g.def(py::init([=](py::handle c) { return make_group(c, gn, "coeffs"); }), py::arg("coeffs"))
        .def_property_readonly_static("dof", [](py::handle) { return DoF; })
        .def_property_readonly_static("rep_size", [](py::handle) { return Rep; })
        .def_property_readonly_static("dim", [](py::handle) { return Dim; })
        .def_static("Identity", [] { return G::Identity(); })
        .def_static("Random", [](py::handle seed) { return random_from<G>(seed); }, py::arg("seed") = py::none(),
                    "A random element (uniform rotation, translation in [-1, 1]^n); seeded when seed is given.")
        .def("coeffs", [](const G& x) { return to_vec(typename G::DataType(x.coeffs())); })
        .def("matrix", [](const G& x) { return to_array(x.matrix()); }, "Homogeneous matrix form.")
        .def("Adj", [](const G& x) { return to_array(x.Adj()); }, "Adjoint matrix: Adj(X) tau = vee(X tau^ X^-1).")
        .def("inverse", [](const G& x, bool jac, py::handle conv) {
          const Convention conv_c = parse_convention(conv, "inverse");
          if (!jac) return py::cast(x.inverse());
          Jac J;
          const G z = O::inverse(x, &J, conv_c);
          return pack(true, z, J);
        }, py::arg("jacobians") = false, py::arg("convention") = "right", "X^-1 [, J_xi_x].")
        .def("compose", [=](const G& x, const G& y, bool jac, py::handle conv) {
          const Convention conv_c = parse_convention(conv, "compose");
          if (!jac) return py::cast(finite_group(x.compose(y), fn_compose, overflow));
          Jac Jx, Jy;
          const G z = O::compose(x, y, &Jx, &Jy, conv_c);
          finite_jacobians(fn_compose, Jx, Jy);
          return pack(true, finite_group(z, fn_compose, overflow), Jx, Jy);
        }, py::arg("other"), py::arg("jacobians") = false, py::arg("convention") = "right", "X Y [, J_z_x, J_z_y].")
        .def("between", [](const G& x, const G& y, bool jac, py::handle conv) {
          const Convention conv_c = parse_convention(conv, "between");
          if (!jac) return py::cast(x.between(y));
          Jac Jx, Jy;
          const G z = O::between(x, y, &Jx, &Jy, conv_c);
          return pack(true, z, Jx, Jy);
        }, py::arg("other"), py::arg("jacobians") = false, py::arg("convention") = "right", "X^-1 Y [, J_z_x, J_z_y].")
        .def("Log", [](const G& x, bool jac, py::handle conv) {
          const Convention conv_c = parse_convention(conv, "Log");
          if (!jac) return py::cast(x.Log());
          Jac J;
          const Tangent t = O::log(x, &J, conv_c);
          return pack(true, t, J);
        }, py::arg("jacobians") = false, py::arg("convention") = "right", "Log map to the tangent [, J_tau_x].")
        .def("log", [](const G& x) { return to_array(x.Log().hat()); }, "log map to the Lie algebra matrix.")
        .def_static("Exp", [=](py::handle tau, bool jac, py::handle conv) {
          const Tangent t = read_tangent(tau, fn_Exp, "tau");
          const Convention conv_c = parse_convention(conv, fn_Exp);
          if (!jac) return py::cast(finite_group(t.Exp(), fn_Exp));
          Jac J;
          const G x = O::exp(t, &J, conv_c);
          finite_jacobians(fn_Exp, J);
          return pack(true, finite_group(x, fn_Exp), J);
        }, py::arg("tau"), py::arg("jacobians") = false, py::arg("convention") = "right",
                    "Exp of a tangent (or an array of shape (dof,)) [, J_x_tau].")
        .def_static("exp", [=](py::handle M) { return finite_group(Tangent::vee(read_matrix<Mat, Mat>(M, fn_exp, "M")).Exp(), fn_exp); },
                    py::arg("M"), "exp of a Lie algebra matrix.")
        .def("act", [=](const G& x, py::handle v, bool jac, py::handle conv) -> py::object {
          const Point p = read_vector<Dim>(v, fn_act, "point");
          const Convention conv_c = parse_convention(conv, fn_act);
          if (!jac) return to_vec(Point(x.act(p)));
          typename O::JacPX Jx;
          typename O::JacPP Jv;
          const Point q = O::act(x, p, &Jx, &Jv, conv_c);
          return py::make_tuple(to_vec(q), to_array(Jx), to_array(Jv));
        }, py::arg("point"), py::arg("jacobians") = false, py::arg("convention") = "right",
             "Action on a point of shape (dim,) [, J_vout_x, J_vout_v].")
        .def("rplus", [=](const G& x, py::handle tau, bool jac, py::handle conv) {
          const Tangent t = read_tangent(tau, fn_rplus, "tau");
          const Convention conv_c = parse_convention(conv, fn_rplus);
          if (!jac) return py::cast(finite_group(x.rplus(t), fn_rplus));
          Jac Jx, Jt;
          const G y = O::rplus(x, t, &Jx, &Jt, conv_c);
          finite_jacobians(fn_rplus, Jx, Jt);
          return pack(true, finite_group(y, fn_rplus), Jx, Jt);
        }, py::arg("tau"), py::arg("jacobians") = false, py::arg("convention") = "right", "X Exp(tau) [, J_y_x, J_y_tau].")
        .def("lplus", [=](const G& x, py::handle tau, bool jac, py::handle conv) {
          const Tangent t = read_tangent(tau, fn_lplus, "tau");
          const Convention conv_c = parse_convention(conv, fn_lplus);
          if (!jac) return py::cast(finite_group(x.lplus(t), fn_lplus));
          Jac Jx, Jt;
          const G y = O::lplus(x, t, &Jx, &Jt, conv_c);
          finite_jacobians(fn_lplus, Jx, Jt);
          return pack(true, finite_group(y, fn_lplus), Jx, Jt);
        }, py::arg("tau"), py::arg("jacobians") = false, py::arg("convention") = "right", "Exp(tau) X [, J_y_x, J_y_tau].")
        .def("rminus", [](const G& x, const G& y, bool jac, py::handle conv) {
          const Convention conv_c = parse_convention(conv, "rminus");
          if (!jac) return py::cast(x.rminus(y));
          Jac Jx, Jy;
          const Tangent t = O::rminus(x, y, &Jx, &Jy, conv_c);
          return pack(true, t, Jx, Jy);
        }, py::arg("other"), py::arg("jacobians") = false, py::arg("convention") = "right",
             "X (-) Y = Log(Y^-1 X), in the frame of Y, so that Y.rplus(X.rminus(Y)) == X [, J_tau_x = Jr^-1, J_tau_y = -Jl^-1].")
        .def("lminus", [](const G& x, const G& y, bool jac, py::handle conv) {
          const Convention conv_c = parse_convention(conv, "lminus");
          if (!jac) return py::cast(x.lminus(y));
          Jac Jx, Jy;
          const Tangent t = O::lminus(x, y, &Jx, &Jy, conv_c);
          return pack(true, t, Jx, Jy);
        }, py::arg("other"), py::arg("jacobians") = false, py::arg("convention") = "right",
             "Log(X Y^-1), in the global frame, so that Y.lplus(X.lminus(Y)) == X [, J_tau_x, J_tau_y].")
        .def("interp", [](const G& x, const G& y, double s, bool jac, py::handle conv) {
          if (!std::isfinite(s)) throw py::value_error("interp: argument 't' must be finite");
          const Convention conv_c = parse_convention(conv, "interp");
          if (!jac) return py::cast(x.interp(y, s));
          Jac Jx, Jy;
          typename O::JacS Js;
          const G z = O::interp(x, y, s, &Jx, &Jy, &Js, conv_c);
          return pack(true, z, Jx, Jy, Js);
        }, py::arg("other"), py::arg("t"), py::arg("jacobians") = false, py::arg("convention") = "right",
             "Geodesic interpolation X Exp(t Log(X^-1 Y)) [, J_z_x, J_z_y, J_z_t].")
        .def("is_approx", [](const G& x, const G& y, double tol) { return x.isApprox(y, tol); },
             py::arg("other"), py::arg("tol") = 1e-10)
        .def("normalize", [](G& x) { x.normalize(); }, "Re-normalise the rotation part in place.")
        .def_static("average", [=](const std::vector<G>& xs, py::object weights, int max_iter, double tol) {
          if (xs.empty()) throw py::value_error(gn + ".average: argument 'elements' must not be empty");
          if (max_iter < 1) value_error(fn_average, "max_iter", "must be >= 1, got " + std::to_string(max_iter));
          if (!(std::isfinite(tol) && tol >= 0)) value_error(fn_average, "tol", "must be finite and >= 0");
          std::vector<double> w(xs.size(), 1.0);
          if (!weights.is_none()) {
            auto a = as_f64(weights, fn_average, "weights");
            if (a.ndim() != 1 || static_cast<size_t>(a.shape(0)) != xs.size())
              value_error(fn_average, "weights", "must have shape (" + std::to_string(xs.size()) + ",), got " + shape_str(a));
            double sum = 0;
            for (size_t i = 0; i < xs.size(); ++i) {
              w[i] = a.data()[i];
              if (!(w[i] >= 0) || !std::isfinite(w[i])) value_error(fn_average, "weights", "must be finite and non-negative");
              sum += w[i];
            }
            if (!(sum > 0)) value_error(fn_average, "weights", "must not sum to zero");
          }
          G mean;
          // A large max_iter over many elements can run for minutes: honour Ctrl-C (the GIL is held).
          G::average(xs, w, mean, max_iter, tol, [] {
            if (PyErr_CheckSignals() != 0) throw py::error_already_set();
          });
          return mean;
        }, py::arg("elements"), py::arg("weights") = py::none(), py::arg("max_iter") = 50, py::arg("tol") = 1e-12,
                    "Bi-invariant (Frechet) mean by fixed-point iteration.")
        .def("__mul__", [=](const G& x, const G& y) { return finite_group(x.compose(y), fn___mul__, overflow); }, py::is_operator())
        .def("__add__", [=](const G& x, py::handle tau) { return finite_group(x.rplus(read_tangent(tau, fn___add__, "tau")), fn___add__); }, py::is_operator())
        .def("__sub__", [](const G& x, const G& y) { return x.rminus(y); }, py::is_operator(),
             "X - Y = X.rminus(Y) = Log(Y^-1 X), so that Y + (X - Y) == X.")
        .def("__eq__", [](const G& x, py::handle y) {
          if (!py::isinstance<G>(y)) return false;
          return x.isApprox(y.cast<const G&>(), 1e-10);
        })
        .def("__repr__", [=](const G& x) {
          return gn + "(" + std::string(py::repr(to_vec(typename G::DataType(x.coeffs())).attr("tolist")())) + ")";
        })
        .def("__copy__", [](const G& x) { return x; })
        .def("__deepcopy__", [](const G& x, py::handle) { return x; });
    guard_construction(g, [](py::handle self) { return to_vec(typename G::DataType(self.cast<const G&>().coeffs())); });
    g.attr("__hash__") = py::none();
    g.attr("plus") = g.attr("rplus");
    g.attr("minus") = g.attr("rminus");
    g.attr("slerp") = g.attr("interp");
    g.attr("Tangent") = m.attr(tname.c_str());
    return g;
  }
};

}  // namespace manif_py::py_bind
