// A fixture shared by the tests of one binary (a database built once, say), made on first use and
// freed in a gtest environment's TearDown: after the last test, before the process's exit
// handlers run. Freed, its TempDir goes with it: ctest runs every test in a process of its own,
// so a fixture left to the exit would leave one directory per test behind (it filled /tmp).
// Declare one at namespace scope (it registers the environment at static initialization):
//   mosaic::testing::SharedFixture<Photos> g_photos;
//   Photos& GetPhotos() { return g_photos.Get([] { auto* p = new Photos; ...; return p; }); }
#pragma once

#include <gtest/gtest.h>

#include <mutex>

namespace mosaic::testing {

template <typename T>
class SharedFixture {
 public:
  SharedFixture() { ::testing::AddGlobalTestEnvironment(new Free(this)); }
  SharedFixture(const SharedFixture&) = delete;
  SharedFixture& operator=(const SharedFixture&) = delete;

  // The fixture, made by `make` (which returns a new T) on the first call.
  template <typename Make>
  T& Get(Make make) {
    std::call_once(once_, [&] { object_ = make(); });
    return *object_;
  }

 private:
  class Free final : public ::testing::Environment {
   public:
    explicit Free(SharedFixture* owner) : owner_(owner) {}
    void TearDown() override {
      delete owner_->object_;
      owner_->object_ = nullptr;
    }

   private:
    SharedFixture* owner_;
  };

  std::once_flag once_;
  T* object_ = nullptr;
};

}  // namespace mosaic::testing
