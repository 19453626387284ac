// DbShared: what a Db and every Collection handle it gave out hold together, so that it lives
// until the last of them is gone: the database's LOCK (no second Db opens the directory while a
// handle can still write to it) and the thread pool that batch searches and graph builds use, and the
// account of segment memory.
// Not copyable; ThreadPool is thread-safe, the lock is only held.
#pragma once

#include <atomic>
#include <memory>

#include "common/thread_pool.h"
#include "mosaic/env.h"

namespace mosaic::collection {

struct DbShared {
  DbShared(std::unique_ptr<FileLock> l, int search_threads)
      : lock(std::move(l)), pool(search_threads) {}
  DbShared(const DbShared&) = delete;
  DbShared& operator=(const DbShared&) = delete;

  const std::unique_ptr<FileLock> lock;  // declared first: released after the pool has stopped
  ThreadPool pool;
  // Bytes of sealed segment files read into memory, over all collections (CollectionImpl::
  // OpenSegment keeps it within DbOptions::segment_memory_budget_bytes).
  std::atomic<uint64_t> segment_heap_bytes{0};
};

}  // namespace mosaic::collection
