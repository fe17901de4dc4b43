// A minimal parallel loop over [0, n): contiguous chunks, one per thread, no Python.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <thread>
#include <vector>

#include "settings.h"

namespace manif_py {

/// Number of worker threads for the batch kernels (0 = all hardware threads).
inline std::atomic<int>& batch_threads() { return settings().threads; }

/// Below this many elements a batch runs on the calling thread.
inline std::atomic<int64_t>& parallel_threshold() { return settings().parallel_threshold; }

/// Hardware threads, read once: glibc's hardware_concurrency() reads /sys on
/// every call (about 11 us here), which was most of the cost of a small batch.
inline int hardware_threads() {
  static const int hw = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  return hw;
}

inline int effective_threads() {
  const int req = batch_threads().load();
  return req > 0 ? req : hardware_threads();
}

/// Calls body(begin, end) on disjoint chunks covering [0, n). Threads pull
/// chunks from a shared counter rather than taking fixed shares, so a core that
/// is busy with something else slows the loop down by its share only.
template <class Body>
void parallel_for(int64_t n, const Body& body) {
  if (n < parallel_threshold().load()) {  // checked first: small batches never ask for the thread count
    body(int64_t(0), n);
    return;
  }
  const int threads = effective_threads();
  if (threads <= 1) {
    body(int64_t(0), n);
    return;
  }
  const int64_t grain = std::max<int64_t>(2048, n / (int64_t(threads) * 32));
  std::atomic<int64_t> next{0};
  const auto worker = [&] {
    for (;;) {
      const int64_t b = next.fetch_add(grain, std::memory_order_relaxed);
      if (b >= n) return;
      body(b, std::min(n, b + grain));
    }
  };
  std::vector<std::thread> pool;
  pool.reserve(static_cast<size_t>(threads - 1));
  for (int t = 1; t < threads; ++t) pool.emplace_back(worker);
  worker();
  for (auto& t : pool) t.join();
}

}  // namespace manif_py
