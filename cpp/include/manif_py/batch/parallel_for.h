// A minimal parallel loop over [0, n): contiguous chunks, one per thread, no Python.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <thread>
#include <vector>

namespace manif_py {

/// Number of worker threads for the batch kernels (0 = all hardware threads).
inline std::atomic<int>& batch_threads() {
  static std::atomic<int> n{0};
  return n;
}

/// Below this many elements a batch runs on the calling thread: starting a
/// thread costs about as much as a few thousand cheap elements.
inline std::atomic<int64_t>& parallel_threshold() {
  static std::atomic<int64_t> n{20000};
  return n;
}

inline int effective_threads() {
  const int req = batch_threads().load();
  const int hw = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  return req > 0 ? req : hw;
}

/// Calls body(begin, end) on disjoint chunks covering [0, n).
template <class Body>
void parallel_for(int64_t n, const Body& body) {
  const int threads = effective_threads();
  if (n < parallel_threshold().load() || threads <= 1) {
    body(int64_t(0), n);
    return;
  }
  const int64_t chunks = std::min<int64_t>(threads, n);
  const int64_t step = (n + chunks - 1) / chunks;
  std::vector<std::thread> pool;
  pool.reserve(static_cast<size_t>(chunks - 1));
  for (int64_t c = 1; c < chunks; ++c) {
    const int64_t b = c * step, e = std::min(n, b + step);
    if (b < e) pool.emplace_back([&body, b, e] { body(b, e); });
  }
  body(int64_t(0), std::min(n, step));
  for (auto& t : pool) t.join();
}

}  // namespace manif_py
