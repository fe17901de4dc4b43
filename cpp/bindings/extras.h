// Helpers for the per-group constructors and accessors (matrices, quaternions).
#pragma once

#include "convert.h"

namespace manif_py::py_bind {

/// q and -q are one rotation. Constructors from rotations pick w > 0, and for a half turn
/// (|w| below 1e-12, where its sign is rounding noise) the first non-zero of (x, y, z)
/// positive (scipy's canonical form), so that from_matrix(Exp(v).matrix()) == Exp(v) for
/// |v| < pi, where Exp gives w = cos(|v|/2) > 0.
inline Eigen::Quaterniond canonical_sign(const Eigen::Quaterniond& q) {
  constexpr double half_turn = 1e-12;
  const Eigen::Vector4d c = q.coeffs();  // (x, y, z, w)
  double lead = c(3);
  for (int i = 0; std::abs(lead) <= half_turn && i < 3; ++i) lead = c(i);
  return lead < 0 ? Eigen::Quaterniond(-c(3), -c(0), -c(1), -c(2)) : q;
}

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
  return canonical_sign(q);
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
