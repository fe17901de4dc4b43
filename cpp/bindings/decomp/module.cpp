// Python module manif_py._decomp: GL+(n) and SL(n) through their polar
// decomposition, Haar sampling, the kernel-network pairwise inputs and image warps.
#include <pybind11/pybind11.h>

PYBIND11_MODULE(_decomp, m) {
  m.doc() = "GL+(n) / SL(n) decompositions, Haar sampling and image warps (C++).";
}
