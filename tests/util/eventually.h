// Eventually: waits, polling, until a condition holds, for a background thread's effect in tests
// that provoke races at exact points. The timeout is a guard against a hang (a test that reaches
// it has failed), never a timing assertion.
#pragma once

#include <chrono>
#include <thread>

namespace mosaic::testing {

template <typename Fn>
bool Eventually(Fn&& done, std::chrono::seconds timeout = std::chrono::seconds(30)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

}  // namespace mosaic::testing
