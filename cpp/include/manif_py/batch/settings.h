// The run-time settings of the batch kernels: worker threads, the size below which a
// batch stays on the calling thread, and the per-thread switch for input validation.
// Each extension module compiles its own copy of these inline statics, so one module
// (manif_py._core) owns the instance and the others point at it (see
// cpp/bindings/shared_settings.h); a C++ program using the headers alone gets its own.
#pragma once

#include <atomic>
#include <cstdint>

namespace manif_py {

/// The calling thread's validation switch: one thread's `with unchecked():` must not
/// turn off another thread's checks.
inline bool& thread_validation() {
  thread_local bool on = true;
  return on;
}

struct Settings {
  std::atomic<int> threads{0};                     // 0 = all hardware threads
  std::atomic<int64_t> parallel_threshold{20000};  // a thread's start costs a few thousand cheap elements
  bool& (*validation)() = &thread_validation;      // called, so the owner's thread_local is the one read
};

/// Where this module's kernels read their settings: its own instance until it adopts the owner's.
inline Settings*& settings_source() {
  static Settings own;
  static Settings* source = &own;
  return source;
}

inline Settings& settings() { return *settings_source(); }

}  // namespace manif_py
