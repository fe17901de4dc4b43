// Gauss-Newton and Levenberg-Marquardt on a factor graph. Each iteration
// linearises every factor at the current estimate (right Jacobians), assembles
// H dx = -g in the fixed sparse layout, factorises it and retracts
// x <- x (+) dx variable by variable.
#pragma once

#include <algorithm>
#include <chrono>
#include <cmath>
#include <functional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "factor_graph.h"

namespace manif_py::estimation {

enum class Method : int { GaussNewton = 0, LevenbergMarquardt = 1 };

struct SolverOptions {
  Method method = Method::LevenbergMarquardt;
  int max_iterations = 100;
  /// Converged when an accepted step lowers the cost by less than this fraction
  /// (GTSAM's default is 1e-5; 1e-6 ends at or below GTSAM's cost from the same start).
  double relative_tolerance = 1e-6;
  /// Converged when the cost falls below this.
  double absolute_tolerance = 0.0;
  /// Converged when max |g| (whitened gradient) falls below this.
  double gradient_tolerance = 1e-12;
  /// LM: initial damping.
  double lambda_initial = 1e-5;
  /// LM: damp with lambda * diag(H) (Marquardt, scale invariant) instead of lambda * I.
  bool diagonal_damping = false;
  /// LM: a step is accepted when (actual decrease) / (decrease predicted by the
  /// linear model) exceeds this.
  double min_model_fidelity = 1e-3;
  /// LM: damping is divided by this after a decrease, multiplied after an increase.
  double lambda_factor = 10.0;
  double lambda_min = 1e-15;
  /// LM: give up when the damping exceeds this.
  double lambda_max = 1e10;
  /// A pivot D_j of the factorisation not above pivot_tolerance * H_jj means singular.
  double pivot_tolerance = 1e-13;
  /// The robust loss of every factor that was added without one.
  Loss loss;
  /// Called before every factorisation; throws to abandon the solve (a front end checks for
  /// Ctrl-C here: the core knows no Python). Empty: never interrupted.
  std::function<void()> check_interrupt;
};

/// Refuses options under which the iteration would not be meaningful or would not end:
/// a NaN damping never exceeds lambda_max (the damping loop would spin for ever), a negative
/// tolerance can never be met, a lambda_factor <= 1 never grows the damping.
inline void validate(const SolverOptions& o) {
  auto bad = [](const char* name, double v, const char* want) {
    std::ostringstream s;
    s << "solver option '" << name << "' must be " << want << ", got " << v;
    throw std::invalid_argument(s.str());
  };
  if (o.max_iterations < 0) bad("max_iterations", o.max_iterations, ">= 0");
  auto finite_nonneg = [&](const char* name, double v) {
    if (!(std::isfinite(v) && v >= 0.0)) bad(name, v, "finite and >= 0");
  };
  finite_nonneg("relative_tolerance", o.relative_tolerance);
  finite_nonneg("absolute_tolerance", o.absolute_tolerance);
  finite_nonneg("gradient_tolerance", o.gradient_tolerance);
  finite_nonneg("pivot_tolerance", o.pivot_tolerance);
  finite_nonneg("min_model_fidelity", o.min_model_fidelity);
  if (!(std::isfinite(o.lambda_min) && o.lambda_min > 0.0)) bad("lambda_min", o.lambda_min, "finite and > 0");
  if (!(std::isfinite(o.lambda_max) && o.lambda_max >= o.lambda_min)) bad("lambda_max", o.lambda_max, "finite and >= lambda_min");
  if (!(std::isfinite(o.lambda_factor) && o.lambda_factor > 1.0)) bad("lambda_factor", o.lambda_factor, "finite and > 1");
  // A start above lambda_max would report "converged" without taking a single step.
  if (!(std::isfinite(o.lambda_initial) && o.lambda_initial >= 0.0 && o.lambda_initial <= o.lambda_max))
    bad("lambda_initial", o.lambda_initial, "finite, >= 0 and <= lambda_max");
}

struct IterationLog {
  int iteration;
  double cost;     ///< robust cost after the iteration
  double lambda;   ///< LM damping used by the accepted step (0 for GN)
  int attempts;    ///< factorisations tried in this iteration
};

struct SolveSummary {
  double initial_chi2 = 0, final_chi2 = 0;  ///< sum r^T Omega r
  double initial_cost = 0, final_cost = 0;  ///< sum rho(r^T Omega r): the objective
  int iterations = 0;                       ///< linearisations after the initial one
  int factorizations = 0;
  bool converged = false;
  std::string status;
  double seconds_linearize = 0, seconds_factorize = 0, seconds_total = 0;
  std::vector<IterationLog> log;
};

/// Throws the singular-system error for a failed pivot at column `col`.
[[noreturn]] inline void throw_singular(FactorGraph& graph, int col, const char* when) {
  const int v = graph.system().var_of_col(col);
  std::ostringstream s;
  s << "singular system " << when << ": the normal equations lose rank at variable "
    << graph.values().describe(v)
    << " (tangent coordinate " << col - graph.system().col(v)
    << "); its factors do not determine it (unanchored component, too few measurements, "
       "or degenerate geometry)";
  throw std::runtime_error(s.str());
}

/// Minimises sum_f rho_f(r_f^T Omega_f r_f) over the free variables of `graph`,
/// starting from, and writing the result to, graph.values().
inline SolveSummary solve(FactorGraph& graph, const SolverOptions& opt) {
  using Clock = std::chrono::steady_clock;
  const auto t_start = Clock::now();
  auto seconds = [](Clock::time_point a) { return std::chrono::duration<double>(Clock::now() - a).count(); };
  validate(opt);

  SolveSummary sum;
  const std::vector<Loss> losses = graph.losses(opt.loss);
  const BlockSystem& sys = graph.system();
  SparseCholesky& chol = graph.cholesky();
  const int n = sys.size();
  NormalEquations eq = sys.make_equations();
  Values& values = graph.values();

  auto linearize = [&]() {
    const auto t = Clock::now();
    const CostSums c = graph.linearize(losses, eq);
    sum.seconds_linearize += seconds(t);
    return c;
  };
  auto factorize = [&]() {
    const auto t = Clock::now();
    const int bad = chol.factorize(eq.H, opt.pivot_tolerance);
    sum.seconds_factorize += seconds(t);
    ++sum.factorizations;
    return bad;
  };

  CostSums cur = linearize();
  sum.initial_chi2 = cur.chi2;
  sum.initial_cost = cur.cost;
  std::vector<double> diag(n);
  for (int j = 0; j < n; ++j) diag[j] = eq.H.valuePtr()[eq.diag_index(j)];

  const bool lm = opt.method == Method::LevenbergMarquardt;
  double lambda = opt.lambda_initial;
  sum.status = "reached max_iterations";
  for (int it = 1; it <= opt.max_iterations; ++it) {
    if (n == 0) {
      sum.converged = true;
      sum.status = "no free variables";
      break;
    }
    if (cur.cost <= opt.absolute_tolerance) {
      sum.converged = true;
      sum.status = "cost below absolute_tolerance";
      break;
    }
    if (eq.g.lpNorm<Eigen::Infinity>() <= opt.gradient_tolerance) {
      sum.converged = true;
      sum.status = "gradient below gradient_tolerance";
      break;
    }
    const std::vector<double> snapshot = values.data();
    bool accepted = false, stop = false;
    int attempts = 0;
    CostSums trial;
    while (!accepted && !stop) {
      ++attempts;
      if (opt.check_interrupt) opt.check_interrupt();
      double* val = eq.H.valuePtr();
      for (int j = 0; j < n; ++j)
        val[eq.diag_index(j)] = !lm ? diag[j]
                                : diag[j] + lambda * (opt.diagonal_damping ? std::clamp(diag[j], 1e-6, 1e32) : 1.0);
      const int bad = factorize();
      if (bad >= 0) {
        if (!lm) throw_singular(graph, bad, "in Gauss-Newton");
        lambda = std::max(lambda, 1e-8) * opt.lambda_factor;
        if (lambda > opt.lambda_max) throw_singular(graph, bad, "in Levenberg-Marquardt (damping exhausted)");
        continue;
      }
      const Eigen::VectorXd dx = chol.solve(Eigen::VectorXd(-eq.g));
      if (!dx.allFinite()) throw std::runtime_error("linear solve produced NaN or inf (ill-conditioned system)");
      values.retract(dx, sys.col());
      try {
        trial = graph.cost(losses);
      } catch (...) {
        values.restore(snapshot);  // leave the estimate where the failed evaluation found it
        throw;
      }
      if (!lm) {
        accepted = true;
        break;
      }
      const double actual = cur.cost - trial.cost;
      // Decrease predicted by the undamped quadratic model: -(2 g.dx + dx^T H dx)
      // = -g.dx + lambda dx^T D dx since (H + lambda D) dx = -g.
      double damp = 0.0;
      for (int j = 0; j < n; ++j)
        damp += (opt.diagonal_damping ? std::clamp(diag[j], 1e-6, 1e32) : 1.0) * dx[j] * dx[j];
      const double predicted = -eq.g.dot(dx) + lambda * damp;
      if (actual > 0.0 && actual > opt.min_model_fidelity * predicted) {
        // As GTSAM's LevenbergMarquardtOptimizer: divide the damping by 10 after
        // every decrease, multiply it by 10 after every increase. (Nielsen's
        // gain-ratio rule raises the damping after modest decreases and crawls
        // on pose graphs started far from the optimum.)
        lambda = std::max(lambda / opt.lambda_factor, opt.lambda_min);
        accepted = true;
      } else {
        values.restore(snapshot);
        if (std::abs(actual) <= 1e-15 * std::max(1.0, cur.cost)) {
          stop = true;  // no measurable change in either direction: at the minimum
          sum.converged = true;
          sum.status = "converged (no further decrease)";
          break;
        }
        lambda *= opt.lambda_factor;
        if (lambda > opt.lambda_max) {
          stop = true;
          sum.converged = true;
          sum.status = "converged (damping exceeded lambda_max without decrease)";
        }
      }
    }
    if (stop) break;
    const double prev = cur.cost;
    cur = linearize();
    for (int j = 0; j < n; ++j) diag[j] = eq.H.valuePtr()[eq.diag_index(j)];
    sum.iterations = it;
    sum.log.push_back({it, cur.cost, lm ? lambda : 0.0, attempts});
    if (!std::isfinite(cur.cost)) throw std::runtime_error("cost became NaN or inf");
    if (std::abs(prev - cur.cost) <= opt.relative_tolerance * std::max(prev, 1e-300)) {
      sum.converged = true;
      sum.status = "converged (relative decrease below relative_tolerance)";
      break;
    }
  }
  sum.final_chi2 = cur.chi2;
  sum.final_cost = cur.cost;
  sum.seconds_total = seconds(t_start);
  return sum;
}

}  // namespace manif_py::estimation
