// Python module manif_py._decomp: GL+(n) and SL(n) through their polar
// decomposition, Haar sampling, the kernel-network pairwise inputs and image warps.
#include <pybind11/pybind11.h>

#include "../shared_settings.h"
#include "decomp_args.h"

PYBIND11_MODULE(_decomp, m) {
  m.doc() = "GL+(n) / SL(n) decompositions, Haar sampling and image warps (C++).";
  manif_py::decomp_bind::bind_groups(m);
  manif_py::decomp_bind::bind_sampling(m);
  manif_py::decomp_bind::bind_warp(m);
  manif_py::py_bind::adopt_settings(m);  // _core's threads, threshold and validation switch
}
