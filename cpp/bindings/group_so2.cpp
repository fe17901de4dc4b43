#include "bind_batch.h"
#include "bind_single.h"
#include "extras.h"

namespace manif_py::py_bind {

struct SO2Family { template <class S> using type = SO2<S>; };

void bind_so2(py::module_& m, py::module_& batch) {
  SingleBinder<SO2<double>> b{"SO2", "SO2Tangent"};
  b.bind_tangent(m);
  auto g = b.bind_group(m);
  g.def(py::init([](double angle) {
         if (!std::isfinite(angle)) throw py::value_error("SO2: argument 'angle' must be finite");
         return SO2<double>::fromAngle(angle);
       }), py::arg("angle"), py::prepend())
      .def_static("from_matrix", [](py::handle R) {
        const auto M = read_matrix<2, 2>(R, "SO2.from_matrix", "R");
        const double dev = (M.transpose() * M - Eigen::Matrix2d::Identity()).cwiseAbs().maxCoeff();
        if (!(dev <= 1e-6) || !(M.determinant() > 0)) value_error("SO2.from_matrix", "R", "is not a rotation matrix");
        return SO2<double>(Eigen::Vector2d(M(0, 0), M(1, 0)).normalized());
      }, py::arg("R"))
      .def("angle", &SO2<double>::angle)
      .def("real", &SO2<double>::real)
      .def("imag", &SO2<double>::imag)
      .def("rotation", [](const SO2<double>& x) { return to_array(x.rotation()); });
  BatchBinder<SO2Family>{"batch.SO2."}.bind(batch.def_submodule("SO2"));
}

}  // namespace manif_py::py_bind
