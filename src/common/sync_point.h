// Sync points: named places in the engine where a test can run a callback (after RocksDB's
// SyncPoint), to hold a thread at an exact moment of an operation while another thread acts, so
// a race is provoked deterministically rather than by timing. Compiled in every build; with no
// callback set (always, outside tests) a point costs one relaxed atomic load. Thread-safe.
#pragma once

#include <atomic>
#include <functional>
#include <string_view>

namespace mosaic::sync_point {

using Callback = std::function<void(std::string_view point)>;

// Installs `cb` (called at every point reached, by the thread reaching it); null removes it.
// Clear it before anything the callback captures goes away.
void SetCallback(Callback cb);

namespace internal {
extern std::atomic<bool> enabled;
void Run(std::string_view point);
}  // namespace internal

inline void Reached(std::string_view point) {
  if (internal::enabled.load(std::memory_order_relaxed)) internal::Run(point);
}

}  // namespace mosaic::sync_point
