// numpy <-> Eigen conversion for the single-element path: a fast buffer-protocol
// read for float64 vectors, a forgiving fallback, and errors that name the argument.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <manif_py/lie/common.h>
#include <manif_py/lie/validate.h>

#include <sstream>
#include <string>

namespace manif_py::py_bind {

namespace py = pybind11;

inline std::string shape_str(const py::array& a) {
  std::ostringstream s;
  s << "(";
  for (py::ssize_t i = 0; i < a.ndim(); ++i) s << (i ? ", " : "") << a.shape(i);
  s << (a.ndim() == 1 ? ",)" : ")");
  return s.str();
}

/// The generator behind unseeded Random() calls (seeded once from the OS).
inline Rng& global_rng() {
  static Rng rng{std::random_device{}()};
  return rng;
}

[[noreturn]] inline void value_error(const std::string& fn, const char* arg, const std::string& what) {
  throw py::value_error(fn + ": argument '" + arg + "' " + what);
}

/// Any array-like as a float64 numpy array, or a TypeError naming the argument.
inline py::array_t<double, py::array::c_style | py::array::forcecast> as_f64(py::handle h, const std::string& fn, const char* arg) {
  if (h.is_none()) throw py::type_error(fn + ": argument '" + arg + "' must be an array of numbers, got None");
  // A bound object (a tangent or element of some group) is never a raw vector here: an
  // SE2Tangent has three coefficients, but they are not an SO3 tangent's (x, y, z).
  if (py::detail::get_type_info(Py_TYPE(h.ptr())) != nullptr)
    throw py::type_error(fn + ": argument '" + arg + "' must be an array of numbers or this group's own type, got " +
                         std::string(py::str(py::type::handle_of(h).attr("__name__"))));
  // Look at the dtype before any cast, so complex or text input fails cleanly
  // (and numpy does not warn about discarding imaginary parts first).
  py::array raw = py::array::ensure(h);
  if (!raw) {
    PyErr_Clear();
    throw py::type_error(fn + ": argument '" + arg + "' must be an array of real numbers, got " +
                         std::string(py::str(py::type::handle_of(h).attr("__name__"))));
  }
  const char k = raw.dtype().kind();
  if (k != 'f' && k != 'i' && k != 'u' && k != 'b')
    throw py::type_error(fn + ": argument '" + arg + "' must hold real numbers, got dtype " + std::string(py::str(raw.dtype())));
  return py::array_t<double, py::array::c_style | py::array::forcecast>::ensure(raw);
}

/// A seed for the random generators: an integer in [0, 2^64).
inline uint64_t read_seed(py::handle h, const std::string& fn) {
  if (!PyLong_Check(h.ptr()) && !py::isinstance(h, py::module_::import("numpy").attr("integer")))
    throw py::type_error(fn + ": argument 'seed' must be an integer or None, got " +
                         std::string(py::str(py::type::handle_of(h).attr("__name__"))));
  const py::int_ v = py::reinterpret_borrow<py::object>(h);
  if (v < py::int_(0) || v >= py::int_(py::reinterpret_steal<py::object>(PyLong_FromUnsignedLongLong(~0ull))) + py::int_(1))
    throw py::value_error(fn + ": argument 'seed' must be in [0, 2**64), got " + std::string(py::str(h)));
  return PyLong_AsUnsignedLongLong(v.ptr());
}

/// Reads a length-N float vector. float64 1-D buffers are copied straight through
/// the buffer protocol (the common case, ~50 ns); anything else goes through numpy.
template <int N>
inline Eigen::Matrix<double, N, 1> read_vector(py::handle h, const std::string& fn, const char* arg) {
  Eigen::Matrix<double, N, 1> v;
  bool done = false;
  if (PyObject_CheckBuffer(h.ptr())) {
    Py_buffer view;
    if (PyObject_GetBuffer(h.ptr(), &view, PyBUF_STRIDES | PyBUF_FORMAT) == 0) {
      const bool f64 = view.format && (view.format[0] == 'd' || ((view.format[0] == '<' || view.format[0] == '=') && view.format[1] == 'd'));
      if (f64 && view.ndim == 1 && view.shape[0] == N) {
        const char* p = static_cast<const char*>(view.buf);
        for (int i = 0; i < N; ++i) v(i) = *reinterpret_cast<const double*>(p + i * view.strides[0]);
        done = true;
      }
      PyBuffer_Release(&view);
    } else {
      PyErr_Clear();
    }
  }
  if (!done) {
    if (N == 1 && (PyFloat_Check(h.ptr()) || PyLong_Check(h.ptr()))) {
      v(0) = h.cast<double>();
    } else {
      auto a = as_f64(h, fn, arg);
      const bool ok = (a.ndim() == 1 && a.shape(0) == N) || (N == 1 && a.ndim() == 0);
      if (!ok) value_error(fn, arg, "must have shape (" + std::to_string(N) + ",), got " + shape_str(a));
      std::copy(a.data(), a.data() + N, v.data());
    }
  }
  if (!v.allFinite()) value_error(fn, arg, "contains NaN or inf");
  return v;
}

/// Reads an R x C float matrix (row-major as numpy prints it).
template <int R, int C>
inline Eigen::Matrix<double, R, C> read_matrix(py::handle h, const std::string& fn, const char* arg) {
  auto a = as_f64(h, fn, arg);
  if (!(a.ndim() == 2 && a.shape(0) == R && a.shape(1) == C))
    value_error(fn, arg, "must have shape (" + std::to_string(R) + ", " + std::to_string(C) + "), got " + shape_str(a));
  Eigen::Matrix<double, R, C> m = Eigen::Map<const Eigen::Matrix<double, R, C, (C == 1 ? Eigen::ColMajor : Eigen::RowMajor)>>(a.data());
  if (!m.allFinite()) value_error(fn, arg, "contains NaN or inf");
  return m;
}

/// A fixed-size vector as a 1-D numpy array (R,).
template <class S, int R>
inline py::array_t<S> to_vec(const Eigen::Matrix<S, R, 1>& v) {
  py::array_t<S> out(R);
  std::copy(v.data(), v.data() + R, out.mutable_data());
  return out;
}

/// A fixed-size matrix as a 2-D numpy array (R, C), row-major as numpy prints it.
template <class S, int R, int C>
inline py::array_t<S> to_array(const Eigen::Matrix<S, R, C>& m) {
  py::array_t<S> out({R, C});
  Eigen::Map<Eigen::Matrix<S, R, C, (C == 1 ? Eigen::ColMajor : Eigen::RowMajor)>>(out.mutable_data()) = m;
  return out;
}

inline Convention parse_convention(py::handle h, const std::string& fn) {
  // No std::string on the hot path: compare the Python string in place.
  if (PyUnicode_Check(h.ptr())) {
    if (PyUnicode_CompareWithASCIIString(h.ptr(), "right") == 0 || PyUnicode_CompareWithASCIIString(h.ptr(), "local") == 0)
      return Convention::Right;
    if (PyUnicode_CompareWithASCIIString(h.ptr(), "left") == 0 || PyUnicode_CompareWithASCIIString(h.ptr(), "global") == 0)
      return Convention::Left;
  }
  throw py::value_error(fn + ": argument 'convention' must be 'right' (local) or 'left' (global), got " +
                        std::string(py::repr(h)));
}

/// Validates (and normalises within tolerance) a group storage vector.
template <class G, class Vec>
inline void check_group_rep(Vec& d, const std::string& fn, const char* arg) {
  switch (check_rep<G>(d)) {
    case RepStatus::Ok: return;
    case RepStatus::NotFinite: value_error(fn, arg, "contains NaN or inf");
    case RepStatus::NotUnit:
      value_error(fn, arg, "has a rotation part (complex number / quaternion) that is not of unit norm "
                           "(| |q|^2 - 1 | must be below 1e-5; normalize it first)");
    case RepStatus::NotPositive: value_error(fn, arg, "has a non-positive scale (must be > 0)");
  }
}

}  // namespace manif_py::py_bind
