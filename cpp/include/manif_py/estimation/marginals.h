// Marginal covariances of the estimate, from the sparse factorisation of the
// (undamped) normal equations at the current values: the covariance of a set of
// variables is the matching block of H^-1, obtained column by column from
// solves with the factor. Covariances live in the right (local) tangent space
// of each variable: X = X_hat Exp(xi), xi ~ N(0, Sigma).
#pragma once

#include <stdexcept>
#include <vector>

#include "solver.h"

namespace manif_py::estimation {

/// The joint covariance of `keys` (their tangent coordinates stacked in the
/// given order), shape (sum dof, sum dof). Fixed variables have zero covariance.
inline Eigen::MatrixXd joint_covariance(FactorGraph& graph, const std::vector<int>& keys, const Loss& loss,
                                        double pivot_tolerance = SolverOptions{}.pivot_tolerance) {
  const BlockSystem& sys = graph.system();
  std::vector<int> offs;
  int total = 0;
  for (int k : keys) {
    offs.push_back(total);
    total += graph.values().dof(k);
  }
  Eigen::MatrixXd out = Eigen::MatrixXd::Zero(total, total);
  if (total == 0 || sys.size() == 0) return out;
  NormalEquations eq = sys.make_equations();
  graph.linearize(graph.losses(loss), eq);
  SparseCholesky& chol = graph.cholesky();
  const int bad = chol.factorize(eq.H, pivot_tolerance);
  if (bad >= 0) throw_singular(graph, bad, "while computing covariances");

  std::vector<int> cols;  // system columns of the requested free coordinates
  std::vector<int> at;    // their positions in `out`
  for (size_t a = 0; a < keys.size(); ++a) {
    const int c = sys.col(keys[a]);
    if (c < 0) continue;
    for (int d = 0; d < graph.values().dof(keys[a]); ++d) {
      cols.push_back(c + d);
      at.push_back(offs[a] + d);
    }
  }
  constexpr int chunk = 64;  // right-hand sides per solve
  for (size_t start = 0; start < cols.size(); start += chunk) {
    const int m = static_cast<int>(std::min<size_t>(chunk, cols.size() - start));
    Eigen::MatrixXd E = Eigen::MatrixXd::Zero(sys.size(), m);
    for (int c = 0; c < m; ++c) E(cols[start + c], c) = 1.0;
    const Eigen::MatrixXd X = chol.solve(E);
    for (int c = 0; c < m; ++c)
      for (size_t r = 0; r < cols.size(); ++r) out(at[r], at[start + c]) = X(cols[r], c);
  }
  return (out + out.transpose()) / 2.0;
}

/// One marginal covariance per key, each (dof_k, dof_k); one factorisation.
inline std::vector<Eigen::MatrixXd> marginal_covariances(FactorGraph& graph, const std::vector<int>& keys,
                                                         const Loss& loss,
                                                         double pivot_tolerance = SolverOptions{}.pivot_tolerance) {
  std::vector<Eigen::MatrixXd> out;
  out.reserve(keys.size());
  if (keys.empty()) return out;
  const BlockSystem& sys = graph.system();
  NormalEquations eq = sys.make_equations();
  graph.linearize(graph.losses(loss), eq);
  SparseCholesky& chol = graph.cholesky();
  const int bad = chol.factorize(eq.H, pivot_tolerance);
  if (bad >= 0) throw_singular(graph, bad, "while computing covariances");
  for (int k : keys) {
    const int d = graph.values().dof(k), c = sys.col(k);
    Eigen::MatrixXd S = Eigen::MatrixXd::Zero(d, d);
    if (c >= 0) {
      Eigen::MatrixXd E = Eigen::MatrixXd::Zero(sys.size(), d);
      for (int a = 0; a < d; ++a) E(c + a, a) = 1.0;
      const Eigen::MatrixXd X = chol.solve(E);
      S = X.middleRows(c, d);
      S = (S + S.transpose()) / 2.0;
    }
    out.push_back(S);
  }
  return out;
}

}  // namespace manif_py::estimation
