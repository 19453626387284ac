// HugeArray: a heap array of a trivially copyable type for large tables (graph link lists, SQ8
// codes). From 2 MiB it is allocated on a 2 MiB boundary and advised to use transparent huge
// pages (madvise; the kernel's default "madvise" mode honours it), so filling it takes one page
// fault per 2 MiB instead of per 4 KiB: loading a 10M-point graph touches ~2.6 GB. Uninitialized
// unless asked for zeros.
#pragma once

#include <sys/mman.h>

#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <type_traits>

namespace mosaic {

struct FreeDeleter {
  void operator()(void* p) const { std::free(p); }
};

template <typename T>
using HugeArray = std::unique_ptr<T[], FreeDeleter>;

template <typename T>
HugeArray<T> NewHugeArray(size_t n, bool zero) {
  static_assert(std::is_trivially_copyable_v<T>);
  constexpr size_t kHuge = size_t{2} << 20;
  const size_t bytes = n * sizeof(T);
  void* p = nullptr;
  if (bytes >= kHuge) {
    const size_t rounded = (bytes + kHuge - 1) / kHuge * kHuge;
    p = std::aligned_alloc(kHuge, rounded);
    if (p != nullptr) ::madvise(p, rounded, MADV_HUGEPAGE);  // advice only
  } else {
    p = std::malloc(bytes == 0 ? 1 : bytes);
  }
  if (p == nullptr) throw std::bad_alloc();
  if (zero) std::memset(p, 0, bytes);
  return HugeArray<T>(static_cast<T*>(p));
}

}  // namespace mosaic
