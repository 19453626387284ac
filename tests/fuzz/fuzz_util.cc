#include "fuzz/fuzz_util.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "common/crc32c.h"
#include "mosaic/env_wrapper.h"

namespace mosaic::fuzz {
namespace {

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "fuzz harness: %s\n", what.c_str());
  std::abort();
}

class UnmappedEnv final : public EnvWrapper {
 public:
  UnmappedEnv() : EnvWrapper(Env::Default()) {}
  Result<std::unique_ptr<FileView>> OpenFileView(const std::string& p, bool) override {
    return target()->OpenFileView(p, false);
  }
};

}  // namespace

Env* HeapEnv() {
  static UnmappedEnv* env = new UnmappedEnv();
  return env;
}

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

void WithTrailingCrcFixed(std::string_view input, const std::function<void(std::string_view)>& fn) {
  fn(input);
  if (input.size() < 4) return;
  std::string fixed(input.substr(0, input.size() - 4));
  const uint32_t crc = crc32c::Mask(crc32c::Value(fixed));
  fixed.append(reinterpret_cast<const char*>(&crc), 4);
  if (fixed != input) fn(fixed);
}

}  // namespace mosaic::fuzz
