// A bounded multi-producer multi-consumer queue: the joint between pipeline stages. Push blocks
// while the queue is full (back-pressure), Pop while it is empty; Close() wakes everyone, after
// which Pop drains what is left and then returns nothing.
#pragma once

#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>

namespace mosaic::ingest {

template <typename T>
class BoundedQueue {
 public:
  explicit BoundedQueue(size_t capacity) : capacity_(capacity) {}

  // False when the queue was closed (the item is dropped).
  bool Push(T item) {
    std::unique_lock<std::mutex> l(mu_);
    not_full_.wait(l, [&] { return closed_ || items_.size() < capacity_; });
    if (closed_) return false;
    items_.push_back(std::move(item));
    not_empty_.notify_one();
    return true;
  }

  // Blocks for an item; nothing once closed and drained.
  std::optional<T> Pop() {
    std::unique_lock<std::mutex> l(mu_);
    not_empty_.wait(l, [&] { return closed_ || !items_.empty(); });
    return TakeLocked();
  }

  // Waits at most `timeout` for an item.
  template <typename Duration>
  std::optional<T> PopFor(Duration timeout) {
    std::unique_lock<std::mutex> l(mu_);
    not_empty_.wait_for(l, timeout, [&] { return closed_ || !items_.empty(); });
    return TakeLocked();
  }

  // True once closed and drained.
  bool Done() {
    std::lock_guard<std::mutex> l(mu_);
    return closed_ && items_.empty();
  }

  // An item if one is ready now.
  std::optional<T> TryPop() {
    std::lock_guard<std::mutex> l(mu_);
    return TakeLocked();
  }

  void Close() {
    std::lock_guard<std::mutex> l(mu_);
    closed_ = true;
    not_empty_.notify_all();
    not_full_.notify_all();
  }

 private:
  std::optional<T> TakeLocked() {
    if (items_.empty()) return std::nullopt;
    T item = std::move(items_.front());
    items_.pop_front();
    not_full_.notify_one();
    return item;
  }

  const size_t capacity_;
  std::mutex mu_;
  std::condition_variable not_empty_, not_full_;
  std::deque<T> items_;
  bool closed_ = false;
};

}  // namespace mosaic::ingest
