// Bindings of point-pair-feature voting (ppf_voting.h): the model's table, built
// once per object, and the per-scan voting + pose clustering. Tables come back
// from untrusted caches, so every call checks one before reading through it.
#include <manif_py/registration/ppf_voting.h>

#include "reg_args.h"

namespace manif_py::py_bind {
namespace {

namespace rg = manif_py::registration;
using reg::Arr;
using reg::read_array;

rg::PpfQuantisation read_quantisation(double distance_step, int64_t distance_bins, int64_t angle_bins,
                                      const std::string& fn) {
  reg::check_finite_scalar(distance_step, fn, "distance_step", true);
  if (distance_bins < 1 || distance_bins > 1000)
    throw py::value_error(fn + ": argument 'distance_bins' must be in [1, 1000], got " + std::to_string(distance_bins));
  if (angle_bins < 1 || angle_bins > 180)
    throw py::value_error(fn + ": argument 'angle_bins' must be in [1, 180], got " + std::to_string(angle_bins));
  rg::PpfQuantisation q;
  q.distance_step = distance_step;
  q.distance_bins = static_cast<int>(distance_bins);
  q.angle_bins = static_cast<int>(angle_bins);
  if (q.table_size() > (int64_t(1) << 28))
    throw py::value_error(fn + ": the key space distance_bins * (angle_bins + 1)^3 = " + std::to_string(q.table_size()) +
                          " is too large (at most 2^28)");
  return q;
}

/// Unit normals (N, 3) matching the points: a zero or non-unit normal would give meaningless angles.
Arr<double> read_normals(py::handle h, py::ssize_t n, const std::string& fn, const char* name, const char* like) {
  const std::string want = "(" + std::to_string(n) + ", 3) like '" + like + "'";
  Arr<double> a = read_array<double>(h, fn, name, {n, 3}, want);
  const double* p = a.data();
  for (py::ssize_t i = 0; i < n; ++i) {
    const double len = std::sqrt(p[3 * i] * p[3 * i] + p[3 * i + 1] * p[3 * i + 1] + p[3 * i + 2] * p[3 * i + 2]);
    if (std::abs(len - 1) > 1e-6)
      throw py::value_error(fn + ": argument '" + name + "' must hold unit normals; row " + std::to_string(i) +
                            " has length " + std::to_string(len));
  }
  return a;
}

py::dict model_table_impl(py::handle ph, py::handle nh, double distance_step, int64_t distance_bins,
                          int64_t angle_bins) {
  const std::string fn = "ppf_model_table";
  const rg::PpfQuantisation q = read_quantisation(distance_step, distance_bins, angle_bins, fn);
  const Arr<double> p = read_array<double>(ph, fn, "points", {-1, 3}, "(M, 3)");
  const py::ssize_t m = p.shape(0);
  if (m < 2) throw py::value_error(fn + ": argument 'points' needs at least 2 points, got shape " + shape_str(p));
  if (m > 20000)
    throw py::value_error(fn + ": argument 'points' has " + std::to_string(m) +
                          " points; the table holds every ordered pair, so downsample to at most 20000 first");
  const Arr<double> n = read_normals(nh, m, fn, "normals", "points");
  rg::PpfTable t;
  {
    py::gil_scoped_release release;
    t = rg::build_ppf_table(p.data(), n.data(), m, q);
  }
  py::dict d;
  d["offsets"] = py::array_t<int64_t>(static_cast<py::ssize_t>(t.offsets.size()), t.offsets.data());
  d["ref"] = py::array_t<int32_t>(static_cast<py::ssize_t>(t.ref.size()), t.ref.data());
  d["alpha"] = py::array_t<double>(static_cast<py::ssize_t>(t.alpha.size()), t.alpha.data());
  return d;
}

/// A table's arrays checked against the key space and the model: offsets start at 0, never
/// decrease and end at the pair count; references index model points; alphas are finite.
rg::PpfTableView read_table(const Arr<int64_t>& off, const Arr<int32_t>& ref, const Arr<double>& alpha,
                            const rg::PpfQuantisation& q, int64_t m, const std::string& fn) {
  if (off.ndim() != 1 || off.shape(0) != q.table_size() + 1)
    throw py::value_error(fn + ": argument 'offsets' must have shape (" + std::to_string(q.table_size() + 1) +
                          ",) for this quantisation, got " + shape_str(off) + "; was the table built with other bins?");
  if (ref.ndim() != 1 || alpha.ndim() != 1 || ref.shape(0) != alpha.shape(0))
    throw py::value_error(fn + ": arguments 'ref' and 'alpha' must be 1-d of one length, got " + shape_str(ref) +
                          " and " + shape_str(alpha));
  const int64_t* o = off.data();
  const int64_t P = ref.shape(0);
  if (o[0] != 0 || o[q.table_size()] != P)
    throw py::value_error(fn + ": argument 'offsets' must start at 0 and end at len(ref) = " + std::to_string(P));
  for (int64_t k = 0; k < q.table_size(); ++k)
    if (o[k + 1] < o[k]) throw py::value_error(fn + ": argument 'offsets' decreases at key " + std::to_string(k));
  const int32_t* r = ref.data();
  const double* a = alpha.data();
  for (int64_t e = 0; e < P; ++e) {
    if (r[e] < 0 || r[e] >= m)
      throw py::value_error(fn + ": argument 'ref' entry " + std::to_string(e) + " = " + std::to_string(r[e]) +
                            " is not a model point index in [0, " + std::to_string(m) + ")");
    if (!std::isfinite(a[e])) throw py::value_error(fn + ": argument 'alpha' contains NaN or inf");
  }
  return {o, r, a, m};
}

py::dict vote_impl(py::handle offh, py::handle refh, py::handle alphah, py::handle mph, py::handle mnh, py::handle sph,
                   py::handle snh, py::handle refsh, double distance_step, int64_t distance_bins, int64_t angle_bins,
                   int64_t alpha_bins, double spread_margin, double max_distance) {
  const std::string fn = "ppf_vote";
  const rg::PpfQuantisation q = read_quantisation(distance_step, distance_bins, angle_bins, fn);
  if (alpha_bins < 1 || alpha_bins > 3600)
    throw py::value_error(fn + ": argument 'alpha_bins' must be in [1, 3600], got " + std::to_string(alpha_bins));
  if (!(spread_margin >= 0 && spread_margin <= 0.5))
    throw py::value_error(fn + ": argument 'spread_margin' must be in [0, 0.5], got " + std::to_string(spread_margin));
  reg::check_finite_scalar(max_distance, fn, "max_distance", true);
  const Arr<double> mp = read_array<double>(mph, fn, "model_points", {-1, 3}, "(M, 3)");
  const py::ssize_t m = mp.shape(0);
  reg::require_nonempty(mp, 0, fn, "model_points", "points");
  const Arr<double> mn = read_normals(mnh, m, fn, "model_normals", "model_points");
  const Arr<int64_t> off = Arr<int64_t>::ensure(reg::as_real_array(offh, fn, "offsets", "(table_size + 1,)"));
  const Arr<int32_t> ref = Arr<int32_t>::ensure(reg::as_real_array(refh, fn, "ref", "(P,)"));
  const Arr<double> alpha = read_array<double>(alphah, fn, "alpha", {-1}, "(P,)");
  const rg::PpfTableView table = read_table(off, ref, alpha, q, m, fn);
  const Arr<double> sp = read_array<double>(sph, fn, "scene_points", {-1, 3}, "(N, 3)");
  const py::ssize_t n = sp.shape(0);
  if (n < 2) throw py::value_error(fn + ": argument 'scene_points' needs at least 2 points, got shape " + shape_str(sp));
  const Arr<double> sn = read_normals(snh, n, fn, "scene_normals", "scene_points");
  const Arr<int64_t> refs = Arr<int64_t>::ensure(reg::as_real_array(refsh, fn, "references", "(R,)"));
  if (refs.ndim() != 1 || refs.shape(0) == 0)
    throw py::value_error(fn + ": argument 'references' must be a non-empty (R,) array of scene indices, got " +
                          shape_str(refs));
  const int64_t R = refs.shape(0);
  for (int64_t i = 0; i < R; ++i)
    if (refs.data()[i] < 0 || refs.data()[i] >= n)
      throw py::value_error(fn + ": argument 'references' entry " + std::to_string(i) + " is not in [0, " +
                            std::to_string(n) + ")");
  rg::PpfVoteOptions o;
  o.alpha_bins = static_cast<int>(alpha_bins);
  o.spread_margin = spread_margin;
  o.max_distance = max_distance;
  std::vector<rg::PpfPeak> peaks(static_cast<size_t>(R));
  std::vector<Eigen::Matrix4d> poses(static_cast<size_t>(R));
  {
    py::gil_scoped_release release;
    rg::ppf_vote(table, q, o, mp.data(), mn.data(), sp.data(), sn.data(), n, refs.data(), R, peaks.data(),
                 poses.data());
  }
  py::array_t<int64_t> model_ref(R), alpha_bin(R), votes(R);
  py::array_t<double> T({R, py::ssize_t(4), py::ssize_t(4)});
  double* pt = T.mutable_data();
  for (int64_t i = 0; i < R; ++i) {
    model_ref.mutable_data()[i] = peaks[i].model_ref;
    alpha_bin.mutable_data()[i] = peaks[i].alpha_bin;
    votes.mutable_data()[i] = peaks[i].votes;
    for (int r = 0; r < 4; ++r)
      for (int c = 0; c < 4; ++c) pt[16 * i + 4 * r + c] = poses[i](r, c);
  }
  py::dict d;
  d["model_ref"] = model_ref;
  d["alpha_bin"] = alpha_bin;
  d["votes"] = votes;
  d["poses"] = T;
  return d;
}

py::tuple cluster_impl(py::handle posesh, py::handle votesh, double max_rotation, double max_translation,
                       int64_t top_k) {
  const std::string fn = "ppf_cluster";
  const Arr<double> P = read_array<double>(posesh, fn, "poses", {-1, 4, 4}, "(R, 4, 4)");
  const py::ssize_t R = P.shape(0);
  reg::require_nonempty(P, 0, fn, "poses", "poses");
  const Arr<double> v = read_array<double>(votesh, fn, "votes", {R}, "(" + std::to_string(R) + ",) like 'poses'");
  reg::check_finite_scalar(max_rotation, fn, "max_rotation", true);
  reg::check_finite_scalar(max_translation, fn, "max_translation", true);
  if (top_k < 1) throw py::value_error(fn + ": argument 'top_k' must be >= 1, got " + std::to_string(top_k));
  std::vector<Eigen::Matrix4d> poses(static_cast<size_t>(R));
  for (py::ssize_t i = 0; i < R; ++i)
    for (int r = 0; r < 4; ++r)
      for (int c = 0; c < 4; ++c) poses[i](r, c) = P.data()[16 * i + 4 * r + c];
  std::vector<rg::PpfCluster> cl;
  {
    py::gil_scoped_release release;
    cl = rg::ppf_cluster(poses.data(), v.data(), R, max_rotation, max_translation, top_k);
  }
  const py::ssize_t K = static_cast<py::ssize_t>(cl.size());
  py::array_t<double> T({K, py::ssize_t(4), py::ssize_t(4)});
  py::array_t<double> score(K);
  for (py::ssize_t k = 0; k < K; ++k) {
    score.mutable_data()[k] = cl[k].score;
    for (int r = 0; r < 4; ++r)
      for (int c = 0; c < 4; ++c) T.mutable_data()[16 * k + 4 * r + c] = cl[k].pose(r, c);
  }
  return py::make_tuple(T, score);
}

}  // namespace

void bind_ppf(py::module_& m) {
  m.def("ppf_model_table", &model_table_impl, py::arg("points"), py::arg("normals"), py::arg("distance_step"),
        py::arg("distance_bins"), py::arg("angle_bins"),
        "Point-pair-feature table of a model's (M, 3) points and unit normals: dict(offsets (table_size + 1,) int64, "
        "ref (P,) int32, alpha (P,) float64), P = M (M - 1) pairs in the key space.");
  m.def("ppf_vote", &vote_impl, py::arg("offsets"), py::arg("ref"), py::arg("alpha"), py::arg("model_points"),
        py::arg("model_normals"), py::arg("scene_points"), py::arg("scene_normals"), py::arg("references"),
        py::arg("distance_step"), py::arg("distance_bins"), py::arg("angle_bins"), py::arg("alpha_bins") = 30,
        py::arg("spread_margin") = 0.25, py::arg("max_distance"),
        "Drost/Vidal voting of each scene reference (R,): dict(model_ref, alpha_bin, votes (R,) int64, "
        "poses (R, 4, 4) scan -> model). GIL released, parallel over references, thread-count independent.");
  m.def("ppf_cluster", &cluster_impl, py::arg("poses"), py::arg("votes"), py::arg("max_rotation"),
        py::arg("max_translation"), py::arg("top_k"),
        "Greedy pose clustering, strongest first: (K, 4, 4) centres and (K,) summed votes, best first.");
}

}  // namespace manif_py::py_bind
