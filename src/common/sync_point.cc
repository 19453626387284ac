#include "common/sync_point.h"

#include <memory>
#include <mutex>

namespace mosaic::sync_point {
namespace {

std::mutex mu;
std::shared_ptr<const Callback> callback;  // guarded by mu

}  // namespace

namespace internal {
std::atomic<bool> enabled{false};

void Run(std::string_view point) {
  std::shared_ptr<const Callback> cb;
  {
    std::lock_guard<std::mutex> l(mu);
    cb = callback;
  }
  // Outside the lock: a callback may block, or reach another point from another thread.
  if (cb) (*cb)(point);
}
}  // namespace internal

void SetCallback(Callback cb) {
  std::lock_guard<std::mutex> l(mu);
  callback = cb ? std::make_shared<const Callback>(std::move(cb)) : nullptr;
  internal::enabled.store(callback != nullptr, std::memory_order_relaxed);
}

}  // namespace mosaic::sync_point
