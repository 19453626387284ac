// FastTextEncoder: offline dense text vectors from fastText word vectors trained on a collection's
// own text (docs/text_vectors.md), for collections without CLIP or a sentence model. A text is
// split into words the way the full-text index splits it (ICU word boundaries, NFKC case folding;
// no stemming, fastText's character n-grams cover inflections), stopwords are dropped, and the
// words' vectors are pooled: their mean, or SIF (Arora et al. 2017: each word weighted by
// a / (a + p(w)), p its frequency in the training text, then the training texts' first principal
// component removed). The vector is L2-normalized; a text with no usable word gets none.
//
// Thread safety: Encode may be called from several threads at once (the model is read-only);
// set_pooling is not synchronized with it.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "embed/encoder.h"
#include "embed/registry/manifest.h"
#include "mosaic/status.h"

namespace fasttext {
class FastText;
}

namespace mosaic::embed {

enum class TextPooling : uint8_t { kMean, kSif };
const char* TextPoolingName(TextPooling p);  // "mean", "sif"
Result<TextPooling> ParseTextPooling(std::string_view name);

struct FastTextTrainOptions {
  std::string name = "fasttext-text";  // registry name written into the manifest
  int dim = 100;
  int epochs = 10;
  bool skipgram = true;  // else CBOW
  int window = 5;
  int min_count = 2;
  // Character n-grams of minn..maxn bytes give rare and unseen words a vector (maxn = 0: none;
  // on SciFact's train queries they lift the pooled vector from 0.385 to 0.507 nDCG@10, at 3.5x
  // the training time). `bucket` n-gram rows bound the model's size: (words + bucket) * dim * 4
  // bytes.
  int minn = 3;
  int maxn = 6;
  int bucket = 100000;
  double lr = 0.05;
  // One thread with a fixed seed trains the same model every time; more threads are faster but
  // not deterministic (fastText's Hogwild updates).
  int threads = 1;
  int seed = 1;
  TextPooling pooling = TextPooling::kSif;  // the default the manifest records
  double sif_a = 1e-3;
};

// Trains word vectors on `texts` (one document or chunk each) and writes the model into `dir`
// (model.bin), with the SIF statistics computed on the same texts. Returns the manifest to install
// `dir` with (ModelRegistry::Add): family "fasttext", modality text, task "embedding", the
// pooling and SIF component under `preprocess`. InvalidArgument for bad options or a corpus with
// no word seen min_count times; IOError when `dir` cannot be written.
Result<ModelManifest> TrainFastText(std::span<const std::string> texts, const std::string& dir,
                                    const FastTextTrainOptions& options);

// The words of `text` as fastText sees them in training and pooling (stopwords kept).
std::vector<std::string> FastTextWords(std::string_view text);

class FastTextEncoder final : public Encoder {
 public:
  // Loads a model TrainFastText made: `manifest` is its registry manifest, `model_dir` its folder.
  // InvalidArgument when the manifest is not a fastText one, Corruption when the file does not
  // load or its dimension differs from the manifest's.
  static Result<std::unique_ptr<FastTextEncoder>> Open(const ModelManifest& manifest,
                                                       const std::string& model_dir);
  ~FastTextEncoder() override;

  const EncoderInfo& info() const override { return info_; }
  // One vector per text (none for a text without a usable word); non-text inputs are ignored
  // (read as empty texts).
  Result<std::vector<EncoderOutput>> Encode(std::span<const EncoderInput> batch) override;
  int max_batch() const override { return 256; }

  // The pooled, L2-normalized vector of one text; empty when it has no usable word.
  std::vector<float> EncodeText(std::string_view text) const;

  TextPooling pooling() const { return pooling_; }
  void set_pooling(TextPooling p) { pooling_ = p; }

 private:
  FastTextEncoder() = default;

  EncoderInfo info_;
  std::unique_ptr<fasttext::FastText> ft_;
  std::vector<double> word_prob_;  // by fastText word id: count / tokens
  std::vector<float> sif_pc_;      // unit first principal component (empty: none removed)
  double sif_a_ = 1e-3;
  TextPooling pooling_ = TextPooling::kSif;
};

}  // namespace mosaic::embed
