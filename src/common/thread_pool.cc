#include "common/thread_pool.h"

#include <algorithm>
#include <atomic>
#include <latch>

namespace mosaic {

ThreadPool::ThreadPool(int num_threads) {
  if (num_threads <= 0) num_threads = std::max(1u, std::thread::hardware_concurrency());
  // The caller of ParallelFor works too, so one fewer worker gives `num_threads` in all.
  for (int i = 0; i + 1 < num_threads; ++i) workers_.emplace_back([this] { Run(); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  for (auto& t : workers_) t.join();
}

void ThreadPool::Run() {
  for (;;) {
    std::function<void()> task;
    {
      std::unique_lock<std::mutex> l(mu_);
      cv_.wait(l, [this] { return stop_ || !queue_.empty(); });
      if (queue_.empty()) return;
      task = std::move(queue_.front());
      queue_.pop_front();
    }
    task();
  }
}

void ThreadPool::ParallelFor(size_t n, const std::function<void(size_t, size_t)>& fn,
                             size_t min_chunk) {
  if (n == 0) return;
  size_t threads = static_cast<size_t>(size());
  size_t chunks = std::min(threads, std::max<size_t>(1, n / std::max<size_t>(1, min_chunk)));
  if (chunks <= 1) {
    fn(0, n);
    return;
  }
  size_t per = (n + chunks - 1) / chunks;
  std::latch done(static_cast<std::ptrdiff_t>(chunks - 1));
  {
    std::lock_guard<std::mutex> l(mu_);
    for (size_t c = 1; c < chunks; ++c) {
      size_t b = c * per, e = std::min(n, b + per);
      queue_.emplace_back([&fn, &done, b, e] {
        if (b < e) fn(b, e);
        done.count_down();
      });
    }
  }
  cv_.notify_all();
  fn(0, std::min(n, per));
  done.wait();
}

}  // namespace mosaic
