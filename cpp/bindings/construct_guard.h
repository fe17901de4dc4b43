// No half-built objects: every Python object of a bound value class holds a constructed value.
//
// pybind11 lets `Cls.__new__(Cls)` return an instance whose value was never constructed, and its
// argument loader then hands methods lazily allocated, uninitialised storage (garbage coefficients).
// Pickle protocols 0/1 reach the same state through copyreg (and pybind11 aborts the interpreter
// there). So __new__ runs __init__ itself, with the arguments it was given (no arguments: the
// constructor's own TypeError); the __init__ Python calls after it is then a no-op in pybind11,
// which ignores a second __init__ of a registered instance. Pickling goes through __reduce__ =
// (cls, (coeffs as a list,)), which calls the validating constructor under every protocol.
#pragma once

#include <pybind11/pybind11.h>

namespace manif_py::py_bind {

namespace py = pybind11;

template <class Cls>
void construct_in_new(Cls& cls) {
  py::object base_new = cls.attr("__new__");
  cls.attr("__new__") = py::staticmethod(py::cpp_function(
      [base_new](py::handle type, py::args args, py::kwargs kwargs) {
        py::object self = base_new(type);
        self.attr("__init__")(*args, **kwargs);
        return self;
      },
      py::name("__new__")));
}

template <class Cls, class StateFn>
void guard_construction(Cls& cls, StateFn state) {
  construct_in_new(cls);
  // The state is a list of Python floats, not a numpy array: the pickle needs no numpy to
  // load, and its numbers are what the validating constructor checks when it is read back.
  cls.def("__reduce__", [state](py::handle self) {
    return py::make_tuple(py::type::handle_of(self), py::make_tuple(state(self).attr("tolist")()));
  });
}

}  // namespace manif_py::py_bind
