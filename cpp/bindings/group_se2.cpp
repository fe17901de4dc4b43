#include "bind_batch.h"
#include "bind_single.h"
#include "extras.h"

namespace manif_py::py_bind {

struct SE2Family { template <class S> using type = SE2<S>; };

void bind_se2(py::module_& m, py::module_& batch) {
  SingleBinder<SE2<double>> b{"SE2", "SE2Tangent"};
  b.bind_tangent(m);
  auto g = b.bind_group(m);
  g.def_static("from_xytheta", [](double x, double y, double theta) {
         if (!std::isfinite(x) || !std::isfinite(y) || !std::isfinite(theta)) throw py::value_error("SE2.from_xytheta: arguments must be finite");
         return SE2<double>(x, y, std::cos(theta), std::sin(theta));
       }, py::arg("x"), py::arg("y"), py::arg("theta"))
      .def_static("from_matrix", [](py::handle T) {
        const auto M = read_matrix<3, 3>(T, "SE2.from_matrix", "T");
        check_bottom_rows(M, 2, "SE2.from_matrix", "T");
        const Eigen::Matrix2d R = M.topLeftCorner<2, 2>();
        const double dev = (R.transpose() * R - Eigen::Matrix2d::Identity()).cwiseAbs().maxCoeff();
        if (!(dev <= 1e-6) || !(R.determinant() > 0)) value_error("SE2.from_matrix", "T", "has a rotation block that is not a rotation matrix");
        const Eigen::Vector2d cs = Eigen::Vector2d(R(0, 0), R(1, 0)).normalized();
        return SE2<double>(M(0, 2), M(1, 2), cs(0), cs(1));
      }, py::arg("T"))
      .def("x", &SE2<double>::x)
      .def("y", &SE2<double>::y)
      .def("angle", &SE2<double>::angle)
      .def("translation", [](const SE2<double>& x) { return to_vec(Eigen::Vector2d(x.translation())); })
      .def("rotation", [](const SE2<double>& x) { return to_array(x.rotation()); })
      .def("transform", [](const SE2<double>& x) { return to_array(x.matrix()); });
  BatchBinder<SE2Family>{"batch.SE2."}.bind(batch.def_submodule("SE2"));
}

}  // namespace manif_py::py_bind
