// apps_bench: the quality of two applications on Fashion-MNIST (Debian dataset-fashion-mnist).
//
// kNN classification (query/classify.h): the 60k training images are the labelled points; k and
// the vote are chosen by leave-one-out cross-validation on training points only; accuracy is
// reported on the 10k test images. Once from raw pixels (784 dims, l2), once from the visual
// descriptor's vectors (808 dims, cosine) of a slice (--visual-train, --visual-test images).
//
// Recommendation (query/recommend.h) for simulated users of the 10k test images: each user liked
// `old` items of one class long ago and `recent` items of another class lately (days apart, with
// times); the recommendations' precision@10 is the share of the recent class. The half-life is
// chosen on the first half of the users (dev) and reported on the second (test), against no
// decay; negative feedback (dislikes of the class most confused with the recent one) is measured
// by how many of that class reach the top 10.
//
// usage: apps_bench [--data DIR] [--models DIR] [--visual-train N] [--visual-test N]
//                   [--users N] [--no-visual]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <map>
#include <random>
#include <string>

#include "embed/model_loader.h"
#include "fashion_visual.h"
#include "embed/registry/registry.h"
#include "io/vector_file.h"
#include "media/image.h"
#include "mosaic/db.h"
#include "query/classify.h"
#include "query/recommend.h"

using namespace mosaic;

namespace {

double Now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

std::string Flag(int argc, char** argv, const char* name, const std::string& fallback) {
  for (int i = 1; i + 1 < argc; ++i)
    if (std::strcmp(argv[i], name) == 0) return argv[i + 1];
  return fallback;
}
bool Has(int argc, char** argv, const char* name) {
  for (int i = 1; i < argc; ++i)
    if (std::strcmp(argv[i], name) == 0) return true;
  return false;
}

// A collection of `vectors` (rows) with "label" payloads.
std::shared_ptr<Collection> Load(Db& db, const std::string& name, const VectorSpec& spec,
                                 const std::vector<std::vector<float>>& vectors,
                                 const std::vector<int32_t>& labels) {
  CollectionSchema schema;
  schema.vectors = {spec};
  auto c = db.CreateCollection(name, schema).value();
  std::vector<Point> batch;
  for (size_t i = 0; i < vectors.size(); ++i) {
    Point p;
    p.id = i;
    p.vectors[spec.name] = vectors[i];
    p.payload = {{"label", labels[i]}};
    batch.push_back(std::move(p));
    if (batch.size() == 5000 || i + 1 == vectors.size()) {
      if (Status s = c->Upsert(batch); !s.ok()) {
        std::fprintf(stderr, "upsert: %s\n", s.ToString().c_str());
        std::exit(1);
      }
      batch.clear();
    }
  }
  return c;
}

// Fits kNN on `c` (CV on training points) and reports accuracy on `test`.
void Knn(const char* what, const Collection& c, const std::vector<std::vector<float>>& test,
         const std::vector<int32_t>& test_labels) {
  double t0 = Now();
  query::KnnOptions o;
  o.cv_points = 2000;
  auto knn = query::KnnClassifier::Fit(c, o);
  if (!knn.ok()) {
    std::fprintf(stderr, "fit: %s\n", knn.status().ToString().c_str());
    std::exit(1);
  }
  const double fit_s = Now() - t0;
  double cv_best = 0, cv_k1 = 0;
  for (const auto& row : knn->cv()) {
    cv_best = std::max(cv_best, row.accuracy);
    if (row.k == 1 && !row.weighted) cv_k1 = row.accuracy;
  }
  t0 = Now();
  auto predictions = knn->PredictBatch(test).value();
  const double predict_s = Now() - t0;
  size_t right = 0;
  for (size_t i = 0; i < predictions.size(); ++i)
    right += predictions[i].label == test_labels[i];
  std::printf(
      "%-34s train %6llu  test %5zu  k %2zu %-8s  cv(train) %.4f (1-NN %.4f)  test %.4f  "
      "fit %.1f s, %.0f predictions/s\n",
      what, static_cast<unsigned long long>(knn->labelled()), test.size(), knn->k(),
      knn->weighted() ? "weighted" : "majority", cv_best, cv_k1,
      static_cast<double>(right) / test.size(), fit_s, test.size() / predict_s);
}

std::vector<std::vector<float>> Rows(const io::Matrix& m, size_t n) {
  std::vector<std::vector<float>> out;
  for (size_t i = 0; i < std::min(n, m.rows); ++i)
    out.emplace_back(m.row(i), m.row(i) + m.dim);
  return out;
}

struct User {
  std::vector<query::Interaction> history;
  int recent_class = 0;
  int confused_class = 0;
};

// Users: `old` items of class a at days 0..29, `recent` of class b at days 60..89.
std::vector<User> MakeUsers(const std::vector<int32_t>& labels, size_t n, size_t old, size_t recent,
                            const std::map<int, int>& confused, uint64_t seed) {
  std::map<int, std::vector<uint64_t>> by_class;
  for (size_t i = 0; i < labels.size(); ++i)
    by_class[labels[i]].push_back(i);
  std::mt19937_64 rng(seed);
  std::vector<User> users(n);
  for (User& u : users) {
    const int a = static_cast<int>(rng() % 10);
    int b = static_cast<int>(rng() % 9);
    if (b >= a) ++b;
    u.recent_class = b;
    u.confused_class = confused.at(b);
    auto pick = [&](int cls, size_t k, int day0) {
      for (size_t j = 0; j < k; ++j) {
        const auto& pool = by_class[cls];
        const int64_t t = (day0 + static_cast<int>(rng() % 30)) * 86400LL;
        u.history.push_back({PointId(pool[rng() % pool.size()]), t, 1});
      }
    };
    pick(a, old, 0);
    pick(b, recent, 60);
  }
  return users;
}

// Mean precision@10 of the recent class over users [from, to).
double Precision(const Collection& c, const std::vector<int32_t>& labels,
                 const std::vector<User>& users, size_t from, size_t to, double half_life_days,
                 bool dislikes, double* confused_share) {
  double sum = 0, confused = 0;
  for (size_t i = from; i < to; ++i) {
    query::RecommendRequest r;
    r.history = users[i].history;
    r.half_life_s = half_life_days * 86400;
    r.limit = 10;
    if (dislikes) {
      // The user skipped three items of the class most confused with the recent one.
      size_t added = 0;
      for (size_t id = i * 37 % labels.size(); added < 3; id = (id + 1) % labels.size())
        if (labels[id] == users[i].confused_class) {
          r.history.push_back({PointId(static_cast<uint64_t>(id)), 89 * 86400LL, -1});
          ++added;
        }
    }
    auto resp = query::Recommend(c, nullptr, r).value();
    size_t hit = 0, conf = 0;
    for (const auto& h : resp.hits) {
      hit += labels[h.id.num()] == users[i].recent_class;
      conf += labels[h.id.num()] == users[i].confused_class;
    }
    sum += hit / 10.0;
    confused += conf / 10.0;
  }
  if (confused_share != nullptr) *confused_share = confused / (to - from);
  return sum / (to - from);
}

}  // namespace

int main(int argc, char** argv) {
  const std::string data =
      Flag(argc, argv, "--data", MOSAIC_SOURCE_DIR "/.cache/data") + "/fashion-mnist";
  const size_t visual_train = std::stoul(Flag(argc, argv, "--visual-train", "10000"));
  const size_t visual_test = std::stoul(Flag(argc, argv, "--visual-test", "2000"));
  const size_t n_users = std::stoul(Flag(argc, argv, "--users", "400"));
  auto train = io::ReadVectorFile(data + "/train-images-idx3-ubyte.gz", 60000).value();
  auto test = io::ReadVectorFile(data + "/t10k-images-idx3-ubyte.gz", 10000).value();
  auto train_labels = io::ReadIdxLabels(data + "/train-labels-idx1-ubyte.gz").value();
  auto test_labels = io::ReadIdxLabels(data + "/t10k-labels-idx1-ubyte.gz").value();
  char dir[] = "/tmp/apps_bench.XXXXXX";
  if (mkdtemp(dir) == nullptr) return 1;
  auto db = Db::Open(dir).value();

  std::printf(
      "== kNN classification, Fashion-MNIST (k and vote chosen on train, reported on "
      "test)\n");
  auto pixels =
      Load(*db, "pixels", VectorSpec{"v", 784, Metric::kL2}, Rows(train, 60000), train_labels);
  Knn("raw pixels (l2)", *pixels, Rows(test, 10000), test_labels);

  std::map<int, int> confused;  // the class each class's 1-NN most often mistakes it for
  {
    std::map<std::pair<int, int>, int> counts;
    for (size_t i = 0; i < 2000; ++i) {
      SearchRequest q;
      q.vector.assign(test.row(i), test.row(i) + 784);
      q.limit = 1;
      auto hits = pixels->Search(q).value();
      if (!hits.empty() && train_labels[hits[0].id.num()] != test_labels[i])
        ++counts[{test_labels[i], train_labels[hits[0].id.num()]}];
    }
    for (int a = 0; a < 10; ++a) {
      int best = (a + 1) % 10, n = -1;
      for (int b = 0; b < 10; ++b)
        if (b != a && counts[{a, b}] > n) best = b, n = counts[{a, b}];
      confused[a] = best;
    }
  }

  if (!Has(argc, argv, "--no-visual")) {
    auto reg =
        embed::ModelRegistry::Open(Flag(argc, argv, "--models", embed::ModelRegistry::DefaultDir()))
            .value();
    auto manifest = reg.Get("visual-descriptor").value();
    auto enc =
        embed::OpenEncoder(manifest, reg.ModelDir("visual-descriptor"), embed::Modality::kImage)
            .value();
    auto vtrain = bench::FashionVisual(*enc, train, visual_train);
    auto vtest = bench::FashionVisual(*enc, test, visual_test);
    std::vector<int32_t> vtest_labels(test_labels.begin(), test_labels.begin() + vtest.size());
    auto visual = Load(*db, "visual", VectorSpec{"v", 808, Metric::kCosine}, vtrain, train_labels);
    Knn("visual descriptor (cosine)", *visual, vtest, vtest_labels);
    auto small = Load(*db, "pixels-small", VectorSpec{"v", 784, Metric::kL2},
                      Rows(train, visual_train), train_labels);
    Knn("raw pixels, same slice (l2)", *small, Rows(test, visual_test), vtest_labels);
  }

  std::printf(
      "\n== Recommendation for simulated users of the 10k test images (precision@10 of "
      "the recent interest)\n");
  auto items =
      Load(*db, "items", VectorSpec{"v", 784, Metric::kL2}, Rows(test, 10000), test_labels);
  for (auto [old, recent] : {std::pair<size_t, size_t>{10, 10}, {20, 5}}) {
    auto users = MakeUsers(test_labels, n_users, old, recent, confused, 7);
    const size_t half = n_users / 2;
    double best_dev = -1, best_hl = 0;
    std::printf("history: %zu old + %zu recent items\n  dev users 0-%zu:", old, recent, half - 1);
    for (double hl : {0.0, 60.0, 30.0, 14.0, 7.0, 3.0}) {
      const double p = Precision(*items, test_labels, users, 0, half, hl, false, nullptr);
      std::printf("  half-life %s %.3f", hl == 0 ? "none" : (std::to_string(int(hl)) + "d").c_str(),
                  p);
      if (p > best_dev + 1e-9) best_dev = p, best_hl = hl;
    }
    double conf_plain = 0, conf_disliked = 0;
    const double none = Precision(*items, test_labels, users, half, n_users, 0, false, nullptr);
    const double chosen =
        Precision(*items, test_labels, users, half, n_users, best_hl, false, &conf_plain);
    const double disliked =
        Precision(*items, test_labels, users, half, n_users, best_hl, true, &conf_disliked);
    std::printf(
        "\n  test users %zu-%zu: no decay %.3f, half-life %gd (chosen on dev) %.3f; with 3 "
        "dislikes of the confused class %.3f (its share of the top 10 %.3f -> %.3f)\n",
        half, n_users - 1, none, best_hl, chosen, disliked, conf_plain, conf_disliked);
  }
  std::filesystem::remove_all(dir);
  return 0;
}
