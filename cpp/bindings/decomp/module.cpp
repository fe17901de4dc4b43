// Python module manif_py._decomp: GL+(n) and SL(n) through their polar
// decomposition, Haar sampling, the kernel-network pairwise inputs and image warps.
#include <pybind11/pybind11.h>

#include <manif_py/batch/parallel_for.h>

#include "decomp_args.h"

PYBIND11_MODULE(_decomp, m) {
  m.doc() = "GL+(n) / SL(n) decompositions, Haar sampling and image warps (C++).";
  manif_py::decomp_bind::bind_groups(m);
  manif_py::decomp_bind::bind_sampling(m);
  manif_py::decomp_bind::bind_warp(m);
  // This module's own thread setting: each extension module holds its own copy
  // (manif_py.set_num_threads sets all of them).
  m.def(
      "set_num_threads",
      [](int n) {
        if (n < 0) throw pybind11::value_error("set_num_threads: argument 'n' must be >= 0 (0 = all cores)");
        manif_py::batch_threads().store(n);
      },
      pybind11::arg("n"));
  m.def("get_num_threads", [] { return manif_py::effective_threads(); });
}
