// Dev tool for scripts/models: runs every case of one or more reference.json files (written by
// clip_onnx.py; format in docs/test_models.md) through ONNX Runtime and compares the outputs.
// Prints, per case, the model, the input and output shapes, the first output values and the
// largest absolute difference; exits 1 if a difference exceeds the case's "atol".
//
//   g++ -std=c++20 -O1 -I third_party/onnxruntime/include scripts/models/ort_check.cc
//       -o /tmp/ort_check -L third_party/onnxruntime/lib -lonnxruntime
//       -Wl,-rpath,"$PWD/third_party/onnxruntime/lib"
// (scripts/models/make-test-models does this and runs it on the models it makes.)
//   /tmp/ort_check .cache/models-test/*/reference.json

#include <onnxruntime_cxx_api.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace {

std::string ShapeString(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? "," : "") + std::to_string(shape[i]);
  return s + "]";
}

// Runs the cases of one reference.json; returns false if one is off.
bool CheckFile(Ort::Env& env, const std::filesystem::path& ref_path) {
  std::ifstream in(ref_path);
  if (!in) {
    std::fprintf(stderr, "cannot open %s\n", ref_path.c_str());
    return false;
  }
  const nlohmann::json ref = nlohmann::json::parse(in);
  bool ok = true;
  for (const auto& c : ref.at("cases")) {
    const auto model = ref_path.parent_path() / c.at("model").get<std::string>();
    Ort::SessionOptions options;
    options.SetIntraOpNumThreads(1);
    Ort::Session session(env, model.c_str(), options);
    Ort::MemoryInfo mem = Ort::MemoryInfo::CreateCpu(OrtArenaAllocator, OrtMemTypeDefault);

    // Keep the input buffers alive until Run returns.
    std::vector<std::vector<float>> floats;
    std::vector<std::vector<int64_t>> ints;
    std::vector<std::string> in_names;
    std::vector<Ort::Value> in_values;
    std::string shapes;
    for (const auto& t : c.at("inputs")) {
      auto shape = t.at("shape").get<std::vector<int64_t>>();
      in_names.push_back(t.at("name").get<std::string>());
      shapes += " " + in_names.back() + ShapeString(shape);
      if (t.at("dtype") == "int64") {
        ints.push_back(t.at("data").get<std::vector<int64_t>>());
        in_values.push_back(Ort::Value::CreateTensor<int64_t>(mem, ints.back().data(), ints.back().size(),
                                                              shape.data(), shape.size()));
      } else {
        floats.push_back(t.at("data").get<std::vector<float>>());
        in_values.push_back(Ort::Value::CreateTensor<float>(mem, floats.back().data(), floats.back().size(),
                                                            shape.data(), shape.size()));
      }
    }
    std::vector<std::string> out_names;
    for (const auto& t : c.at("outputs")) out_names.push_back(t.at("name").get<std::string>());
    std::vector<const char*> in_ptrs, out_ptrs;
    for (const auto& n : in_names) in_ptrs.push_back(n.c_str());
    for (const auto& n : out_names) out_ptrs.push_back(n.c_str());

    auto outputs = session.Run(Ort::RunOptions{nullptr}, in_ptrs.data(), in_values.data(),
                               in_values.size(), out_ptrs.data(), out_ptrs.size());
    const double atol = c.value("atol", 1e-5);
    for (size_t i = 0; i < outputs.size(); ++i) {
      const auto& want = c.at("outputs")[i];
      auto info = outputs[i].GetTensorTypeAndShapeInfo();
      const auto shape = info.GetShape();
      const float* got = outputs[i].GetTensorData<float>();
      const auto expect = want.at("data").get<std::vector<float>>();
      double diff = 0;
      bool shape_ok = shape == want.at("shape").get<std::vector<int64_t>>();
      if (shape_ok) {
        for (size_t k = 0; k < expect.size(); ++k) {
          const double d = std::fabs(double(got[k]) - expect[k]);
          diff = std::isnan(d) ? INFINITY : std::max(diff, d);
        }
      }
      const bool pass = shape_ok && diff <= atol;
      ok = ok && pass;
      std::printf("%s %s:%s -> %s%s first=[", pass ? "ok  " : "FAIL",
                  std::filesystem::relative(model, ref_path.parent_path().parent_path()).c_str(),
                  shapes.c_str(), out_names[i].c_str(), ShapeString(shape).c_str());
      for (size_t k = 0; k < std::min<size_t>(4, info.GetElementCount()); ++k)
        std::printf("%s%.6g", k ? ", " : "", got[k]);
      std::printf("] max_abs_diff=%.3g (atol %.0e)%s\n", diff, atol, shape_ok ? "" : " SHAPE MISMATCH");
    }
  }
  return ok;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s REFERENCE_JSON...\n", argv[0]);
    return 2;
  }
  try {
    Ort::Env env(ORT_LOGGING_LEVEL_WARNING, "mosaic-ort-check");
    bool ok = true;
    for (int i = 1; i < argc; ++i) ok = CheckFile(env, argv[i]) && ok;
    return ok ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ort_check: %s\n", e.what());
    return 1;
  }
}
