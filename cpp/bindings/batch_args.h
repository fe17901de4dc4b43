// Batch arguments: arrays with the element axis first, broadcasting a single
// element against N, validated element by element inside the (GIL-free) loop.
#pragma once

#include <manif_py/batch/parallel_for.h>

#include <atomic>
#include <type_traits>
#include <utility>
#include <limits>
#include <mutex>
#include <vector>

#include "convert.h"

// The per-element helpers must inline into the loop: as out-of-line calls (g++
// did not inline them into the big op bodies) they cost more than a compose.
#if defined(__GNUC__)
#define MANIF_PY_BATCH_INLINE inline __attribute__((always_inline))
#define MANIF_PY_BATCH_FLATTEN __attribute__((flatten))
#else
#define MANIF_PY_BATCH_INLINE inline
#define MANIF_PY_BATCH_FLATTEN
#endif

namespace manif_py::py_bind {

/// Whether batch kernels check every input element (finite, unit rotation part,
/// positive scale). On by default; `manif_py.unchecked()` turns it off for inputs
/// known to be valid (the checks cost more than the cheapest kernels themselves).
/// Per thread: one thread's `with unchecked():` must not switch off another's checks (two
/// overlapping blocks in two threads used to leave them off process-wide for good). It is read
/// in the calling thread, before the kernel fans out to its workers.
inline bool& batch_validation() { return settings().validation(); }

template <class S>
struct BatchArg {
  py::array_t<S, py::array::c_style | py::array::forcecast> arr;
  const S* ptr = nullptr;
  int64_t n = 0;       // elements in the array (1 when broadcast)
  int64_t stride = 0;  // scalars between consecutive elements (0 when broadcast)
  const char* name = "";
  bool validate = true;
  const S* at(int64_t i) const { return ptr + i * stride; }
};

inline std::string dims_str(const std::vector<int>& inner) {
  std::string s;
  for (size_t i = 0; i < inner.size(); ++i) s += (i ? ", " : "") + std::to_string(inner[i]);
  return s;
}

/// An array of elements of trailing shape `inner`: (N, *inner) or (*inner).
/// An empty `inner` means scalars: (N,) or ().
template <class S>
BatchArg<S> batch_arg(py::handle h, const std::vector<int>& inner, const std::string& fn, const char* name) {
  if (h.is_none()) throw py::type_error(fn + ": argument '" + name + "' must be an array, got None");
  if (py::isinstance<py::array>(h)) {
    const char k = py::reinterpret_borrow<py::array>(h).dtype().kind();
    if (k != 'f' && k != 'i' && k != 'u' && k != 'b')
      throw py::type_error(fn + ": argument '" + name + "' must hold real numbers, got dtype " +
                           std::string(py::str(py::reinterpret_borrow<py::array>(h).dtype())));
  }
  BatchArg<S> a;
  a.name = name;
  a.validate = batch_validation();
  a.arr = py::array_t<S, py::array::c_style | py::array::forcecast>::ensure(h);
  if (!a.arr) {
    PyErr_Clear();
    throw py::type_error(fn + ": argument '" + name + "' must be an array of real numbers");
  }
  const auto nd = static_cast<size_t>(a.arr.ndim());
  const size_t k = inner.size();
  bool trailing_ok = nd >= k;
  for (size_t i = 0; trailing_ok && i < k; ++i) trailing_ok = a.arr.shape(nd - k + i) == inner[i];
  int64_t width = 1;
  for (int d : inner) width *= d;
  if (trailing_ok && nd == k) {
    a.n = 1;
    a.stride = 0;
  } else if (trailing_ok && nd == k + 1) {
    a.n = a.arr.shape(0);
    a.stride = a.n == 1 ? 0 : width;  // (1, ...) broadcasts like (...), as in numpy
  } else {
    const std::string want = inner.empty() ? "(N,) or a scalar" : "(N, " + dims_str(inner) + ") or (" + dims_str(inner) + (k == 1 ? ",)" : ")");
    throw py::value_error(fn + ": argument '" + name + "' must have shape " + want + ", got " + shape_str(a.arr));
  }
  a.ptr = a.arr.data();
  return a;
}

/// Broadcast length of the inputs: each has N elements or 1. Empty batches are rejected.
template <class... A>
int64_t batch_size(const std::string& fn, const A&... args) {
  int64_t n = 1;
  bool any_batched = false;
  for (const auto* a : {&args...}) {
    if (a->stride != 0 || a->n != 1) {
      if (any_batched && a->n != n)
        throw py::value_error(fn + ": batch sizes do not broadcast (argument '" + a->name + "' has " +
                              std::to_string(a->n) + " elements, expected " + std::to_string(n) + " or 1)");
      n = a->n;
      any_batched = true;
    }
  }
  if (n == 0) throw py::value_error(fn + ": empty batch (0 elements); pass at least one element");
  return n;
}

/// First bad element found by any thread, reported after the loop.
struct BatchErrors {
  std::mutex mu;
  int64_t index = std::numeric_limits<int64_t>::max();
  const char* arg = nullptr;
  RepStatus status = RepStatus::Ok;
  void report(int64_t i, const char* name, RepStatus st) {
    std::lock_guard<std::mutex> lock(mu);
    if (i < index) {
      index = i;
      arg = name;
      status = st;
    }
  }
  /// An output that came out NaN or inf from finite inputs (Exp of a huge tangent, a
  /// product that overflows): the single-element API refuses these, so do batches.
  static constexpr const char* result_arg = "result";
  void report_result(int64_t i) { report(i, result_arg, RepStatus::NotFinite); }
  void raise_if_any(const std::string& fn) const {
    if (!arg) return;
    if (arg == result_arg)
      throw py::value_error(fn + ": result element " + std::to_string(index) +
                            " is not finite (its input is too large for this map, or the product overflows)");
    std::string why = status == RepStatus::NotFinite ? "contains NaN or inf"
                      : status == RepStatus::NotUnit ? "has a rotation part that is not of unit norm (| |q|^2 - 1 | must be below 1e-5)"
                                                     : "has a non-positive scale";
    throw py::value_error(fn + ": argument '" + arg + "' element " + std::to_string(index) + " " + why);
  }
};

/// Reads element i of `a` into g; when `check` is set, rejects a bad element
/// (reported to err) and renormalises a unit part that is off by more than
/// rounding. `check` is a bool or std::integral_constant<bool, ...>: the batch
/// loops pass a constant, so the unchecked loop carries no test at all.
template <class G, class S, class Check>
MANIF_PY_BATCH_INLINE bool load_group(const BatchArg<S>& a, int64_t i, G& g, BatchErrors& err, Check check) {
  constexpr int Rep = LieTraits<G>::RepSize;
  // Read in place: copying first and then reading the quaternion at an odd
  // offset stalls store forwarding and doubled the cost of cheap kernels.
  const Eigen::Map<const Eigen::Matrix<S, Rep, 1>> m(a.at(i));
  if (!check) {
    g = G(m);
    return true;
  }
  bool renormalise = false;
  const RepStatus st = inspect_rep<G>(m, renormalise);
  if (st != RepStatus::Ok) {
    err.report(i, a.name, st);
    return false;
  }
  if (!renormalise) {
    g = G(m);
  } else {
    Eigen::Matrix<S, Rep, 1> d = m;
    renormalise_rep<G>(d);
    g = G(d);
  }
  return true;
}
template <class G, class S>
MANIF_PY_BATCH_INLINE bool load_group(const BatchArg<S>& a, int64_t i, G& g, BatchErrors& err) {
  return load_group(a, i, g, err, a.validate);
}

template <int N, class S, class Check>
MANIF_PY_BATCH_INLINE bool load_vec(const BatchArg<S>& a, int64_t i, Eigen::Matrix<S, N, 1>& v, BatchErrors& err, Check check) {
  const Eigen::Map<const Eigen::Matrix<S, N, 1>> m(a.at(i));
  if (check && !std::isfinite(m.sum())) {
    err.report(i, a.name, RepStatus::NotFinite);
    return false;
  }
  v = m;
  return true;
}
template <int N, class S>
MANIF_PY_BATCH_INLINE bool load_vec(const BatchArg<S>& a, int64_t i, Eigen::Matrix<S, N, 1>& v, BatchErrors& err) {
  return load_vec<N>(a, i, v, err, a.validate);
}

/// Whether a kernel's outputs (the element, and its Jacobians when asked for) are all
/// finite; checked only when inputs are validated (unchecked() skips it, as it skips the
/// input checks).
template <class G, class WantJac, class... J>
MANIF_PY_BATCH_INLINE bool finite_result(const G& g, WantJac, const J&... js) {
  if (!std::isfinite(g.coeffs().sum())) return false;
  if constexpr (WantJac::value) return (std::isfinite(js.sum()) && ...);
  return true;
}

/// The caller's output arrays (`out=`), one slot per result, none where not given.
/// Without Jacobians `out` is one array (the value); with them a tuple of as many
/// arrays as the call returns, in the same order.
inline std::vector<py::handle> out_slots(py::handle out, size_t results, bool jac, const std::string& fn) {
  std::vector<py::handle> slots(results, py::none());
  if (out.is_none()) return slots;
  if (!jac) {
    slots[0] = out;
    return slots;
  }
  if (!py::isinstance<py::tuple>(out) || py::len(out) != results)
    throw py::type_error(fn + ": with jacobians=True, argument 'out' must be a tuple of " + std::to_string(results) +
                         " arrays (the value and each Jacobian), got " + std::string(py::str(py::type::handle_of(out).attr("__name__"))));
  const auto t = py::reinterpret_borrow<py::tuple>(out);
  for (size_t k = 0; k < results; ++k) slots[k] = t[k];
  return slots;
}

/// An output array (N, *inner): a fresh uninitialised one (every element is
/// written, so no zero fill), or the caller's `out` array, checked to be exactly
/// that: dtype, shape, C-contiguous, writeable. Nothing when not requested.
template <class S>
struct BatchOut {
  py::array_t<S> arr;
  S* ptr = nullptr;
  int64_t width = 0;
  BatchOut() = default;
  BatchOut(int64_t n, const std::vector<int>& inner, py::handle given = py::none(), const std::string& fn = "",
           const char* name = "out") {
    std::vector<py::ssize_t> shape{static_cast<py::ssize_t>(n)};
    width = 1;
    for (int d : inner) {
      shape.push_back(d);
      width *= d;
    }
    if (given.is_none()) {
      arr = py::array_t<S>(shape);
    } else {
      const std::string want = "(" + std::to_string(n) + (inner.empty() ? ",)" : ", " + dims_str(inner) + ")");
      if (!py::isinstance<py::array>(given))
        throw py::type_error(fn + ": argument '" + name + "' must be a numpy array of shape " + want + ", got " +
                             std::string(py::str(py::type::handle_of(given).attr("__name__"))));
      const auto a = py::reinterpret_borrow<py::array>(given);
      if (!a.dtype().is(py::dtype::of<S>()))
        throw py::type_error(fn + ": argument '" + name + "' must have dtype " + std::string(py::str(py::dtype::of<S>())) +
                             " (that of the inputs), got " + std::string(py::str(a.dtype())));
      bool same = a.ndim() == static_cast<py::ssize_t>(shape.size());
      for (size_t k = 0; same && k < shape.size(); ++k) same = a.shape(k) == shape[k];
      if (!same) throw py::value_error(fn + ": argument '" + name + "' must have shape " + want + ", got " + shape_str(a));
      if (!(a.flags() & py::array::c_style) || !a.writeable())
        throw py::value_error(fn + ": argument '" + name + "' must be a writeable C-contiguous array");
      arr = py::reinterpret_borrow<py::array_t<S>>(given);
    }
    ptr = arr.mutable_data();
  }
  explicit operator bool() const { return ptr != nullptr; }
  /// Row-major store of a fixed-size Eigen object at element i.
  template <int R, int C>
  MANIF_PY_BATCH_INLINE void put(int64_t i, const Eigen::Matrix<S, R, C>& m) {
    Eigen::Map<Eigen::Matrix<S, R, C, (C == 1 || R == 1) ? Eigen::ColMajor : Eigen::RowMajor>>(ptr + i * width) = m;
  }
  /// Stores a group element's coefficients at element i (no temporary vector).
  template <class G>
  MANIF_PY_BATCH_INLINE void put_group(int64_t i, const G& g) {
    g.store(ptr + i * width);
  }
  void fill_nan(int64_t i) { std::fill(ptr + i * width, ptr + (i + 1) * width, std::numeric_limits<S>::quiet_NaN()); }
  /// Bytes [begin, end) this output covers.
  std::pair<const char*, const char*> span(int64_t n) const {
    const char* b = reinterpret_cast<const char*>(ptr);
    return {b, b + n * width * static_cast<int64_t>(sizeof(S))};
  }
};

/// A caller's output may be an input itself (compose(X, Y, out=X): element i is
/// read before it is written), but no other overlap: a shifted or broadcast view
/// of an input would be overwritten before it is read.
template <class S>
void check_out_overlap(const std::string& fn, int64_t n, const BatchOut<S>& o, const char* oname, const BatchArg<S>& a) {
  if (!o) return;
  const auto [ob, oe] = o.span(n);
  const char* ab = reinterpret_cast<const char*>(a.ptr);
  const char* ae = ab + a.arr.size() * static_cast<int64_t>(sizeof(S));
  if (oe <= ab || ae <= ob) return;
  if (ob == ab && (o.width == a.stride || n == 1)) return;  // every input of element i is read before its outputs are written
  throw py::value_error(fn + ": argument '" + oname + "' overlaps input '" + a.name +
                        "' other than element for element; pass a separate array");
}
template <class S>
void check_outs_disjoint(const std::string& fn, int64_t n, const std::vector<std::pair<const BatchOut<S>*, const char*>>& outs) {
  for (size_t i = 0; i < outs.size(); ++i)
    for (size_t j = i + 1; j < outs.size(); ++j) {
      if (!*outs[i].first || !*outs[j].first) continue;
      const auto [ab, ae] = outs[i].first->span(n);
      const auto [bb, be] = outs[j].first->span(n);
      if (ab < be && bb < ae)
        throw py::value_error(fn + ": arguments '" + outs[i].second + "' and '" + outs[j].second + "' overlap; pass separate arrays");
    }
}

/// Runs body(i) for every element with the GIL released, then raises the first error.
template <class Body>
void run_batch(const std::string& fn, int64_t n, BatchErrors& err, const Body& body) {
  {
    py::gil_scoped_release release;
    parallel_for(n, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) body(i);
    });
  }
  err.raise_if_any(fn);
}

/// body(i, ...) for i in [b, e), with every call inside inlined into the loop. In
/// the bindings' large translation units g++ left the kernels' pieces (quaternion
/// times vector, the element check) as calls, and their arguments went through
/// the stack: store-forwarding stalls made a compose cost 4x the plain loop.
template <class Body, class WJ, class Chk>
MANIF_PY_BATCH_FLATTEN void run_range_flat(const Body& body, int64_t b, int64_t e, WJ wj, Chk chk) {
  for (int64_t i = b; i < e; ++i) body(i, wj, chk);
}

/// Runs body(i, want_jacobians, check) for every element, the two flags passed as
/// std::integral_constant so that each loop is compiled for its case: no Jacobian
/// temporaries or stores in the plain loop, no validation branches in the
/// unchecked one. With Jacobians the check stays a run-time bool (one loop fewer
/// to compile; the Jacobians cost far more than the branch).
template <class Body>
void run_batch(const std::string& fn, int64_t n, BatchErrors& err, bool jac, const Body& body) {
  const bool check = batch_validation();  // read in the calling thread (it is thread-local)
  {
    py::gil_scoped_release release;
    const auto loop = [&](auto want_jac, auto chk) {
      parallel_for(n, [&](int64_t b, int64_t e) {
        // Flattened without Jacobians only: those loops are a few dozen flops per
        // element, where a call costs most; with Jacobians it would multiply the
        // compile time of the group TUs for a small share of their time.
        if constexpr (decltype(want_jac)::value)
          for (int64_t i = b; i < e; ++i) body(i, want_jac, chk);
        else
          run_range_flat(body, b, e, want_jac, chk);
      });
    };
    if (jac)
      loop(std::true_type{}, check);
    else if (check)
      loop(std::false_type{}, std::true_type{});
    else
      loop(std::false_type{}, std::false_type{});
  }
  err.raise_if_any(fn);
}

inline bool is_float32(py::handle h) {
  return py::isinstance<py::array>(h) && py::reinterpret_borrow<py::array>(h).dtype().is(py::dtype::of<float>());
}

}  // namespace manif_py::py_bind
