// Python module manif_py._registration: SE(3) diffusion kernels, weighted
// Procrustes with Jacobians and point-cloud helpers.
#include <pybind11/pybind11.h>

#include "../shared_settings.h"

namespace manif_py::py_bind {
void bind_diffusion(pybind11::module_& m);
void bind_procrustes(pybind11::module_& m);
void bind_geometry(pybind11::module_& m);
void bind_icp(pybind11::module_& m);
void bind_ppf(pybind11::module_& m);
void bind_cloud_index(pybind11::module_& m);
}  // namespace manif_py::py_bind

PYBIND11_MODULE(_registration, m) {
  m.doc() = "SE(3) diffusion and point-cloud registration kernels (C++).";
  manif_py::py_bind::bind_diffusion(m);
  manif_py::py_bind::bind_procrustes(m);
  manif_py::py_bind::bind_geometry(m);
  manif_py::py_bind::bind_icp(m);
  manif_py::py_bind::bind_ppf(m);
  manif_py::py_bind::bind_cloud_index(m);
  manif_py::py_bind::adopt_settings(m);  // _core's threads, threshold and validation switch
}
