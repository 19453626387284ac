// File views: a file read into memory, or memory-mapped with a guard against SIGBUS.
//
// A read of a mapped page that the kernel cannot fill (the file was truncated underneath the
// mapping, or reading it back from disk failed) raises SIGBUS in the reading thread, which by
// default ends the process. Every mapping made here is registered in a fixed table; a SIGBUS
// handler that finds the faulting address in a registered mapping replaces the pages from there
// to the mapping's end with anonymous zero pages, counts the fault against the mapping and
// returns, so the read completes (with zeros) and the owner learns of it from CheckReadable().
// A SIGBUS elsewhere goes to the handler installed before ours, or ends the process as before.
// The handler only reads atomics and calls mmap(2), a plain system call on Linux.
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <cstdint>
#include <mutex>

#include "common/huge_array.h"
#include "mosaic/env.h"
#include "storage/file_view.h"

namespace mosaic {
namespace {

class OwnedFileView final : public FileView {
 public:
  explicit OwnedFileView(std::string data) : data_(std::move(data)) {}
  std::string_view data() const override { return data_; }
  bool mapped() const override { return false; }
  Status CheckReadable() const override { return Status::OK(); }

 private:
  std::string data_;
};

// One registered mapping. Fields are atomics because the handler reads them from any thread;
// `begin` is written last on registration and cleared first on removal.
struct Region {
  std::atomic<bool> used{false};
  std::atomic<uintptr_t> begin{0};
  std::atomic<uintptr_t> end{0};
  std::atomic<uint64_t> faults{0};
};

constexpr size_t kMaxRegions = 4096;
Region g_regions[kMaxRegions];
std::atomic<size_t> g_regions_high{0};  // slots [0, high) have been used
struct sigaction g_previous;
std::once_flag g_install_once;
bool g_installed = false;
uintptr_t g_page_size = 4096;  // set before the handler is installed (sysconf is not signal-safe)

void OnSigbus(int sig, siginfo_t* info, void* context) {
  const uintptr_t addr = reinterpret_cast<uintptr_t>(info->si_addr);
  const uintptr_t page_size = g_page_size;
  const size_t high = g_regions_high.load(std::memory_order_acquire);
  for (size_t i = 0; i < high; ++i) {
    Region& r = g_regions[i];
    const uintptr_t b = r.begin.load(std::memory_order_acquire);
    if (b == 0 || addr < b) continue;
    const uintptr_t e = r.end.load(std::memory_order_acquire);
    if (addr >= e) continue;
    const uintptr_t from = addr & ~(page_size - 1);
    void* got = ::mmap(reinterpret_cast<void*>(from), e - from, PROT_READ,
                       MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (got == MAP_FAILED) break;
    r.faults.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  if (g_previous.sa_flags & SA_SIGINFO) {
    if (g_previous.sa_sigaction != nullptr) return g_previous.sa_sigaction(sig, info, context);
  } else if (g_previous.sa_handler != SIG_DFL && g_previous.sa_handler != SIG_IGN &&
             g_previous.sa_handler != nullptr) {
    return g_previous.sa_handler(sig);
  }
  // Not a mapping of ours: end the process as it would have ended without this handler (the
  // signal stays blocked until the handler returns, then the default action runs).
  ::signal(SIGBUS, SIG_DFL);
  ::raise(SIGBUS);
}

void InstallHandler() {
  g_page_size = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
  struct sigaction sa = {};
  sa.sa_sigaction = OnSigbus;
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
  sigemptyset(&sa.sa_mask);
  g_installed = ::sigaction(SIGBUS, &sa, &g_previous) == 0;
}

class MappedFileView final : public FileView {
 public:
  MappedFileView(std::string path, void* addr, size_t size, Region* region)
      : path_(std::move(path)), addr_(addr), size_(size), region_(region) {}
  ~MappedFileView() override {
    region_->begin.store(0, std::memory_order_release);
    region_->end.store(0, std::memory_order_release);
    region_->faults.store(0, std::memory_order_relaxed);
    ::munmap(addr_, size_);
    region_->used.store(false, std::memory_order_release);
  }
  std::string_view data() const override { return {static_cast<const char*>(addr_), size_}; }
  bool mapped() const override { return true; }
  Status CheckReadable() const override {
    if (region_->faults.load(std::memory_order_relaxed) == 0) return Status::OK();
    return Status::IOError(path_ +
                           ": part of the file could not be read after it was opened (truncated "
                           "or a disk error); those bytes read as zeros");
  }

 private:
  const std::string path_;
  void* const addr_;
  const size_t size_;
  Region* const region_;
};

// A file read into a HugeArray (ReadFileView).
class HeapFileView final : public FileView {
 public:
  HeapFileView(HugeArray<char> data, size_t size) : data_(std::move(data)), size_(size) {}
  std::string_view data() const override { return {data_.get(), size_}; }
  bool mapped() const override { return false; }
  Status CheckReadable() const override { return Status::OK(); }

 private:
  const HugeArray<char> data_;
  const size_t size_;
};

Region* ClaimRegion() {
  for (size_t i = 0; i < kMaxRegions; ++i) {
    bool expected = false;
    if (!g_regions[i].used.compare_exchange_strong(expected, true, std::memory_order_acq_rel))
      continue;
    size_t high = g_regions_high.load(std::memory_order_relaxed);
    while (high < i + 1 && !g_regions_high.compare_exchange_weak(high, i + 1)) {
    }
    return &g_regions[i];
  }
  return nullptr;
}

}  // namespace

Result<std::unique_ptr<FileView>> Env::OpenFileView(const std::string& path, bool map) {
  (void)map;
  MOSAIC_ASSIGN_OR_RETURN(std::string data, ReadFile(path));
  return std::unique_ptr<FileView>(new OwnedFileView(std::move(data)));
}

namespace storage {

Result<std::unique_ptr<FileView>> MapFileView(int fd, const std::string& path, uint64_t size) {
  std::call_once(g_install_once, InstallHandler);
  Region* region = g_installed && size > 0 ? ClaimRegion() : nullptr;
  if (region == nullptr) return std::unique_ptr<FileView>();  // the caller reads it instead
  void* addr = ::mmap(nullptr, size, PROT_READ, MAP_SHARED, fd, 0);
  if (addr == MAP_FAILED) {
    const int err = errno;
    region->used.store(false, std::memory_order_release);
    return Status::IOError("mmap " + path + ": " + std::strerror(err));
  }
  region->faults.store(0, std::memory_order_relaxed);
  region->end.store(reinterpret_cast<uintptr_t>(addr) + size, std::memory_order_release);
  region->begin.store(reinterpret_cast<uintptr_t>(addr), std::memory_order_release);
  return std::unique_ptr<FileView>(
      new MappedFileView(path, addr, static_cast<size_t>(size), region));
}

Result<std::unique_ptr<FileView>> ReadFileView(int fd, const std::string& path, uint64_t size) {
  if (size < (size_t{4} << 20)) return std::unique_ptr<FileView>();
  HugeArray<char> data = NewHugeArray<char>(static_cast<size_t>(size), /*zero=*/false);
  size_t done = 0;
  while (done < size) {
    const ssize_t n = ::pread(fd, data.get() + done, static_cast<size_t>(size) - done,
                              static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::IOError("read " + path + ": " + std::strerror(errno));
    if (n == 0) return std::unique_ptr<FileView>();  // shrank: the caller reads what is there
    done += static_cast<size_t>(n);
  }
  return std::unique_ptr<FileView>(new HeapFileView(std::move(data), static_cast<size_t>(size)));
}

}  // namespace storage
}  // namespace mosaic
