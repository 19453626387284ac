// fuzz_seeds: writes the binary seed corpora of tests/fuzz with Mosaic's own writers (and the
// test writers of tests/util): WAL files, segments, snapshots, HNSW graphs, images, audio, video
// and PDFs, each a few hundred bytes to a few kilobytes. Run once by hand when a format changes:
//   build-asan/tests/fuzz/fuzz_seeds tests/fuzz/corpus
// The text seeds (JSON, HTTP requests, documents, tokenizer input) are written by hand.
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <span>
#include <string>
#include <vector>

#include "collection/operation.h"
#include "index/filter/payload_index.h"
#include "index/hnsw/hnsw_index.h"
#include "media/image_encode.h"
#include "mosaic/db.h"
#include "storage/log_writer.h"
#include "storage/segment.h"
#include "storage/segment_delta.h"
#include "util/av_writer.h"
#include "util/fault_env.h"
#include "util/pdf_writer.h"

namespace {

namespace fs = std::filesystem;
using namespace mosaic;

std::string out_dir;

void Check(const Status& s, const std::string& what) {
  if (s.ok()) return;
  std::fprintf(stderr, "fuzz_seeds: %s: %s\n", what.c_str(), s.ToString().c_str());
  std::exit(1);
}

std::string Path(const std::string& target, const std::string& name) {
  fs::create_directories(out_dir + "/" + target);
  return out_dir + "/" + target + "/" + name;
}

void WriteBytes(const std::string& target, const std::string& name, const std::string& bytes) {
  std::ofstream(Path(target, name), std::ios::binary) << bytes;
}

std::string ReadBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// --- WAL ---------------------------------------------------------------------------------------

collection::LoggedPoint Logged(PointId id, std::vector<std::pair<uint32_t, std::vector<float>>> v,
                               Json payload) {
  return {std::move(id), std::move(v), std::move(payload)};
}

void WalSeeds() {
  using collection::Operation;
  using collection::OpType;
  std::vector<Operation> ops(6);
  ops[0].type = OpType::kUpsert;
  ops[0].points = {Logged(1, {{0, {0.5f, 0.5f, 0.5f, 0.5f}}, {1, {1, 0}}},
                          {{"color", "red"}, {"tags", {"a", "b"}}}),
                   Logged("550e8400-e29b-41d4-a716-446655440000", {{1, {0, 1}}}, Json::object())};
  ops[1].type = OpType::kDelete;
  ops[1].ids = {1, "x"};
  ops[2].type = OpType::kSetPayload;
  ops[2].ids = {7};
  ops[2].payload = {{"price", 12.5}, {"when", "2024-03-05T10:00:00Z"}};
  ops[3].type = OpType::kOverwritePayload;
  ops[3].ids = {7, 8};
  ops[3].payload = {{"n", nullptr}};
  ops[4].type = OpType::kDeletePayloadKeys;
  ops[4].ids = {8};
  ops[4].keys = {"color", "tags"};
  ops[5].type = OpType::kReplace;
  ops[5].ids = {2};
  ops[5].points = {Logged(2, {{0, {1, 0, 0, 0}}}, {{"k", 1}})};
  for (size_t i = 0; i < ops.size(); ++i) ops[i].lsn = i + 1;

  auto write = [&](const std::string& name, const std::vector<Operation>& records) {
    std::string path = Path("wal", name);
    auto w = storage::LogWriter::Create(Env::Default(), path);
    Check(w.status(), path);
    for (const Operation& op : records)
      Check((*w)->AddRecord(static_cast<uint8_t>(op.type), collection::EncodeOperation(op)), path);
    Check((*w)->Close(), path);
  };
  write("all-types.log", ops);
  write("upsert.log", {ops[0]});
  write("empty.log", {});
  // A torn tail: the last record cut short, as a crash leaves it.
  std::string torn = ReadBytes(Path("wal", "all-types.log"));
  WriteBytes("wal", "torn-tail.log", torn.substr(0, torn.size() - 5));
}

// --- Segments and snapshots -------------------------------------------------------------------

void SegmentSeeds() {
  std::vector<PointId> ids = {1, 2, "three"};
  std::vector<Json> payloads = {{{"color", "red"}}, Json::object(), {{"tags", {1, 2.5, "x"}}}};
  std::vector<std::vector<float>> a = {{1, 2, 3, 4}, {0, 0, 0, 1}, {-1, 0.5f, 2, 8}};
  std::vector<std::vector<float>> b = {{1, 0}, {}, {0, 1}};
  storage::SegmentContents c;
  c.meta = {{"note", "fuzz seed"}};
  c.last_lsn = 9;
  c.num_points = ids.size();
  c.dims = {4, 2};
  c.id = [&](size_t i) -> const PointId& { return ids[i]; };
  c.payload = [&](size_t i) -> const Json& { return payloads[i]; };
  c.vector = [&](size_t i, size_t v) -> const float* {
    const auto& rows = v == 0 ? a : b;
    return rows[i].empty() ? nullptr : rows[i].data();
  };
  Check(storage::WriteSegment(Env::Default(), Path("segment", "three-points.seg"), c), "segment");
  // The same points with a graph section for vector 0 (version 2), as a snapshot carries one.
  struct ARows final : index::VectorRows {
    const std::vector<std::vector<float>>* a;
    const float* Row(uint32_t slot) const override { return (*a)[slot].data(); }
  } rows;
  rows.a = &a;
  index::HnswIndex graph(4, Metric::kL2, index::HnswParams{.M = 4, .ef_construction = 8}, &rows);
  Check(graph.AddBatch(std::vector<uint32_t>{0, 1, 2}, nullptr), "graph");
  c.graphs = {graph.Serialize()};
  Check(storage::WriteSegment(Env::Default(), Path("segment", "three-points-graph.seg"), c),
        "segment");
  c.graphs.clear();
  c.num_points = 0;
  c.dims = {3};
  Check(storage::WriteSegment(Env::Default(), Path("segment", "empty.seg"), c), "segment");
}

// Delta files of a collection's sealed segments (src/storage/segment_delta.h).
void DeltaSeeds() {
  storage::SegmentDelta d;
  d.manifest = {{"format_version", 2}, {"generation", 3}, {"log", "wal-000003.log"},
                {"last_lsn", 12}, {"segments", {{{"gen", 2}, {"slots", 70}}}},
                {"delta", "del-000003.del"}};
  d.dead.Resize(70);
  for (size_t slot : {0, 5, 63, 64, 69}) d.dead.Set(slot);
  d.payloads = {{1, {{"color", "blue"}}}, {40, {{"tags", {1, 2.5, "x"}}, {"n", -3}}}};
  Check(storage::WriteDelta(Env::Default(), Path("delta", "tombstones-and-payloads.del"), d),
        "delta");
  d.dead.Resize(0);
  d.payloads.clear();
  Check(storage::WriteDelta(Env::Default(), Path("delta", "empty.del"), d), "delta");
}

// Payload index files of sealed segments (PayloadIndexSet::Save), one index of every type, over
// the 64 slots payload_index_fuzz loads them as. every-type-v1.idx beside them is the same set as
// the build before version 2 of the lists wrote it.
void PayloadIndexSeeds() {
  index::PayloadIndexSet set;
  Check(set.Create("k", PayloadIndexType::kKeyword), "payload_index");
  Check(set.Create("i", PayloadIndexType::kInteger), "payload_index");
  Check(set.Create("f", PayloadIndexType::kFloat), "payload_index");
  Check(set.Create("d", PayloadIndexType::kDatetime), "payload_index");
  Check(set.Create("t", PayloadIndexType::kText), "payload_index");
  const char* words[] = {"red fox", "the quick brown fox jumps", "lazy dogs sleep", "fox and dog"};
  for (uint32_t slot = 0; slot < 64; slot += 3)
    set.Insert(slot, {{"k", slot % 2 ? "a" : "b"},
                      {"i", slot % 5 == 0 ? Json(2.5) : Json(int(slot) - 20)},
                      {"f", slot * 0.25},
                      {"d", slot % 4 ? "2026-12-05T10:00:00Z" : "not a date"},
                      {"t", words[slot % 4]}});
  Check(set.Save(Env::Default(), Path("payload_index", "every-type.idx"), 64, {0, {}, 64}),
        "payload_index");
  Check(index::PayloadIndexSet().Save(Env::Default(), Path("payload_index", "no-fields.idx"), 64,
                                      {0, {}, 64}),
        "payload_index");
}

// photos.snapshot is an archive (version 3) of a collection with payload indexes: a segment with
// its graph and index file, and a log; photos-v2.snapshot and photos-v1.snapshot, beside it, are the same collection as the
// builds before archives and before graph sections wrote it, kept as they were (no writer makes
// them any more).
void SnapshotSeeds() {
  testing::TempDir dir;
  auto db = Db::Open(dir.path());
  Check(db.status(), "db");
  auto schema = CollectionSchema::FromJson(Json::parse(R"({"vectors": [
      {"name": "image", "dim": 4, "metric": "cosine", "index": {"type": "hnsw", "m": 4}},
      {"name": "text", "dim": 2, "metric": "l2"}]})"));
  Check(schema.status(), "schema");
  auto c = (*db)->CreateCollection("photos", *schema);
  Check(c.status(), "create");
  std::vector<Point> points;
  for (uint64_t i = 1; i <= 6; ++i) {
    Point p;
    p.id = i;
    p.vectors["image"] = {1.0f * i, 1, 0.5f, -1};
    if (i % 2 == 0) p.vectors["text"] = {0.25f * i, 1};
    p.payload = {{"color", i % 2 ? "red" : "blue"}, {"n", i}, {"day", "2024-03-0" + std::to_string(i)}};
    points.push_back(p);
  }
  Check((*c)->Upsert(points), "upsert");
  Check((*c)->CreatePayloadIndex("color", PayloadIndexType::kKeyword), "index");
  Check((*c)->CreatePayloadIndex("n", PayloadIndexType::kInteger), "index");
  Check((*c)->Flush(), "flush");  // a segment with its graph and index file
  Check((*c)->Upsert(std::span<const Point>(points.data(), 2)), "upsert");  // and a log
  Check((*db)->CreateSnapshot("photos", Path("snapshot", "photos.snapshot")), "snapshot");
  auto empty = (*db)->CreateCollection("empty", *schema);
  Check(empty.status(), "create");
  Check((*db)->CreateSnapshot("empty", Path("snapshot", "empty.snapshot")), "snapshot");
}

// --- HNSW -------------------------------------------------------------------------------------

class Rows final : public index::VectorRows {
 public:
  explicit Rows(uint32_t dim) : dim_(dim) {
    for (int i = 0; i < 64 * static_cast<int>(dim); ++i) values_.push_back(std::sin(i * 0.7f));
  }
  const float* Row(uint32_t slot) const override { return values_.data() + slot * dim_; }

 private:
  uint32_t dim_;
  std::vector<float> values_;
};

void HnswSeeds() {
  Rows rows(4);
  auto save = [&](const std::string& name, index::HnswParams params, uint32_t n, bool remove) {
    index::HnswIndex g(4, Metric::kL2, params, &rows);
    std::vector<uint32_t> slots;
    for (uint32_t i = 0; i < n; ++i) slots.push_back(i);
    Check(g.AddBatch(slots, nullptr), name);
    if (remove && n > 3) g.Remove(3);
    Check(g.Save(Env::Default(), Path("hnsw", name)), name);
  };
  index::HnswParams params;
  params.M = 4;
  params.ef_construction = 16;
  save("l2-m4-40.hnsw", params, 40, true);
  save("empty.hnsw", params, 0, false);
  params.sq8 = true;
  params.rerank_factor = 2;
  save("sq8-m4-24.hnsw", params, 24, false);
}

// --- Media and documents ----------------------------------------------------------------------

void ImageSeeds() {
  media::Image img(7, 5);
  for (int y = 0; y < img.height; ++y)
    for (int x = 0; x < img.width; ++x)
      for (int c = 0; c < 3; ++c) img.row(y)[x * 3 + c] = static_cast<uint8_t>(x * 30 + y * 20 + c * 60);
  auto png = media::EncodePng(img);
  Check(png.status(), "png");
  WriteBytes("image", "7x5.png", std::string(png->begin(), png->end()));
  auto jpeg = media::EncodeJpeg(img, 50);
  Check(jpeg.status(), "jpeg");
  WriteBytes("image", "7x5.jpg", std::string(jpeg->begin(), jpeg->end()));
  // A 2x2 24-bit BMP, written field by field (BITMAPINFOHEADER, bottom-up rows padded to 4).
  std::string bmp = "BM";
  auto u32 = [&](uint32_t v) { for (int i = 0; i < 4; ++i) bmp.push_back(static_cast<char>(v >> (8 * i))); };
  auto u16 = [&](uint16_t v) { bmp.push_back(static_cast<char>(v)); bmp.push_back(static_cast<char>(v >> 8)); };
  u32(54 + 16); u32(0); u32(54);
  u32(40); u32(2); u32(2); u16(1); u16(24); u32(0); u32(16); u32(2835); u32(2835); u32(0); u32(0);
  bmp += std::string("\x00\x00\xff\xff\xff\xff\x00\x00", 8) + std::string("\xff\x00\x00\x00\xff\x00\x00\x00", 8);
  WriteBytes("image", "2x2.bmp", bmp);
}

void AudioVideoSeeds() {
  std::vector<int16_t> tone;
  for (int i = 0; i < 800; ++i) tone.push_back(static_cast<int16_t>(8000 * std::sin(i * 0.3)));
  Check(testing::WriteWav(Path("audio", "tone-8k.wav"), tone, 8000), "wav");
  Check(testing::WriteWav(Path("audio", "empty.wav"), {}, 16000), "wav");

  testing::VideoSpec spec;
  spec.width = 32;
  spec.height = 24;
  spec.fps = 8;
  spec.segments = {{0.5, testing::SceneA}, {0.5, testing::SceneB}};
  Check(testing::WriteVideo(Path("video", "cut.avi"), spec), "avi");
  spec.container = "mp4";
  spec.movflags = "+faststart";
  spec.metadata = {{"creation_time", "2021-06-05T14:30:00Z"}};
  spec.audio = testing::AudioTrack{tone, 8000, "aac"};
  Check(testing::WriteVideo(Path("video", "cut-aac.mp4"), spec), "mp4");
  fs::copy_file(Path("video", "cut-aac.mp4"), Path("audio", "cut-aac.mp4"),
                fs::copy_options::overwrite_existing);
  spec.container = "matroska";
  spec.movflags.clear();
  spec.segments = {{0.25, testing::Black}, {0.5, testing::SceneC}};
  spec.audio.reset();
  Check(testing::WriteVideo(Path("video", "black-then-c.mkv"), spec), "mkv");
}

void PdfSeeds() {
  testing::PdfSpec spec;
  spec.pages = {{"A Title Line", "", "First paragraph of text with a hyphen-", "ated word."},
                {"Second page.", "- a list item"}};
  spec.title = "Fuzz seed";
  spec.author = "Mosaic";
  spec.creation_date = "D:20240305143000+01'00'";
  WriteBytes("pdf", "two-pages.pdf", testing::WritePdf(spec));
  spec.pages = {{"Secret text"}};
  spec.user_password = "secret";
  WriteBytes("pdf", "encrypted-rc4.pdf", testing::WritePdf(spec));
  spec.user_password.clear();
  spec.pages = {{}};
  WriteBytes("pdf", "blank-page.pdf", testing::WritePdf(spec));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s CORPUS_DIR (tests/fuzz/corpus)\n", argv[0]);
    return 2;
  }
  out_dir = argv[1];
  WalSeeds();
  SegmentSeeds();
  DeltaSeeds();
  PayloadIndexSeeds();
  SnapshotSeeds();
  HnswSeeds();
  ImageSeeds();
  AudioVideoSeeds();
  PdfSeeds();
  return 0;
}
