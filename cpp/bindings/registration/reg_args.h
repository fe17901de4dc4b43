// Argument readers shared by the registration bindings: whole arrays of a fixed
// rank (clouds, batches of clouds), validated up front with errors that name the
// argument and the expected shape.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cmath>
#include <string>
#include <vector>

#include "../batch_args.h"

namespace manif_py::py_bind::reg {

template <class S>
using Arr = py::array_t<S, py::array::c_style | py::array::forcecast>;

/// Rejects None, non-arrays and non-real dtypes with a TypeError naming `name`.
inline py::array as_real_array(py::handle h, const std::string& fn, const char* name, const std::string& want) {
  if (h.is_none()) throw py::type_error(fn + ": argument '" + name + "' must be an array of shape " + want + ", got None");
  py::array raw = py::array::ensure(h);
  if (!raw) {
    PyErr_Clear();
    throw py::type_error(fn + ": argument '" + name + "' must be an array of shape " + want + ", got " +
                         std::string(py::str(py::type::handle_of(h).attr("__name__"))));
  }
  const char k = raw.dtype().kind();
  if (k != 'f' && k != 'i' && k != 'u')
    throw py::type_error(fn + ": argument '" + name + "' must hold real numbers (shape " + want + "), got dtype " +
                         std::string(py::str(raw.dtype())));
  return raw;
}

/// A C-contiguous array of scalar S with rank shape.size(); entries of `shape`
/// >= 0 must match exactly, -1 means any size. Checks every entry is finite.
template <class S>
Arr<S> read_array(py::handle h, const std::string& fn, const char* name, const std::vector<py::ssize_t>& shape,
                  const std::string& want) {
  py::array raw = as_real_array(h, fn, name, want);
  bool ok = raw.ndim() == static_cast<py::ssize_t>(shape.size());
  for (size_t d = 0; ok && d < shape.size(); ++d) ok = shape[d] < 0 || raw.shape(static_cast<py::ssize_t>(d)) == shape[d];
  if (!ok) throw py::value_error(fn + ": argument '" + name + "' must have shape " + want + ", got " + shape_str(raw));
  Arr<S> a = Arr<S>::ensure(raw);
  const S* p = a.data();
  const py::ssize_t n = a.size();
  for (py::ssize_t i = 0; i < n; ++i)
    if (!std::isfinite(p[i]))
      throw py::value_error(fn + ": argument '" + name + "' (shape " + want + ") contains NaN or inf");
  return a;
}

/// Rejects an empty axis (no clouds, no points) with a ValueError.
inline void require_nonempty(const py::array& a, int axis, const std::string& fn, const char* name, const char* what) {
  if (a.shape(axis) == 0) throw py::value_error(fn + ": argument '" + name + "' has no " + what + " (shape " + shape_str(a) + ")");
}

/// k in [1, n]: the neighbourhood size against the cloud it is taken from.
inline void check_k(int64_t k, int64_t n, const std::string& fn, const char* cloud) {
  if (k < 1) throw py::value_error(fn + ": argument 'k' must be >= 1, got " + std::to_string(k));
  if (k > n)
    throw py::value_error(fn + ": argument 'k' = " + std::to_string(k) + " exceeds the " + std::to_string(n) +
                          " points of '" + cloud + "'");
}

inline void check_finite_scalar(double v, const std::string& fn, const char* name, bool positive) {
  if (!std::isfinite(v) || (positive && !(v > 0)))
    throw py::value_error(fn + ": argument '" + name + "' must be a finite" + (positive ? " positive" : "") +
                          " number, got " + std::to_string(v));
}

/// Which scalar type a call runs in: float32 when the leading array is float32.
inline bool wants_float32(py::handle h) { return is_float32(h); }

/// The kd-tree query of one item, costed in cheap batch elements for parallel_items.
inline int64_t query_cost(int64_t k) { return 16 + k; }

}  // namespace manif_py::py_bind::reg
