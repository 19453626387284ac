// A thin, checked layer over ONNX Runtime: one process-wide environment, sessions opened from
// model files with their input/output signatures, and runs on float/int64 tensors.
// ORT exceptions never escape: every entry point returns Status/Result.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "mosaic/status.h"

namespace mosaic::embed {

enum class TensorType { kFloat, kInt64, kInt32, kOther };

/// One input or output of a graph as the file declares it; dynamic dimensions are -1.
struct TensorSpec {
  std::string name;
  TensorType type = TensorType::kFloat;
  std::vector<int64_t> shape;
};

/// A dense tensor owned by Mosaic, used for inputs and outputs. Exactly one of the data
/// vectors is filled, according to `type`.
struct Tensor {
  TensorType type = TensorType::kFloat;
  std::vector<int64_t> shape;
  std::vector<float> f32;
  std::vector<int64_t> i64;
  std::vector<int32_t> i32;

  static Tensor Float(std::vector<int64_t> shape, std::vector<float> data);
  static Tensor Int64(std::vector<int64_t> shape, std::vector<int64_t> data);
  int64_t elements() const;
};

struct SessionOptions {
  int intra_op_threads = 0;  // 0: ORT's default (one per core)
  int inter_op_threads = 1;
  bool enable_cpu_mem_arena = true;
  int graph_optimization_level = 99;  // ORT_ENABLE_ALL
  /// ORT's worker threads spin while waiting for work: fastest for back-to-back runs, but
  /// burns a core when runs are sparse (e.g. a pipeline waiting on decode).
  bool allow_spinning = true;
};

/// An opened model. Run() may be called from several threads at once (ORT sessions are
/// thread-safe for Run).
class Session {
 public:
  virtual ~Session() = default;

  /// Opens `path`. NotFound for a missing file, InvalidArgument (naming the file and ORT's
  /// message) for a file ORT cannot load as a model.
  static Result<std::shared_ptr<Session>> Open(const std::string& path,
                                               const SessionOptions& options = {});

  virtual const std::string& path() const = 0;
  virtual const std::vector<TensorSpec>& inputs() const = 0;
  virtual const std::vector<TensorSpec>& outputs() const = 0;

  /// "inputs x[?,3,48,?] float32; outputs y[?,2] float32": for error messages.
  std::string Signature() const;

  /// Index of the input/output called `name`, or -1.
  int FindInput(std::string_view name) const;
  int FindOutput(std::string_view name) const;

  /// Runs the graph. `inputs` are matched by name to the graph's inputs (all must be given);
  /// `output_names` selects outputs (empty: all, in graph order). Shapes and types are checked
  /// against the graph before ORT sees them, so a mismatch is an InvalidArgument naming the
  /// tensor, not an ORT crash.
  virtual Result<std::vector<Tensor>> Run(
      const std::vector<std::pair<std::string, const Tensor*>>& inputs,
      const std::vector<std::string>& output_names = {}) = 0;
};

/// Sessions shared by path and options across encoders, so two encoders over one file
/// load it once. All sessions share the process-wide ORT environment.
class SessionCache {
 public:
  static SessionCache& Default();
  Result<std::shared_ptr<Session>> Get(const std::string& path, const SessionOptions& options = {});
  void Clear();

 private:
  std::mutex mu_;
  std::unordered_map<std::string, std::weak_ptr<Session>> sessions_;
};

/// "[?,3,224,224]": a shape with dynamic dimensions shown as '?'.
std::string ShapeString(const std::vector<int64_t>& shape);

/// The ONNX Runtime version string of the loaded library (e.g. "1.30.0").
std::string OrtVersion();

}  // namespace mosaic::embed
