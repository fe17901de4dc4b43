#include "bind_batch.h"
#include "bind_single.h"
#include "extras.h"

namespace manif_py::py_bind {

struct Sim3Family { template <class S> using type = Sim3<S>; };

void bind_sim3(py::module_& m, py::module_& batch) {
  using G = Sim3<double>;
  SingleBinder<G> b{"Sim3", "Sim3Tangent"};
  b.bind_tangent(m);
  auto g = b.bind_group(m);
  g.def_static("from_matrix", [](py::handle T) {
         const auto M = read_matrix<4, 4>(T, "Sim3.from_matrix", "T");
         check_bottom_rows(M, 3, "Sim3.from_matrix", "T");
         const Eigen::Matrix3d sR = M.topLeftCorner<3, 3>();
         const double det = sR.determinant();
         if (!(det > 0)) value_error("Sim3.from_matrix", "T", "has a non-positive determinant (scale must be > 0, no reflections)");
         const double s = std::cbrt(det);
         return G(M.topRightCorner<3, 1>(), quat_from_rotation(Eigen::Matrix3d(sR / s), "Sim3.from_matrix", "T"), s);
       }, py::arg("T"), "From the 4x4 matrix [[s R, t], [0, 1]].")
      .def("translation", [](const G& x) { return to_vec(x.translation()); })
      .def("quat", [](const G& x) { return quat_array(x); })
      .def("rotation", [](const G& x) { return to_array(x.rotation()); })
      .def("scale", &G::scale);
  BatchBinder<Sim3Family>{"batch.Sim3."}.bind(batch.def_submodule("Sim3"));
}

}  // namespace manif_py::py_bind
