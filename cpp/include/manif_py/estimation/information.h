// Information matrices: validation (finite, symmetric, positive definite) and
// the square-root factor used to whiten residuals.
#pragma once

#include <Eigen/Cholesky>
#include <Eigen/Core>
#include <Eigen/Eigenvalues>

#include <cmath>
#include <sstream>
#include <stdexcept>
#include <string>

namespace manif_py::estimation {

/// Upper-triangular U with U^T U = Omega, so that the whitened residual U r has
/// squared norm r^T Omega r. Throws std::invalid_argument naming `label` when
/// Omega is not finite, not symmetric (relative tolerance 1e-9) or not positive
/// definite. Omega: (d, d).
template <class M>
Eigen::Matrix<double, M::RowsAtCompileTime, M::ColsAtCompileTime> sqrt_information(
    const Eigen::MatrixBase<M>& omega, const std::string& label) {
  using Mat = Eigen::Matrix<double, M::RowsAtCompileTime, M::ColsAtCompileTime>;
  const Mat W = omega;
  if (W.rows() != W.cols())
    throw std::invalid_argument(label + ": information matrix must be square");
  if (!W.allFinite()) throw std::invalid_argument(label + ": information matrix contains NaN or inf");
  const double scale = W.cwiseAbs().maxCoeff();
  if ((W - W.transpose()).cwiseAbs().maxCoeff() > 1e-9 * scale) {
    std::ostringstream s;
    s << label << ": information matrix is not symmetric (max |Omega - Omega^T| = "
      << (W - W.transpose()).cwiseAbs().maxCoeff() << ")";
    throw std::invalid_argument(s.str());
  }
  const Mat S = (W + W.transpose()) / 2.0;
  Eigen::LLT<Mat> llt(S);
  bool ok = llt.info() == Eigen::Success && scale > 0.0;
  if (ok) {
    // LLT succeeds on some numerically semidefinite matrices; demand a pivot
    // margin relative to the largest entry.
    const auto L = llt.matrixL();
    for (int i = 0; i < S.rows(); ++i) ok = ok && L(i, i) * L(i, i) > 1e-14 * scale;
  }
  if (!ok) {
    Eigen::SelfAdjointEigenSolver<Mat> es(S, Eigen::EigenvaluesOnly);
    std::ostringstream s;
    s << label << ": information matrix is not positive definite (smallest eigenvalue "
      << es.eigenvalues().minCoeff() << ")";
    throw std::invalid_argument(s.str());
  }
  return llt.matrixU();
}

}  // namespace manif_py::estimation
