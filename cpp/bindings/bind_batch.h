// One templated set of batch bindings, instantiated per group and per scalar
// type (float64 and float32). Each op is a loop over the scalar kernel in Ops<G>.
#pragma once

#include <manif_py/lie/ops.h>

#include "batch_args.h"

namespace manif_py::py_bind {

/// Family: struct with `template <class S> using type = Group<S>;`.
template <class Family>
struct BatchBinder {
  template <class S> using G = typename Family::template type<S>;
  using Tr = LieTraits<G<double>>;
  static constexpr int DoF = Tr::DoF, Rep = Tr::RepSize, Dim = Tr::Dim, Mat = Tr::MatSize;
  template <class S> using Tan = typename LieTraits<G<S>>::Tangent;
  template <class S> using Jac = Eigen::Matrix<S, DoF, DoF>;
  template <class S> using Vt = Eigen::Matrix<S, DoF, 1>;
  template <class S> using Pt = Eigen::Matrix<S, Dim, 1>;

  std::string prefix;  // "batch.SE3."

  template <class S>
  static py::object pack(bool jac, BatchOut<S>& a, BatchOut<S>& b, BatchOut<S>& c) {
    if (!jac) return a.arr;
    if (!c) return py::make_tuple(a.arr, b.arr);
    return py::make_tuple(a.arr, b.arr, c.arr);
  }

  template <class S>
  static py::object inverse(const std::string& fn, py::handle X, bool jac, py::handle conv) {
    const Convention c = parse_convention(conv, fn);
    auto x = batch_arg<S>(X, {Rep}, fn, "X");
    const int64_t n = batch_size(fn, x);
    BatchOut<S> out(n, {Rep}), J, none;
    if (jac) J = BatchOut<S>(n, {DoF, DoF});
    BatchErrors err;
    run_batch(fn, n, err, [&](int64_t i) {
      G<S> g;
      if (!load_group(x, i, g, err)) return;
      Jac<S> j;
      out.put_group(i, Ops<G<S>>::inverse(g, J ? &j : nullptr, c));
      if (J) J.put(i, j);
    });
    return pack(jac, out, J, none);
  }

  /// compose and between share their shape: (X, Y) -> Z [, J_z_x, J_z_y].
  template <class S, bool Between>
  static py::object binary(const std::string& fn, py::handle X, py::handle Y, bool jac, py::handle conv) {
    const Convention c = parse_convention(conv, fn);
    auto x = batch_arg<S>(X, {Rep}, fn, "X");
    auto y = batch_arg<S>(Y, {Rep}, fn, "Y");
    const int64_t n = batch_size(fn, x, y);
    BatchOut<S> out(n, {Rep}), Jx, Jy;
    if (jac) Jx = BatchOut<S>(n, {DoF, DoF}), Jy = BatchOut<S>(n, {DoF, DoF});
    BatchErrors err;
    run_batch(fn, n, err, [&](int64_t i) {
      G<S> gx, gy;
      if (!load_group(x, i, gx, err) || !load_group(y, i, gy, err)) return;
      Jac<S> jx, jy;
      Jac<S>* px = jac ? &jx : nullptr;
      Jac<S>* py_ = jac ? &jy : nullptr;
      const G<S> z = Between ? Ops<G<S>>::between(gx, gy, px, py_, c) : Ops<G<S>>::compose(gx, gy, px, py_, c);
      if (x.validate && !(all_finite(z.coeffs()) && (!jac || all_finite(jx, jy)))) return err.report_result(i);
      out.put_group(i, z);
      if (jac) Jx.put(i, jx), Jy.put(i, jy);
    });
    if (!jac) return out.arr;
    return py::make_tuple(out.arr, Jx.arr, Jy.arr);
  }

  template <class S>
  static py::object log(const std::string& fn, py::handle X, bool jac, py::handle conv) {
    const Convention c = parse_convention(conv, fn);
    auto x = batch_arg<S>(X, {Rep}, fn, "X");
    const int64_t n = batch_size(fn, x);
    BatchOut<S> out(n, {DoF}), J, none;
    if (jac) J = BatchOut<S>(n, {DoF, DoF});
    BatchErrors err;
    run_batch(fn, n, err, [&](int64_t i) {
      G<S> g;
      if (!load_group(x, i, g, err)) return;
      Jac<S> j;
      out.put(i, Ops<G<S>>::log(g, J ? &j : nullptr, c).coeffs());
      if (J) J.put(i, j);
    });
    return pack(jac, out, J, none);
  }

  template <class S>
  static py::object exp(const std::string& fn, py::handle T, bool jac, py::handle conv) {
    const Convention c = parse_convention(conv, fn);
    auto t = batch_arg<S>(T, {DoF}, fn, "tau");
    const int64_t n = batch_size(fn, t);
    BatchOut<S> out(n, {Rep}), J, none;
    if (jac) J = BatchOut<S>(n, {DoF, DoF});
    BatchErrors err;
    run_batch(fn, n, err, [&](int64_t i) {
      Vt<S> v;
      if (!load_vec<DoF>(t, i, v, err)) return;
      Jac<S> j;
      const G<S> y = Ops<G<S>>::exp(Tan<S>(v), J ? &j : nullptr, c);
      if (t.validate && !(all_finite(y.coeffs()) && (!J || all_finite(j)))) return err.report_result(i);
      out.put_group(i, y);
      if (J) J.put(i, j);
    });
    return pack(jac, out, J, none);
  }

  template <class S>
  static py::object act(const std::string& fn, py::handle X, py::handle P, bool jac, py::handle conv) {
    const Convention c = parse_convention(conv, fn);
    auto x = batch_arg<S>(X, {Rep}, fn, "X");
    auto p = batch_arg<S>(P, {Dim}, fn, "points");
    const int64_t n = batch_size(fn, x, p);
    BatchOut<S> out(n, {Dim}), Jx, Jv;
    if (jac) Jx = BatchOut<S>(n, {Dim, DoF}), Jv = BatchOut<S>(n, {Dim, Dim});
    BatchErrors err;
    if (x.stride == 0 && !jac) {
      // One element on many points: every action here is affine, p -> A p + b;
      // read A and b off the element once, then it is one small mat-vec per point.
      G<S> g;
      if (!load_group(x, 0, g, err)) err.raise_if_any(fn);
      const Pt<S> b = g.act(Pt<S>::Zero());
      Eigen::Matrix<S, Dim, Dim> A;
      for (int k = 0; k < Dim; ++k) A.col(k) = g.act(Pt<S>::Unit(k)) - b;
      run_batch(fn, n, err, [&](int64_t i) {
        Pt<S> v;
        if (!load_vec<Dim>(p, i, v, err)) return;
        out.put(i, Pt<S>(A * v + b));
      });
      return out.arr;
    }
    run_batch(fn, n, err, [&](int64_t i) {
      G<S> g;
      Pt<S> v;
      if (!load_group(x, i, g, err) || !load_vec<Dim>(p, i, v, err)) return;
      typename Ops<G<S>>::JacPX jx;
      typename Ops<G<S>>::JacPP jv;
      out.put(i, Ops<G<S>>::act(g, v, jac ? &jx : nullptr, jac ? &jv : nullptr, c));
      if (jac) Jx.put(i, jx), Jv.put(i, jv);
    });
    if (!jac) return out.arr;
    return py::make_tuple(out.arr, Jx.arr, Jv.arr);
  }

  template <class S, bool Left>
  static py::object plus(const std::string& fn, py::handle X, py::handle T, bool jac, py::handle conv) {
    const Convention c = parse_convention(conv, fn);
    auto x = batch_arg<S>(X, {Rep}, fn, "X");
    auto t = batch_arg<S>(T, {DoF}, fn, "tau");
    const int64_t n = batch_size(fn, x, t);
    BatchOut<S> out(n, {Rep}), Jx, Jt;
    if (jac) Jx = BatchOut<S>(n, {DoF, DoF}), Jt = BatchOut<S>(n, {DoF, DoF});
    BatchErrors err;
    run_batch(fn, n, err, [&](int64_t i) {
      G<S> g;
      Vt<S> v;
      if (!load_group(x, i, g, err) || !load_vec<DoF>(t, i, v, err)) return;
      Jac<S> jx, jt;
      Jac<S>* px = jac ? &jx : nullptr;
      Jac<S>* pt = jac ? &jt : nullptr;
      const G<S> y = Left ? Ops<G<S>>::lplus(g, Tan<S>(v), px, pt, c) : Ops<G<S>>::rplus(g, Tan<S>(v), px, pt, c);
      if (t.validate && !(all_finite(y.coeffs()) && (!jac || all_finite(jx, jt)))) return err.report_result(i);
      out.put_group(i, y);
      if (jac) Jx.put(i, jx), Jt.put(i, jt);
    });
    if (!jac) return out.arr;
    return py::make_tuple(out.arr, Jx.arr, Jt.arr);
  }

  template <class S, bool Left>
  static py::object minus(const std::string& fn, py::handle X, py::handle Y, bool jac, py::handle conv) {
    const Convention c = parse_convention(conv, fn);
    auto x = batch_arg<S>(X, {Rep}, fn, "X");
    auto y = batch_arg<S>(Y, {Rep}, fn, "Y");
    const int64_t n = batch_size(fn, x, y);
    BatchOut<S> out(n, {DoF}), Jx, Jy;
    if (jac) Jx = BatchOut<S>(n, {DoF, DoF}), Jy = BatchOut<S>(n, {DoF, DoF});
    BatchErrors err;
    run_batch(fn, n, err, [&](int64_t i) {
      G<S> gx, gy;
      if (!load_group(x, i, gx, err) || !load_group(y, i, gy, err)) return;
      Jac<S> jx, jy;
      Jac<S>* px = jac ? &jx : nullptr;
      Jac<S>* py_ = jac ? &jy : nullptr;
      const Tan<S> t = Left ? Ops<G<S>>::lminus(gx, gy, px, py_, c) : Ops<G<S>>::rminus(gx, gy, px, py_, c);
      out.put(i, t.coeffs());
      if (jac) Jx.put(i, jx), Jy.put(i, jy);
    });
    if (!jac) return out.arr;
    return py::make_tuple(out.arr, Jx.arr, Jy.arr);
  }

  template <class S>
  static py::object interp(const std::string& fn, py::handle X, py::handle Y, py::handle Tt, bool jac, py::handle conv) {
    const Convention c = parse_convention(conv, fn);
    auto x = batch_arg<S>(X, {Rep}, fn, "X");
    auto y = batch_arg<S>(Y, {Rep}, fn, "Y");
    auto s = batch_arg<S>(Tt, {}, fn, "t");
    const int64_t n = batch_size(fn, x, y, s);
    BatchOut<S> out(n, {Rep}), Jx, Jy, Js;
    if (jac) Jx = BatchOut<S>(n, {DoF, DoF}), Jy = BatchOut<S>(n, {DoF, DoF}), Js = BatchOut<S>(n, {DoF, 1});
    BatchErrors err;
    run_batch(fn, n, err, [&](int64_t i) {
      G<S> gx, gy;
      Eigen::Matrix<S, 1, 1> sv;
      if (!load_group(x, i, gx, err) || !load_group(y, i, gy, err) || !load_vec<1>(s, i, sv, err)) return;
      Jac<S> jx, jy;
      Vt<S> js;
      const G<S> z = Ops<G<S>>::interp(gx, gy, sv(0), jac ? &jx : nullptr, jac ? &jy : nullptr, jac ? &js : nullptr, c);
      out.put_group(i, z);
      if (jac) Jx.put(i, jx), Jy.put(i, jy), Js.put(i, js);
    });
    if (!jac) return out.arr;
    return py::make_tuple(out.arr, Jx.arr, Jy.arr, Js.arr);
  }

  /// Element -> matrix maps (Adj, matrix) and tangent -> matrix maps (Jr, ..., hat).
  template <class S, int R, class F>
  static py::object group_to_mat(const std::string& fn, py::handle X, const F& f) {
    auto x = batch_arg<S>(X, {Rep}, fn, "X");
    const int64_t n = batch_size(fn, x);
    BatchOut<S> out(n, {R, R});
    BatchErrors err;
    run_batch(fn, n, err, [&](int64_t i) {
      G<S> g;
      if (!load_group(x, i, g, err)) return;
      out.put(i, Eigen::Matrix<S, R, R>(f(g)));
    });
    return out.arr;
  }
  template <class S, int R, class F>
  static py::object tangent_to_mat(const std::string& fn, py::handle T, const F& f) {
    auto t = batch_arg<S>(T, {DoF}, fn, "tau");
    const int64_t n = batch_size(fn, t);
    BatchOut<S> out(n, {R, R});
    BatchErrors err;
    run_batch(fn, n, err, [&](int64_t i) {
      Vt<S> v;
      if (!load_vec<DoF>(t, i, v, err)) return;
      out.put(i, Eigen::Matrix<S, R, R>(f(Tan<S>(v))));
    });
    return out.arr;
  }

  template <class S>
  static py::object vee(const std::string& fn, py::handle M) {
    auto m = batch_arg<S>(M, {Mat, Mat}, fn, "M");
    const int64_t n = batch_size(fn, m);
    BatchOut<S> out(n, {DoF});
    BatchErrors err;
    run_batch(fn, n, err, [&](int64_t i) {
      Eigen::Matrix<S, Mat * Mat, 1> flat;
      if (!load_vec<Mat * Mat>(m, i, flat, err)) return;
      const Eigen::Matrix<S, Mat, Mat> mm = Eigen::Map<const Eigen::Matrix<S, Mat, Mat, Eigen::RowMajor>>(flat.data());
      out.put(i, Tan<S>::vee(mm).coeffs());
    });
    return out.arr;
  }

  template <class S>
  static py::object normalize(const std::string& fn, py::handle X) {
    auto x = batch_arg<S>(X, {Rep}, fn, "X");
    const int64_t n = batch_size(fn, x);
    BatchOut<S> out(n, {Rep});
    BatchErrors err;
    run_batch(fn, n, err, [&](int64_t i) {
      G<S> g;
      if (!load_group(x, i, g, err)) return;
      g.normalize();
      out.put_group(i, g);
    });
    return out.arr;
  }

  template <class S>
  static py::object random(const std::string& fn, int64_t n, py::handle seed) {
    if (n <= 0) throw py::value_error(fn + ": argument 'n' must be positive, got " + std::to_string(n));
    const uint64_t base = seed.is_none() ? global_rng_seed() : read_seed(seed, fn);
    BatchOut<S> out(n, {Rep});
    {
      py::gil_scoped_release release;
      // Fixed-size blocks with their own seeded streams: the result does not
      // depend on the number of threads.
      constexpr int64_t block = 4096;
      const int64_t nblocks = (n + block - 1) / block;
      parallel_for(nblocks, [&](int64_t b, int64_t e) {
        for (int64_t k = b; k < e; ++k) {
          Rng rng(base * 0x9E3779B97F4A7C15ull + static_cast<uint64_t>(k));
          for (int64_t i = k * block; i < std::min(n, (k + 1) * block); ++i) out.put_group(i, G<S>::Random(rng));
        }
      });
    }
    return out.arr;
  }
  static uint64_t global_rng_seed();

  /// Binds both scalar types; float32 inputs run the float kernels.
  void bind(py::module_ m) const {
    const std::string p = prefix;
    m.def("inverse", [p](py::handle X, bool jac, py::handle conv) {
      return is_float32(X) ? inverse<float>(p + "inverse", X, jac, conv) : inverse<double>(p + "inverse", X, jac, conv);
    }, py::arg("X"), py::arg("jacobians") = false, py::arg("convention") = "right",
          "X^-1 for X of shape (N, rep) [, J (N, dof, dof)].");
    m.def("compose", [p](py::handle X, py::handle Y, bool jac, py::handle conv) {
      return is_float32(X) ? binary<float, false>(p + "compose", X, Y, jac, conv) : binary<double, false>(p + "compose", X, Y, jac, conv);
    }, py::arg("X"), py::arg("Y"), py::arg("jacobians") = false, py::arg("convention") = "right",
          "X Y element-wise, broadcasting a single element [, J_z_x, J_z_y].");
    m.def("between", [p](py::handle X, py::handle Y, bool jac, py::handle conv) {
      return is_float32(X) ? binary<float, true>(p + "between", X, Y, jac, conv) : binary<double, true>(p + "between", X, Y, jac, conv);
    }, py::arg("X"), py::arg("Y"), py::arg("jacobians") = false, py::arg("convention") = "right",
          "X^-1 Y element-wise [, J_z_x, J_z_y].");
    m.def("Log", [p](py::handle X, bool jac, py::handle conv) {
      return is_float32(X) ? log<float>(p + "Log", X, jac, conv) : log<double>(p + "Log", X, jac, conv);
    }, py::arg("X"), py::arg("jacobians") = false, py::arg("convention") = "right", "Log map, (N, rep) -> (N, dof) [, J].");
    m.def("Exp", [p](py::handle T, bool jac, py::handle conv) {
      return is_float32(T) ? exp<float>(p + "Exp", T, jac, conv) : exp<double>(p + "Exp", T, jac, conv);
    }, py::arg("tau"), py::arg("jacobians") = false, py::arg("convention") = "right", "Exp map, (N, dof) -> (N, rep) [, J].");
    m.def("act", [p](py::handle X, py::handle P, bool jac, py::handle conv) {
      return is_float32(X) ? act<float>(p + "act", X, P, jac, conv) : act<double>(p + "act", X, P, jac, conv);
    }, py::arg("X"), py::arg("points"), py::arg("jacobians") = false, py::arg("convention") = "right",
          "Action on points (N, dim); one element may act on N points [, J_vout_x (N, dim, dof), J_vout_v (N, dim, dim)].");
    m.def("rplus", [p](py::handle X, py::handle T, bool jac, py::handle conv) {
      return is_float32(X) ? plus<float, false>(p + "rplus", X, T, jac, conv) : plus<double, false>(p + "rplus", X, T, jac, conv);
    }, py::arg("X"), py::arg("tau"), py::arg("jacobians") = false, py::arg("convention") = "right", "X Exp(tau) [, J_y_x, J_y_tau].");
    m.def("lplus", [p](py::handle X, py::handle T, bool jac, py::handle conv) {
      return is_float32(X) ? plus<float, true>(p + "lplus", X, T, jac, conv) : plus<double, true>(p + "lplus", X, T, jac, conv);
    }, py::arg("X"), py::arg("tau"), py::arg("jacobians") = false, py::arg("convention") = "right", "Exp(tau) X [, J_y_x, J_y_tau].");
    m.def("rminus", [p](py::handle X, py::handle Y, bool jac, py::handle conv) {
      return is_float32(X) ? minus<float, false>(p + "rminus", X, Y, jac, conv) : minus<double, false>(p + "rminus", X, Y, jac, conv);
    }, py::arg("X"), py::arg("Y"), py::arg("jacobians") = false, py::arg("convention") = "right", "X (-) Y = Log(Y^-1 X) element-wise, so that rplus(Y, rminus(X, Y)) == X [, J_tau_x, J_tau_y].");
    m.def("lminus", [p](py::handle X, py::handle Y, bool jac, py::handle conv) {
      return is_float32(X) ? minus<float, true>(p + "lminus", X, Y, jac, conv) : minus<double, true>(p + "lminus", X, Y, jac, conv);
    }, py::arg("X"), py::arg("Y"), py::arg("jacobians") = false, py::arg("convention") = "right", "Log(X Y^-1) [, J_tau_x, J_tau_y].");
    m.def("interp", [p](py::handle X, py::handle Y, py::handle t, bool jac, py::handle conv) {
      return is_float32(X) ? interp<float>(p + "interp", X, Y, t, jac, conv) : interp<double>(p + "interp", X, Y, t, jac, conv);
    }, py::arg("X"), py::arg("Y"), py::arg("t"), py::arg("jacobians") = false, py::arg("convention") = "right",
          "X Exp(t Log(X^-1 Y)), t scalar or (N,) [, J_z_x, J_z_y, J_z_t (N, dof, 1)].");
    m.def("Adj", [p](py::handle X) {
      auto f = [](const auto& g) { return g.Adj(); };
      return is_float32(X) ? group_to_mat<float, DoF>(p + "Adj", X, f) : group_to_mat<double, DoF>(p + "Adj", X, f);
    }, py::arg("X"), "Adjoint matrices (N, dof, dof).");
    m.def("matrix", [p](py::handle X) {
      auto f = [](const auto& g) { return g.matrix(); };
      return is_float32(X) ? group_to_mat<float, Mat>(p + "matrix", X, f) : group_to_mat<double, Mat>(p + "matrix", X, f);
    }, py::arg("X"), "Homogeneous matrices (N, m, m).");
#define MANIF_PY_TANGENT_MAT(NAME, R, EXPR)                                                              \
  m.def(NAME, [p](py::handle T) {                                                                       \
    auto f = [](const auto& t) { return EXPR; };                                                        \
    return is_float32(T) ? tangent_to_mat<float, R>(p + NAME, T, f) : tangent_to_mat<double, R>(p + NAME, T, f); \
  }, py::arg("tau"));
    MANIF_PY_TANGENT_MAT("Jr", DoF, t.Jr())
    MANIF_PY_TANGENT_MAT("Jl", DoF, t.Jl())
    MANIF_PY_TANGENT_MAT("Jr_inv", DoF, t.Jr_inv())
    MANIF_PY_TANGENT_MAT("Jl_inv", DoF, t.Jl_inv())
    MANIF_PY_TANGENT_MAT("ad", DoF, t.ad())
    MANIF_PY_TANGENT_MAT("hat", Mat, t.hat())
#undef MANIF_PY_TANGENT_MAT
    m.def("vee", [p](py::handle M) { return is_float32(M) ? vee<float>(p + "vee", M) : vee<double>(p + "vee", M); },
          py::arg("M"), "Tangents (N, dof) from Lie algebra matrices (N, m, m).");
    m.def("normalize", [p](py::handle X) { return is_float32(X) ? normalize<float>(p + "normalize", X) : normalize<double>(p + "normalize", X); },
          py::arg("X"), "Validated copy with unit rotation parts.");
    m.def("Random", [p](int64_t n, py::handle seed, py::handle dtype) {
      bool f32 = false;
      if (!dtype.is_none()) {
        py::dtype dt;
        try {
          dt = py::dtype::from_args(py::reinterpret_borrow<py::object>(dtype));
        } catch (py::error_already_set&) {
          throw py::type_error(p + "Random: argument 'dtype' must be float64 or float32, got " + std::string(py::repr(dtype)));
        }
        f32 = dt.is(py::dtype::of<float>());
        if (!f32 && !dt.is(py::dtype::of<double>()))
          throw py::value_error(p + "Random: argument 'dtype' must be float64 or float32, got " + std::string(py::str(dt)));
      }
      return f32 ? random<float>(p + "Random", n, seed) : random<double>(p + "Random", n, seed);
    }, py::arg("n"), py::arg("seed") = py::none(), py::arg("dtype") = py::none(),
          "n random elements (N, rep); the same seed gives the same array on any number of threads.");
    m.def("Identity", [p](int64_t n) {
      if (n <= 0) throw py::value_error(p + "Identity: argument 'n' must be positive");
      BatchOut<double> out(n, {Rep});
      for (int64_t i = 0; i < n; ++i) out.put(i, typename G<double>::DataType(G<double>::Identity().coeffs()));
      return out.arr;
    }, py::arg("n"));
    m.attr("dof") = DoF;
    m.attr("rep_size") = Rep;
    m.attr("dim") = Dim;
  }
};

template <class Family>
uint64_t BatchBinder<Family>::global_rng_seed() {
  return global_rng()();
}

}  // namespace manif_py::py_bind
