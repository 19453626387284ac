// DbShared: what a Db and every Collection handle it gave out hold together, so that it lives
// until the last of them is gone: the database's LOCK (no second Db opens the directory while a
// handle can still write to it) and the thread pool that batch searches and graph builds use.
// Not copyable; ThreadPool is thread-safe, the lock is only held.
#pragma once

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
};

}  // namespace mosaic::collection
