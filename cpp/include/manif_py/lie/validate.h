// Where each group's storage holds unit-norm or positive parts, and the check
// that accepts (and normalises) or rejects a coefficient vector.
#pragma once

#include <limits>

#include "../lie.h"

namespace manif_py {

/// unit_offset/unit_size: the block that must have unit norm (complex number or
/// quaternion); positive_index: a coefficient that must be > 0 (Sim(3) scale).
template <class G>
struct RepLayout {
  static constexpr int unit_offset = -1, unit_size = 0, positive_index = -1;
};
template <class S> struct RepLayout<SO2<S>> { static constexpr int unit_offset = 0, unit_size = 2, positive_index = -1; };
template <class S> struct RepLayout<SE2<S>> { static constexpr int unit_offset = 2, unit_size = 2, positive_index = -1; };
template <class S> struct RepLayout<SO3<S>> { static constexpr int unit_offset = 0, unit_size = 4, positive_index = -1; };
template <class S> struct RepLayout<SE3<S>> { static constexpr int unit_offset = 3, unit_size = 4, positive_index = -1; };
template <class S> struct RepLayout<SE23<S>> { static constexpr int unit_offset = 3, unit_size = 4, positive_index = -1; };
template <class S> struct RepLayout<SGal3<S>> { static constexpr int unit_offset = 3, unit_size = 4, positive_index = -1; };
template <class S> struct RepLayout<Sim3<S>> { static constexpr int unit_offset = 3, unit_size = 4, positive_index = 7; };

enum class RepStatus { Ok, NotFinite, NotUnit, NotPositive };

/// Checks a storage vector (any Eigen expression, e.g. a Map over batch memory,
/// read in place). Sets `renormalise` when the unit part is within the tolerance
/// Constants::unit_tol (on |q|^2 - 1) but off by more than rounding.
template <class G, class D>
inline RepStatus inspect_rep(const Eigen::MatrixBase<D>& d, bool& renormalise) {
  using L = RepLayout<G>;
  using S = typename LieTraits<G>::Scalar;
  constexpr int Rep = LieTraits<G>::RepSize;
  renormalise = false;
  if constexpr (L::unit_size > 0) {
    // The norm test also rejects NaN or inf in the unit part (a NaN deviation fails
    // both comparisons), so only the other coefficients need a finiteness test:
    // this halved the cost of checking an SE(3) element.
    constexpr int after = Rep - L::unit_offset - L::unit_size;
    const S dev = d.template segment<L::unit_size>(L::unit_offset).squaredNorm() - S(1);
    if (!(dev <= Constants<S>::unit_tol && dev >= -Constants<S>::unit_tol))
      return std::isfinite(d.sum()) ? RepStatus::NotUnit : RepStatus::NotFinite;  // NaN anywhere is reported as such
    S rest = S(0);
    if constexpr (L::unit_offset > 0) rest += d.template head<L::unit_offset>().sum();
    if constexpr (after > 0) rest += d.template tail<after>().sum();
    if (!std::isfinite(rest)) return RepStatus::NotFinite;
    // Rounding-level deviations are left alone: renormalising would cost a
    // square root per element and change nothing measurable.
    constexpr S ulps = S(8) * std::numeric_limits<S>::epsilon();
    renormalise = dev > ulps || dev < -ulps;
  } else {
    // One finiteness test on the sum: NaN or inf anywhere makes it non-finite.
    if (!std::isfinite(d.sum())) return RepStatus::NotFinite;
  }
  if constexpr (L::positive_index >= 0) {
    if (!(d(L::positive_index) > S(0))) return RepStatus::NotPositive;
  }
  return RepStatus::Ok;
}

template <class G, class Vec>
inline void renormalise_rep(Vec& d) {
  using L = RepLayout<G>;
  if constexpr (L::unit_size > 0) d.template segment<L::unit_size>(L::unit_offset).normalize();
}

/// Checks a storage vector in place, normalising a unit part within tolerance.
template <class G, class Vec>
inline RepStatus check_rep(Vec& d) {
  bool renormalise = false;
  const RepStatus st = inspect_rep<G>(d, renormalise);
  if (st == RepStatus::Ok && renormalise) renormalise_rep<G>(d);
  return st;
}

}  // namespace manif_py
