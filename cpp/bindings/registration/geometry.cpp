// Bindings of the point-cloud helpers on the kd-tree: k nearest neighbours
// (single and batched), PCA normals, RPM-Net PPF features, Chamfer and ADD-S.
#include <manif_py/lie/se3.h>
#include <manif_py/registration/normals.h>
#include <manif_py/registration/parallel_items.h>
#include <manif_py/registration/ppf.h>

#include "reg_args.h"

namespace manif_py::py_bind {
namespace {

namespace rg = manif_py::registration;
using reg::Arr;
using reg::read_array;

std::string n3(py::ssize_t n) { return "(" + std::to_string(n) + ", 3)"; }

/// Builds one tree per cloud of a (B, N, 3) batch, in parallel.
template <class S>
std::vector<rg::KdTree<S>> build_trees(const S* pts, int64_t B, int64_t N) {
  std::vector<rg::KdTree<S>> trees(static_cast<size_t>(B));
  rg::parallel_items(B, 1 + N / 2, [&](int64_t b) { trees[b].build(pts + 3 * N * b, N); });
  return trees;
}

template <class S>
py::tuple knn_batch_impl(py::handle qh, py::handle rh, int64_t k, bool batched) {
  const std::string fn = batched ? "knn_batch" : "knn";
  const Arr<S> q = batched ? read_array<S>(qh, fn, "query", {-1, -1, 3}, "(B, M, 3)") : read_array<S>(qh, fn, "query", {-1, 3}, "(M, 3)");
  const py::ssize_t B = batched ? q.shape(0) : 1;
  const py::ssize_t M = batched ? q.shape(1) : q.shape(0);
  const Arr<S> r = batched ? read_array<S>(rh, fn, "ref", {B, -1, 3}, "(B, N, 3) with B = " + std::to_string(B) + " like 'query'")
                           : read_array<S>(rh, fn, "ref", {-1, 3}, "(N, 3)");
  const py::ssize_t N = batched ? r.shape(1) : r.shape(0);
  if (batched) reg::require_nonempty(q, 0, fn, "query", "clouds (B = 0)");
  reg::require_nonempty(q, batched ? 1 : 0, fn, "query", "points");
  reg::require_nonempty(r, batched ? 1 : 0, fn, "ref", "points");
  reg::check_k(k, N, fn, "ref");
  std::vector<py::ssize_t> shape{M, py::ssize_t(k)};
  if (batched) shape.insert(shape.begin(), B);
  py::array_t<int64_t> idx(shape);
  py::array_t<S> d2(shape);
  const S *pq = q.data(), *pr = r.data();
  int64_t* pi = idx.mutable_data();
  S* pd = d2.mutable_data();
  {
    py::gil_scoped_release release;
    const auto trees = build_trees(pr, B, N);
    rg::parallel_items(B * M, reg::query_cost(k), [&](int64_t j) {
      trees[j / M].knn(pq + 3 * j, static_cast<int>(k), pi + k * j, pd + k * j);
    });
  }
  return py::make_tuple(idx, d2);
}

template <class S>
py::array normals_impl(py::handle ph, int64_t k, py::handle vph) {
  const std::string fn = "estimate_normals";
  const Arr<S> p = read_array<S>(ph, fn, "points", {-1, 3}, "(N, 3)");
  reg::require_nonempty(p, 0, fn, "points", "points");
  const py::ssize_t N = p.shape(0);
  reg::check_k(k, N, fn, "points");
  if (k < 3) throw py::value_error(fn + ": argument 'k' must be >= 3 (a plane needs three points), got " + std::to_string(k));
  Eigen::Vector3d vp;
  const bool has_vp = !vph.is_none();
  if (has_vp) vp = read_vector<3>(vph, fn, "viewpoint");
  py::array_t<S> out({N, py::ssize_t(3)});
  const S* pp = p.data();
  S* po = out.mutable_data();
  {
    py::gil_scoped_release release;
    Eigen::Vector3d c = Eigen::Vector3d::Zero();
    for (py::ssize_t i = 0; i < N; ++i) c += Eigen::Map<const Eigen::Matrix<S, 3, 1>>(pp + 3 * i).template cast<double>();
    c /= double(N);
    const rg::KdTree<S> tree(pp, N);
    rg::parallel_items(N, reg::query_cost(k) + 32, [&](int64_t i) {
      // Small per-call scratch: k <= a few hundred in practice.
      std::vector<int64_t> ib(static_cast<size_t>(k));
      std::vector<S> db(static_cast<size_t>(k));
      rg::estimate_normal(tree, pp, i, static_cast<int>(k), has_vp ? vp.data() : nullptr, c, ib.data(), db.data(), po + 3 * i);
    });
  }
  return out;
}

template <class S>
py::tuple ppf_impl(py::handle ph, py::handle nh, int64_t k, double radius) {
  const std::string fn = "ppf_features";
  const Arr<S> p = read_array<S>(ph, fn, "points", {-1, -1, 3}, "(B, N, 3)");
  const py::ssize_t B = p.shape(0), N = p.shape(1);
  const Arr<S> n = read_array<S>(nh, fn, "normals", {B, N, 3},
                                 "(B, N, 3) = (" + std::to_string(B) + ", " + std::to_string(N) + ", 3) like 'points'");
  reg::require_nonempty(p, 0, fn, "points", "clouds (B = 0)");
  reg::require_nonempty(p, 1, fn, "points", "points (N = 0)");
  reg::check_k(k, N, fn, "points");
  reg::check_finite_scalar(radius, fn, "radius", true);
  py::array_t<int64_t> idx({B, N, py::ssize_t(k)});
  py::array_t<S> feats({B, N, py::ssize_t(k), py::ssize_t(rg::ppf_feature_dim)});
  const S *pp = p.data(), *pn = n.data();
  int64_t* pi = idx.mutable_data();
  S* pf = feats.mutable_data();
  {
    py::gil_scoped_release release;
    const auto trees = build_trees(pp, B, N);
    rg::parallel_items(B * N, reg::query_cost(k) + 4 * k, [&](int64_t j) {
      const int64_t b = j / N;
      std::vector<S> db(static_cast<size_t>(k));
      // Tree indices are within cloud b; the features read that cloud's arrays.
      rg::ppf_point(trees[b], pp + 3 * N * b, pn + 3 * N * b, j - b * N, static_cast<int>(k), S(radius), pi + k * j,
                    db.data(), pf + rg::ppf_feature_dim * k * j);
    });
  }
  return py::make_tuple(idx, feats);
}

/// Mean distance (or squared distance) from each point of a to its nearest in b.
template <class S>
double mean_nearest(const S* a, int64_t na, const rg::KdTree<S>& tb, bool squared) {
  std::vector<double> d(static_cast<size_t>(na));
  rg::parallel_items(na, reg::query_cost(1), [&](int64_t i) {
    S d2;
    tb.nearest(a + 3 * i, d2);
    d[i] = squared ? double(d2) : std::sqrt(double(d2));
  });
  double s = 0;
  for (double v : d) s += v;
  return s / double(na);
}

template <class S>
double chamfer_impl(py::handle ah, py::handle bh, bool squared) {
  const std::string fn = "chamfer";
  const Arr<S> a = read_array<S>(ah, fn, "a", {-1, 3}, "(N, 3)");
  const Arr<S> b = read_array<S>(bh, fn, "b", {-1, 3}, "(M, 3)");
  reg::require_nonempty(a, 0, fn, "a", "points");
  reg::require_nonempty(b, 0, fn, "b", "points");
  py::gil_scoped_release release;
  const rg::KdTree<S> ta(a.data(), a.shape(0)), tb(b.data(), b.shape(0));
  return mean_nearest(a.data(), a.shape(0), tb, squared) + mean_nearest(b.data(), b.shape(0), ta, squared);
}

SE3<double> read_pose(py::handle h, const std::string& fn, const char* name) {
  Eigen::Matrix<double, 7, 1> v = read_vector<7>(h, fn, name);
  check_group_rep<SE3<double>>(v, fn, name);
  return SE3<double>(v);
}

py::dict add_s_impl(py::handle mh, py::handle eh, py::handle gh, double diameter) {
  const std::string fn = "add_s";
  const Arr<double> m = read_array<double>(mh, fn, "src_model", {-1, 3}, "(N, 3)");
  reg::require_nonempty(m, 0, fn, "src_model", "points");
  const SE3<double> est = read_pose(eh, fn, "pose_est"), gt = read_pose(gh, fn, "pose_gt");
  reg::check_finite_scalar(diameter, fn, "diameter", true);
  const int64_t N = m.shape(0);
  std::vector<double> pe(static_cast<size_t>(3 * N)), pg(static_cast<size_t>(3 * N));
  double dist;
  {
    py::gil_scoped_release release;
    for (int64_t i = 0; i < N; ++i) {
      const Eigen::Vector3d x = Eigen::Map<const Eigen::Vector3d>(m.data() + 3 * i);
      Eigen::Map<Eigen::Vector3d>(pe.data() + 3 * i) = est.act(x);
      Eigen::Map<Eigen::Vector3d>(pg.data() + 3 * i) = gt.act(x);
    }
    // ADD-S: each estimated model point to the closest ground-truth model point
    // (symmetric objects are not penalised for an equivalent pose).
    const rg::KdTree<double> tg(pg.data(), N);
    dist = mean_nearest(pe.data(), N, tg, false);
  }
  py::dict d;
  d["add_s"] = dist;
  d["relative"] = dist / diameter;
  d["success"] = dist < 0.1 * diameter;
  return d;
}

}  // namespace

void bind_geometry(py::module_& m) {
  m.def(
      "knn",
      [](py::handle query, py::handle ref, int64_t k) {
        return reg::wants_float32(query) ? knn_batch_impl<float>(query, ref, k, false) : knn_batch_impl<double>(query, ref, k, false);
      },
      py::arg("query"), py::arg("ref"), py::arg("k"));
  m.def(
      "knn_batch",
      [](py::handle query, py::handle ref, int64_t k) {
        return reg::wants_float32(query) ? knn_batch_impl<float>(query, ref, k, true) : knn_batch_impl<double>(query, ref, k, true);
      },
      py::arg("query"), py::arg("ref"), py::arg("k"));
  m.def(
      "estimate_normals",
      [](py::handle points, int64_t k, py::handle viewpoint) {
        return reg::wants_float32(points) ? normals_impl<float>(points, k, viewpoint) : normals_impl<double>(points, k, viewpoint);
      },
      py::arg("points"), py::arg("k") = 16, py::arg("viewpoint") = py::none());
  m.def(
      "ppf_features",
      [](py::handle points, py::handle normals, int64_t k, double radius) {
        return reg::wants_float32(points) ? ppf_impl<float>(points, normals, k, radius) : ppf_impl<double>(points, normals, k, radius);
      },
      py::arg("points"), py::arg("normals"), py::arg("k") = 64, py::arg("radius") = 0.3);
  m.def(
      "chamfer",
      [](py::handle a, py::handle b, bool squared) {
        return reg::wants_float32(a) ? chamfer_impl<float>(a, b, squared) : chamfer_impl<double>(a, b, squared);
      },
      py::arg("a"), py::arg("b"), py::arg("squared") = false);
  m.def("add_s", &add_s_impl, py::arg("src_model"), py::arg("pose_est"), py::arg("pose_gt"), py::arg("diameter"));
}

}  // namespace manif_py::py_bind
