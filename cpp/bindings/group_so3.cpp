#include "bind_batch.h"
#include "bind_single.h"
#include "extras.h"

namespace manif_py::py_bind {

struct SO3Family { template <class S> using type = SO3<S>; };

void bind_so3(py::module_& m, py::module_& batch) {
  using G = SO3<double>;
  SingleBinder<G> b{"SO3", "SO3Tangent"};
  b.bind_tangent(m);
  auto g = b.bind_group(m);
  g.def_static("from_matrix", [](py::handle R) {
         return G(quat_from_rotation(read_matrix<3, 3>(R, "SO3.from_matrix", "R"), "SO3.from_matrix", "R"));
       }, py::arg("R"), "From a 3x3 rotation matrix (orthonormal within 1e-6, det +1).")
      .def_static("from_angle_axis", [](double angle, py::handle axis) {
        const Eigen::Vector3d a = read_vector<3>(axis, "SO3.from_angle_axis", "axis");
        if (!std::isfinite(angle)) throw py::value_error("SO3.from_angle_axis: argument 'angle' must be finite");
        if (!(a.norm() > 1e-12)) value_error("SO3.from_angle_axis", "axis", "must be a non-zero vector");
        return SO3Tangent<double>(angle * a.normalized()).Exp();
      }, py::arg("angle"), py::arg("axis"))
      .def("quat", [](const G& x) { return quat_array(x); }, "Unit quaternion (x, y, z, w).")
      .def("rotation", [](const G& x) { return to_array(x.rotation()); })
      .def("angle_axis", [](const G& x) {
        const Eigen::Vector3d v = x.Log().coeffs();
        const double a = v.norm();
        return py::make_tuple(a, to_vec(Eigen::Vector3d(a > 0 ? Eigen::Vector3d(v / a) : Eigen::Vector3d::UnitX())));
      }, "(angle in [0, pi], unit axis).");
  BatchBinder<SO3Family>{"batch.SO3."}.bind(batch.def_submodule("SO3"));
}

}  // namespace manif_py::py_bind
