// The extension module manif_py._estimation: factor graphs, the sparse
// Gauss-Newton / Levenberg-Marquardt solver and marginal covariances.
// Low level on purpose: variables and measurements travel as storage arrays
// tagged by a kind id; manif_py.estimation wraps them in group objects.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <manif_py/estimation/estimation.h>

#include "construct_guard.h"

#include <sstream>
#include <string>
#include <vector>

namespace py = pybind11;
namespace est = manif_py::estimation;

namespace {

using Arr = py::array_t<double, py::array::c_style | py::array::forcecast>;
using IArr = py::array_t<int64_t, py::array::c_style | py::array::forcecast>;

std::string shape_of(const py::array& a) {
  std::ostringstream s;
  s << "(";
  for (py::ssize_t i = 0; i < a.ndim(); ++i) s << (i ? ", " : "") << a.shape(i);
  s << (a.ndim() == 1 ? ",)" : ")");
  return s.str();
}

est::Kind to_kind(int k) {
  if (!est::valid_kind(k)) throw py::value_error("unknown variable kind id " + std::to_string(k));
  return static_cast<est::Kind>(k);
}

/// A float64 C-contiguous view of `h`, or a TypeError naming `what`.
Arr as_array(py::handle h, const std::string& what) {
  if (h.is_none()) throw py::type_error(what + " must be an array of numbers, got None");
  py::array raw = py::array::ensure(h);
  if (!raw) {
    PyErr_Clear();
    throw py::type_error(what + " must be an array of real numbers");
  }
  const char k = raw.dtype().kind();
  if (k != 'f' && k != 'i' && k != 'u' && k != 'b')
    throw py::type_error(what + " must hold real numbers, got dtype " + std::string(py::str(raw.dtype())));
  return Arr::ensure(raw);
}

/// Rows of a batch: `a` of shape (N, width) (or (width,) when N == 1 is allowed).
const double* rows_of(const Arr& a, py::ssize_t n, py::ssize_t width, const std::string& what) {
  if (a.ndim() == 2 && a.shape(0) == n && a.shape(1) == width) return a.data();
  if (a.ndim() == 1 && n == 1 && a.shape(0) == width) return a.data();
  throw py::value_error(what + " must have shape (" + std::to_string(n) + ", " + std::to_string(width) +
                        "), got " + shape_of(a));
}

/// Information matrices of a batch: (d, d) shared by all rows or (N, d, d).
/// Returns the pointer to row i's matrix through `at`.
struct InfoBatch {
  const double* data;
  bool shared;
  int d;
  const double* at(py::ssize_t i) const { return shared ? data : data + i * d * d; }
};
InfoBatch info_of(const Arr& a, py::ssize_t n, int d, const std::string& what) {
  if (a.ndim() == 2 && a.shape(0) == d && a.shape(1) == d) return {a.data(), true, d};
  if (a.ndim() == 3 && a.shape(0) == n && a.shape(1) == d && a.shape(2) == d) return {a.data(), false, d};
  throw py::value_error(what + " must have shape (" + std::to_string(d) + ", " + std::to_string(d) + ") or (" +
                        std::to_string(n) + ", " + std::to_string(d) + ", " + std::to_string(d) + "), got " +
                        shape_of(a));
}

const int64_t* keys_of(const IArr& a, py::ssize_t n, const std::string& what) {
  if (a.ndim() == 1 && a.shape(0) == n) return a.data();
  throw py::value_error(what + " must have shape (" + std::to_string(n) + ",), got " + shape_of(a));
}

int key_int(int64_t k) {
  if (k < 0 || k > INT32_MAX) throw py::value_error("variable key " + std::to_string(k) + " out of range");
  return static_cast<int>(k);
}

/// Adds a batch of built-in factors of type F atomically: every row is checked
/// (errors say which row) before any is added. make(i) builds row i's factor
/// without its information. Returns the id of the first new factor.
template <class F, class Make>
int64_t add_batch(est::FactorGraph& g, py::ssize_t n, const InfoBatch& info, Make make) {
  using Omega = Eigen::Matrix<double, F::Dim, F::Dim, Eigen::RowMajor>;
  std::vector<F> ready;
  ready.reserve(static_cast<size_t>(n));
  const int64_t first = g.num_factors();
  for (py::ssize_t i = 0; i < n; ++i) {
    try {
      ready.push_back(g.prepare(make(i), Eigen::Map<const Omega>(info.at(i)), first + i));
    } catch (const std::exception& e) {
      std::string msg = e.what();
      if (n > 1) msg = "row " + std::to_string(i) + " of the batch: " + msg;
      if (dynamic_cast<const std::out_of_range*>(&e)) throw py::index_error(msg);
      throw py::value_error(msg);
    }
  }
  for (const F& f : ready) g.commit(f);
  return first;
}

/// Group element from a storage row, renormalised (measurement rows).
template <class G>
G group_from(const double* rep, const std::string& label) {
  constexpr int R = manif_py::LieTraits<G>::RepSize;
  Eigen::Matrix<double, R, 1> v = Eigen::Map<const Eigen::Matrix<double, R, 1>>(rep);
  est::Values::sanitize(est::KindOf<G>::value, label, v.data());
  return G(v);
}

/// A custom residual computed by a Python callable
/// fn(reps: list of arrays, want_jacobians: bool) -> (r, [J_k] or None).
class PyResidual final : public est::CustomResidual {
 public:
  explicit PyResidual(py::function fn) : fn_(std::move(fn)) {}
  ~PyResidual() override {
    py::gil_scoped_acquire gil;
    fn_ = py::function();
  }
  void evaluate(const est::Values& v, const std::vector<int>& keys, Eigen::VectorXd& r,
                std::vector<Eigen::MatrixXd>* J) const override {
    py::gil_scoped_acquire gil;
    py::list reps;
    for (int k : keys) {
      const int n = v.info(k).rep;
      Arr a(n);
      std::copy(v.rep(k), v.rep(k) + n, a.mutable_data());
      reps.append(a);
    }
    py::object out = fn_(reps, J != nullptr);
    py::tuple t = py::reinterpret_borrow<py::tuple>(out);
    Arr res = as_array(t[0], "custom factor residual");
    r = Eigen::Map<const Eigen::VectorXd>(res.data(), res.size());
    if (J) {
      J->clear();
      for (py::handle h : py::reinterpret_borrow<py::sequence>(t[1])) {
        Arr b = as_array(h, "custom factor Jacobian");
        if (b.ndim() != 2) throw py::value_error("custom factor Jacobian blocks must be 2-D");
        J->push_back(Eigen::Map<const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(
            b.data(), b.shape(0), b.shape(1)));
      }
    }
  }

 private:
  py::function fn_;
};

est::Loss make_loss(int type, double k) {
  if (type < 0 || type > 2) throw py::value_error("unknown loss type " + std::to_string(type));
  try {
    return est::Loss::make(static_cast<est::LossType>(type), k);
  } catch (const std::invalid_argument& e) {
    throw py::value_error(e.what());
  }
}

py::dict summary_dict(const est::SolveSummary& s) {
  py::dict d;
  d["initial_chi2"] = s.initial_chi2;
  d["final_chi2"] = s.final_chi2;
  d["initial_cost"] = s.initial_cost;
  d["final_cost"] = s.final_cost;
  d["iterations"] = s.iterations;
  d["factorizations"] = s.factorizations;
  d["converged"] = s.converged;
  d["status"] = s.status;
  d["seconds_linearize"] = s.seconds_linearize;
  d["seconds_factorize"] = s.seconds_factorize;
  d["seconds_total"] = s.seconds_total;
  py::list log;
  for (const auto& l : s.log) log.append(py::make_tuple(l.iteration, l.cost, l.lambda, l.attempts));
  d["log"] = log;
  return d;
}

/// Runs f, turning the core's exceptions into the matching Python ones.
template <class Fn>
auto translate(Fn&& f) -> decltype(f()) {
  try {
    return f();
  } catch (py::error_already_set&) {
    throw;
  } catch (py::builtin_exception&) {
    throw;
  } catch (const std::out_of_range& e) {
    throw py::index_error(e.what());
  } catch (const std::invalid_argument& e) {
    throw py::value_error(e.what());
  }
}

}  // namespace

PYBIND11_MODULE(_estimation, m) {
  m.doc() =
      "Compiled estimation layer of manif_py: factor graphs over Lie group variables, a sparse "
      "Gauss-Newton / Levenberg-Marquardt solver (normal equations assembled and factorised in C++) "
      "and marginal covariances. Use it through manif_py.estimation.";

  py::list names;
  for (int k = 0; k < static_cast<int>(est::Kind::Count); ++k) names.append(est::kind_info(to_kind(k)).name);
  m.attr("KIND_NAMES") = names;
  m.def("kind_dof", [](int k) { return est::kind_info(to_kind(k)).dof; });
  m.def("kind_rep", [](int k) { return est::kind_info(to_kind(k)).rep; });

  m.def("preintegrate_imu", [](py::handle acc, py::handle gyro, py::handle dt, py::handle bias_lin,
                               py::handle acc_cov, py::handle gyro_cov) {
    Arr aa = as_array(acc, "accel"), wa = as_array(gyro, "gyro"), ta = as_array(dt, "dt");
    Arr ba = as_array(bias_lin, "bias"), ac = as_array(acc_cov, "accel_cov"), gc = as_array(gyro_cov, "gyro_cov");
    if (ta.ndim() != 1) throw py::value_error("dt must be 1-D, got " + shape_of(ta));
    const py::ssize_t n = ta.shape(0);
    const double* ap = rows_of(aa, n, 3, "accel");
    const double* wp = rows_of(wa, n, 3, "gyro");
    if (ba.size() != 6) throw py::value_error("bias must have shape (6,), got " + shape_of(ba));
    if (ac.ndim() != 2 || ac.shape(0) != 3 || ac.shape(1) != 3)
      throw py::value_error("accel_cov must have shape (3, 3), got " + shape_of(ac));
    if (gc.ndim() != 2 || gc.shape(0) != 3 || gc.shape(1) != 3)
      throw py::value_error("gyro_cov must have shape (3, 3), got " + shape_of(gc));
    using M3 = Eigen::Matrix<double, 3, 3, Eigen::RowMajor>;
    est::ImuPreintegrator pre(Eigen::Map<const est::Vector6d>(ba.data()), Eigen::Map<const M3>(ac.data()),
                              Eigen::Map<const M3>(gc.data()));
    translate([&] {
      for (py::ssize_t k = 0; k < n; ++k)
        pre.integrate(Eigen::Map<const Eigen::Vector3d>(ap + 3 * k), Eigen::Map<const Eigen::Vector3d>(wp + 3 * k),
                      ta.data()[k]);
      return 0;
    });
    const est::PreintegratedImu& r = pre.result();
    Arr delta(10), jb(std::vector<py::ssize_t>{9, 6}), cov(std::vector<py::ssize_t>{9, 9});
    Eigen::Map<Eigen::Matrix<double, 10, 1>>(delta.mutable_data()) = r.delta.coeffs();
    Eigen::Map<Eigen::Matrix<double, 9, 6, Eigen::RowMajor>>(jb.mutable_data()) = r.J_bias;
    Eigen::Map<Eigen::Matrix<double, 9, 9, Eigen::RowMajor>>(cov.mutable_data()) = r.covariance;
    return py::make_tuple(delta, jb, cov, r.duration);
  }, py::arg("accel"), py::arg("gyro"), py::arg("dt"), py::arg("bias"), py::arg("accel_cov"), py::arg("gyro_cov"),
     "Preintegrates samples (N, 3) held for dt (N,) at bias (6,) = (b_a, b_g); noise densities (3, 3). "
     "Returns (delta SE23 storage (10,), d delta / d bias (9, 6), covariance (9, 9), duration).");

  py::class_<est::FactorGraph> c(m, "Graph", "Low-level factor graph (see manif_py.estimation.FactorGraph).");
  c.def(py::init<>());
  manif_py::py_bind::construct_in_new(c);  // a Graph from __new__ alone would be uninitialised memory
  c.def("copy", [](const est::FactorGraph& g) { return est::FactorGraph(g); });
  c.def_property_readonly("num_variables", [](const est::FactorGraph& g) { return g.values().size(); });
  c.def_property_readonly("num_factors", [](const est::FactorGraph& g) { return g.num_factors(); });

  // ---- variables -------------------------------------------------------
  c.def("add_variables", [](est::FactorGraph& g, int kind, py::handle reps) {
    const est::Kind k = to_kind(kind);
    const int R = est::kind_info(k).rep;
    Arr a = as_array(reps, "values");
    const py::ssize_t n = a.ndim() == 1 ? 1 : a.shape(0);
    const double* p = rows_of(a, n, R, "values");
    // Validate everything first so that a bad row adds nothing.
    std::vector<double> clean(p, p + n * R);
    for (py::ssize_t i = 0; i < n; ++i)
      translate([&] {
        est::Values::sanitize(k, "variable " + std::to_string(g.values().size() + i), clean.data() + i * R);
        return 0;
      });
    IArr keys(n);
    for (py::ssize_t i = 0; i < n; ++i) keys.mutable_data()[i] = g.add_variable(k, clean.data() + i * R);
    return keys;
  }, py::arg("kind"), py::arg("reps"), "Adds N variables of one kind from storage rows (N, rep); returns keys (N,).");
  c.def("kind", [](const est::FactorGraph& g, int key) { return translate([&] { return static_cast<int>(g.values().kind(key)); }); });
  c.def("get_values", [](const est::FactorGraph& g, IArr keys) {
    const py::ssize_t n = keys.size();
    if (n == 0) return Arr(std::vector<py::ssize_t>{0, 0});
    const int k0 = translate([&] { return static_cast<int>(g.values().kind(key_int(keys.data()[0]))); });
    const int R = est::kind_info(to_kind(k0)).rep;
    Arr out(std::vector<py::ssize_t>{n, R});
    for (py::ssize_t i = 0; i < n; ++i) {
      const int key = key_int(keys.data()[i]);
      translate([&] {
        if (static_cast<int>(g.values().kind(key)) != k0)
          throw std::invalid_argument("get_values: keys mix groups (" + g.values().describe(key) + " vs " +
                                      est::kind_info(to_kind(k0)).name + ")");
        return 0;
      });
      std::copy(g.values().rep(key), g.values().rep(key) + R, out.mutable_data() + i * R);
    }
    return out;
  }, py::arg("keys"), "Storage rows (N, rep) of variables of one kind.");
  c.def("snapshot", [](const est::FactorGraph& g) {
    const est::Values& v = g.values();
    const int V = v.size();
    IArr kinds(V), offsets(V);
    for (int k = 0; k < V; ++k) kinds.mutable_data()[k] = static_cast<int64_t>(v.kind(k));
    const double* base = v.data().data();
    for (int k = 0; k < V; ++k) offsets.mutable_data()[k] = v.rep(k) - base;
    Arr data(static_cast<py::ssize_t>(v.data().size()));
    std::copy(v.data().begin(), v.data().end(), data.mutable_data());
    return py::make_tuple(kinds, offsets, data);
  }, "(kinds (V,), offsets (V,), data (total,)): the whole estimate in one copy.");
  c.def("set_values", [](est::FactorGraph& g, IArr keys, py::handle reps) {
    const py::ssize_t n = keys.size();
    if (n == 0) return;
    const int k0 = translate([&] { return static_cast<int>(g.values().kind(key_int(keys.data()[0]))); });
    const int R = est::kind_info(to_kind(k0)).rep;
    Arr a = as_array(reps, "values");
    const double* p = rows_of(a, n, R, "values");
    for (py::ssize_t i = 0; i < n; ++i)
      translate([&] {
        const int key = key_int(keys.data()[i]);
        if (static_cast<int>(g.values().kind(key)) != k0)
          throw std::invalid_argument("set_values: keys mix groups");
        g.values().assign(key, p + i * R);
        return 0;
      });
  }, py::arg("keys"), py::arg("reps"));
  c.def("set_fixed", [](est::FactorGraph& g, int key, bool f) { translate([&] { g.set_fixed(key, f); return 0; }); });
  c.def("is_fixed", [](const est::FactorGraph& g, int key) { return translate([&] { return g.values().fixed(key); }); });

  // ---- losses ------------------------------------------------------------
  c.def("add_loss", [](est::FactorGraph& g, int type, double k) { return g.add_loss(make_loss(type, k)); });

  // ---- built-in factors ---------------------------------------------------
  c.def("add_priors", [](est::FactorGraph& g, int kind, IArr keys, py::handle meas, py::handle info, int loss) {
    const py::ssize_t n = keys.size();
    const int64_t* kp = keys_of(keys, n, "keys");
    return est::visit_kind(to_kind(kind), [&](auto tag) -> int64_t {
      using G = typename decltype(tag)::Group;
      using F = est::PriorFactor<G>;
      constexpr int R = manif_py::LieTraits<G>::RepSize;
      Arr ma = as_array(meas, "measurements");
      Arr ia = as_array(info, "information");
      const double* mp = rows_of(ma, n, R, "measurements");
      const InfoBatch ib = info_of(ia, n, F::Dim, "information");
      return add_batch<F>(g, n, ib, [&](py::ssize_t i) {
        F f;
        f.keys = {key_int(kp[i])};
        f.measured = group_from<G>(mp + i * R, "measurement " + std::to_string(i));
        f.loss_id = loss;
        return f;
      });
    });
  }, py::arg("kind"), py::arg("keys"), py::arg("measurements"), py::arg("information"), py::arg("loss") = 0);

  c.def("add_betweens", [](est::FactorGraph& g, int kind, IArr ki, IArr kj, py::handle meas, py::handle info, int loss) {
    const py::ssize_t n = ki.size();
    const int64_t* ip = keys_of(ki, n, "keys_i");
    const int64_t* jp = keys_of(kj, n, "keys_j");
    return est::visit_kind(to_kind(kind), [&](auto tag) -> int64_t {
      using G = typename decltype(tag)::Group;
      using F = est::BetweenFactor<G>;
      constexpr int R = manif_py::LieTraits<G>::RepSize;
      Arr ma = as_array(meas, "measurements");
      Arr ia = as_array(info, "information");
      const double* mp = rows_of(ma, n, R, "measurements");
      const InfoBatch ib = info_of(ia, n, F::Dim, "information");
      return add_batch<F>(g, n, ib, [&](py::ssize_t i) {
        F f;
        f.keys = {key_int(ip[i]), key_int(jp[i])};
        f.measured = group_from<G>(mp + i * R, "measurement " + std::to_string(i));
        f.loss_id = loss;
        return f;
      });
    });
  }, py::arg("kind"), py::arg("keys_i"), py::arg("keys_j"), py::arg("measurements"), py::arg("information"),
     py::arg("loss") = 0);

  c.def("add_points", [](est::FactorGraph& g, int kind, IArr kp_, IArr kl_, py::handle meas, py::handle info, int loss) {
    const py::ssize_t n = kp_.size();
    const int64_t* pp = keys_of(kp_, n, "pose_keys");
    const int64_t* lp = keys_of(kl_, n, "landmark_keys");
    auto run = [&](auto tag) -> int64_t {
      using G = typename decltype(tag)::Group;
      using F = est::PointFactor<G>;
      constexpr int N = F::N;
      Arr ma = as_array(meas, "measurements");
      Arr ia = as_array(info, "information");
      const double* mp = rows_of(ma, n, N, "measurements");
      const InfoBatch ib = info_of(ia, n, N, "information");
      return add_batch<F>(g, n, ib, [&](py::ssize_t i) {
        F f;
        f.keys = {key_int(pp[i]), key_int(lp[i])};
        f.measured = Eigen::Map<const Eigen::Matrix<double, N, 1>>(mp + i * N);
        f.loss_id = loss;
        return f;
      });
    };
    const est::Kind k = to_kind(kind);
    if (k == est::Kind::SE2) return run(est::KindTag<manif_py::SE2<double>>{});
    if (k == est::Kind::SE3) return run(est::KindTag<manif_py::SE3<double>>{});
    throw py::value_error("point factors need SE2 or SE3 poses");
  }, py::arg("kind"), py::arg("pose_keys"), py::arg("landmark_keys"), py::arg("measurements"),
     py::arg("information"), py::arg("loss") = 0);

  c.def("add_range_bearings", [](est::FactorGraph& g, IArr kp_, IArr kl_, py::handle meas, py::handle info, int loss) {
    using F = est::RangeBearingFactor;
    const py::ssize_t n = kp_.size();
    const int64_t* pp = keys_of(kp_, n, "pose_keys");
    const int64_t* lp = keys_of(kl_, n, "landmark_keys");
    Arr ma = as_array(meas, "measurements");
    Arr ia = as_array(info, "information");
    const double* mp = rows_of(ma, n, 2, "measurements");
    const InfoBatch ib = info_of(ia, n, 2, "information");
    return add_batch<F>(g, n, ib, [&](py::ssize_t i) {
      F f;
      f.keys = {key_int(pp[i]), key_int(lp[i])};
      f.measured = Eigen::Vector2d(mp[2 * i], mp[2 * i + 1]);
      f.loss_id = loss;
      return f;
    });
  }, py::arg("pose_keys"), py::arg("landmark_keys"), py::arg("measurements"), py::arg("information"),
     py::arg("loss") = 0);

  c.def("add_imu_factors", [](est::FactorGraph& g, IArr ki, IArr kb, IArr kj, py::handle deltas, py::handle jb,
                              py::handle bias_lin, py::handle durations, py::handle gravity, py::handle info, int loss) {
    using F = est::ImuFactor;
    const py::ssize_t n = ki.size();
    const int64_t* ip = keys_of(ki, n, "keys_i");
    const int64_t* bp = keys_of(kb, n, "bias_keys");
    const int64_t* jp = keys_of(kj, n, "keys_j");
    Arr da = as_array(deltas, "deltas"), ja = as_array(jb, "bias_jacobians"), ba = as_array(bias_lin, "bias_lin");
    Arr ta = as_array(durations, "durations"), ga = as_array(gravity, "gravity"), ia = as_array(info, "information");
    const double* dp = rows_of(da, n, 10, "deltas");
    if (ja.ndim() != 3 || ja.shape(0) != n || ja.shape(1) != 9 || ja.shape(2) != 6)
      throw py::value_error("bias_jacobians must have shape (" + std::to_string(n) + ", 9, 6), got " + shape_of(ja));
    const double* jbp = ja.data();
    const double* blp = rows_of(ba, n, 6, "bias_lin");
    if (ta.ndim() != 1 || ta.shape(0) != n)
      throw py::value_error("durations must have shape (" + std::to_string(n) + ",), got " + shape_of(ta));
    if (ga.ndim() != 1 || ga.shape(0) != 3) throw py::value_error("gravity must have shape (3,), got " + shape_of(ga));
    const Eigen::Vector3d grav(ga.data()[0], ga.data()[1], ga.data()[2]);
    const InfoBatch ib = info_of(ia, n, 9, "information");
    return add_batch<F>(g, n, ib, [&](py::ssize_t i) {
      F f;
      f.keys = {key_int(ip[i]), key_int(bp[i]), key_int(jp[i])};
      f.measured.delta = group_from<manif_py::SE23<double>>(dp + i * 10, "delta " + std::to_string(i));
      f.measured.J_bias = Eigen::Map<const Eigen::Matrix<double, 9, 6, Eigen::RowMajor>>(jbp + i * 54);
      f.measured.bias_lin = Eigen::Map<const est::Vector6d>(blp + i * 6);
      f.measured.duration = ta.data()[i];
      if (!(f.measured.duration > 0.0))
        throw std::invalid_argument("factor " + std::to_string(g.num_factors() + i) + " (imu SE23): duration must be positive");
      f.measured.gravity = grav;
      f.loss_id = loss;
      return f;
    });
  }, py::arg("keys_i"), py::arg("bias_keys"), py::arg("keys_j"), py::arg("deltas"), py::arg("bias_jacobians"),
     py::arg("bias_lin"), py::arg("durations"), py::arg("gravity"), py::arg("information"), py::arg("loss") = 0,
     "N preintegrated IMU factors on (X_i SE23, b_i R6, X_j SE23); deltas (N, 10), bias_jacobians (N, 9, 6), "
     "bias_lin (N, 6), durations (N,), gravity (3,), information (9, 9) or (N, 9, 9).");

  c.def("add_custom", [](est::FactorGraph& g, std::vector<int64_t> keys, int dim, py::function fn,
                         py::handle info, int loss) {
    est::CustomFactor f;
    for (int64_t k : keys) f.keys.push_back(key_int(k));
    f.dim = dim;
    f.loss_id = loss;
    f.fn = std::make_shared<PyResidual>(std::move(fn));
    Arr ia = as_array(info, "information");
    if (ia.ndim() != 2 || ia.shape(0) != dim || ia.shape(1) != dim)
      throw py::value_error("information must have shape (" + std::to_string(dim) + ", " + std::to_string(dim) +
                            "), got " + shape_of(ia));
    const Eigen::MatrixXd omega =
        Eigen::Map<const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(ia.data(), dim, dim);
    return translate([&] { return g.add_custom(std::move(f), omega); });
  }, py::arg("keys"), py::arg("dim"), py::arg("fn"), py::arg("information"), py::arg("loss") = 0);

  // ---- evaluation, solving, covariances ----------------------------------
  c.def("describe_factor", [](const est::FactorGraph& g, int64_t id) { return translate([&] { return g.describe_factor(id); }); });
  c.def("residual", [](const est::FactorGraph& g, int64_t id) {
    return translate([&] {
      const auto [set, i] = g.factor(id);
      const Eigen::VectorXd r = set->whitened_residual(g.values(), i);
      Arr out(r.size());
      std::copy(r.data(), r.data() + r.size(), out.mutable_data());
      return out;
    });
  }, py::arg("id"), "Whitened residual U r of one factor (U^T U = information).");
  c.def("jacobians", [](const est::FactorGraph& g, int64_t id) {
    return translate([&] {
      const auto [set, i] = g.factor(id);
      Eigen::VectorXd r;
      Eigen::MatrixXd J;
      set->linearize_one(g.values(), i, r, J);
      py::list out;
      int o = 0;
      for (int k : set->keys(i)) {
        const int d = g.values().dof(k);
        Arr a(std::vector<py::ssize_t>{J.rows(), d});
        Eigen::Map<Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(a.mutable_data(), J.rows(), d) =
            J.middleCols(o, d);
        out.append(a);
        o += d;
      }
      return out;
    });
  }, py::arg("id"), "Whitened Jacobian blocks U dr/dx_k (dim, dof_k) of one factor, in key order.");
  c.def("cost", [](const est::FactorGraph& g, int loss_type, double loss_k) {
    const est::CostSums s = translate([&] { return g.cost(g.losses(make_loss(loss_type, loss_k))); });
    return py::make_tuple(s.chi2, s.cost);
  }, py::arg("loss_type") = 0, py::arg("loss_k") = 1.0, "(chi2, robust cost) at the current values.");
  c.def("check", [](est::FactorGraph& g) { translate([&] { g.system(); return 0; }); },
        "Builds the layout; raises if a variable is unconstrained or a component is unanchored.");
  c.def("solve", [](est::FactorGraph& g, int method, int max_iterations, double relative_tolerance,
                    double absolute_tolerance, double gradient_tolerance, double lambda_initial, int loss_type,
                    double loss_k, bool diagonal_damping) {
    est::SolverOptions o;
    if (method != 0 && method != 1) throw py::value_error("unknown method id");
    o.method = static_cast<est::Method>(method);
    o.max_iterations = max_iterations;
    o.relative_tolerance = relative_tolerance;
    o.absolute_tolerance = absolute_tolerance;
    o.gradient_tolerance = gradient_tolerance;
    o.lambda_initial = lambda_initial;
    o.diagonal_damping = diagonal_damping;
    o.loss = make_loss(loss_type, loss_k);
    // Ctrl-C during a long solve: take the GIL for a moment and let Python see the signal.
    o.check_interrupt = [] {
      py::gil_scoped_acquire gil;
      if (PyErr_CheckSignals() != 0) throw py::error_already_set();
    };
    est::SolveSummary summary;
    {
      py::gil_scoped_release nogil;  // custom factors take the GIL back while they run
      summary = translate([&] { return est::solve(g, o); });
    }
    return summary_dict(summary);
  }, py::arg("method"), py::arg("max_iterations"), py::arg("relative_tolerance"), py::arg("absolute_tolerance"),
     py::arg("gradient_tolerance"), py::arg("lambda_initial"), py::arg("loss_type"), py::arg("loss_k"),
     py::arg("diagonal_damping") = false);
  c.def("marginal_covariances", [](est::FactorGraph& g, std::vector<int> keys, int loss_type, double loss_k) {
    const est::Loss loss = make_loss(loss_type, loss_k);
    std::vector<Eigen::MatrixXd> covs;
    {
      py::gil_scoped_release nogil;
      covs = translate([&] { return est::marginal_covariances(g, keys, loss); });
    }
    py::list out;
    for (const auto& S : covs) {
      Arr a(std::vector<py::ssize_t>{S.rows(), S.cols()});
      Eigen::Map<Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(a.mutable_data(), S.rows(),
                                                                                          S.cols()) = S;
      out.append(a);
    }
    return out;
  }, py::arg("keys"), py::arg("loss_type") = 0, py::arg("loss_k") = 1.0);
  c.def("joint_covariance", [](est::FactorGraph& g, std::vector<int> keys, int loss_type, double loss_k) {
    const est::Loss loss = make_loss(loss_type, loss_k);
    Eigen::MatrixXd S;
    {
      py::gil_scoped_release nogil;
      S = translate([&] { return est::joint_covariance(g, keys, loss); });
    }
    Arr a(std::vector<py::ssize_t>{S.rows(), S.cols()});
    Eigen::Map<Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(a.mutable_data(), S.rows(),
                                                                                        S.cols()) = S;
    return a;
  }, py::arg("keys"), py::arg("loss_type") = 0, py::arg("loss_k") = 1.0);
  c.def("system_info", [](est::FactorGraph& g) {
    const est::BlockSystem& s = translate([&]() -> const est::BlockSystem& { return g.system(); });
    py::dict d;
    d["size"] = s.size();
    d["nonzeros_upper"] = s.nonzeros();
    return d;
  });
}
