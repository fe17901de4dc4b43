// Python module manif_py._registration: SE(3) diffusion kernels, weighted
// Procrustes with Jacobians and point-cloud helpers.
#include <pybind11/pybind11.h>

PYBIND11_MODULE(_registration, m) {
  m.doc() = "SE(3) diffusion and point-cloud registration kernels (C++).";
}
