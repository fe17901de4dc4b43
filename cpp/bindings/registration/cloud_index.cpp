// A cloud with its kd-tree built once: CloudIndex. The prepared model keeps one per
// level, so that the per-scan stages (ICP over every hypothesis, verification's
// nearest neighbours) stop rebuilding the same tree for every call.
#include <manif_py/registration/icp.h>
#include <manif_py/registration/parallel_items.h>

#include <limits>
#include <memory>

#include "reg_args.h"

namespace manif_py::py_bind {
namespace {

namespace rg = manif_py::registration;
using reg::Arr;
using reg::read_array;

/// Points and unit normals copied in, the tree built over the copy (so it never dangles).
class CloudIndex {
 public:
  CloudIndex(std::vector<double> pts, std::vector<double> nrm) : pts_(std::move(pts)), nrm_(std::move(nrm)) {
    tree_.build(pts_.data(), size());
  }
  int64_t size() const { return static_cast<int64_t>(pts_.size() / 3); }
  const rg::KdTree<double>& tree() const { return tree_; }
  const double* points() const { return pts_.data(); }
  const double* normals() const { return nrm_.data(); }

 private:
  std::vector<double> pts_, nrm_;
  rg::KdTree<double> tree_;
};

std::unique_ptr<CloudIndex> make_index(py::handle ph, py::handle nh) {
  const std::string fn = "CloudIndex";
  const Arr<double> p = read_array<double>(ph, fn, "points", {-1, 3}, "(M, 3)");
  const py::ssize_t m = p.shape(0);
  if (m < 3) throw py::value_error(fn + ": argument 'points' needs at least 3 points, got shape " + shape_str(p));
  const Arr<double> n = read_array<double>(nh, fn, "normals", {m, 3}, "(" + std::to_string(m) + ", 3) like 'points'");
  std::vector<double> pts(p.data(), p.data() + 3 * m), nrm(n.data(), n.data() + 3 * m);
  py::gil_scoped_release release;
  return std::make_unique<CloudIndex>(std::move(pts), std::move(nrm));
}

/// With a finite max_distance, neighbours beyond it are left out: index -1, squared distance inf
/// (a bounded search prunes most of the tree for points far off the cloud, such as a wrong pose's).
py::tuple knn_impl(const CloudIndex& index, py::handle qh, int64_t k, py::handle max_distance_h) {
  const std::string fn = "CloudIndex.knn";
  const Arr<double> q = read_array<double>(qh, fn, "query", {-1, 3}, "(N, 3)");
  reg::check_k(k, index.size(), fn, "the index");
  double bound = std::numeric_limits<double>::infinity();
  if (!max_distance_h.is_none()) {
    const double md = max_distance_h.cast<double>();
    reg::check_finite_scalar(md, fn, "max_distance", true);
    bound = md * md;
  }
  const py::ssize_t n = q.shape(0);
  py::array_t<int64_t> idx({n, py::ssize_t(k)});
  py::array_t<double> d2({n, py::ssize_t(k)});
  const double* pq = q.data();
  int64_t* pi = idx.mutable_data();
  double* pd = d2.mutable_data();
  {
    py::gil_scoped_release release;
    rg::parallel_items(n, reg::query_cost(k), [&](int64_t j) {
      const int found = index.tree().knn(pq + 3 * j, static_cast<int>(k), pi + k * j, pd + k * j, bound);
      for (int64_t c = found; c < k; ++c) {
        pi[k * j + c] = -1;
        pd[k * j + c] = std::numeric_limits<double>::infinity();
      }
    });
  }
  return py::make_tuple(idx, d2);
}

/// Point-to-plane ICP of `src` from each of the (K, 4, 4) initial poses against the index.
py::dict icp_impl(const CloudIndex& index, py::handle srch, py::handle initsh, int64_t max_iterations,
                  double max_distance, double tolerance) {
  const std::string fn = "CloudIndex.icp";
  const Arr<double> src = read_array<double>(srch, fn, "src", {-1, 3}, "(N, 3)");
  reg::require_nonempty(src, 0, fn, "src", "points");
  const Arr<double> inits = read_array<double>(initsh, fn, "inits", {-1, 4, 4}, "(K, 4, 4)");
  reg::require_nonempty(inits, 0, fn, "inits", "poses");
  if (max_iterations < 0) throw py::value_error(fn + ": argument 'max_iterations' must be >= 0");
  reg::check_finite_scalar(max_distance, fn, "max_correspondence_distance", true);
  reg::check_finite_scalar(tolerance, fn, "tolerance", false);
  const py::ssize_t K = inits.shape(0);
  std::vector<SE3<double>> start(static_cast<size_t>(K));
  for (py::ssize_t k = 0; k < K; ++k) {
    const Eigen::Matrix4d T = Eigen::Map<const Eigen::Matrix<double, 4, 4, Eigen::RowMajor>>(inits.data() + 16 * k);
    const Eigen::Matrix3d R = T.topLeftCorner<3, 3>();
    if ((R.transpose() * R - Eigen::Matrix3d::Identity()).norm() > 1e-5 || R.determinant() <= 0 ||
        !T.row(3).isApprox(Eigen::RowVector4d(0, 0, 0, 1)))
      throw py::value_error(fn + ": argument 'inits' entry " + std::to_string(k) +
                            " is not a rigid transform (orthonormal rotation, det +1, last row 0 0 0 1)");
    Eigen::Quaterniond q(R);
    q.normalize();
    start[static_cast<size_t>(k)] = SE3<double>(T.topRightCorner<3, 1>(), q);
  }
  rg::IcpOptions opt;
  opt.method = rg::IcpMethod::PointToPlane;
  opt.max_iterations = static_cast<int>(max_iterations);
  opt.max_distance = max_distance;
  opt.tolerance = tolerance;
  std::vector<rg::IcpResult> res(static_cast<size_t>(K));
  {
    py::gil_scoped_release release;
    // Hypotheses in turn, each ICP parallel over its points: the same result for any thread count.
    for (py::ssize_t k = 0; k < K; ++k)
      res[static_cast<size_t>(k)] = rg::icp(src.data(), src.shape(0), index.tree(), index.points(), index.normals(),
                                            start[static_cast<size_t>(k)], opt);
  }
  py::array_t<double> T({K, py::ssize_t(4), py::ssize_t(4)});
  py::array_t<double> fitness(K), rmse(K);
  py::array_t<int64_t> iterations(K);
  for (py::ssize_t k = 0; k < K; ++k) {
    const Eigen::Matrix4d M = res[static_cast<size_t>(k)].pose.matrix();
    for (int r = 0; r < 4; ++r)
      for (int c = 0; c < 4; ++c) T.mutable_data()[16 * k + 4 * r + c] = M(r, c);
    fitness.mutable_data()[k] = res[static_cast<size_t>(k)].fitness;
    rmse.mutable_data()[k] = res[static_cast<size_t>(k)].inlier_rmse;
    iterations.mutable_data()[k] = res[static_cast<size_t>(k)].iterations;
  }
  py::dict d;
  d["matrix"] = T;
  d["fitness"] = fitness;
  d["inlier_rmse"] = rmse;
  d["iterations"] = iterations;
  return d;
}

}  // namespace

void bind_cloud_index(py::module_& m) {
  py::class_<CloudIndex>(m, "CloudIndex",
                         "A point cloud (M, 3) with its unit normals and its kd-tree, built once and reused.")
      .def(py::init(&make_index), py::arg("points"), py::arg("normals"))
      .def_property_readonly("size", &CloudIndex::size)
      .def("knn", &knn_impl, py::arg("query"), py::arg("k") = 1, py::arg("max_distance") = py::none(),
           "k nearest indexed points of each query point: (idx (N, k) int64, squared distances (N, k)); "
           "with max_distance, those beyond it come back as index -1, squared distance inf.")
      .def("icp", &icp_impl, py::arg("src"), py::arg("inits"), py::arg("max_iterations") = 30,
           py::arg("max_correspondence_distance"), py::arg("tolerance") = 1e-6,
           "Point-to-plane ICP of src (N, 3) from each of inits (K, 4, 4): dict(matrix (K, 4, 4), fitness, "
           "inlier_rmse, iterations (K,)). GIL released.")
      .def("__reduce__", [](const CloudIndex&) -> py::tuple {
        throw py::type_error("CloudIndex is not picklable: rebuild it from the points (it is a cache)");
      });
}

}  // namespace manif_py::py_bind
