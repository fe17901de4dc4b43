// One templated set of batch bindings, instantiated per group and per scalar
// type (float64 and float32). Each op is a loop over the scalar kernel in Ops<G>.
#pragma once

#include <manif_py/batch/from_matrix.h>
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

  /// Results as the caller sees them: the value alone, or (value, Jacobians...).
  template <class S>
  static py::object pack(bool jac, std::initializer_list<const BatchOut<S>*> outs) {
    auto it = outs.begin();
    if (!jac) return (*it)->arr;
    py::tuple t(outs.size());
    for (size_t k = 0; k < outs.size(); ++k, ++it) t[k] = (*it)->arr;
    return std::move(t);
  }

  /// The k-th output's name in messages: 'out' alone, or 'out[k]' in the tuple.
  static const char* out_name(bool jac, size_t k) {
    static const char* names[] = {"out[0]", "out[1]", "out[2]", "out[3]"};
    return jac ? names[k] : "out";
  }

  /// Rejects outputs that overlap each other or partly overlap an input.
  template <class S, class... A>
  static void check_outs(const std::string& fn, int64_t n, bool jac, std::initializer_list<const BatchOut<S>*> outs, const A&... args) {
    std::vector<std::pair<const BatchOut<S>*, const char*>> named;
    for (const auto* o : outs) named.emplace_back(o, out_name(jac, named.size()));
    check_outs_disjoint(fn, n, named);
    for (const auto& [o, name] : named) (check_out_overlap(fn, n, *o, name, args), ...);
  }

  /// &j when the loop computes Jacobians, else a nullptr known at compile time
  /// (the kernels' `if (J)` branches then vanish).
  template <class W, class T>
  static MANIF_PY_BATCH_INLINE T* want(W, T& j) {
    if constexpr (W::value) return &j;
    else return nullptr;
  }

  template <class S>
  static py::object inverse(const std::string& fn, py::handle X, bool jac, py::handle conv, py::handle out) {
    const Convention c = parse_convention(conv, fn);
    auto x = batch_arg<S>(X, {Rep}, fn, "X");
    const int64_t n = batch_size(fn, x);
    const auto o = out_slots(out, 2, jac, fn);
    BatchOut<S> z(n, {Rep}, o[0], fn, out_name(jac, 0)), J;
    if (jac) J = BatchOut<S>(n, {DoF, DoF}, o[1], fn, out_name(jac, 1));
    check_outs(fn, n, jac, {&z, &J}, x);
    BatchErrors err;
    run_batch(fn, n, err, jac, [&](int64_t i, auto wj, auto chk) {
      G<S> g;
      if (!load_group(x, i, g, err, chk)) return;
      Jac<S> j;
      z.put_group(i, Ops<G<S>>::inverse(g, want(wj, j), c));
      if constexpr (decltype(wj)::value) J.put(i, j);
    });
    return pack<S>(jac, {&z, &J});
  }

  /// compose and between share their shape: (X, Y) -> Z [, J_z_x, J_z_y].
  template <class S, bool Between>
  static py::object binary(const std::string& fn, py::handle X, py::handle Y, bool jac, py::handle conv, py::handle out) {
    const Convention c = parse_convention(conv, fn);
    auto x = batch_arg<S>(X, {Rep}, fn, "X");
    auto y = batch_arg<S>(Y, {Rep}, fn, "Y");
    const int64_t n = batch_size(fn, x, y);
    const auto o = out_slots(out, 3, jac, fn);
    BatchOut<S> z(n, {Rep}, o[0], fn, out_name(jac, 0)), Jx, Jy;
    if (jac) Jx = BatchOut<S>(n, {DoF, DoF}, o[1], fn, out_name(jac, 1)), Jy = BatchOut<S>(n, {DoF, DoF}, o[2], fn, out_name(jac, 2));
    check_outs(fn, n, jac, {&z, &Jx, &Jy}, x, y);
    BatchErrors err;
    run_batch(fn, n, err, jac, [&](int64_t i, auto wj, auto chk) {
      G<S> gx, gy;
      if (!load_group(x, i, gx, err, chk) || !load_group(y, i, gy, err, chk)) return;
      Jac<S> jx, jy;
      const G<S> r = Between ? Ops<G<S>>::between(gx, gy, want(wj, jx), want(wj, jy), c)
                             : Ops<G<S>>::compose(gx, gy, want(wj, jx), want(wj, jy), c);
      if (chk && !finite_result(r, wj, jx, jy)) return err.report_result(i);
      z.put_group(i, r);
      if constexpr (decltype(wj)::value) Jx.put(i, jx), Jy.put(i, jy);
    });
    return pack<S>(jac, {&z, &Jx, &Jy});
  }

  template <class S>
  static py::object log(const std::string& fn, py::handle X, bool jac, py::handle conv, py::handle out) {
    const Convention c = parse_convention(conv, fn);
    auto x = batch_arg<S>(X, {Rep}, fn, "X");
    const int64_t n = batch_size(fn, x);
    const auto o = out_slots(out, 2, jac, fn);
    BatchOut<S> z(n, {DoF}, o[0], fn, out_name(jac, 0)), J;
    if (jac) J = BatchOut<S>(n, {DoF, DoF}, o[1], fn, out_name(jac, 1));
    check_outs(fn, n, jac, {&z, &J}, x);
    BatchErrors err;
    run_batch(fn, n, err, jac, [&](int64_t i, auto wj, auto chk) {
      G<S> g;
      if (!load_group(x, i, g, err, chk)) return;
      Jac<S> j;
      z.put(i, Ops<G<S>>::log(g, want(wj, j), c).coeffs());
      if constexpr (decltype(wj)::value) J.put(i, j);
    });
    return pack<S>(jac, {&z, &J});
  }

  template <class S>
  static py::object exp(const std::string& fn, py::handle T, bool jac, py::handle conv, py::handle out) {
    const Convention c = parse_convention(conv, fn);
    auto t = batch_arg<S>(T, {DoF}, fn, "tau");
    const int64_t n = batch_size(fn, t);
    const auto o = out_slots(out, 2, jac, fn);
    BatchOut<S> z(n, {Rep}, o[0], fn, out_name(jac, 0)), J;
    if (jac) J = BatchOut<S>(n, {DoF, DoF}, o[1], fn, out_name(jac, 1));
    check_outs(fn, n, jac, {&z, &J}, t);
    BatchErrors err;
    run_batch(fn, n, err, jac, [&](int64_t i, auto wj, auto chk) {
      Vt<S> v;
      if (!load_vec<DoF>(t, i, v, err, chk)) return;
      Jac<S> j;
      const G<S> y = Ops<G<S>>::exp(Tan<S>(v), want(wj, j), c);
      if (chk && !finite_result(y, wj, j)) return err.report_result(i);
      z.put_group(i, y);
      if constexpr (decltype(wj)::value) J.put(i, j);
    });
    return pack<S>(jac, {&z, &J});
  }

  template <class S>
  static py::object act(const std::string& fn, py::handle X, py::handle P, bool jac, py::handle conv, py::handle out) {
    const Convention c = parse_convention(conv, fn);
    auto x = batch_arg<S>(X, {Rep}, fn, "X");
    auto p = batch_arg<S>(P, {Dim}, fn, "points");
    const int64_t n = batch_size(fn, x, p);
    const auto o = out_slots(out, 3, jac, fn);
    BatchOut<S> z(n, {Dim}, o[0], fn, out_name(jac, 0)), Jx, Jv;
    if (jac) Jx = BatchOut<S>(n, {Dim, DoF}, o[1], fn, out_name(jac, 1)), Jv = BatchOut<S>(n, {Dim, Dim}, o[2], fn, out_name(jac, 2));
    check_outs(fn, n, jac, {&z, &Jx, &Jv}, x, p);
    BatchErrors err;
    if (x.stride == 0 && !jac) {
      // One element on many points: every action here is affine, p -> A p + b;
      // read A and b off the element once, then it is one small mat-vec per point.
      G<S> g;
      if (!load_group(x, 0, g, err)) err.raise_if_any(fn);
      const Pt<S> b = g.act(Pt<S>::Zero());
      Eigen::Matrix<S, Dim, Dim> A;
      for (int k = 0; k < Dim; ++k) A.col(k) = g.act(Pt<S>::Unit(k)) - b;
      run_batch(fn, n, err, false, [&](int64_t i, auto, auto chk) {
        Pt<S> v;
        if (!load_vec<Dim>(p, i, v, err, chk)) return;
        z.put(i, Pt<S>(A * v + b));
      });
      return z.arr;
    }
    run_batch(fn, n, err, jac, [&](int64_t i, auto wj, auto chk) {
      G<S> g;
      Pt<S> v;
      if (!load_group(x, i, g, err, chk) || !load_vec<Dim>(p, i, v, err, chk)) return;
      typename Ops<G<S>>::JacPX jx;
      typename Ops<G<S>>::JacPP jv;
      z.put(i, Ops<G<S>>::act(g, v, want(wj, jx), want(wj, jv), c));
      if constexpr (decltype(wj)::value) Jx.put(i, jx), Jv.put(i, jv);
    });
    return pack<S>(jac, {&z, &Jx, &Jv});
  }

  template <class S, bool Left>
  static py::object plus(const std::string& fn, py::handle X, py::handle T, bool jac, py::handle conv, py::handle out) {
    const Convention c = parse_convention(conv, fn);
    auto x = batch_arg<S>(X, {Rep}, fn, "X");
    auto t = batch_arg<S>(T, {DoF}, fn, "tau");
    const int64_t n = batch_size(fn, x, t);
    const auto o = out_slots(out, 3, jac, fn);
    BatchOut<S> z(n, {Rep}, o[0], fn, out_name(jac, 0)), Jx, Jt;
    if (jac) Jx = BatchOut<S>(n, {DoF, DoF}, o[1], fn, out_name(jac, 1)), Jt = BatchOut<S>(n, {DoF, DoF}, o[2], fn, out_name(jac, 2));
    check_outs(fn, n, jac, {&z, &Jx, &Jt}, x, t);
    BatchErrors err;
    run_batch(fn, n, err, jac, [&](int64_t i, auto wj, auto chk) {
      G<S> g;
      Vt<S> v;
      if (!load_group(x, i, g, err, chk) || !load_vec<DoF>(t, i, v, err, chk)) return;
      Jac<S> jx, jt;
      const G<S> y = Left ? Ops<G<S>>::lplus(g, Tan<S>(v), want(wj, jx), want(wj, jt), c)
                          : Ops<G<S>>::rplus(g, Tan<S>(v), want(wj, jx), want(wj, jt), c);
      if (chk && !finite_result(y, wj, jx, jt)) return err.report_result(i);
      z.put_group(i, y);
      if constexpr (decltype(wj)::value) Jx.put(i, jx), Jt.put(i, jt);
    });
    return pack<S>(jac, {&z, &Jx, &Jt});
  }

  template <class S, bool Left>
  static py::object minus(const std::string& fn, py::handle X, py::handle Y, bool jac, py::handle conv, py::handle out) {
    const Convention c = parse_convention(conv, fn);
    auto x = batch_arg<S>(X, {Rep}, fn, "X");
    auto y = batch_arg<S>(Y, {Rep}, fn, "Y");
    const int64_t n = batch_size(fn, x, y);
    const auto o = out_slots(out, 3, jac, fn);
    BatchOut<S> z(n, {DoF}, o[0], fn, out_name(jac, 0)), Jx, Jy;
    if (jac) Jx = BatchOut<S>(n, {DoF, DoF}, o[1], fn, out_name(jac, 1)), Jy = BatchOut<S>(n, {DoF, DoF}, o[2], fn, out_name(jac, 2));
    check_outs(fn, n, jac, {&z, &Jx, &Jy}, x, y);
    BatchErrors err;
    run_batch(fn, n, err, jac, [&](int64_t i, auto wj, auto chk) {
      G<S> gx, gy;
      if (!load_group(x, i, gx, err, chk) || !load_group(y, i, gy, err, chk)) return;
      Jac<S> jx, jy;
      const Tan<S> t = Left ? Ops<G<S>>::lminus(gx, gy, want(wj, jx), want(wj, jy), c)
                            : Ops<G<S>>::rminus(gx, gy, want(wj, jx), want(wj, jy), c);
      z.put(i, t.coeffs());
      if constexpr (decltype(wj)::value) Jx.put(i, jx), Jy.put(i, jy);
    });
    return pack<S>(jac, {&z, &Jx, &Jy});
  }

  template <class S>
  static py::object interp(const std::string& fn, py::handle X, py::handle Y, py::handle Tt, bool jac, py::handle conv, py::handle out) {
    const Convention c = parse_convention(conv, fn);
    auto x = batch_arg<S>(X, {Rep}, fn, "X");
    auto y = batch_arg<S>(Y, {Rep}, fn, "Y");
    auto s = batch_arg<S>(Tt, {}, fn, "t");
    const int64_t n = batch_size(fn, x, y, s);
    const auto o = out_slots(out, 4, jac, fn);
    BatchOut<S> z(n, {Rep}, o[0], fn, out_name(jac, 0)), Jx, Jy, Js;
    if (jac)
      Jx = BatchOut<S>(n, {DoF, DoF}, o[1], fn, out_name(jac, 1)), Jy = BatchOut<S>(n, {DoF, DoF}, o[2], fn, out_name(jac, 2)),
      Js = BatchOut<S>(n, {DoF, 1}, o[3], fn, out_name(jac, 3));
    check_outs(fn, n, jac, {&z, &Jx, &Jy, &Js}, x, y, s);
    BatchErrors err;
    run_batch(fn, n, err, jac, [&](int64_t i, auto wj, auto chk) {
      G<S> gx, gy;
      Eigen::Matrix<S, 1, 1> sv;
      if (!load_group(x, i, gx, err, chk) || !load_group(y, i, gy, err, chk) || !load_vec<1>(s, i, sv, err, chk)) return;
      Jac<S> jx, jy;
      Vt<S> js;
      z.put_group(i, Ops<G<S>>::interp(gx, gy, sv(0), want(wj, jx), want(wj, jy), want(wj, js), c));
      if constexpr (decltype(wj)::value) Jx.put(i, jx), Jy.put(i, jy), Js.put(i, js);
    });
    return pack<S>(jac, {&z, &Jx, &Jy, &Js});
  }

  /// Element -> matrix maps (Adj, matrix) and tangent -> matrix maps (Jr, ..., hat).
  template <class S, int R, class F>
  static py::object group_to_mat(const std::string& fn, py::handle X, py::handle out, const F& f) {
    auto x = batch_arg<S>(X, {Rep}, fn, "X");
    const int64_t n = batch_size(fn, x);
    BatchOut<S> z(n, {R, R}, out, fn, "out");
    check_outs(fn, n, false, {&z}, x);
    BatchErrors err;
    run_batch(fn, n, err, false, [&](int64_t i, auto, auto chk) {
      G<S> g;
      if (!load_group(x, i, g, err, chk)) return;
      z.put(i, Eigen::Matrix<S, R, R>(f(g)));
    });
    return z.arr;
  }
  template <class S, int R, class F>
  static py::object tangent_to_mat(const std::string& fn, py::handle T, py::handle out, const F& f) {
    auto t = batch_arg<S>(T, {DoF}, fn, "tau");
    const int64_t n = batch_size(fn, t);
    BatchOut<S> z(n, {R, R}, out, fn, "out");
    check_outs(fn, n, false, {&z}, t);
    BatchErrors err;
    run_batch(fn, n, err, false, [&](int64_t i, auto, auto chk) {
      Vt<S> v;
      if (!load_vec<DoF>(t, i, v, err, chk)) return;
      z.put(i, Eigen::Matrix<S, R, R>(f(Tan<S>(v))));
    });
    return z.arr;
  }

  template <class S>
  static py::object vee(const std::string& fn, py::handle M, py::handle out) {
    auto m = batch_arg<S>(M, {Mat, Mat}, fn, "M");
    const int64_t n = batch_size(fn, m);
    BatchOut<S> z(n, {DoF}, out, fn, "out");
    check_outs(fn, n, false, {&z}, m);
    BatchErrors err;
    run_batch(fn, n, err, false, [&](int64_t i, auto, auto chk) {
      Eigen::Matrix<S, Mat * Mat, 1> flat;
      if (!load_vec<Mat * Mat>(m, i, flat, err, chk)) return;
      const Eigen::Matrix<S, Mat, Mat> mm = Eigen::Map<const Eigen::Matrix<S, Mat, Mat, Eigen::RowMajor>>(flat.data());
      z.put(i, Tan<S>::vee(mm).coeffs());
    });
    return z.arr;
  }

  template <class S>
  static py::object normalize(const std::string& fn, py::handle X, py::handle out) {
    auto x = batch_arg<S>(X, {Rep}, fn, "X");
    const int64_t n = batch_size(fn, x);
    BatchOut<S> z(n, {Rep}, out, fn, "out");
    check_outs(fn, n, false, {&z}, x);
    BatchErrors err;
    // Always checked: normalising is what makes an element valid.
    run_batch(fn, n, err, [&](int64_t i) {
      G<S> g;
      if (!load_group(x, i, g, err, std::true_type{})) return;
      g.normalize();
      z.put_group(i, g);
    });
    return z.arr;
  }

  // ------------------------------------------------------------ constructors
  // Always checked, even under unchecked(): reading a matrix is where bad input
  // enters, and the rotation must be projected to a quaternion anyway.

  /// First bad element of a constructor's input, reported after the loop.
  struct ConstructErrors {
    std::mutex mu;
    int64_t index = std::numeric_limits<int64_t>::max();
    const char* arg = nullptr;
    MatrixStatus status = MatrixStatus::Ok;
    void report(int64_t i, const char* name, MatrixStatus st) {
      std::lock_guard<std::mutex> lock(mu);
      if (i < index) index = i, arg = name, status = st;
    }
    void raise_if_any(const std::string& fn) const {
      if (!arg) return;
      const std::string why = status == MatrixStatus::NotFinite ? "contains NaN or inf"
                              : status == MatrixStatus::NotRotation
                                  ? "has a rotation part that is not a rotation matrix (need max |R^T R - I| <= 1e-6 and det R > 0)"
                              : status == MatrixStatus::NotPositiveScale ? "has a non-positive scale"
                                                                         : std::string("is not of the form ") + MatrixForm<G<double>>::text();
      throw py::value_error(fn + ": argument '" + arg + "' element " + std::to_string(index) + " " + why);
    }
  };

  template <class S>
  static py::object from_matrix(const std::string& fn, py::handle M, py::handle out) {
    auto m = batch_arg<S>(M, {Mat, Mat}, fn, "M");
    const int64_t n = batch_size(fn, m);
    BatchOut<S> z(n, {Rep}, out, fn, "out");
    check_outs(fn, n, false, {&z}, m);
    ConstructErrors err;
    {
      py::gil_scoped_release release;
      parallel_for(n, [&](int64_t b, int64_t e) {
        for (int64_t i = b; i < e; ++i) {
          G<S> g;
          const MatrixStatus st = element_from_matrix(Eigen::Map<const Eigen::Matrix<S, Mat, Mat, Eigen::RowMajor>>(m.at(i)), g);
          if (st != MatrixStatus::Ok) {
            err.report(i, m.name, st);
            continue;
          }
          z.put_group(i, g);
        }
      });
    }
    err.raise_if_any(fn);
    return z.arr;
  }

  template <class S>
  static py::object from_rt(const std::string& fn, py::handle R, py::handle T, py::handle Sc, py::handle out) {
    auto r = batch_arg<S>(R, {Dim, Dim}, fn, "R");
    auto t = batch_arg<S>(T, {Dim}, fn, "t");
    const bool scaled = !Sc.is_none();
    auto s = scaled ? batch_arg<S>(Sc, {}, fn, "s") : BatchArg<S>{};
    const int64_t n = scaled ? batch_size(fn, r, t, s) : batch_size(fn, r, t);
    BatchOut<S> z(n, {Rep}, out, fn, "out");
    check_outs(fn, n, false, {&z}, r, t);
    if (scaled) check_outs(fn, n, false, {&z}, s);
    ConstructErrors err;
    {
      py::gil_scoped_release release;
      parallel_for(n, [&](int64_t b, int64_t e) {
        for (int64_t i = b; i < e; ++i) {
          const Eigen::Matrix<S, Dim, 1> tv = Eigen::Map<const Eigen::Matrix<S, Dim, 1>>(t.at(i));
          const S sv = scaled ? *s.at(i) : S(1);
          if (!std::isfinite(tv.sum()) || !std::isfinite(sv)) {
            err.report(i, !std::isfinite(tv.sum()) ? t.name : s.name, MatrixStatus::NotFinite);
            continue;
          }
          G<S> g;
          const MatrixStatus st = element_from_rt<S>(Eigen::Map<const Eigen::Matrix<S, Dim, Dim, Eigen::RowMajor>>(r.at(i)), tv, sv, g);
          if (st != MatrixStatus::Ok) {
            err.report(i, st == MatrixStatus::NotPositiveScale ? s.name : r.name, st);
            continue;
          }
          z.put_group(i, g);
        }
      });
    }
    err.raise_if_any(fn);
    return z.arr;
  }

  /// (R (N, d, d), t (N, d)) of each element, and the scale (N,) for Sim(3).
  template <class S>
  static py::object as_rt(const std::string& fn, py::handle X) {
    auto x = batch_arg<S>(X, {Rep}, fn, "X");
    const int64_t n = batch_size(fn, x);
    constexpr bool scaled = std::is_same_v<G<S>, Sim3<S>>;
    BatchOut<S> R(n, {Dim, Dim}), t(n, {Dim}), s;
    if constexpr (scaled) s = BatchOut<S>(n, {});
    BatchErrors err;
    run_batch(fn, n, err, false, [&](int64_t i, auto, auto chk) {
      G<S> g;
      if (!load_group(x, i, g, err, chk)) return;
      R.put(i, Eigen::Matrix<S, Dim, Dim>(g.rotation()));
      t.put(i, Pt<S>(g.translation()));
      if constexpr (scaled) s.ptr[i] = g.scale();
    });
    if constexpr (scaled) return py::make_tuple(R.arr, t.arr, s.arr);
    else return py::make_tuple(R.arr, t.arr);
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
    // out: the value's array, or with jacobians=True a tuple of all results'
    // arrays, to write into instead of allocating (exact shape and dtype,
    // C-contiguous); returned as given. On a bad input its contents are unspecified.
    const auto out = py::arg("out") = py::none();
    m.def("inverse", [p](py::handle X, bool jac, py::handle conv, py::handle o) {
      return is_float32(X) ? inverse<float>(p + "inverse", X, jac, conv, o) : inverse<double>(p + "inverse", X, jac, conv, o);
    }, py::arg("X"), py::arg("jacobians") = false, py::arg("convention") = "right", out,
          "X^-1 for X of shape (N, rep) [, J (N, dof, dof)].");
    m.def("compose", [p](py::handle X, py::handle Y, bool jac, py::handle conv, py::handle o) {
      return is_float32(X) ? binary<float, false>(p + "compose", X, Y, jac, conv, o) : binary<double, false>(p + "compose", X, Y, jac, conv, o);
    }, py::arg("X"), py::arg("Y"), py::arg("jacobians") = false, py::arg("convention") = "right", out,
          "X Y element-wise, broadcasting a single element [, J_z_x, J_z_y].");
    m.def("between", [p](py::handle X, py::handle Y, bool jac, py::handle conv, py::handle o) {
      return is_float32(X) ? binary<float, true>(p + "between", X, Y, jac, conv, o) : binary<double, true>(p + "between", X, Y, jac, conv, o);
    }, py::arg("X"), py::arg("Y"), py::arg("jacobians") = false, py::arg("convention") = "right", out,
          "X^-1 Y element-wise [, J_z_x, J_z_y].");
    m.def("Log", [p](py::handle X, bool jac, py::handle conv, py::handle o) {
      return is_float32(X) ? log<float>(p + "Log", X, jac, conv, o) : log<double>(p + "Log", X, jac, conv, o);
    }, py::arg("X"), py::arg("jacobians") = false, py::arg("convention") = "right", out, "Log map, (N, rep) -> (N, dof) [, J].");
    m.def("Exp", [p](py::handle T, bool jac, py::handle conv, py::handle o) {
      return is_float32(T) ? exp<float>(p + "Exp", T, jac, conv, o) : exp<double>(p + "Exp", T, jac, conv, o);
    }, py::arg("tau"), py::arg("jacobians") = false, py::arg("convention") = "right", out, "Exp map, (N, dof) -> (N, rep) [, J].");
    m.def("act", [p](py::handle X, py::handle P, bool jac, py::handle conv, py::handle o) {
      return is_float32(X) ? act<float>(p + "act", X, P, jac, conv, o) : act<double>(p + "act", X, P, jac, conv, o);
    }, py::arg("X"), py::arg("points"), py::arg("jacobians") = false, py::arg("convention") = "right", out,
          "Action on points (N, dim); one element may act on N points [, J_vout_x (N, dim, dof), J_vout_v (N, dim, dim)].");
    m.def("rplus", [p](py::handle X, py::handle T, bool jac, py::handle conv, py::handle o) {
      return is_float32(X) ? plus<float, false>(p + "rplus", X, T, jac, conv, o) : plus<double, false>(p + "rplus", X, T, jac, conv, o);
    }, py::arg("X"), py::arg("tau"), py::arg("jacobians") = false, py::arg("convention") = "right", out, "X Exp(tau) [, J_y_x, J_y_tau].");
    m.def("lplus", [p](py::handle X, py::handle T, bool jac, py::handle conv, py::handle o) {
      return is_float32(X) ? plus<float, true>(p + "lplus", X, T, jac, conv, o) : plus<double, true>(p + "lplus", X, T, jac, conv, o);
    }, py::arg("X"), py::arg("tau"), py::arg("jacobians") = false, py::arg("convention") = "right", out, "Exp(tau) X [, J_y_x, J_y_tau].");
    m.def("rminus", [p](py::handle X, py::handle Y, bool jac, py::handle conv, py::handle o) {
      return is_float32(X) ? minus<float, false>(p + "rminus", X, Y, jac, conv, o) : minus<double, false>(p + "rminus", X, Y, jac, conv, o);
    }, py::arg("X"), py::arg("Y"), py::arg("jacobians") = false, py::arg("convention") = "right", out, "X (-) Y = Log(Y^-1 X) element-wise, so that rplus(Y, rminus(X, Y)) == X [, J_tau_x, J_tau_y].");
    m.def("lminus", [p](py::handle X, py::handle Y, bool jac, py::handle conv, py::handle o) {
      return is_float32(X) ? minus<float, true>(p + "lminus", X, Y, jac, conv, o) : minus<double, true>(p + "lminus", X, Y, jac, conv, o);
    }, py::arg("X"), py::arg("Y"), py::arg("jacobians") = false, py::arg("convention") = "right", out, "Log(X Y^-1) [, J_tau_x, J_tau_y].");
    m.def("interp", [p](py::handle X, py::handle Y, py::handle t, bool jac, py::handle conv, py::handle o) {
      return is_float32(X) ? interp<float>(p + "interp", X, Y, t, jac, conv, o) : interp<double>(p + "interp", X, Y, t, jac, conv, o);
    }, py::arg("X"), py::arg("Y"), py::arg("t"), py::arg("jacobians") = false, py::arg("convention") = "right", out,
          "X Exp(t Log(X^-1 Y)), t scalar or (N,) [, J_z_x, J_z_y, J_z_t (N, dof, 1)].");
    m.def("Adj", [p](py::handle X, py::handle o) {
      auto f = [](const auto& g) { return g.Adj(); };
      return is_float32(X) ? group_to_mat<float, DoF>(p + "Adj", X, o, f) : group_to_mat<double, DoF>(p + "Adj", X, o, f);
    }, py::arg("X"), out, "Adjoint matrices (N, dof, dof).");
    m.def("matrix", [p](py::handle X, py::handle o) {
      auto f = [](const auto& g) { return g.matrix(); };
      return is_float32(X) ? group_to_mat<float, Mat>(p + "matrix", X, o, f) : group_to_mat<double, Mat>(p + "matrix", X, o, f);
    }, py::arg("X"), out, "Homogeneous matrices (N, m, m).");
#define MANIF_PY_TANGENT_MAT(NAME, R, EXPR)                                                                    \
  m.def(NAME, [p](py::handle T, py::handle o) {                                                               \
    auto f = [](const auto& t) { return EXPR; };                                                              \
    return is_float32(T) ? tangent_to_mat<float, R>(p + NAME, T, o, f) : tangent_to_mat<double, R>(p + NAME, T, o, f); \
  }, py::arg("tau"), out);
    MANIF_PY_TANGENT_MAT("Jr", DoF, t.Jr())
    MANIF_PY_TANGENT_MAT("Jl", DoF, t.Jl())
    MANIF_PY_TANGENT_MAT("Jr_inv", DoF, t.Jr_inv())
    MANIF_PY_TANGENT_MAT("Jl_inv", DoF, t.Jl_inv())
    MANIF_PY_TANGENT_MAT("ad", DoF, t.ad())
    MANIF_PY_TANGENT_MAT("hat", Mat, t.hat())
#undef MANIF_PY_TANGENT_MAT
    m.def("vee", [p](py::handle M, py::handle o) { return is_float32(M) ? vee<float>(p + "vee", M, o) : vee<double>(p + "vee", M, o); },
          py::arg("M"), out, "Tangents (N, dof) from Lie algebra matrices (N, m, m).");
    m.def("normalize", [p](py::handle X, py::handle o) { return is_float32(X) ? normalize<float>(p + "normalize", X, o) : normalize<double>(p + "normalize", X, o); },
          py::arg("X"), out, "Validated copy with unit rotation parts.");
    m.def("from_matrix", [p](py::handle M, py::handle o) {
      return is_float32(M) ? from_matrix<float>(p + "from_matrix", M, o) : from_matrix<double>(p + "from_matrix", M, o);
    }, py::arg("M"), out, (std::string("Elements (N, rep) from matrices (N, m, m) of the form ") + MatrixForm<G<double>>::text() +
                           "; the rotation part must be orthonormal within 1e-6 with det +1 (quaternions come out with w >= 0), "
                           "the constant entries exact within 1e-9. Checked even under unchecked().").c_str());
    if constexpr (HasRt<G<double>>::value) {
      constexpr bool scaled = std::is_same_v<G<double>, Sim3<double>>;
      if constexpr (scaled) {
        m.def("from_rt", [p](py::handle R, py::handle t, py::handle s, py::handle o) {
          return is_float32(R) ? from_rt<float>(p + "from_rt", R, t, s, o) : from_rt<double>(p + "from_rt", R, t, s, o);
        }, py::arg("R"), py::arg("t"), py::arg("s") = 1.0, out,
              "Elements (N, rep) from rotations R (N, d, d), translations t (N, d) and scales s (N,) or a scalar (default 1); "
              "R orthonormal within 1e-6 with det +1, s > 0.");
        m.def("as_rt", [p](py::handle X) { return is_float32(X) ? as_rt<float>(p + "as_rt", X) : as_rt<double>(p + "as_rt", X); },
              py::arg("X"), "(R (N, d, d), t (N, d), s (N,)) of elements (N, rep): the inverse of from_rt.");
      } else {
        m.def("from_rt", [p](py::handle R, py::handle t, py::handle o) {
          return is_float32(R) ? from_rt<float>(p + "from_rt", R, t, py::none(), o) : from_rt<double>(p + "from_rt", R, t, py::none(), o);
        }, py::arg("R"), py::arg("t"), out,
              "Elements (N, rep) from rotations R (N, d, d) and translations t (N, d); R orthonormal within 1e-6 with det +1.");
        m.def("as_rt", [p](py::handle X) { return is_float32(X) ? as_rt<float>(p + "as_rt", X) : as_rt<double>(p + "as_rt", X); },
              py::arg("X"), "(R (N, d, d), t (N, d)) of elements (N, rep): the inverse of from_rt.");
      }
    }
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
