// One set of batch settings for every extension module of the package. manif_py._core
// exports its instance as a capsule; _decomp, _registration and _estimation adopt it at
// import, so set_num_threads, set_parallel_threshold and unchecked() reach them all.
#pragma once

#include <pybind11/pybind11.h>

#include <manif_py/batch/parallel_for.h>

namespace manif_py::py_bind {

// The capsule's name carries the layout's version: a module built against another layout
// refuses to adopt it instead of reading the wrong fields.
inline constexpr const char* settings_capsule_name = "manif_py._core.settings.v1";

inline void export_settings(pybind11::module_& core) {
  core.attr("_settings") = pybind11::capsule(&settings(), settings_capsule_name);
}

inline void adopt_settings(pybind11::module_& m) {
  pybind11::capsule c = pybind11::module_::import("manif_py._core").attr("_settings");
  if (std::string(c.name()) != settings_capsule_name)
    throw pybind11::import_error(std::string(PyModule_GetName(m.ptr())) +
                                 ": manif_py._core was built from another version (settings layout " +
                                 c.name() + ", expected " + settings_capsule_name + "); reinstall manif_py");
  settings_source() = c.get_pointer<Settings>();
  m.def("get_num_threads", [] { return effective_threads(); },
        "Threads the batch kernels use (the setting is shared with manif_py._core).");
}

}  // namespace manif_py::py_bind
