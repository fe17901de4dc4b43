// Helpers for the per-group constructors and accessors (matrices, quaternions).
#pragma once

#include "convert.h"

namespace manif_py::py_bind {

/// Quaternion of a validated rotation matrix: orthonormal within 1e-6, det = +1.
template <class M>
inline Eigen::Quaterniond quat_from_rotation(const M& R, const std::string& fn, const char* arg) {
  const double dev = (R.transpose() * R - Eigen::Matrix3d::Identity()).cwiseAbs().maxCoeff();
  const double det = R.determinant();
  if (!(dev <= 1e-6) || !(det > 0))
    value_error(fn, arg, "is not a rotation matrix (max |R^T R - I| = " + std::to_string(dev) +
                             ", det = " + std::to_string(det) + "; need orthonormal within 1e-6 and det = +1)");
  const Eigen::Matrix3d Rm = R;
  Eigen::Quaterniond q(Rm);
  q.normalize();
  return q;
}

/// Rejects a homogeneous matrix whose last rows are not the expected constant ones.
template <class M>
inline void check_bottom_rows(const M& m, int from_row, const std::string& fn, const char* arg) {
  for (int r = from_row; r < m.rows(); ++r)
    for (int c = 0; c < m.cols(); ++c) {
      const double want = r == c ? 1.0 : 0.0;
      if (std::abs(m(r, c) - want) > 1e-9)
        value_error(fn, arg, "is not a valid homogeneous matrix (row " + std::to_string(r) + " must be a unit row)");
    }
}

template <class G>
py::array_t<double> quat_array(const G& x) {
  return to_vec(Eigen::Vector4d(x.quat().coeffs()));
}

}  // namespace manif_py::py_bind
