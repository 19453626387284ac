#include "fuzz/fuzz_util.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <new>

namespace mosaic::fuzz {
namespace {

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "fuzz harness: %s\n", what.c_str());
  std::abort();
}

class HeapMappedFile final : public MappedFile {
 public:
  explicit HeapMappedFile(std::string_view bytes) : size_(bytes.size()) {
    // Aligned like a mapping (the loaders cast section offsets to uint64_t* and float*), sized
    // exactly, so ASan sees a read one byte past the end.
    if (size_ > 0) {
      data_ = static_cast<char*>(::operator new[](size_, std::align_val_t{64}));
      std::memcpy(data_, bytes.data(), size_);
    }
  }
  ~HeapMappedFile() override {
    if (data_ != nullptr) ::operator delete[](data_, std::align_val_t{64});
  }
  const char* data() const override { return data_; }
  uint64_t size() const override { return size_; }

 private:
  char* data_ = nullptr;
  size_t size_;
};

}  // namespace

const std::string& ScratchDir() {
  // Never destroyed: a static destructor registered after the atexit handler below would run
  // before it.
  static const std::string* dir = [] {
    std::error_code ec;
    std::string base = "/dev/shm";
    if (!std::filesystem::is_directory(base, ec)) {
      const char* t = std::getenv("TMPDIR");
      base = t != nullptr && *t != '\0' ? t : "/tmp";
    }
    auto* d = new std::string(base + "/mosaic-fuzz-" + std::to_string(::getpid()));
    std::filesystem::remove_all(*d, ec);
    if (!std::filesystem::create_directories(*d, ec)) Die("cannot create " + *d + ": " + ec.message());
    std::atexit([] {
      std::error_code ignored;
      std::filesystem::remove_all(ScratchDir(), ignored);
    });
    return d;
  }();
  return *dir;
}

std::string WriteScratchFile(const std::string& name, std::string_view data) {
  std::string path = ScratchDir() + "/" + name;
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
  out.close();
  if (!out) Die("cannot write " + path);
  return path;
}

HeapMapEnv* HeapMapEnv::Get() {
  static HeapMapEnv* env = new HeapMapEnv();
  return env;
}

Result<std::unique_ptr<MappedFile>> HeapMapEnv::MapFile(const std::string& path) {
  MOSAIC_ASSIGN_OR_RETURN(std::string bytes, base_->ReadFile(path));
  return std::unique_ptr<MappedFile>(new HeapMappedFile(bytes));
}

}  // namespace mosaic::fuzz
