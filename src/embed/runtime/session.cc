#include "embed/runtime/session.h"

#include <sys/stat.h>

#include <algorithm>
#include <cstring>

#include <onnxruntime_cxx_api.h>

namespace mosaic::embed {

namespace {

// One ORT environment per process, created on first use and never destroyed: ORT's global state
// must outlive every session, including ones held in static caches.
Ort::Env& OrtEnv() {
  static Ort::Env* env = new Ort::Env(ORT_LOGGING_LEVEL_ERROR, "mosaic");
  return *env;
}

TensorType FromOrt(ONNXTensorElementDataType t) {
  switch (t) {
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT: return TensorType::kFloat;
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64: return TensorType::kInt64;
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT32: return TensorType::kInt32;
    default: return TensorType::kOther;
  }
}

const char* TypeName(TensorType t) {
  switch (t) {
    case TensorType::kFloat: return "float32";
    case TensorType::kInt64: return "int64";
    case TensorType::kInt32: return "int32";
    case TensorType::kOther: return "other";
  }
  return "?";
}

TensorSpec SpecOf(const std::string& name, const Ort::TypeInfo& info) {
  TensorSpec spec;
  spec.name = name;
  if (info.GetONNXType() != ONNX_TYPE_TENSOR) {
    spec.type = TensorType::kOther;
    return spec;
  }
  auto t = info.GetTensorTypeAndShapeInfo();
  spec.type = FromOrt(t.GetElementType());
  spec.shape = t.GetShape();
  for (auto& d : spec.shape) d = d < 0 ? -1 : d;
  return spec;
}

class OrtSession final : public Session {
 public:
  OrtSession(std::string path, Ort::Session session)
      : path_(std::move(path)), session_(std::move(session)) {
    Ort::AllocatorWithDefaultOptions alloc;
    for (size_t i = 0; i < session_.GetInputCount(); ++i) {
      inputs_.push_back(SpecOf(session_.GetInputNameAllocated(i, alloc).get(), session_.GetInputTypeInfo(i)));
    }
    for (size_t i = 0; i < session_.GetOutputCount(); ++i) {
      outputs_.push_back(SpecOf(session_.GetOutputNameAllocated(i, alloc).get(), session_.GetOutputTypeInfo(i)));
    }
  }

  const std::string& path() const override { return path_; }
  const std::vector<TensorSpec>& inputs() const override { return inputs_; }
  const std::vector<TensorSpec>& outputs() const override { return outputs_; }

  Result<std::vector<Tensor>> Run(const std::vector<std::pair<std::string, const Tensor*>>& inputs,
                                  const std::vector<std::string>& output_names) override {
    if (inputs.size() != inputs_.size()) {
      std::string want;
      for (const auto& s : inputs_) want += (want.empty() ? "" : ", ") + s.name;
      return Status::InvalidArgument(path_ + ": graph takes " + std::to_string(inputs_.size()) +
                                     " inputs (" + want + "), given " + std::to_string(inputs.size()));
    }
    static const Ort::MemoryInfo mem = Ort::MemoryInfo::CreateCpu(OrtArenaAllocator, OrtMemTypeDefault);
    std::vector<const char*> in_names(inputs_.size(), nullptr);
    std::vector<Ort::Value> in_values;
    in_values.reserve(inputs_.size());
    for (size_t i = 0; i < inputs_.size(); ++i) {
      const TensorSpec& spec = inputs_[i];
      auto it = std::find_if(inputs.begin(), inputs.end(), [&](const auto& p) { return p.first == spec.name; });
      if (it == inputs.end()) return Status::InvalidArgument(path_ + ": input '" + spec.name + "' not given");
      const Tensor& t = *it->second;
      MOSAIC_RETURN_IF_ERROR(Check(spec, t));
      in_names[i] = spec.name.c_str();
      // ORT only reads inputs; the const_cast is how its C API takes user buffers.
      switch (t.type) {
        case TensorType::kFloat:
          in_values.push_back(Ort::Value::CreateTensor<float>(mem, const_cast<float*>(t.f32.data()), t.f32.size(),
                                                              t.shape.data(), t.shape.size()));
          break;
        case TensorType::kInt64:
          in_values.push_back(Ort::Value::CreateTensor<int64_t>(mem, const_cast<int64_t*>(t.i64.data()),
                                                                t.i64.size(), t.shape.data(), t.shape.size()));
          break;
        case TensorType::kInt32:
          in_values.push_back(Ort::Value::CreateTensor<int32_t>(mem, const_cast<int32_t*>(t.i32.data()),
                                                                t.i32.size(), t.shape.data(), t.shape.size()));
          break;
        case TensorType::kOther: return Status::InvalidArgument("unsupported tensor type");
      }
    }
    std::vector<const char*> out_names;
    if (output_names.empty()) {
      for (const auto& s : outputs_) out_names.push_back(s.name.c_str());
    } else {
      for (const auto& n : output_names) {
        if (FindOutput(n) < 0) return Status::InvalidArgument(path_ + ": graph has no output '" + n + "'");
        out_names.push_back(n.c_str());
      }
    }
    try {
      auto values = session_.Run(Ort::RunOptions{nullptr}, in_names.data(), in_values.data(), in_values.size(),
                                 out_names.data(), out_names.size());
      std::vector<Tensor> out;
      out.reserve(values.size());
      for (size_t i = 0; i < values.size(); ++i) {
        auto info = values[i].GetTensorTypeAndShapeInfo();
        Tensor t;
        t.type = FromOrt(info.GetElementType());
        t.shape = info.GetShape();
        const size_t n = info.GetElementCount();
        switch (t.type) {
          case TensorType::kFloat: {
            const float* p = values[i].GetTensorData<float>();
            t.f32.assign(p, p + n);
            break;
          }
          case TensorType::kInt64: {
            const int64_t* p = values[i].GetTensorData<int64_t>();
            t.i64.assign(p, p + n);
            break;
          }
          case TensorType::kInt32: {
            const int32_t* p = values[i].GetTensorData<int32_t>();
            t.i32.assign(p, p + n);
            break;
          }
          case TensorType::kOther:
            return Status::InvalidArgument(path_ + ": output '" + out_names[i] + "' has an unsupported type");
        }
        out.push_back(std::move(t));
      }
      return out;
    } catch (const Ort::Exception& e) {
      return Status::InvalidArgument(path_ + ": ONNX Runtime failed: " + e.what());
    }
  }

 private:
  Status Check(const TensorSpec& spec, const Tensor& t) const {
    if (t.type != spec.type) {
      return Status::InvalidArgument(path_ + ": input '" + spec.name + "' is " + TypeName(spec.type) + ", given " +
                                     TypeName(t.type));
    }
    bool ok = spec.shape.empty() || t.shape.size() == spec.shape.size();
    for (size_t d = 0; ok && d < spec.shape.size(); ++d) ok = spec.shape[d] < 0 || spec.shape[d] == t.shape[d];
    if (!ok) {
      return Status::InvalidArgument(path_ + ": input '" + spec.name + "' has shape " + ShapeString(spec.shape) +
                                     ", given " + ShapeString(t.shape));
    }
    size_t have = t.type == TensorType::kFloat ? t.f32.size() : t.type == TensorType::kInt64 ? t.i64.size() : t.i32.size();
    if (static_cast<int64_t>(have) != t.elements()) {
      return Status::InvalidArgument("tensor for '" + spec.name + "' has " + std::to_string(have) +
                                     " values, its shape " + ShapeString(t.shape) + " needs " +
                                     std::to_string(t.elements()));
    }
    return Status::OK();
  }

  std::string path_;
  Ort::Session session_;
  std::vector<TensorSpec> inputs_;
  std::vector<TensorSpec> outputs_;
};

std::string CacheKey(const std::string& path, const SessionOptions& o) {
  return path + "|" + std::to_string(o.intra_op_threads) + "|" + std::to_string(o.inter_op_threads) + "|" +
         std::to_string(o.enable_cpu_mem_arena) + "|" + std::to_string(o.graph_optimization_level) + "|" +
         std::to_string(o.allow_spinning);
}

}  // namespace

Tensor Tensor::Float(std::vector<int64_t> shape, std::vector<float> data) {
  Tensor t;
  t.type = TensorType::kFloat;
  t.shape = std::move(shape);
  t.f32 = std::move(data);
  return t;
}

Tensor Tensor::Int64(std::vector<int64_t> shape, std::vector<int64_t> data) {
  Tensor t;
  t.type = TensorType::kInt64;
  t.shape = std::move(shape);
  t.i64 = std::move(data);
  return t;
}

int64_t Tensor::elements() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

std::string ShapeString(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ",";
    s += shape[i] < 0 ? "?" : std::to_string(shape[i]);
  }
  return s + "]";
}

std::string Session::Signature() const {
  std::string out = "inputs";
  for (const auto& t : inputs()) out += std::string(" ") + t.name + ShapeString(t.shape) + " " + TypeName(t.type);
  out += "; outputs";
  for (const auto& t : outputs()) out += std::string(" ") + t.name + ShapeString(t.shape) + " " + TypeName(t.type);
  return out;
}

int Session::FindInput(std::string_view name) const {
  for (size_t i = 0; i < inputs().size(); ++i)
    if (inputs()[i].name == name) return static_cast<int>(i);
  return -1;
}

int Session::FindOutput(std::string_view name) const {
  for (size_t i = 0; i < outputs().size(); ++i)
    if (outputs()[i].name == name) return static_cast<int>(i);
  return -1;
}

Result<std::shared_ptr<Session>> Session::Open(const std::string& path, const SessionOptions& options) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return Status::NotFound("model file " + path + ": " + std::strerror(errno));
  if (!S_ISREG(st.st_mode)) return Status::InvalidArgument("model file " + path + " is not a regular file");
  if (st.st_size == 0) return Status::InvalidArgument("model file " + path + " is empty");
  try {
    Ort::SessionOptions so;
    if (options.intra_op_threads > 0) so.SetIntraOpNumThreads(options.intra_op_threads);
    so.SetInterOpNumThreads(std::max(1, options.inter_op_threads));
    so.SetGraphOptimizationLevel(static_cast<GraphOptimizationLevel>(options.graph_optimization_level));
    if (!options.enable_cpu_mem_arena) so.DisableCpuMemArena();
    so.AddConfigEntry("session.intra_op.allow_spinning", options.allow_spinning ? "1" : "0");
    Ort::Session session(OrtEnv(), path.c_str(), so);
    return std::shared_ptr<Session>(std::make_shared<OrtSession>(path, std::move(session)));
  } catch (const Ort::Exception& e) {
    return Status::InvalidArgument("cannot load model " + path + ": " + e.what());
  }
}

SessionCache& SessionCache::Default() {
  static SessionCache* cache = new SessionCache();
  return *cache;
}

Result<std::shared_ptr<Session>> SessionCache::Get(const std::string& path, const SessionOptions& options) {
  const std::string key = CacheKey(path, options);
  std::lock_guard<std::mutex> lock(mu_);
  if (auto it = sessions_.find(key); it != sessions_.end()) {
    if (auto s = it->second.lock()) return s;
  }
  MOSAIC_ASSIGN_OR_RETURN(auto s, Session::Open(path, options));
  sessions_[key] = s;
  return s;
}

void SessionCache::Clear() {
  std::lock_guard<std::mutex> lock(mu_);
  sessions_.clear();
}

std::string OrtVersion() { return Ort::GetVersionString(); }

}  // namespace mosaic::embed
