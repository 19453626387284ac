// Filtered exact search on Fashion-MNIST through the public Collection API, at 90%, 50%, 10%, 1%
// and 0.1% selectivity, with and without payload indexes, next to Faiss IndexFlatL2 searching with an
// IDSelectorBitmap built from the same filter (the filter's evaluation is not charged to Faiss).
// Each filter runs several rounds in alternating order (Mosaic without then with payload indexes,
// then Faiss, in even rounds; Faiss first in odd ones); the table shows medians and their ratios.
// Which Faiss build is linked (MOSAIC_FAISS_BUILD, from bench/CMakeLists.txt) is printed first.
//
//   filter_bench [--data DIR] [--queries N] [--rounds N]
//
// Payload per training image: {"label": 0..9, "r": uniform 0..999 (seeded)}.
#include <faiss/IndexFlat.h>
#include <faiss/impl/IDSelector.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>

#include "bench_util.h"
#include "io/vector_file.h"
#include "mosaic/db.h"

namespace {

double Now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

struct Case {
  const char* name;
  const char* filter;
  std::function<bool(int label, int r)> pred;
};

}  // namespace

int main(int argc, char** argv) {
  std::string data = std::getenv("MOSAIC_DATA_DIR") ? std::string(std::getenv("MOSAIC_DATA_DIR")) + "/fashion-mnist"
                                                    : MOSAIC_DEFAULT_DATA_DIR;
  size_t nq = 200;
  int rounds = 5;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--data" && i + 1 < argc) data = argv[++i];
    else if (a == "--queries" && i + 1 < argc) nq = std::strtoul(argv[++i], nullptr, 10);
    else if (a == "--rounds" && i + 1 < argc) rounds = std::max(1, std::atoi(argv[++i]));
    else {
      std::fprintf(stderr, "usage: %s [--data DIR] [--queries N] [--rounds N]\n", argv[0]);
      return 2;
    }
  }
  auto base = mosaic::io::ReadVectorFile(data + "/train-images-idx3-ubyte.gz");
  auto labels = mosaic::io::ReadIdxLabels(data + "/train-labels-idx1-ubyte.gz");
  auto queries = mosaic::io::ReadVectorFile(data + "/t10k-images-idx3-ubyte.gz", nq);
  if (!base.ok() || !labels.ok() || !queries.ok()) {
    std::fprintf(stderr, "cannot read Fashion-MNIST from %s (run scripts/fetch-data)\n", data.c_str());
    return 1;
  }
  const size_t n = base->rows;
  std::mt19937 rng(42);
  std::vector<int> r(n);
  for (auto& x : r) x = static_cast<int>(rng() % 1000);

  std::string dir = std::filesystem::temp_directory_path() / "mosaic-filter-bench";
  std::filesystem::remove_all(dir);
  mosaic::DbOptions opt;
  opt.search_threads = 1;
  auto db = mosaic::Db::Open(dir, opt).value();
  mosaic::CollectionSchema schema;
  schema.vectors = {{"pixels", 784, mosaic::Metric::kL2, mosaic::StorageType::kFloat32}};
  auto c = db->CreateCollection("fashion", schema).value();
  std::vector<mosaic::Point> batch;
  for (size_t i = 0; i < n; ++i) {
    mosaic::Point p;
    p.id = uint64_t{i};
    p.vectors["pixels"].assign(base->row(i), base->row(i) + 784);
    p.payload = {{"label", (*labels)[i]}, {"r", r[i]}};
    batch.push_back(std::move(p));
    if (batch.size() == 5000) {
      if (!c->Upsert(batch).ok()) return 1;
      batch.clear();
    }
  }
  if (!c->Upsert(batch).ok() || !c->Flush().ok()) return 1;

  faiss::IndexFlatL2 faiss_index(784);
  faiss_index.add(static_cast<faiss::Index::idx_t>(n), base->data.data());
  omp_set_num_threads(1);

  std::vector<Case> cases = {
      {"90%  label < 9", R"({"must":[{"key":"label","range":{"lt":9}}]})",
       [](int l, int) { return l < 9; }},
      {"50%  label < 5", R"({"must":[{"key":"label","range":{"lt":5}}]})",
       [](int l, int) { return l < 5; }},
      {"10%  label = 3", R"({"must":[{"key":"label","match":{"value":3}}]})",
       [](int l, int) { return l == 3; }},
      {"1%   r < 10", R"({"must":[{"key":"r","range":{"lt":10}}]})",
       [](int, int x) { return x < 10; }},
      {"0.1% r = 7", R"({"must":[{"key":"r","match":{"value":7}}]})",
       [](int, int x) { return x == 7; }},
  };

  auto run_mosaic = [&](const mosaic::Filter& f, std::vector<std::vector<uint64_t>>* ids) {
    ids->assign(nq, {});
    double t0 = Now();
    for (size_t q = 0; q < nq; ++q) {
      mosaic::SearchRequest req;
      req.vector.assign(queries->row(q), queries->row(q) + 784);
      req.limit = 10;
      req.filter = f;
      req.with_payload = false;
      for (const auto& h : c->Search(req).value()) (*ids)[q].push_back(h.id.num());
    }
    return nq / (Now() - t0);
  };

  std::printf("Filtered exact search, Fashion-MNIST 60k x 784, %zu queries, k=10, 1 thread\n", nq);
  std::printf("Faiss %d.%d.%d, %s: IndexFlatL2 + IDSelectorBitmap\n", FAISS_VERSION_MAJOR,
              FAISS_VERSION_MINOR, FAISS_VERSION_PATCH, MOSAIC_FAISS_BUILD);
  std::printf("%d rounds per filter, alternating order, medians\n", rounds);
  std::printf("%-16s %9s | %12s %12s | %12s | %9s %9s %10s | %s\n", "filter", "matching",
              "Mosaic scan", "Mosaic index", "Faiss bitmap", "idx/scan", "idx/Faiss", "scan/Faiss",
              "agree");
  for (const auto& cs : cases) {
    auto filter = mosaic::Filter::Parse(cs.filter).value();
    size_t matching = 0;
    std::vector<uint8_t> bits((n + 7) / 8, 0);
    for (size_t i = 0; i < n; ++i)
      if (cs.pred((*labels)[i], r[i])) {
        ++matching;
        bits[i / 8] |= uint8_t(1u << (i % 8));
      }

    // Mosaic without payload indexes ("scan"), then with integer indexes on both fields.
    std::vector<std::vector<uint64_t>> scan_ids, index_ids;
    std::vector<double> scan_qps, index_qps, faiss_qps;
    auto measure_mosaic = [&]() -> bool {
      (void)c->DropPayloadIndex("label");
      (void)c->DropPayloadIndex("r");
      scan_qps.push_back(run_mosaic(filter, &scan_ids));
      if (!c->CreatePayloadIndex("label", mosaic::PayloadIndexType::kInteger).ok() ||
          !c->CreatePayloadIndex("r", mosaic::PayloadIndexType::kInteger).ok())
        return false;
      index_qps.push_back(run_mosaic(filter, &index_ids));
      return true;
    };
    faiss::IDSelectorBitmap sel(bits.size(), bits.data());
    faiss::SearchParameters params;
    params.sel = &sel;
    std::vector<float> dist(nq * 10);
    std::vector<faiss::Index::idx_t> lab(nq * 10);
    auto measure_faiss = [&] {
      double t0 = Now();
      for (size_t q = 0; q < nq; ++q)
        faiss_index.search(1, queries->row(q), 10, dist.data() + q * 10, lab.data() + q * 10,
                           &params);
      faiss_qps.push_back(nq / (Now() - t0));
    };
    for (int round = 0; round < rounds; ++round) {
      if (round % 2 == 0) {
        if (!measure_mosaic()) return 1;
        measure_faiss();
      } else {
        measure_faiss();
        if (!measure_mosaic()) return 1;
      }
    }
    const double scan = mosaic::bench::Median(scan_qps), index = mosaic::bench::Median(index_qps),
                 faiss_median = mosaic::bench::Median(faiss_qps);

    size_t same = 0, total = 0;
    for (size_t q = 0; q < nq; ++q)
      for (size_t j = 0; j < 10 && j < index_ids[q].size(); ++j, ++total)
        same += index_ids[q][j] == static_cast<uint64_t>(lab[q * 10 + j]) &&
                scan_ids[q][j] == index_ids[q][j];
    std::printf("%-16s %9zu | %10.1f/s %10.1f/s | %10.1f/s | %8.2fx %8.2fx %9.2fx | %.4f\n",
                cs.name, matching, scan, index, faiss_median, index / scan, index / faiss_median,
                scan / faiss_median, total ? double(same) / total : 1.0);
  }
  std::filesystem::remove_all(dir);
  return 0;
}
