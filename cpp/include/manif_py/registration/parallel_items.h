// parallel_for over expensive items (a kd-tree query, a whole cloud): the shared
// loop counts cheap elements, so each item is counted as `cost` of them.
#pragma once

#include <manif_py/batch/parallel_for.h>

#include <cstdint>

namespace manif_py::registration {

/// Calls body(i) for i in [0, n) on the batch threads; `cost` is an item's work
/// in units of a cheap batch element (a few tens of ns).
template <class Body>
void parallel_items(int64_t n, int64_t cost, const Body& body) {
  if (cost < 1) cost = 1;
  // Unit range [b, e) maps to items [ceil(b / cost), ceil(e / cost)): the chunks
  // of parallel_for partition the units, so these partition the items.
  parallel_for(n * cost, [&](int64_t b, int64_t e) {
    for (int64_t i = (b + cost - 1) / cost, last = (e + cost - 1) / cost; i < last; ++i) body(i);
  });
}

}  // namespace manif_py::registration
