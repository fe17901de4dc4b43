// Where each group's storage holds unit-norm or positive parts, and the check
// that accepts (and normalises) or rejects a coefficient vector.
#pragma once

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

/// Checks a storage vector in place; a unit part within the tolerance of
/// Constants::unit_tol (on |q|^2 - 1) is normalised, beyond it rejected.
template <class G, class Vec>
inline RepStatus check_rep(Vec& d) {
  using L = RepLayout<G>;
  using S = typename LieTraits<G>::Scalar;
  if (!d.allFinite()) return RepStatus::NotFinite;
  if constexpr (L::unit_size > 0) {
    auto u = d.template segment<L::unit_size>(L::unit_offset);
    const S n2 = u.squaredNorm();
    const S dev = n2 - S(1);
    if (!(dev <= Constants<S>::unit_tol && dev >= -Constants<S>::unit_tol)) return RepStatus::NotUnit;
    if (dev != S(0)) u /= std::sqrt(n2);
  }
  if constexpr (L::positive_index >= 0) {
    if (!(d(L::positive_index) > S(0))) return RepStatus::NotPositive;
  }
  return RepStatus::Ok;
}

}  // namespace manif_py
