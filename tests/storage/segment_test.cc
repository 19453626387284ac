// Segment files: round trip, and every kind of damage detected at open.
#include <gtest/gtest.h>

#include "common/coding.h"
#include "storage/segment.h"
#include "util/fault_env.h"
#include "util/segment_file.h"

namespace mosaic::storage {
namespace {

using testing::TempDir;

struct Data {
  std::vector<PointId> ids;
  std::vector<Json> payloads;
  std::vector<std::vector<float>> a, b;  // b absent for odd points
};

Data MakeData(size_t n) {
  Data d;
  for (size_t i = 0; i < n; ++i) {
    d.ids.push_back(i % 3 == 0 ? PointId("p" + std::to_string(i)) : PointId(uint64_t{i * 10}));
    d.payloads.push_back({{"i", i}, {"tag", i % 2 ? "odd" : "even"}});
    d.a.push_back({float(i), float(i) + 0.5f, -float(i)});
    d.b.push_back(std::vector<float>(5, float(i) * 2));
  }
  return d;
}

Status Write(const std::string& path, const Data& d, std::vector<std::string> graphs = {}) {
  SegmentContents c;
  c.graphs = std::move(graphs);
  c.meta = {{"name", "t"}};
  c.last_lsn = 42;
  c.num_points = d.ids.size();
  c.dims = {3, 5};
  c.id = [&](size_t i) -> const PointId& { return d.ids[i]; };
  c.payload = [&](size_t i) -> const Json& { return d.payloads[i]; };
  c.vector = [&](size_t i, size_t v) -> const float* {
    if (v == 0) return d.a[i].data();
    return i % 2 ? nullptr : d.b[i].data();
  };
  return WriteSegment(Env::Default(), path, c);
}

TEST(Segment, RoundTrip) {
  TempDir dir;
  Data d = MakeData(100);
  ASSERT_TRUE(Write(dir / "s.seg", d).ok());
  for (bool map : {false, true}) {
  auto seg = Segment::Open(Env::Default(), dir / "s.seg", map);
  ASSERT_TRUE(seg.ok()) << seg.status().ToString();
  EXPECT_EQ((*seg)->mapped(), map);
  EXPECT_EQ((*seg)->num_points(), 100u);
  EXPECT_EQ((*seg)->last_lsn(), 42u);
  EXPECT_EQ((*seg)->meta()["name"], "t");
  auto ids = (*seg)->DecodeIds();
  ASSERT_TRUE(ids.ok());
  EXPECT_EQ(*ids, d.ids);
  for (size_t i = 0; i < 100; ++i) {
    EXPECT_EQ(*(*seg)->DecodePayload(i), d.payloads[i]);
    EXPECT_TRUE((*seg)->has_vector(i, 0));
    EXPECT_EQ((*seg)->has_vector(i, 1), i % 2 == 0);
    EXPECT_EQ((*seg)->vectors(0)[i * 3 + 1], d.a[i][1]);
    if (i % 2 == 0) {
      EXPECT_EQ((*seg)->vectors(1)[i * 5 + 4], d.b[i][4]);
    }
  }
  EXPECT_TRUE((*seg)->CheckReadable().ok());
  }
}

TEST(Segment, EmptySegment) {
  TempDir dir;
  ASSERT_TRUE(Write(dir / "s.seg", MakeData(0)).ok());
  auto seg = Segment::Open(Env::Default(), dir / "s.seg");
  ASSERT_TRUE(seg.ok()) << seg.status().ToString();
  EXPECT_EQ((*seg)->num_points(), 0u);
}

TEST(Segment, AnyFlippedByteIsDetected) {
  TempDir dir;
  ASSERT_TRUE(Write(dir / "s.seg", MakeData(20)).ok());
  std::string good = *Env::Default()->ReadFile(dir / "s.seg");
  // Every 7th byte (covers header, all sections, table and footer); padding bytes are the only
  // ones not covered by a checksum, so count how many flips were noticed.
  size_t detected = 0, tried = 0;
  for (size_t pos = 0; pos < good.size(); pos += 7) {
    std::string bad = good;
    bad[pos] ^= 0x10;
    std::string path = dir / "bad.seg";
    auto f = Env::Default()->NewWritableFile(path);
    ASSERT_TRUE((*f)->Append(bad).ok());
    ASSERT_TRUE((*f)->Close().ok());
    auto seg = Segment::Open(Env::Default(), path);
    ++tried;
    if (!seg.ok()) {
      EXPECT_TRUE(seg.status().IsCorruption()) << seg.status().ToString();
      ++detected;
    }
  }
  // Padding is at most 63 bytes per section (8 sections) + the 52 reserved header bytes.
  EXPECT_GE(detected + (8 * 63 + 52) / 7 + 8, tried);
  EXPECT_GT(detected, tried / 2);
}

TEST(Segment, TruncatedFileIsCorruption) {
  TempDir dir;
  ASSERT_TRUE(Write(dir / "s.seg", MakeData(20)).ok());
  std::string good = *Env::Default()->ReadFile(dir / "s.seg");
  for (size_t len : {size_t{0}, size_t{10}, good.size() / 2, good.size() - 1})
  for (bool map : {false, true}) {
    auto f = Env::Default()->NewWritableFile(dir / "t.seg");
    ASSERT_TRUE((*f)->Append(good.substr(0, len)).ok());
    ASSERT_TRUE((*f)->Close().ok());
    auto seg = Segment::Open(Env::Default(), dir / "t.seg", map);
    ASSERT_FALSE(seg.ok()) << len;
    EXPECT_TRUE(seg.status().IsCorruption()) << seg.status().ToString();
    EXPECT_NE(seg.status().message().find("t.seg"), std::string::npos);
  }
}

// Writes `bytes` to `path` with its checksums made valid again, and opens it: the damage a test
// made reaches the checks behind the checksums.
Result<std::unique_ptr<Segment>> OpenWithValidChecksums(const std::string& path,
                                                        const std::string& bytes) {
  auto f = Env::Default()->NewWritableFile(path);
  if (!f.ok()) return f.status();
  MOSAIC_RETURN_IF_ERROR((*f)->Append(testing::RecomputeSegmentChecksums(bytes)));
  MOSAIC_RETURN_IF_ERROR((*f)->Close());
  return Segment::Open(Env::Default(), path);
}

// Found by tests/fuzz/segment_fuzz (corpus/segment/misaligned-presence.seg): a section moved off
// its 64-byte alignment, with valid checksums, was read in place as a misaligned u64 array.
TEST(Segment, MisalignedSectionIsCorruption) {
  TempDir dir;
  ASSERT_TRUE(Write(dir / "s.seg", MakeData(20)).ok());
  std::string bad = *Env::Default()->ReadFile(dir / "s.seg");
  const size_t entry = testing::SegmentTableEntry(bad, 16);  // presence of vector 0
  ASSERT_NE(entry, std::string::npos);
  EncodeFixed64(bad.data() + entry + 8, DecodeFixed64(bad.data() + entry + 8) + 4);
  auto seg = OpenWithValidChecksums(dir / "bad.seg", bad);
  ASSERT_FALSE(seg.ok());
  EXPECT_TRUE(seg.status().IsCorruption()) << seg.status().ToString();
  EXPECT_NE(seg.status().message().find("section 16 at offset"), std::string::npos)
      << seg.status().ToString();
  EXPECT_NE(seg.status().message().find("not 64-byte aligned"), std::string::npos);
}

// Found while writing tests/fuzz/segment_fuzz: num_points = 2^61 wrapped (n + 1) * 8 around to
// 8, the size of a one-entry offset table, and the loader read payload_offsets_[2^61].
TEST(Segment, HugePointCountIsCorruption) {
  TempDir dir;
  SegmentContents c;
  c.meta = {{"name", std::string(40, 't')}};
  c.id = [](size_t) -> const PointId& { std::abort(); };
  c.payload = [](size_t) -> const Json& { std::abort(); };
  c.vector = [](size_t, size_t) -> const float* { return nullptr; };
  ASSERT_TRUE(WriteSegment(Env::Default(), dir / "s.seg", c).ok());
  std::string bad = *Env::Default()->ReadFile(dir / "s.seg");
  // The same metadata, as long, claiming 2^61 points.
  const std::string meta = R"({"dims":[],"last_lsn":0,"name":")" + std::string(40, 't') +
                           R"(","num_points":0})";
  const std::string huge = R"({"dims":[],"last_lsn":0,"name":")" + std::string(22, 't') +
                           R"(","num_points":2305843009213693952})";
  ASSERT_EQ(meta.size(), huge.size());
  const size_t at = bad.find(meta);
  ASSERT_NE(at, std::string::npos);
  bad.replace(at, meta.size(), huge);
  auto seg = OpenWithValidChecksums(dir / "bad.seg", bad);
  ASSERT_FALSE(seg.ok());
  EXPECT_TRUE(seg.status().IsCorruption()) << seg.status().ToString();
  EXPECT_NE(seg.status().message().find("payload offset table has the wrong size"),
            std::string::npos)
      << seg.status().ToString();
}

// --- Graph sections (version 2) ------------------------------------------------------------------

constexpr uint32_t kGraphKind = 0x10000;  // + vector index (docs/segment_format.md)

void Put(const std::string& path, const std::string& bytes) {
  auto f = Env::Default()->NewWritableFile(path);
  ASSERT_TRUE((*f)->Append(bytes).ok());
  ASSERT_TRUE((*f)->Close().ok());
}

// The graph's bytes are opaque to the segment; any string stands in for one here.
const std::string kGraphBytes = std::string(1000, 'g') + "end";

TEST(Segment, GraphSectionsRoundTripAndSetTheVersion) {
  TempDir dir;
  Data d = MakeData(30);
  ASSERT_TRUE(Write(dir / "g.seg", d, {kGraphBytes, ""}).ok());
  ASSERT_TRUE(Write(dir / "p.seg", d).ok());
  auto g = Segment::Open(Env::Default(), dir / "g.seg");
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_EQ((*g)->version(), 2u);
  EXPECT_EQ(DecodeFixed32(Env::Default()->ReadFile(dir / "g.seg")->data() + 8), 2u);
  EXPECT_EQ(*(*g)->graph(0), kGraphBytes);
  EXPECT_TRUE((*g)->graph(1)->empty());
  // Without graphs the file is version 1, as before them: older builds still read it.
  auto p = Segment::Open(Env::Default(), dir / "p.seg");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ((*p)->version(), 1u);
  EXPECT_EQ(DecodeFixed32(Env::Default()->ReadFile(dir / "p.seg")->data() + 8), 1u);
  EXPECT_TRUE((*p)->graph(0)->empty());
  // More graphs than vectors is the caller's mistake.
  EXPECT_TRUE(Write(dir / "x.seg", d, {"a", "b", "c"}).IsInvalidArgument());
}

TEST(Segment, WritePointsDropsTheGraphs) {
  TempDir dir;
  Data d = MakeData(70);
  ASSERT_TRUE(Write(dir / "g.seg", d, {"", kGraphBytes}).ok());
  ASSERT_TRUE(Write(dir / "p.seg", d).ok());
  auto g = Segment::Open(Env::Default(), dir / "g.seg");
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  ASSERT_TRUE((*g)->WritePoints(Env::Default(), dir / "w.seg").ok());
  // The very file the writer makes of the same points without graphs.
  EXPECT_EQ(*Env::Default()->ReadFile(dir / "w.seg"), *Env::Default()->ReadFile(dir / "p.seg"));
  auto w = Segment::Open(Env::Default(), dir / "w.seg");
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  EXPECT_EQ((*w)->version(), 1u);
  EXPECT_TRUE((*w)->graph(1)->empty());
  EXPECT_EQ(*(*w)->DecodeIds(), d.ids);
}

TEST(Segment, DamagedGraphSectionIsReportedWithoutFailingOpen) {
  TempDir dir;
  ASSERT_TRUE(Write(dir / "g.seg", MakeData(10), {kGraphBytes}).ok());
  std::string bytes = *Env::Default()->ReadFile(dir / "g.seg");
  const size_t entry = testing::SegmentTableEntry(bytes, kGraphKind);
  ASSERT_NE(entry, std::string::npos);
  bytes[DecodeFixed64(bytes.data() + entry + 8) + 500] ^= 1;
  Put(dir / "bad.seg", bytes);
  auto seg = Segment::Open(Env::Default(), dir / "bad.seg");
  ASSERT_TRUE(seg.ok()) << seg.status().ToString();  // the points are intact
  EXPECT_EQ((*seg)->DecodeIds()->size(), 10u);
  Status damage = (*seg)->graph(0).status();
  EXPECT_TRUE(damage.IsCorruption()) << damage.ToString();
  for (const char* part : {"bad.seg", "section 65536", "graph of vector 0"})
    EXPECT_NE(damage.message().find(part), std::string::npos) << damage.ToString();
}

TEST(Segment, MisplacedGraphSectionIsCorruption) {
  TempDir dir;
  ASSERT_TRUE(Write(dir / "g.seg", MakeData(10), {kGraphBytes}).ok());
  const std::string good = *Env::Default()->ReadFile(dir / "g.seg");
  const size_t entry = testing::SegmentTableEntry(good, kGraphKind);
  ASSERT_NE(entry, std::string::npos);
  // A graph for a vector the segment does not have.
  std::string bad = good;
  EncodeFixed32(bad.data() + entry, kGraphKind + 2);
  auto seg = OpenWithValidChecksums(dir / "bad.seg", bad);
  ASSERT_FALSE(seg.ok());
  EXPECT_NE(seg.status().message().find("for vector 2"), std::string::npos)
      << seg.status().ToString();
  // A graph in a file that says version 1, which has none; a version this build does not know.
  for (const auto& [version, error] :
       {std::pair<uint32_t, std::string>{1, "version-1"}, {3, "unsupported version 3"}}) {
    bad = good;
    EncodeFixed32(bad.data() + 8, version);
    EncodeFixed32(bad.data() + bad.size() - 16, version);
    seg = OpenWithValidChecksums(dir / "bad.seg", bad);
    ASSERT_FALSE(seg.ok());
    EXPECT_TRUE(seg.status().IsCorruption());
    EXPECT_NE(seg.status().message().find(error), std::string::npos) << seg.status().ToString();
  }
}

}  // namespace
}  // namespace mosaic::storage
