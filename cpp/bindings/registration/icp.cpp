// Binding of point-to-point / point-to-plane ICP (Gauss-Newton on SE(3)).
#include <manif_py/registration/icp.h>
#include <manif_py/registration/normals.h>

#include "reg_args.h"

namespace manif_py::py_bind {
namespace {

namespace rg = manif_py::registration;
using reg::Arr;
using reg::read_array;

/// The initial pose: None (identity), SE3 storage (7,) or a 4x4 rigid matrix.
SE3<double> read_init(py::handle h, const std::string& fn) {
  if (h.is_none()) return SE3<double>();
  py::array raw = reg::as_real_array(h, fn, "init", "(7,) or (4, 4)");
  if (raw.ndim() == 1 && raw.shape(0) == 7) {
    Eigen::Matrix<double, 7, 1> v = read_vector<7>(h, fn, "init");
    check_group_rep<SE3<double>>(v, fn, "init");
    return SE3<double>(v);
  }
  if (raw.ndim() == 2 && raw.shape(0) == 4 && raw.shape(1) == 4) {
    const Eigen::Matrix4d T = read_matrix<4, 4>(h, fn, "init");
    const Eigen::Matrix3d R = T.topLeftCorner<3, 3>();
    const bool rigid = (R.transpose() * R - Eigen::Matrix3d::Identity()).norm() < 1e-5 && R.determinant() > 0 &&
                       T.row(3).isApprox(Eigen::RowVector4d(0, 0, 0, 1));
    if (!rigid) value_error(fn, "init", "(4, 4) must be a rigid transform: orthonormal rotation with det +1, last row (0, 0, 0, 1)");
    Eigen::Quaterniond q(R);
    q.normalize();
    return SE3<double>(T.topRightCorner<3, 1>(), q);
  }
  value_error(fn, "init", "must have shape (7,) (tx, ty, tz, qx, qy, qz, qw) or (4, 4), got " + shape_str(raw));
}

rg::IcpMethod read_method(const std::string& m, const std::string& fn) {
  if (m == "point_to_plane") return rg::IcpMethod::PointToPlane;
  if (m == "point_to_point") return rg::IcpMethod::PointToPoint;
  throw py::value_error(fn + ": argument 'method' must be 'point_to_plane' or 'point_to_point', got '" + m + "'");
}

rg::RobustKernel read_kernel(py::handle h, const std::string& fn) {
  if (h.is_none()) return rg::RobustKernel::None;
  const std::string k = py::isinstance<py::str>(h) ? h.cast<std::string>() : std::string(py::repr(h));
  if (k == "none") return rg::RobustKernel::None;
  if (k == "huber") return rg::RobustKernel::Huber;
  if (k == "tukey") return rg::RobustKernel::Tukey;
  throw py::value_error(fn + ": argument 'robust_kernel' must be None, 'huber' or 'tukey', got " + k);
}

template <class S>
py::dict icp_impl(py::handle srch, py::handle tgth, py::handle nh, py::handle inith, int64_t max_iterations,
                  py::handle max_dist_h, const std::string& method, double tolerance, py::handle kernel_h,
                  py::handle kernel_scale_h) {
  const std::string fn = "icp";
  const Arr<S> src = read_array<S>(srch, fn, "src", {-1, 3}, "(N, 3)");
  const Arr<S> tgt = read_array<S>(tgth, fn, "tgt", {-1, 3}, "(M, 3)");
  reg::require_nonempty(src, 0, fn, "src", "points");
  const py::ssize_t M = tgt.shape(0);
  rg::IcpOptions opt;
  opt.method = read_method(method, fn);
  if (M < 3) throw py::value_error(fn + ": argument 'tgt' needs at least 3 points, got shape " + shape_str(tgt));
  if (max_iterations < 0) throw py::value_error(fn + ": argument 'max_iterations' must be >= 0");
  opt.max_iterations = static_cast<int>(max_iterations);
  if (!max_dist_h.is_none()) {
    opt.max_distance = max_dist_h.cast<double>();
    reg::check_finite_scalar(opt.max_distance, fn, "max_correspondence_distance", true);
  }
  reg::check_finite_scalar(tolerance, fn, "tolerance", false);
  opt.tolerance = tolerance;
  opt.kernel = read_kernel(kernel_h, fn);
  if (opt.kernel != rg::RobustKernel::None) {
    if (kernel_scale_h.is_none()) {
      if (!std::isfinite(opt.max_distance))
        throw py::value_error(fn + ": argument 'kernel_scale' is needed with a robust kernel when "
                                   "'max_correspondence_distance' is None");
      opt.kernel_scale = opt.max_distance / 3.0;
    } else {
      opt.kernel_scale = kernel_scale_h.cast<double>();
      reg::check_finite_scalar(opt.kernel_scale, fn, "kernel_scale", true);
    }
  }
  const SE3<double> init = read_init(inith, fn);
  Arr<S> normals;
  const bool need_normals = opt.method == rg::IcpMethod::PointToPlane;
  const bool given_normals = need_normals && !nh.is_none();
  if (given_normals) normals = read_array<S>(nh, fn, "tgt_normals", {M, 3}, "(M, 3) = " + std::string("(") + std::to_string(M) + ", 3) like 'tgt'");
  rg::IcpResult res;
  {
    py::gil_scoped_release release;
    const rg::KdTree<S> tree(tgt.data(), M);
    std::vector<S> est;
    const S* pn = nullptr;
    if (need_normals) {
      if (given_normals) {
        pn = normals.data();
      } else {  // no normals given: PCA over 16 neighbours (sign does not matter here)
        est.resize(static_cast<size_t>(3 * M));
        const int k = static_cast<int>(std::min<py::ssize_t>(16, M));
        rg::parallel_items(M, 64, [&](int64_t i) {
          int64_t ib[16];
          S db[16];
          rg::estimate_normal(tree, tgt.data(), i, k, nullptr, Eigen::Vector3d::Zero(), ib, db, est.data() + 3 * i);
        });
        pn = est.data();
      }
    }
    res = rg::icp(src.data(), src.shape(0), tree, tgt.data(), pn, init, opt);
  }
  py::dict d;
  d["pose"] = to_vec<double, 7>(res.pose.coeffs());
  d["matrix"] = to_array<double, 4, 4>(res.pose.matrix());
  d["fitness"] = res.fitness;
  d["inlier_rmse"] = res.inlier_rmse;
  d["iterations"] = res.iterations;
  d["converged"] = res.converged;
  return d;
}

}  // namespace

void bind_icp(py::module_& m) {
  m.def(
      "icp",
      [](py::handle src, py::handle tgt, py::handle tgt_normals, py::handle init, int64_t max_iterations,
         py::handle max_correspondence_distance, const std::string& method, double tolerance, py::handle robust_kernel,
         py::handle kernel_scale) {
        return reg::wants_float32(src)
                   ? icp_impl<float>(src, tgt, tgt_normals, init, max_iterations, max_correspondence_distance, method,
                                     tolerance, robust_kernel, kernel_scale)
                   : icp_impl<double>(src, tgt, tgt_normals, init, max_iterations, max_correspondence_distance, method,
                                      tolerance, robust_kernel, kernel_scale);
      },
      py::arg("src"), py::arg("tgt"), py::arg("tgt_normals") = py::none(), py::arg("init") = py::none(),
      py::arg("max_iterations") = 30, py::arg("max_correspondence_distance") = py::none(),
      py::arg("method") = "point_to_plane", py::arg("tolerance") = 1e-6, py::arg("robust_kernel") = py::none(),
      py::arg("kernel_scale") = py::none());
}

}  // namespace manif_py::py_bind
