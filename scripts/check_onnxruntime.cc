// Smoke check run by scripts/setup: proves that the ONNX Runtime headers in
// third_party/onnxruntime/include and the shared library in third_party/onnxruntime/lib fit
// together. It compiles against the C++ API, links the library, asks it for the API version the
// headers were written for (which fails if the library is older than the headers), builds an
// environment and session options, and prints the library's version string.

#include <onnxruntime_cxx_api.h>

#include <cstdio>
#include <exception>

int main() {
  const OrtApiBase* base = OrtGetApiBase();
  if (base->GetApi(ORT_API_VERSION) == nullptr) {
    std::fprintf(stderr,
                 "libonnxruntime %s does not provide API version %d that the headers need\n",
                 base->GetVersionString(), ORT_API_VERSION);
    return 1;
  }
  try {
    Ort::Env env(ORT_LOGGING_LEVEL_WARNING, "mosaic-check");
    Ort::SessionOptions options;
    options.SetIntraOpNumThreads(1);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "onnxruntime C++ API failed: %s\n", e.what());
    return 1;
  }
  std::printf("%s\n", base->GetVersionString());
  return 0;
}
