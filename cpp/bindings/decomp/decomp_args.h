// Argument handling shared by the decomp bindings: group names, float32/float64
// batches of matrices with the element axis first, and per-element status
// codes turned into ValueErrors that name the argument and the element.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <manif_py/batch/parallel_for.h>
#include <manif_py/decomp/groups.h>

#include <cstdint>
#include <limits>
#include <mutex>
#include <string>
#include <vector>

namespace manif_py::decomp_bind {

namespace py = pybind11;
using decomp::Group;
using decomp::Status;

inline std::string shape_of(const py::array& a) {
  std::string s = "(";
  for (py::ssize_t i = 0; i < a.ndim(); ++i) s += (i ? ", " : "") + std::to_string(a.shape(i));
  return s + (a.ndim() == 1 ? ",)" : ")");
}

inline Group parse_group(py::handle h, const std::string& fn) {
  if (PyUnicode_Check(h.ptr())) {
    const std::string s = h.cast<std::string>();
    if (s == "SO2") return Group::SO2;
    if (s == "SL2") return Group::SL2;
    if (s == "GL2") return Group::GL2;
    if (s == "SL3") return Group::SL3;
    if (s == "GL3") return Group::GL3;
  }
  throw py::value_error(fn + ": argument 'group' must be one of 'SO2', 'SL2', 'GL2', 'SL3', 'GL3', got " +
                        std::string(py::repr(h)));
}

inline std::string group_name(Group g) {
  switch (g) {
    case Group::SO2: return "SO2";
    case Group::SL2: return "SL2";
    case Group::GL2: return "GL2";
    case Group::SL3: return "SL3";
    case Group::GL3: return "GL3";
  }
  return "?";
}

/// A real array as a C-contiguous float32 (if it is float32) or float64 array.
/// Anything else numeric is converted to float64; complex, text, objects and
/// None raise TypeError.
inline py::array real_array(py::handle h, const std::string& fn, const char* arg, const std::string& want) {
  if (h.is_none()) throw py::type_error(fn + ": argument '" + arg + "' must be an array of shape " + want + ", got None");
  py::array raw = py::array::ensure(h);
  if (!raw) {
    PyErr_Clear();
    throw py::type_error(fn + ": argument '" + arg + "' must be an array of real numbers of shape " + want + ", got " +
                         std::string(py::str(py::type::handle_of(h).attr("__name__"))));
  }
  const char k = raw.dtype().kind();
  if (k != 'f' && k != 'i' && k != 'u' && k != 'b')
    throw py::type_error(fn + ": argument '" + arg + "' must hold real numbers (float32 or float64) of shape " + want +
                         ", got dtype " + std::string(py::str(raw.dtype())));
  if (raw.dtype().is(py::dtype::of<float>()))
    return py::array_t<float, py::array::c_style | py::array::forcecast>::ensure(raw);
  return py::array_t<double, py::array::c_style | py::array::forcecast>::ensure(raw);
}

inline bool is_f32(const py::array& a) { return a.dtype().is(py::dtype::of<float>()); }

/// A batch of square matrices (N, n, n) with n in `sizes`, N >= 1.
inline py::array matrix_batch(py::handle h, const std::string& fn, const char* arg, int n_only = 0) {
  const std::string want = n_only ? "(N, " + std::to_string(n_only) + ", " + std::to_string(n_only) + ")"
                                  : std::string("(N, 2, 2) or (N, 3, 3)");
  py::array a = real_array(h, fn, arg, want);
  const bool square = a.ndim() == 3 && a.shape(1) == a.shape(2);
  const bool size_ok = square && (n_only ? a.shape(1) == n_only : (a.shape(1) == 2 || a.shape(1) == 3));
  if (!size_ok) throw py::value_error(fn + ": argument '" + arg + "' must have shape " + want + ", got " + shape_of(a));
  if (a.shape(0) == 0)
    throw py::value_error(fn + ": argument '" + arg + "' is an empty batch; expected shape " + want + " with N >= 1");
  return a;
}

inline std::string status_text(Status st, Group grp) {
  switch (st) {
    case Status::Ok: return "is fine";
    case Status::NotFinite: return "contains NaN or inf";
    case Status::NonPositiveDet: return "has det <= 0: not in GL+(n) (expected invertible matrices with positive determinant)";
    case Status::Singular: return "is numerically singular (smallest / largest singular value below n * machine epsilon)";
    case Status::NotUnitDet:
      return "has |det - 1| above 1e-6: not in " + group_name(grp) + " (expected det = 1)";
    case Status::NotRotation: return "is not a rotation (g g^T differs from I by more than 1e-6): not in SO2";
    case Status::NotSymmetric: return "is not symmetric (|A - A^T| above 1e-8 relative; float32: 1e-4)";
    case Status::NotPositiveDefinite: return "is not positive definite (an eigenvalue <= n * eps * the largest)";
    case Status::Overflow: return "gives a result that overflows (not finite)";
    case Status::Underflow: return "gives a singular value that underflows to 0 (entries too close to the smallest double)";
  }
  return "is invalid";
}

/// The first bad element found by any thread, reported after the loop.
struct Errors {
  std::mutex mu;
  int64_t index = std::numeric_limits<int64_t>::max();
  Status status = Status::Ok;
  const char* arg = "";
  void report(int64_t i, Status st, const char* name) {
    std::lock_guard<std::mutex> lock(mu);
    if (i < index) index = i, status = st, arg = name;
  }
  void raise_if_any(const std::string& fn, Group grp, const std::string& shape) const {
    if (status == Status::Ok) return;
    throw py::value_error(fn + ": argument '" + arg + "' element " + std::to_string(index) + " " +
                          status_text(status, grp) + "; expected shape " + shape);
  }
};

/// body(i) for i < n with the GIL released, split over threads for large batches.
template <class Body>
void run_loop(int64_t n, const Body& body) {
  py::gil_scoped_release release;
  parallel_for(n, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) body(i);
  });
}

template <class S>
py::array_t<S> new_array(const std::vector<py::ssize_t>& shape) {
  return py::array_t<S>(shape);
}

void bind_groups(py::module_& m);
void bind_sampling(py::module_& m);
void bind_warp(py::module_& m);

}  // namespace manif_py::decomp_bind
