// The extension module manif_py._core: groups, their tangents, batch kernels.
#include <pybind11/pybind11.h>

#include <manif_py/batch/parallel_for.h>

#include "batch_args.h"
#include "shared_settings.h"

namespace py = pybind11;

namespace manif_py::py_bind {
void bind_so2(py::module_&, py::module_&);
void bind_se2(py::module_&, py::module_&);
void bind_so3(py::module_&, py::module_&);
void bind_se3(py::module_&, py::module_&);
void bind_se23(py::module_&, py::module_&);
void bind_sim3(py::module_&, py::module_&);
void bind_sgal3(py::module_&, py::module_&);
void bind_rn(py::module_&, py::module_&);
}  // namespace manif_py::py_bind

PYBIND11_MODULE(_core, m) {
  using namespace manif_py::py_bind;
  m.doc() = "Compiled core of manif_py: Lie groups, tangents, analytic Jacobians, batch kernels.";
  py::module_ batch = m.def_submodule("batch", "Operations on arrays of elements, element axis first.");
  bind_so2(m, batch);
  bind_se2(m, batch);
  bind_so3(m, batch);
  bind_se3(m, batch);
  bind_se23(m, batch);
  bind_sim3(m, batch);
  bind_sgal3(m, batch);
  bind_rn(m, batch);
  // The groups bound above are the registry: Python reads their names from here
  // (manif_py.GROUPS, the @ dispatch, the stubs' check) instead of spelling the list out.
  py::list names;
  for (auto item : batch.attr("__dict__").cast<py::dict>())
    if (py::isinstance<py::module_>(item.second)) names.append(item.first);
  m.attr("GROUP_NAMES") = py::tuple(names);
  export_settings(m);  // _decomp and _registration read these settings too
  m.def("set_num_threads", [](int n) {
    if (n < 0) throw py::value_error("set_num_threads: argument 'n' must be >= 0 (0 = all cores)");
    manif_py::batch_threads() = n;
  }, py::arg("n"), "Threads used by the batch kernels of every module (0 = all hardware threads).");
  m.def("set_validation", [](bool on) { manif_py::py_bind::batch_validation() = on; }, py::arg("on"),
        "Turn the per-element input checks of every module's batch kernels on or off in the calling thread (see manif_py.unchecked).");
  m.def("get_validation", [] { return manif_py::py_bind::batch_validation(); });
  m.def("get_num_threads", [] { return manif_py::effective_threads(); });
  m.def("set_parallel_threshold", [](int64_t n) {
    if (n < 1) throw py::value_error("set_parallel_threshold: argument 'n' must be >= 1");
    manif_py::parallel_threshold() = n;
  }, py::arg("n"), "Batches smaller than this run on one thread.");
}
