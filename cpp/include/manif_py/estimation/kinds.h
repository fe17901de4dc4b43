// The variable kinds of the estimation layer: every group of the core, named by
// an enum so that graphs can hold variables of mixed groups in one flat state.
#pragma once

#include <manif_py/lie/rn.h>
#include <manif_py/lie/se2.h>
#include <manif_py/lie/se23.h>
#include <manif_py/lie/se3.h>
#include <manif_py/lie/sgal3.h>
#include <manif_py/lie/sim3.h>
#include <manif_py/lie/so2.h>
#include <manif_py/lie/so3.h>

#include <stdexcept>
#include <string>

namespace manif_py::estimation {

/// The groups a factor graph variable can live on. The numeric values are part
/// of the Python binding (manif_py._estimation.KIND_NAMES), so append, never
/// reorder. SE23 (extended poses: inertial navigation), SGal3 and Sim3 (monocular
/// SLAM) get prior and between factors only, which keeps their instantiations few.
enum class Kind : int { SO2 = 0, SE2, SO3, SE3, R1, R2, R3, R4, R5, R6, SE23, SGal3, Sim3, Count };

template <class G>
struct KindTag {
  using Group = G;
};

template <class G> struct KindOf;
#define MANIF_PY_EST_KIND(G, K)                         \
  template <>                                           \
  struct KindOf<G> {                                    \
    static constexpr Kind value = Kind::K;              \
    static constexpr const char* name = #K;             \
  };
MANIF_PY_EST_KIND(SO2<double>, SO2)
MANIF_PY_EST_KIND(SE2<double>, SE2)
MANIF_PY_EST_KIND(SO3<double>, SO3)
MANIF_PY_EST_KIND(SE3<double>, SE3)
MANIF_PY_EST_KIND(SE23<double>, SE23)
MANIF_PY_EST_KIND(SGal3<double>, SGal3)
MANIF_PY_EST_KIND(Sim3<double>, Sim3)
#define MANIF_PY_EST_RN(N)                              \
  template <>                                           \
  struct KindOf<Rn<double, N>> {                        \
    static constexpr Kind value = Kind::R##N;           \
    static constexpr const char* name = "R" #N;         \
  };
MANIF_PY_EST_RN(1)
MANIF_PY_EST_RN(2)
MANIF_PY_EST_RN(3)
MANIF_PY_EST_RN(4)
MANIF_PY_EST_RN(5)
MANIF_PY_EST_RN(6)
#undef MANIF_PY_EST_KIND
#undef MANIF_PY_EST_RN

/// Calls f(KindTag<G>{}) with the group type G behind a runtime kind.
template <class F>
decltype(auto) visit_kind(Kind k, F&& f) {
  switch (k) {
    case Kind::SO2: return f(KindTag<SO2<double>>{});
    case Kind::SE2: return f(KindTag<SE2<double>>{});
    case Kind::SO3: return f(KindTag<SO3<double>>{});
    case Kind::SE3: return f(KindTag<SE3<double>>{});
    case Kind::R1: return f(KindTag<Rn<double, 1>>{});
    case Kind::R2: return f(KindTag<Rn<double, 2>>{});
    case Kind::R3: return f(KindTag<Rn<double, 3>>{});
    case Kind::R4: return f(KindTag<Rn<double, 4>>{});
    case Kind::R5: return f(KindTag<Rn<double, 5>>{});
    case Kind::R6: return f(KindTag<Rn<double, 6>>{});
    case Kind::SE23: return f(KindTag<SE23<double>>{});
    case Kind::SGal3: return f(KindTag<SGal3<double>>{});
    case Kind::Sim3: return f(KindTag<Sim3<double>>{});
    default: break;
  }
  throw std::invalid_argument("unknown variable kind " + std::to_string(static_cast<int>(k)));
}

struct KindInfo {
  const char* name;
  int dof;  ///< tangent dimension
  int rep;  ///< storage size of one element
};

inline KindInfo kind_info(Kind k) {
  return visit_kind(k, [](auto tag) {
    using G = typename decltype(tag)::Group;
    return KindInfo{KindOf<G>::name, LieTraits<G>::DoF, LieTraits<G>::RepSize};
  });
}

/// Where the unit-norm part (complex number or quaternion) sits in the storage
/// of kind k: {offset, length}; {0, 0} for R^n.
struct UnitPart {
  int offset, length;
};
inline UnitPart unit_part(Kind k) {
  switch (k) {
    case Kind::SO2: return {0, 2};
    case Kind::SE2: return {2, 2};
    case Kind::SO3: return {0, 4};
    case Kind::SE3: return {3, 4};
    case Kind::SE23: return {3, 4};
    case Kind::SGal3: return {3, 4};
    case Kind::Sim3: return {3, 4};
    default: return {0, 0};
  }
}

/// Index of a storage coefficient that must be strictly positive (the scale of
/// Sim3), or -1 when the kind has none.
inline int positive_part(Kind k) { return k == Kind::Sim3 ? 7 : -1; }

inline bool valid_kind(int k) { return k >= 0 && k < static_cast<int>(Kind::Count); }

}  // namespace manif_py::estimation
