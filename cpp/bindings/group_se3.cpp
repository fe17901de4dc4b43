#include "bind_batch.h"
#include "bind_single.h"
#include "extras.h"

namespace manif_py::py_bind {

struct SE3Family { template <class S> using type = SE3<S>; };

void bind_se3(py::module_& m, py::module_& batch) {
  using G = SE3<double>;
  SingleBinder<G> b{"SE3", "SE3Tangent"};
  b.bind_tangent(m);
  auto g = b.bind_group(m);
  g.def_static("from_matrix", [](py::handle T) {
         const auto M = read_matrix<4, 4>(T, "SE3.from_matrix", "T");
         check_bottom_rows(M, 3, "SE3.from_matrix", "T");
         return G(M.topRightCorner<3, 1>(), quat_from_rotation(M.topLeftCorner<3, 3>(), "SE3.from_matrix", "T"));
       }, py::arg("T"), "From a 4x4 homogeneous transform.")
      .def_static("from_rt", [](py::handle R, py::handle t) {
        const auto Rm = read_matrix<3, 3>(R, "SE3.from_rt", "R");
        return G(read_vector<3>(t, "SE3.from_rt", "t"), quat_from_rotation(Rm, "SE3.from_rt", "R"));
      }, py::arg("R"), py::arg("t"), "From a rotation matrix and a translation.")
      .def("translation", [](const G& x) { return to_vec(x.translation()); })
      .def("quat", [](const G& x) { return quat_array(x); }, "Unit quaternion (x, y, z, w).")
      .def("rotation", [](const G& x) { return to_array(x.rotation()); })
      .def("transform", [](const G& x) { return to_array(x.matrix()); });
  BatchBinder<SE3Family>{"batch.SE3."}.bind(batch.def_submodule("SE3"));
}

}  // namespace manif_py::py_bind
