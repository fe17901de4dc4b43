// set_num_threads / get_num_threads for an extension module. Each compiled
// module holds its own copy of the batch thread setting (the static in
// parallel_for.h), so every module binds its own pair and manif_py.set_num_threads
// calls them all.
#pragma once

#include <pybind11/pybind11.h>

#include <manif_py/batch/parallel_for.h>

namespace manif_py::py_bind {

inline void bind_thread_setting(pybind11::module_& m) {
  m.def(
      "set_num_threads",
      [](int n) {
        if (n < 0) throw pybind11::value_error("set_num_threads: argument 'n' must be >= 0 (0 = all cores)");
        manif_py::batch_threads().store(n);
      },
      pybind11::arg("n"));
  m.def("get_num_threads", [] { return manif_py::effective_threads(); });
}

}  // namespace manif_py::py_bind
