#include "bind_batch.h"
#include "bind_single.h"
#include "extras.h"

namespace manif_py::py_bind {

struct SE23Family { template <class S> using type = SE23<S>; };

void bind_se23(py::module_& m, py::module_& batch) {
  using G = SE23<double>;
  SingleBinder<G> b{"SE23", "SE23Tangent"};
  b.bind_tangent(m);
  auto g = b.bind_group(m);
  g.def_static("from_matrix", [](py::handle T) {
         const auto M = read_matrix<5, 5>(T, "SE23.from_matrix", "T");
         check_bottom_rows(M, 3, "SE23.from_matrix", "T");
         return G(M.block<3, 1>(0, 3), quat_from_rotation(M.topLeftCorner<3, 3>(), "SE23.from_matrix", "T"), M.block<3, 1>(0, 4));
       }, py::arg("T"), "From the 5x5 matrix [[R, p, v], [0, 1, 0], [0, 0, 1]].")
      .def("translation", [](const G& x) { return to_vec(x.translation()); })
      .def("linear_velocity", [](const G& x) { return to_vec(x.linearVelocity()); })
      .def("quat", [](const G& x) { return quat_array(x); })
      .def("rotation", [](const G& x) { return to_array(x.rotation()); });
  BatchBinder<SE23Family>{"batch.SE23."}.bind(batch.def_submodule("SE23"));
}

}  // namespace manif_py::py_bind
