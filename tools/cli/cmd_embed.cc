// mosaic embed: runs one model on images or texts and prints the vectors (or OCR lines) as JSON.
#include <sys/stat.h>

#include <cstdio>
#include <iostream>

#include "cli.h"
#include "embed/model_loader.h"
#include "embed/registry/registry.h"
#include "media/image_decode.h"

namespace mosaic::cli {
namespace {

constexpr char kHelp[] =
    "usage: mosaic embed image FILE... --model NAME [options]\n"
    "       mosaic embed text STRING... --model NAME [options]   (STRING '-': one text per stdin line)\n"
    "       mosaic embed audio FILE... --model NAME [options]    (speech: transcript with word times)\n"
    "\n"
    "Prints one JSON object per input, one per line: {\"input\", \"model\", \"dim\", \"vector\"} for\n"
    "embedding models, {\"input\", \"model\", \"lines\": [{\"text\", \"confidence\", \"box\"}], \"text\"} for OCR,\n"
    "{\"input\", \"model\", \"segments\": [{\"start\", \"end\", \"text\", \"words\"}], \"text\"} for speech.\n"
    "\n"
    "  --model NAME|DIR   an installed model (`mosaic models list`) or a model folder with manifest.json\n"
    "  --models DIR       the model registry (default $MOSAIC_MODELS, else ~/.local/share/mosaic/models)\n"
    "  --threads N        ONNX Runtime intra-op threads (default: one per core)\n"
    "  --batch N          inputs per model run (default: the model's)\n"
    "  --max-pixels N     refuse images with more pixels than N (default 178956970)\n"
    "  --pretty           indented JSON\n"
    "\n"
    "An input that cannot be read or decoded is reported and skipped; the exit status is then 1.\n";

bool IsDir(const std::string& p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

struct Model {
  embed::ModelManifest manifest;
  std::string dir;
};

Result<Model> ResolveModel(const Args& args, const std::string& name) {
  if (name.find('/') != std::string::npos || IsDir(name)) {
    MOSAIC_ASSIGN_OR_RETURN(auto m, embed::ReadManifest(name));
    return Model{std::move(m), name};
  }
  MOSAIC_ASSIGN_OR_RETURN(auto reg, embed::ModelRegistry::Open(args.GetOr("models", embed::ModelRegistry::DefaultDir())));
  MOSAIC_ASSIGN_OR_RETURN(auto m, reg.Get(name));
  return Model{std::move(m), reg.ModelDir(name)};
}

void Print(const Json& j, bool pretty) {
  std::string s = j.dump(pretty ? 2 : -1);
  std::fwrite(s.data(), 1, s.size(), stdout);
  std::fputc('\n', stdout);
}

Json OutputJson(const std::string& input, const embed::Encoder& enc, const embed::EncoderOutput& out) {
  Json j;
  j["input"] = input;
  j["model"] = enc.info().model;
  if (enc.info().dim > 0) {
    j["dim"] = enc.info().dim;
    // One vector per input ("vector"), or one per detected item, e.g. a face ("vectors").
    if (out.vectors.size() == 1 && (out.data.is_null() || out.data.empty())) {
      j["vector"] = out.vectors[0];
    } else {
      j["vectors"] = out.vectors;
    }
  }
  if (!out.data.is_null()) {
    for (auto it = out.data.begin(); it != out.data.end(); ++it) j[it.key()] = it.value();
  }
  return j;
}

}  // namespace

int RunEmbed(Args& args) {
  if (auto stop = CheckFlags(args, {"model", "models", "threads", "batch", "max-pixels", "pretty", "help"}, kHelp))
    return *stop;
  auto what = args.Next();
  if (!what || (*what != "image" && *what != "text" && *what != "audio"))
    return Usage("embed needs 'image', 'text' or 'audio'", kHelp);
  auto model_name = args.Get("model");
  if (!model_name) return Usage("--model is required", kHelp);
  std::vector<std::string> inputs;
  while (auto w = args.Next()) inputs.push_back(*w);
  if (inputs.empty()) return Usage(std::string("no ") + (*what == "text" ? "texts" : "files") + " given", kHelp);
  if (*what == "text" && inputs.size() == 1 && inputs[0] == "-") {
    inputs.clear();
    for (std::string line; std::getline(std::cin, line);) inputs.push_back(line);
  }

  embed::SessionOptions so;
  auto threads = args.GetInt("threads", 0);
  if (!threads.ok()) return Usage(threads.status().message(), kHelp);
  so.intra_op_threads = static_cast<int>(*threads);
  auto batch = args.GetInt("batch", 0);
  if (!batch.ok() || *batch < 0) return Usage("--batch must be a number >= 1", kHelp);
  media::DecodeOptions decode;
  auto max_pixels = args.GetInt("max-pixels", static_cast<long long>(decode.max_pixels));
  if (!max_pixels.ok() || *max_pixels <= 0) return Usage("--max-pixels must be a positive number", kHelp);
  decode.max_pixels = static_cast<uint64_t>(*max_pixels);
  const bool pretty = args.Has("pretty");

  auto model = ResolveModel(args, *model_name);
  if (!model.ok()) return Fail(model.status());
  const auto modality = *what == "image"  ? embed::Modality::kImage
                        : *what == "text" ? embed::Modality::kText
                                          : embed::Modality::kAudio;
  auto enc = embed::OpenEncoder(model->manifest, model->dir, modality, so);
  if (!enc.ok()) return Fail(enc.status());
  const int per_run = *batch > 0 ? static_cast<int>(*batch) : (*enc)->max_batch();

  int failed = 0;
  for (size_t start = 0; start < inputs.size(); start += per_run) {
    const size_t end = std::min(inputs.size(), start + per_run);
    std::vector<media::Image> images;
    std::vector<std::string> names;
    images.reserve(end - start);
    for (size_t i = start; i < end; ++i) {
      if (modality == embed::Modality::kImage) {
        auto img = media::DecodeImageFile(inputs[i], decode);
        if (!img.ok()) {
          std::fprintf(stderr, "mosaic: error: %s\n", img.status().ToString().c_str());
          ++failed;
          continue;
        }
        images.push_back(std::move(*img));
      }
      names.push_back(inputs[i]);
    }
    std::vector<embed::EncoderInput> batch_in;
    for (size_t i = 0; i < names.size(); ++i) {
      embed::EncoderInput in;
      if (modality == embed::Modality::kImage) {
        in.image = &images[i];
      } else if (modality == embed::Modality::kText) {
        in.text = names[i];
      } else {
        in.path = names[i];
      }
      batch_in.push_back(in);
    }
    if (batch_in.empty()) continue;
    auto out = (*enc)->Encode(batch_in);
    if (!out.ok() && batch_in.size() == 1) {  // one input (audio is decoded inside): report, go on
      std::fprintf(stderr, "mosaic: error: %s\n", out.status().ToString().c_str());
      ++failed;
      continue;
    }
    if (!out.ok()) return Fail(out.status());
    for (size_t i = 0; i < out->size(); ++i) Print(OutputJson(names[i], **enc, (*out)[i]), pretty);
  }
  return failed > 0 ? kExitError : kExitOk;
}

}  // namespace mosaic::cli
