#include "bind_batch.h"
#include "bind_single.h"
#include "extras.h"

namespace manif_py::py_bind {

struct SGal3Family { template <class S> using type = SGal3<S>; };

void bind_sgal3(py::module_& m, py::module_& batch) {
  using G = SGal3<double>;
  SingleBinder<G> b{"SGal3", "SGal3Tangent"};
  b.bind_tangent(m);
  auto g = b.bind_group(m);
  g.def_static("from_matrix", [](py::handle T) {
         const auto M = read_matrix<5, 5>(T, "SGal3.from_matrix", "T");
         for (int c = 0; c < 5; ++c) {
           const double want3 = c == 3 ? 1.0 : 0.0, want4 = c == 4 ? 1.0 : 0.0;
           if ((c != 4 && std::abs(M(3, c) - want3) > 1e-9) || std::abs(M(4, c) - want4) > 1e-9)
             value_error("SGal3.from_matrix", "T", "is not of the form [[R, v, t], [0, 1, s], [0, 0, 1]]");
         }
         return G(M.block<3, 1>(0, 4), quat_from_rotation(M.topLeftCorner<3, 3>(), "SGal3.from_matrix", "T"), M.block<3, 1>(0, 3), M(3, 4));
       }, py::arg("T"), "From the 5x5 matrix [[R, v, t], [0, 1, s], [0, 0, 1]].")
      .def("translation", [](const G& x) { return to_vec(x.translation()); })
      .def("linear_velocity", [](const G& x) { return to_vec(x.linearVelocity()); })
      .def("time", &G::time)
      .def("quat", [](const G& x) { return quat_array(x); })
      .def("rotation", [](const G& x) { return to_array(x.rotation()); });
  BatchBinder<SGal3Family>{"batch.SGal3."}.bind(batch.def_submodule("SGal3"));
}

}  // namespace manif_py::py_bind
