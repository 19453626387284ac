#include "embed/text/fasttext_encoder.h"

#include <fasttext/fasttext.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>

#include "text/word_tokenizer.h"

namespace mosaic::embed {

namespace {

constexpr char kModelFile[] = "model.bin";
constexpr char kFamily[] = "fasttext";

const text::WordTokenizer& Words() {
  // Unstemmed, stopwords kept: fastText learns from every word's context, and its character
  // n-grams relate inflections that a stemmer would merge.
  static const text::WordTokenizer tokenizer = [] {
    text::WordTokenizerOptions o;
    o.stem_language = "";
    o.drop_stopwords = false;
    return std::move(text::WordTokenizer::Create(o)).value();
  }();
  return tokenizer;
}

struct PoolModel {
  const fasttext::FastText* ft;
  const std::vector<double>* word_prob;
  double sif_a;
};

// The weighted mean of the text's word vectors, not normalized; empty without a usable word.
std::vector<float> PoolWords(const PoolModel& m, std::string_view text, TextPooling pooling) {
  const int dim = m.ft->getDimension();
  std::vector<double> sum(dim, 0.0);
  fasttext::Vector v(dim);
  size_t n = 0;
  for (const std::string& w : FastTextWords(text)) {
    if (text::IsStopword(w)) continue;
    m.ft->getWordVector(v, w);
    double norm = 0;
    for (int i = 0; i < dim; ++i)
      norm += double(v[i]) * v[i];
    if (norm == 0 || !std::isfinite(norm)) continue;  // no known word nor n-gram
    double weight = 1;
    if (pooling == TextPooling::kSif) {
      const int32_t id = m.ft->getWordId(w);
      const double p = id >= 0 && size_t(id) < m.word_prob->size() ? (*m.word_prob)[id] : 0.0;
      weight = m.sif_a / (m.sif_a + p);
    }
    for (int i = 0; i < dim; ++i)
      sum[i] += weight * v[i];
    ++n;
  }
  if (n == 0) return {};
  std::vector<float> out(dim);
  for (int i = 0; i < dim; ++i)
    out[i] = static_cast<float>(sum[i] / n);
  return out;
}

void RemoveComponent(std::vector<float>& v, const std::vector<float>& pc) {
  if (pc.size() != v.size()) return;
  double dot = 0;
  for (size_t i = 0; i < v.size(); ++i)
    dot += double(v[i]) * pc[i];
  for (size_t i = 0; i < v.size(); ++i)
    v[i] -= static_cast<float>(dot * pc[i]);
}

// The first right singular vector of the rows (uncentered, as Arora et al. compute it), by power
// iteration on rows^T rows from a fixed start, so training stays deterministic.
std::vector<float> FirstComponent(const std::vector<std::vector<float>>& rows, int dim) {
  std::vector<double> u(dim, 1.0 / std::sqrt(double(dim)));
  for (int iter = 0; iter < 100; ++iter) {
    std::vector<double> next(dim, 0.0);
    for (const auto& r : rows) {
      double dot = 0;
      for (int i = 0; i < dim; ++i)
        dot += r[i] * u[i];
      for (int i = 0; i < dim; ++i)
        next[i] += dot * r[i];
    }
    double norm = 0;
    for (double x : next)
      norm += x * x;
    norm = std::sqrt(norm);
    if (norm == 0) return {};
    double change = 0;
    for (int i = 0; i < dim; ++i) {
      next[i] /= norm;
      change += std::abs(next[i] - u[i]);
    }
    u.swap(next);
    if (change < 1e-9) break;
  }
  return std::vector<float>(u.begin(), u.end());
}

std::vector<double> WordProbabilities(const fasttext::FastText& ft) {
  auto dict = ft.getDictionary();
  const auto counts = dict->getCounts(fasttext::entry_type::word);
  const double tokens = std::max<double>(1.0, double(dict->ntokens()));
  std::vector<double> p(counts.size());
  for (size_t i = 0; i < counts.size(); ++i)
    p[i] = counts[i] / tokens;
  return p;
}

}  // namespace

const char* TextPoolingName(TextPooling p) {
  return p == TextPooling::kSif ? "sif" : "mean";
}

Result<TextPooling> ParseTextPooling(std::string_view name) {
  if (name == "mean") return TextPooling::kMean;
  if (name == "sif") return TextPooling::kSif;
  return Status::InvalidArgument("unknown text pooling '" + std::string(name) +
                                 "' (expected mean or sif)");
}

std::vector<std::string> FastTextWords(std::string_view text) {
  return Words().Terms(text);
}

Result<ModelManifest> TrainFastText(std::span<const std::string> texts, const std::string& dir,
                                    const FastTextTrainOptions& options) {
  if (!IsValidModelName(options.name))
    return Status::InvalidArgument("invalid model name '" + options.name + "'");
  if (options.dim < 2 || options.dim > 1024)
    return Status::InvalidArgument("fastText dim " + std::to_string(options.dim) +
                                   " is outside 2..1024");
  if (options.epochs < 1 || options.threads < 1 || options.min_count < 1 || options.window < 1)
    return Status::InvalidArgument("fastText epochs, threads, min_count and window must be >= 1");
  if (options.maxn < 0 || (options.maxn > 0 && (options.minn < 1 || options.minn > options.maxn)))
    return Status::InvalidArgument("fastText character n-grams need 1 <= minn <= maxn (got " +
                                   std::to_string(options.minn) + ".." +
                                   std::to_string(options.maxn) + ")");
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Status::IOError("cannot create " + dir + ": " + ec.message());

  // fastText reads its corpus from a file: the texts' words, one text a line.
  const std::string corpus = dir + "/corpus.txt";
  {
    std::ofstream out(corpus);
    size_t words = 0;
    for (const std::string& t : texts) {
      const auto ws = FastTextWords(t);
      for (size_t i = 0; i < ws.size(); ++i)
        out << (i ? " " : "") << ws[i];
      out << '\n';
      words += ws.size();
    }
    if (!out) return Status::IOError("cannot write the training text to " + corpus);
    if (words == 0) return Status::InvalidArgument("the training texts have no words");
  }
  fasttext::Args args;
  args.input = corpus;
  args.dim = options.dim;
  args.epoch = options.epochs;
  args.ws = options.window;
  args.minCount = options.min_count;
  args.minn = options.maxn > 0 ? options.minn : 0;
  args.maxn = options.maxn;
  args.bucket = options.maxn > 0 ? options.bucket : 0;
  args.lr = options.lr;
  args.thread = options.threads;
  args.seed = options.seed;
  args.verbose = 0;
  args.model = options.skipgram ? fasttext::model_name::sg : fasttext::model_name::cbow;
  args.loss = fasttext::loss_name::ns;

  auto ft = std::make_unique<fasttext::FastText>();
  const std::string model_path = dir + "/" + kModelFile;
  try {
    ft->train(args);
    ft->saveModel(model_path);
  } catch (const std::exception& e) {
    std::filesystem::remove(corpus, ec);
    return Status::InvalidArgument(std::string("fastText training failed: ") + e.what() +
                                   " (min_count " + std::to_string(options.min_count) + ")");
  }
  std::filesystem::remove(corpus, ec);

  // SIF's common component, from the training texts pooled with SIF weights.
  const std::vector<double> probs = WordProbabilities(*ft);
  PoolModel pm{ft.get(), &probs, options.sif_a};
  std::vector<std::vector<float>> pooled;
  const size_t step = std::max<size_t>(1, texts.size() / 20000);  // a sample bounds the cost
  for (size_t i = 0; i < texts.size(); i += step) {
    auto v = PoolWords(pm, texts[i], TextPooling::kSif);
    if (!v.empty()) pooled.push_back(std::move(v));
  }
  const std::vector<float> pc = FirstComponent(pooled, options.dim);

  ModelManifest m;
  m.name = options.name;
  m.family = kFamily;
  m.modalities = {Modality::kText};
  m.task = "embedding";
  m.dim = options.dim;
  m.license = "trained locally on the collection's own text";
  m.source = "fastText (Debian libfasttext-dev), mosaic models train-text";
  m.description = std::string("fastText ") + (options.skipgram ? "skipgram" : "cbow") +
                  " word vectors, " + std::to_string(texts.size()) + " training texts, " +
                  std::to_string(ft->getDictionary()->nwords()) + " words";
  m.files.push_back({"vectors", kModelFile, "", 0, ""});
  m.preprocess = {{"pooling", TextPoolingName(options.pooling)},
                  {"sif_a", options.sif_a},
                  {"sif_pc", pc},
                  {"epochs", options.epochs},
                  {"model", options.skipgram ? "skipgram" : "cbow"}};
  return m;
}

FastTextEncoder::~FastTextEncoder() = default;

Result<std::unique_ptr<FastTextEncoder>> FastTextEncoder::Open(const ModelManifest& manifest,
                                                               const std::string& model_dir) {
  if (manifest.family != kFamily)
    return Status::InvalidArgument("model '" + manifest.name + "' is of family '" +
                                   manifest.family + "', not fastText");
  const ModelFile* f = manifest.FindFile("vectors");
  if (f == nullptr)
    return Status::InvalidArgument("fastText model '" + manifest.name +
                                   "' has no file with role 'vectors'");
  std::unique_ptr<FastTextEncoder> e(new FastTextEncoder());
  e->ft_ = std::make_unique<fasttext::FastText>();
  const std::string path = model_dir + "/" + f->path;
  try {
    e->ft_->loadModel(path);
  } catch (const std::exception& ex) {
    return Status::Corruption("fastText model " + path + " does not load: " + ex.what());
  }
  if (e->ft_->getDimension() != manifest.dim)
    return Status::Corruption("fastText model " + path + " has " +
                              std::to_string(e->ft_->getDimension()) + " dims, its manifest says " +
                              std::to_string(manifest.dim));
  const nlohmann::json& pre = manifest.preprocess;
  MOSAIC_ASSIGN_OR_RETURN(e->pooling_, ParseTextPooling(pre.value("pooling", "sif")));
  e->sif_a_ = pre.value("sif_a", 1e-3);
  if (pre.contains("sif_pc") && pre["sif_pc"].is_array()) {
    e->sif_pc_ = pre["sif_pc"].get<std::vector<float>>();
    if (e->sif_pc_.size() != size_t(manifest.dim))
      return Status::Corruption("fastText model '" + manifest.name + "' has a SIF component of " +
                                std::to_string(e->sif_pc_.size()) + " dims, not " +
                                std::to_string(manifest.dim));
  }
  e->word_prob_ = WordProbabilities(*e->ft_);
  e->info_.model = manifest.name;
  e->info_.family = kFamily;
  e->info_.modality = Modality::kText;
  e->info_.dim = manifest.dim;
  e->info_.normalized = true;
  e->info_.space = "fasttext:" + manifest.name;  // only its own vectors compare with it
  return e;
}

std::vector<float> FastTextEncoder::EncodeText(std::string_view text) const {
  PoolModel pm{ft_.get(), &word_prob_, sif_a_};
  std::vector<float> v = PoolWords(pm, text, pooling_);
  if (v.empty()) return v;
  if (pooling_ == TextPooling::kSif) RemoveComponent(v, sif_pc_);
  double norm = 0;
  for (float x : v)
    norm += double(x) * x;
  if (!(norm > 1e-20) || !std::isfinite(norm)) return {};
  L2Normalize(v);
  return v;
}

Result<std::vector<EncoderOutput>> FastTextEncoder::Encode(std::span<const EncoderInput> batch) {
  std::vector<EncoderOutput> out(batch.size());
  for (size_t i = 0; i < batch.size(); ++i) {
    std::vector<float> v = EncodeText(batch[i].text);
    if (!v.empty()) out[i].vectors.push_back(std::move(v));
  }
  return out;
}

}  // namespace mosaic::embed
