// Group elements from their matrices and from (rotation, translation) pairs,
// checked: the scalar kernels of the batch constructors (no Python here).
//
// The rotation part must be orthonormal within `orthonormal_tol` with det +1; the
// rows and columns a group fixes (the bottom rows of a homogeneous matrix, the
// identity block of R^n) must hold their constants within `structure_tol`.
// Quaternions come out with w >= 0, as from the single-element constructors.
#pragma once

#include <manif_py/lie.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace manif_py {

enum class MatrixStatus { Ok, NotFinite, NotRotation, NotStructured, NotPositiveScale };

template <class S>
struct MatrixTol {
  // 1e-6 as in the single-element constructors; float32 rounding alone reaches ~1e-7.
  static S orthonormal() { return std::max(S(1e-6), S(100) * std::numeric_limits<S>::epsilon()); }
  static S structure() { return std::max(S(1e-9), S(8) * std::numeric_limits<S>::epsilon()); }
};

/// Unit quaternion (w >= 0) of a checked 3x3 rotation matrix.
template <class S, class M>
inline MatrixStatus quat_of_rotation(const Eigen::MatrixBase<M>& R, Eigen::Quaternion<S>& q) {
  const Eigen::Matrix<S, 3, 3> Rm = R;
  if (!std::isfinite(Rm.sum())) return MatrixStatus::NotFinite;
  const S dev = (Rm.transpose() * Rm - Eigen::Matrix<S, 3, 3>::Identity()).cwiseAbs().maxCoeff();
  if (!(dev <= MatrixTol<S>::orthonormal()) || !(Rm.determinant() > S(0))) return MatrixStatus::NotRotation;
  q = Eigen::Quaternion<S>(Rm);
  q.normalize();
  if (q.w() < S(0)) q.coeffs() = -q.coeffs();  // q and -q are the same rotation: pick w >= 0
  return MatrixStatus::Ok;
}

/// (cos, sin) of a checked 2x2 rotation matrix.
template <class S, class M>
inline MatrixStatus complex_of_rotation(const Eigen::MatrixBase<M>& R, Eigen::Matrix<S, 2, 1>& cs) {
  const Eigen::Matrix<S, 2, 2> Rm = R;
  if (!std::isfinite(Rm.sum())) return MatrixStatus::NotFinite;
  const S dev = (Rm.transpose() * Rm - Eigen::Matrix<S, 2, 2>::Identity()).cwiseAbs().maxCoeff();
  if (!(dev <= MatrixTol<S>::orthonormal()) || !(Rm.determinant() > S(0))) return MatrixStatus::NotRotation;
  cs = Eigen::Matrix<S, 2, 1>(Rm(0, 0), Rm(1, 0)).normalized();
  return MatrixStatus::Ok;
}

// ---------------------------------------------------------------- from (R, t [, s])
// The groups that are a rotation and a translation (and a scale): SE2, SE3, Sim3.

template <class G>
struct HasRt : std::false_type {};
template <class S> struct HasRt<SE2<S>> : std::true_type {};
template <class S> struct HasRt<SE3<S>> : std::true_type {};
template <class S> struct HasRt<Sim3<S>> : std::true_type {};

template <class S>
inline MatrixStatus element_from_rt(const Eigen::Matrix<S, 2, 2>& R, const Eigen::Matrix<S, 2, 1>& t, S, SE2<S>& g) {
  Eigen::Matrix<S, 2, 1> cs;
  const MatrixStatus st = complex_of_rotation<S>(R, cs);
  if (st == MatrixStatus::Ok) g = SE2<S>(t(0), t(1), cs(0), cs(1));
  return st;
}
template <class S>
inline MatrixStatus element_from_rt(const Eigen::Matrix<S, 3, 3>& R, const Eigen::Matrix<S, 3, 1>& t, S, SE3<S>& g) {
  Eigen::Quaternion<S> q;
  const MatrixStatus st = quat_of_rotation<S>(R, q);
  if (st == MatrixStatus::Ok) g = SE3<S>(t, q);
  return st;
}
template <class S>
inline MatrixStatus element_from_rt(const Eigen::Matrix<S, 3, 3>& R, const Eigen::Matrix<S, 3, 1>& t, S s, Sim3<S>& g) {
  if (!(s > S(0)) || !std::isfinite(s)) return MatrixStatus::NotPositiveScale;
  Eigen::Quaternion<S> q;
  const MatrixStatus st = quat_of_rotation<S>(R, q);
  if (st == MatrixStatus::Ok) g = Sim3<S>(t, q, s);
  return st;
}

// ---------------------------------------------------------------- from the matrix
// Each group reads its parts off the matrix; the constant entries are checked
// after, the same way for every group, against the matrix of the element built.

template <class S>
inline MatrixStatus parts_from_matrix(const Eigen::Matrix<S, 2, 2>& M, SO2<S>& g) {
  Eigen::Matrix<S, 2, 1> cs;
  const MatrixStatus st = complex_of_rotation<S>(M, cs);
  if (st == MatrixStatus::Ok) g = SO2<S>(cs);
  return st;
}
template <class S>
inline MatrixStatus parts_from_matrix(const Eigen::Matrix<S, 3, 3>& M, SO3<S>& g) {
  Eigen::Quaternion<S> q;
  const MatrixStatus st = quat_of_rotation<S>(M, q);
  if (st == MatrixStatus::Ok) g = SO3<S>(q);
  return st;
}
template <class S>
inline MatrixStatus parts_from_matrix(const Eigen::Matrix<S, 3, 3>& M, SE2<S>& g) {
  return element_from_rt<S>(M.template topLeftCorner<2, 2>(), M.template topRightCorner<2, 1>(), S(1), g);
}
template <class S>
inline MatrixStatus parts_from_matrix(const Eigen::Matrix<S, 4, 4>& M, SE3<S>& g) {
  return element_from_rt<S>(M.template topLeftCorner<3, 3>(), M.template topRightCorner<3, 1>(), S(1), g);
}
template <class S>
inline MatrixStatus parts_from_matrix(const Eigen::Matrix<S, 4, 4>& M, Sim3<S>& g) {
  // [[s R, t], [0, 1]]: det(s R) = s^3.
  const Eigen::Matrix<S, 3, 3> sR = M.template topLeftCorner<3, 3>();
  if (!std::isfinite(M.sum())) return MatrixStatus::NotFinite;
  const S det = sR.determinant();
  if (!(det > S(0))) return MatrixStatus::NotPositiveScale;
  const S s = std::cbrt(det);
  return element_from_rt<S>(Eigen::Matrix<S, 3, 3>(sR / s), M.template topRightCorner<3, 1>(), s, g);
}
template <class S>
inline MatrixStatus parts_from_matrix(const Eigen::Matrix<S, 5, 5>& M, SE23<S>& g) {
  // [[R, p, v], [0, 1, 0], [0, 0, 1]]
  Eigen::Quaternion<S> q;
  const MatrixStatus st = quat_of_rotation<S>(M.template topLeftCorner<3, 3>(), q);
  if (st == MatrixStatus::Ok) g = SE23<S>(M.template block<3, 1>(0, 3), q, M.template block<3, 1>(0, 4));
  return st;
}
template <class S>
inline MatrixStatus parts_from_matrix(const Eigen::Matrix<S, 5, 5>& M, SGal3<S>& g) {
  // [[R, v, t], [0, 1, s], [0, 0, 1]]
  Eigen::Quaternion<S> q;
  const MatrixStatus st = quat_of_rotation<S>(M.template topLeftCorner<3, 3>(), q);
  if (st == MatrixStatus::Ok) g = SGal3<S>(M.template block<3, 1>(0, 4), q, M.template block<3, 1>(0, 3), M(3, 4));
  return st;
}
template <class S, int N, int K>
inline MatrixStatus parts_from_matrix(const Eigen::Matrix<S, K, K>& M, Rn<S, N>& g) {
  static_assert(K == N + 1, "R^n elements are (n+1) x (n+1) matrices");
  g = Rn<S, N>(M.template topRightCorner<N, 1>());
  return MatrixStatus::Ok;
}

/// The matrix form, for error messages.
template <class G> struct MatrixForm { static const char* text() { return "[[R, t], [0, 1]]"; } };
template <class S> struct MatrixForm<SO2<S>> { static const char* text() { return "a 2x2 rotation matrix"; } };
template <class S> struct MatrixForm<SO3<S>> { static const char* text() { return "a 3x3 rotation matrix"; } };
template <class S> struct MatrixForm<Sim3<S>> { static const char* text() { return "[[s R, t], [0, 1]] with s > 0"; } };
template <class S> struct MatrixForm<SE23<S>> { static const char* text() { return "[[R, p, v], [0, 1, 0], [0, 0, 1]]"; } };
template <class S> struct MatrixForm<SGal3<S>> { static const char* text() { return "[[R, v, t], [0, 1, s], [0, 0, 1]]"; } };
template <class S, int N> struct MatrixForm<Rn<S, N>> { static const char* text() { return "[[I, t], [0, 1]]"; } };

/// Rows of the top-left block that parts_from_matrix checked as a rotation (or sR).
template <class G>
struct RotationBlock {
  static constexpr int size = LieTraits<G>::Dim;
};
template <class S, int N>
struct RotationBlock<Rn<S, N>> {
  static constexpr int size = 0;
};

/// The element of a matrix M (MatSize x MatSize), checked.
template <class G, class M>
inline MatrixStatus element_from_matrix(const Eigen::MatrixBase<M>& Min, G& g) {
  using S = typename LieTraits<G>::Scalar;
  constexpr int K = LieTraits<G>::MatSize, B = RotationBlock<G>::size;
  const Eigen::Matrix<S, K, K> Mm = Min;
  if (!std::isfinite(Mm.sum())) return MatrixStatus::NotFinite;
  const MatrixStatus st = parts_from_matrix(Mm, g);
  if (st != MatrixStatus::Ok) return st;
  // Every entry outside the rotation block is either read into g or a constant
  // of the group's form: the rebuilt matrix must reproduce it.
  const Eigen::Matrix<S, K, K> back = g.matrix();
  for (int r = 0; r < K; ++r)
    for (int c = 0; c < K; ++c)
      if ((r >= B || c >= B) && !(std::abs(back(r, c) - Mm(r, c)) <= MatrixTol<S>::structure()))
        return MatrixStatus::NotStructured;
  return MatrixStatus::Ok;
}

}  // namespace manif_py
