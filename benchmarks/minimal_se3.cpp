// A minimal pybind11 + Eigen binding of SE3: the binding floor for bench_single.py.
//
// Eigen types in and out through pybind11/eigen.h's default casters, no
// validation beyond what those casters do, no Jacobians, no keyword arguments.
// Built on the fly by bench_single.py into benchmarks/out/.
#include <pybind11/eigen.h>
#include <pybind11/pybind11.h>

#include <Eigen/Geometry>

#include <cmath>

namespace py = pybind11;

namespace {

using Vec3 = Eigen::Vector3d;
using Vec6 = Eigen::Matrix<double, 6, 1>;
using Vec7 = Eigen::Matrix<double, 7, 1>;
using Quat = Eigen::Quaterniond;

struct SE3 {
  Vec3 t = Vec3::Zero();
  Quat q = Quat::Identity();

  static SE3 from_coeffs(const Vec7& c) { return {c.head<3>(), Quat(c[6], c[3], c[4], c[5]).normalized()}; }

  static SE3 Exp(const Vec6& tau) {
    const Vec3 rho = tau.head<3>(), th = tau.tail<3>();
    const double t2 = th.squaredNorm();
    double a, b, k, w;
    if (t2 < 1e-10) {
      a = 0.5 - t2 / 24.0, b = 1.0 / 6.0 - t2 / 120.0, k = 0.5 - t2 / 48.0, w = 1.0 - t2 / 8.0;
    } else {
      const double n = std::sqrt(t2);
      a = (1.0 - std::cos(n)) / t2, b = (n - std::sin(n)) / (t2 * n), k = std::sin(0.5 * n) / n, w = std::cos(0.5 * n);
    }
    const Vec3 tr = th.cross(rho);
    return {rho + a * tr + b * th.cross(tr), Quat(w, k * th.x(), k * th.y(), k * th.z())};
  }

  Vec6 Log() const {
    const double s2 = q.vec().squaredNorm(), s = std::sqrt(s2);
    const double k = s2 < 1e-20 ? 2.0 / q.w() : 2.0 * (q.w() < 0 ? std::atan2(-s, -q.w()) : std::atan2(s, q.w())) / s;
    const Vec3 th = k * q.vec();
    const double n2 = th.squaredNorm(), h = 0.5 * std::sqrt(n2);
    const double c = n2 < 1e-10 ? 1.0 / 12.0 : (1.0 - h * std::cos(h) / std::sin(h)) / n2;
    const Vec3 wt = th.cross(t);
    Vec6 out;
    out << t - 0.5 * wt + c * th.cross(wt), th;
    return out;
  }

  SE3 compose(const SE3& y) const { return {t + q * y.t, q * y.q}; }
  SE3 inverse() const {
    const Quat qi = q.conjugate();
    return {-(qi * t), qi};
  }
  Vec3 act(const Vec3& p) const { return t + q * p; }
};

}  // namespace

PYBIND11_MODULE(_minimal_se3, m) {
  py::class_<SE3>(m, "SE3")
      .def(py::init(&SE3::from_coeffs))
      .def_static("Exp", &SE3::Exp)
      .def("Log", &SE3::Log)
      .def("compose", &SE3::compose)
      .def("__mul__", &SE3::compose)
      .def("inverse", &SE3::inverse)
      .def("act", &SE3::act);
}
