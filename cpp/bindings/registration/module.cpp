// Python module manif_py._registration: SE(3) diffusion kernels, weighted
// Procrustes with Jacobians and point-cloud helpers.
#include <pybind11/pybind11.h>

#include <manif_py/batch/parallel_for.h>

namespace manif_py::py_bind {
void bind_diffusion(pybind11::module_& m);
void bind_procrustes(pybind11::module_& m);
void bind_geometry(pybind11::module_& m);
void bind_icp(pybind11::module_& m);
}  // namespace manif_py::py_bind

PYBIND11_MODULE(_registration, m) {
  m.doc() = "SE(3) diffusion and point-cloud registration kernels (C++).";
  manif_py::py_bind::bind_diffusion(m);
  manif_py::py_bind::bind_procrustes(m);
  manif_py::py_bind::bind_geometry(m);
  manif_py::py_bind::bind_icp(m);
  // This module's own thread setting: each extension module holds its own copy.
  m.def(
      "set_num_threads",
      [](int n) {
        if (n < 0) throw pybind11::value_error("set_num_threads: argument 'n' must be >= 0 (0 = all cores)");
        manif_py::batch_threads().store(n);
      },
      pybind11::arg("n"));
  m.def("get_num_threads", [] { return manif_py::effective_threads(); });
}
