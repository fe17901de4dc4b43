// Sparse LDL^T of the normal equations with a pivot check that turns a
// (numerically) singular system into the column where it broke down.
#pragma once

#include <Eigen/SparseCholesky>

#include "block_system.h"

namespace manif_py::estimation {

class SparseCholesky {
 public:
  /// Symbolic analysis; the matrix is already in elimination order (BlockSystem).
  void analyze(const SpMat& H) { ldlt_.analyzePattern(H); }

  /// Numeric factorisation of H (upper triangle). Returns -1 on success, else
  /// the first column j whose pivot D_j is not > tol * H_jj (or not finite).
  int factorize(const SpMat& H, double tol) {
    ldlt_.factorize(H);
    const Eigen::VectorXd D = ldlt_.vectorD();
    const int* outer = H.outerIndexPtr();
    const double* val = H.valuePtr();
    for (int j = 0; j < D.size(); ++j) {
      const double hjj = val[outer[j + 1] - 1];
      if (!(D[j] > tol * hjj) || !(hjj > 0.0) || !std::isfinite(D[j])) return j;
    }
    return ldlt_.info() == Eigen::Success ? -1 : 0;
  }

  Eigen::VectorXd solve(const Eigen::VectorXd& b) const { return ldlt_.solve(b); }
  Eigen::MatrixXd solve(const Eigen::MatrixXd& B) const { return ldlt_.solve(B); }

 private:
  Eigen::SimplicialLDLT<SpMat, Eigen::Upper, Eigen::NaturalOrdering<int>> ldlt_;
};

}  // namespace manif_py::estimation
