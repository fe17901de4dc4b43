// Batch arguments: arrays with the element axis first, broadcasting a single
// element against N, validated element by element inside the (GIL-free) loop.
#pragma once

#include <manif_py/batch/parallel_for.h>

#include <atomic>
#include <limits>
#include <mutex>
#include <vector>

#include "convert.h"

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

template <class G, class S>
inline bool load_group(const BatchArg<S>& a, int64_t i, G& g, BatchErrors& err) {
  constexpr int Rep = LieTraits<G>::RepSize;
  // Read in place: copying first and then reading the quaternion at an odd
  // offset stalls store forwarding and doubled the cost of cheap kernels.
  const Eigen::Map<const Eigen::Matrix<S, Rep, 1>> m(a.at(i));
  if (!a.validate) {
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

template <int N, class S>
inline bool load_vec(const BatchArg<S>& a, int64_t i, Eigen::Matrix<S, N, 1>& v, BatchErrors& err) {
  const Eigen::Map<const Eigen::Matrix<S, N, 1>> m(a.at(i));
  if (a.validate && !std::isfinite(m.sum())) {
    err.report(i, a.name, RepStatus::NotFinite);
    return false;
  }
  v = m;
  return true;
}

/// Whether a kernel's outputs (an element, a tangent, Jacobians) are all finite; checked
/// only when inputs are validated (unchecked() skips it, as it skips the input checks).
template <class... M>
inline bool all_finite(const M&... m) {
  return (std::isfinite(m.sum()) && ...);
}

/// An output array (N, *inner), or nothing when not requested.
template <class S>
struct BatchOut {
  py::array_t<S> arr;
  S* ptr = nullptr;
  int64_t width = 0;
  BatchOut() = default;
  BatchOut(int64_t n, const std::vector<int>& inner) {
    std::vector<py::ssize_t> shape{static_cast<py::ssize_t>(n)};
    width = 1;
    for (int d : inner) {
      shape.push_back(d);
      width *= d;
    }
    arr = py::array_t<S>(shape);
    ptr = arr.mutable_data();
  }
  explicit operator bool() const { return ptr != nullptr; }
  /// Row-major store of a fixed-size Eigen object at element i.
  template <int R, int C>
  void put(int64_t i, const Eigen::Matrix<S, R, C>& m) {
    Eigen::Map<Eigen::Matrix<S, R, C, (C == 1 || R == 1) ? Eigen::ColMajor : Eigen::RowMajor>>(ptr + i * width) = m;
  }
  /// Stores a group element's coefficients at element i (no temporary vector).
  template <class G>
  void put_group(int64_t i, const G& g) {
    g.store(ptr + i * width);
  }
  void fill_nan(int64_t i) { std::fill(ptr + i * width, ptr + (i + 1) * width, std::numeric_limits<S>::quiet_NaN()); }
};

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

inline bool is_float32(py::handle h) {
  return py::isinstance<py::array>(h) && py::reinterpret_borrow<py::array>(h).dtype().is(py::dtype::of<float>());
}

}  // namespace manif_py::py_bind
