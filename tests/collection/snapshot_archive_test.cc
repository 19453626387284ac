// Snapshot archives (docs/snapshot_format.md): a tar of the collection's files as CURRENT names
// them and of its log. A restore is a copy: the same segments, whose graphs and payload indexes
// are loaded as saved (nothing rebuilt), and the growing part replayed from the log. The view is
// consistent while writes, flushes and compactions go on; a damaged archive is refused, naming
// the member, and creates nothing. Archives made by GNU tar from a snapshot's files read too.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "collection/collection_files.h"
#include "common/sync_point.h"
#include "mosaic/db.h"
#include "storage/snapshot_archive.h"
#include "util/fault_env.h"
#include "util/scroll_all.h"

namespace mosaic {
namespace {

using testing::TempDir;
namespace fs = std::filesystem;

constexpr size_t kDim = 16;
const char* const kWords[] = {"river", "stone", "light", "cloud", "paper", "glass", "field",
                              "north", "amber", "quiet", "storm", "maple"};

DbOptions Options() {
  DbOptions o;
  o.compact_below_bytes = 0;      // small collections: sealed all the same
  o.background_merges = false;    // merges run in the flush that starts them
  o.merge_factor = 100;           // and none is due here: the segments stay as flushed
  o.max_segments = 16;
  return o;
}

CollectionSchema Schema() {
  CollectionSchema s;
  s.vectors = {{"v", kDim, Metric::kL2, StorageType::kFloat32}};
  s.vectors[0].index = {IndexKind::kHnsw, 8, 64, 32, /*sq8=*/false};
  return s;
}

std::vector<Point> MakePoints(uint64_t first, uint64_t end, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> noise(0, 1);
  std::vector<Point> out;
  for (uint64_t id = first; id < end; ++id) {
    Point p;
    p.id = id;
    const float center = static_cast<float>(rng() % 12);
    auto& v = p.vectors["v"];
    for (size_t i = 0; i < kDim; ++i) v.push_back(center + noise(rng));
    std::string body;
    for (int w = 0; w < 6; ++w) body += std::string(kWords[rng() % 12]) + " ";
    p.payload = {{"n", id}, {"tag", "t" + std::to_string(id % 7)}, {"body", body}};
    out.push_back(std::move(p));
  }
  return out;
}

std::string ReadAll(const std::string& path) { return *Env::Default()->ReadFile(path); }

void WriteAll(const std::string& path, const std::string& bytes) {
  ASSERT_TRUE(WriteFileAtomically(Env::Default(), path, bytes).ok());
}

// Runs a shell command; its standard output.
std::string Shell(const std::string& command) {
  std::string out;
  FILE* p = ::popen(command.c_str(), "r");
  if (p == nullptr) return out;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), p)) > 0) out.append(buf, n);
  EXPECT_EQ(::pclose(p), 0) << command;
  return out;
}

// What a search, a text search, a filter and a facet give, to compare two collections.
std::string Answers(Collection& c) {
  std::string out;
  TextSearchRequest t;
  t.fields = {"body"};
  for (const char* q : {"river stone", "quiet maple", "amber"}) {
    t.query = q;
    t.limit = 20;
    t.with_payload = false;
    auto hits = c.SearchText(t);
    EXPECT_TRUE(hits.ok()) << hits.status().ToString();
    if (hits.ok())
      for (const auto& h : *hits) out += h.id.ToString() + ":" + std::to_string(h.score) + " ";
    out += "\n";
  }
  for (int tag = 0; tag < 7; ++tag) {
    Filter f = *Filter::FromJson(
        Json{{"must", {{{"key", "tag"}, {"match", {{"value", "t" + std::to_string(tag)}}}}}}});
    out += std::to_string(*c.Count(&f)) + " ";
  }
  FacetRequest fr;
  fr.key = "tag";
  auto facets = c.Facet(fr);
  EXPECT_TRUE(facets.ok());
  if (facets.ok())
    for (const auto& fc : *facets) out += fc.value.dump() + "=" + std::to_string(fc.count) + " ";
  return out;
}

// Each of every 10th point is found first by an exact and by a graph search for its own vector.
void ExpectPointsFindThemselves(Collection& c) {
  const auto points = testing::ScrollAll(c);
  size_t n = 0, found = 0, tried = 0;
  for (const auto& [id, point] : points) {
    if (n++ % 10 != 0) continue;
    for (bool exact : {true, false}) {
      SearchRequest q;
      q.vector_name = "v";
      q.vector = point.second;
      q.limit = 1;
      q.ef = 64;
      q.exact = exact;
      auto hits = c.Search(q);
      ASSERT_TRUE(hits.ok());
      ++tried;
      found += !hits->empty() && (*hits)[0].id == id;
    }
  }
  EXPECT_GE(found * 100, tried * 98) << found << " of " << tried;
}

// The sealed files of a collection directory (segments, graphs, indexes, delta).
std::vector<std::string> SealedFiles(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string f = e.path().filename().string();
    if (f.starts_with("seg-") || f.starts_with("del-")) out.push_back(f);
  }
  std::sort(out.begin(), out.end());
  return out;
}

// "c": three flushed segments with payload, integer and full-text indexes, points deleted and
// payloads changed in place after they were sealed (in the delta file), and writes since the
// last flush (in the log only).
struct Filled {
  Filled() {
    db = *Db::Open(dir.path(), Options());
    c = *db->CreateCollection("c", Schema());
    EXPECT_TRUE(c->CreatePayloadIndex("tag", PayloadIndexType::kKeyword).ok());
    EXPECT_TRUE(c->CreatePayloadIndex("n", PayloadIndexType::kInteger).ok());
    EXPECT_TRUE(c->CreatePayloadIndex("body", PayloadIndexType::kText).ok());
    const uint64_t bounds[] = {0, 400, 700, 900};
    for (int s = 0; s < 3; ++s) {
      EXPECT_TRUE(c->Upsert(MakePoints(bounds[s], bounds[s + 1], s + 1)).ok());
      if (s == 1) {
        EXPECT_TRUE(c->Delete(std::vector<PointId>{PointId(uint64_t{3}), PointId(uint64_t{450})})
                        .ok());
        EXPECT_TRUE(
            c->SetPayload(std::vector<PointId>{PointId(uint64_t{5})}, Json{{"tag", "moved"}}).ok());
      }
      EXPECT_TRUE(c->Flush().ok());
    }
    EXPECT_EQ(c->Info().segments, 3u);
    // Since the last flush: new points, a re-upsert, a delete and a payload change on sealed
    // points.
    EXPECT_TRUE(c->Upsert(MakePoints(900, 1000, 9)).ok());
    EXPECT_TRUE(c->Upsert(MakePoints(100, 110, 10)).ok());
    EXPECT_TRUE(c->Delete(std::vector<PointId>{PointId(uint64_t{800})}).ok());
    EXPECT_TRUE(c->SetPayload(std::vector<PointId>{PointId(uint64_t{20})},
                              Json{{"body", "river river river"}})
                    .ok());
  }
  TempDir dir;
  std::unique_ptr<Db> db;
  std::shared_ptr<Collection> c;
};

TEST(SnapshotArchive, RestoreIsACopyThatRebuildsNothing) {
  Filled f;
  const std::string snap = f.dir / "c.snapshot";
  ASSERT_TRUE(f.db->CreateSnapshot("c", snap).ok());

  // A tar archive whose first member describes it; GNU tar lists it.
  const std::string listing = Shell("tar tf '" + snap + "'");
  EXPECT_TRUE(listing.starts_with("mosaic-snapshot.json\n")) << listing;
  for (const std::string& f1 : SealedFiles(f.dir / "collections/c"))
    EXPECT_NE(listing.find(f1 + "\n"), std::string::npos) << f1 << " not in\n" << listing;
  EXPECT_NE(listing.find("CURRENT\n"), std::string::npos);
  EXPECT_NE(listing.find("wal-"), std::string::npos);

  auto r = f.db->RestoreSnapshot(snap, "r");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const CollectionInfo info = (*r)->Info();
  EXPECT_EQ(info.graphs_rebuilt, std::vector<std::string>{});
  EXPECT_EQ(info.payload_indexes_rebuilt, std::vector<std::string>{});
  EXPECT_EQ(info.segments, 3u);
  EXPECT_EQ(info.points, f.c->Info().points);
  EXPECT_EQ(info.payload_indexes, f.c->Info().payload_indexes);
  EXPECT_EQ(testing::ScrollAll(**r), testing::ScrollAll(*f.c));
  EXPECT_EQ(Answers(**r), Answers(*f.c));
  ExpectPointsFindThemselves(**r);
  // The sealed files are the original's, byte for byte.
  const auto files = SealedFiles(f.dir / "collections/c");
  EXPECT_EQ(SealedFiles(f.dir / "collections/r"), files);
  for (const std::string& name : files)
    EXPECT_EQ(ReadAll(f.dir / ("collections/r/" + name)), ReadAll(f.dir / ("collections/c/" + name)))
        << name;
  EXPECT_EQ(Json::parse(ReadAll(f.dir / "collections/r/collection.json"))["name"], "r");

  // The restored collection takes writes and reopens as any other.
  ASSERT_TRUE((*r)->Upsert(MakePoints(2000, 2100, 20)).ok());
  const auto want = testing::ScrollAll(**r);
  r = Status::Internal("closed");
  f.c.reset();
  f.db.reset();
  f.db = *Db::Open(f.dir.path(), Options());
  auto again = *f.db->GetCollection("r");
  EXPECT_EQ(testing::ScrollAll(*again), want);
  EXPECT_EQ(again->Info().graphs_rebuilt, std::vector<std::string>{});
  EXPECT_EQ(again->Info().payload_indexes_rebuilt, std::vector<std::string>{});
}

// The view is taken under the writer lock; writes, a flush and a compaction right after it (which
// delete the files the view names) do not change what the snapshot holds.
TEST(SnapshotArchive, TheViewHoldsWhileAFlushAndACompactionRemoveItsFiles) {
  Filled f;
  const auto want = testing::ScrollAll(*f.c);
  const std::string want_answers = Answers(*f.c);
  const auto before = SealedFiles(f.dir / "collections/c");
  int calls = 0;
  sync_point::SetCallback([&](std::string_view point) {
    if (point != "CollectionImpl::WriteSnapshot:ViewTaken") return;
    ++calls;
    EXPECT_TRUE(f.c->Upsert(MakePoints(3000, 3300, 30)).ok());
    EXPECT_TRUE(f.c->Delete(std::vector<PointId>{PointId(uint64_t{1}), PointId(uint64_t{950})}).ok());
    EXPECT_TRUE(f.c->Flush().ok());
    EXPECT_TRUE(f.c->Compact().ok());
  });
  Status s = f.db->CreateSnapshot("c", f.dir / "c.snapshot");
  sync_point::SetCallback(nullptr);
  ASSERT_TRUE(s.ok()) << s.ToString();
  ASSERT_EQ(calls, 1);
  for (const std::string& name : before)  // gone from the directory: the mappings kept them
    EXPECT_FALSE(fs::exists(f.dir / ("collections/c/" + name))) << name;
  EXPECT_NE(testing::ScrollAll(*f.c), want);

  auto r = f.db->RestoreSnapshot(f.dir / "c.snapshot", "r");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(testing::ScrollAll(**r), want);
  EXPECT_EQ(Answers(**r), want_answers);
  EXPECT_EQ((*r)->Info().graphs_rebuilt, std::vector<std::string>{});
  EXPECT_EQ((*r)->Info().payload_indexes_rebuilt, std::vector<std::string>{});
}

// A log of at least flush_on_close_bytes is flushed before the view, as at close: the restore then
// loads every point's graph and replays nothing.
TEST(SnapshotArchive, ALongLogIsFlushedFirst) {
  TempDir dir;
  DbOptions o = Options();
  o.flush_on_close_bytes = 64 << 10;
  auto db = *Db::Open(dir.path(), o);
  auto c = *db->CreateCollection("c", Schema());
  ASSERT_TRUE(c->Upsert(MakePoints(0, 300, 1)).ok());
  ASSERT_TRUE(c->Flush().ok());
  ASSERT_TRUE(c->Upsert(MakePoints(300, 350, 2)).ok());  // a short log: archived as it is
  ASSERT_LT(c->Info().wal_bytes, o.flush_on_close_bytes);
  ASSERT_TRUE(db->CreateSnapshot("c", dir / "short.snapshot").ok());
  EXPECT_EQ(c->Info().segments, 1u);
  ASSERT_TRUE(c->Upsert(MakePoints(350, 1000, 3)).ok());
  ASSERT_GE(c->Info().wal_bytes, o.flush_on_close_bytes);
  ASSERT_TRUE(db->CreateSnapshot("c", dir / "long.snapshot").ok());
  EXPECT_EQ(c->Info().segments, 2u);
  EXPECT_LT(c->Info().wal_bytes, 1024u);  // an empty log: its header

  auto s = db->RestoreSnapshot(dir / "short.snapshot", "s");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ((*s)->Info().segments, 1u);
  EXPECT_EQ((*s)->Info().points, 350u);
  auto l = db->RestoreSnapshot(dir / "long.snapshot", "l");
  ASSERT_TRUE(l.ok()) << l.status().ToString();
  EXPECT_EQ((*l)->Info().segments, 2u);
  EXPECT_LT((*l)->Info().wal_bytes, 1024u);
  EXPECT_EQ((*l)->Info().graphs_rebuilt, std::vector<std::string>{});
  EXPECT_EQ(testing::ScrollAll(**l), testing::ScrollAll(*c));
  ExpectPointsFindThemselves(**l);
}

// A damaged or tampered archive is refused with Corruption naming the snapshot and what is wrong;
// nothing is created, and the name stays free.
TEST(SnapshotArchive, DamagedArchivesAreRefusedNamingTheMember) {
  Filled f;
  const std::string snap = f.dir / "c.snapshot";
  ASSERT_TRUE(f.db->CreateSnapshot("c", snap).ok());
  const std::string good = ReadAll(snap);

  auto refused = [&](const std::string& bytes, const std::string& says) {
    const std::string path = f.dir / "bad.snapshot";
    WriteAll(path, bytes);
    auto r = f.db->RestoreSnapshot(path, "x");
    ASSERT_FALSE(r.ok()) << says;
    EXPECT_TRUE(r.status().IsCorruption()) << r.status().ToString();
    EXPECT_NE(r.status().message().find(says), std::string::npos) << r.status().ToString();
    EXPECT_NE(r.status().message().find("bad.snapshot"), std::string::npos)
        << r.status().ToString();
    EXPECT_TRUE(f.db->GetCollection("x").status().IsNotFound());
    for (const auto& e : fs::directory_iterator(f.dir / "collections"))
      EXPECT_TRUE(e.path().filename() == "c") << e.path();  // no leftovers
  };

  // A flipped bit inside the first segment's bytes (past its tar header).
  const std::string seg = collection::SegmentName(
      Json::parse(ReadAll(f.dir / "collections/c/CURRENT"))["segments"][0]["gen"].get<uint64_t>());
  const size_t at = good.find(std::string("MOSSEG"));
  ASSERT_NE(at, std::string::npos);
  std::string bad = good;
  bad[at + 4096] ^= 0x10;
  refused(bad, "member '" + seg + "' fails its checksum");
  refused(good.substr(0, good.size() / 2), "member");  // cut short
  refused(std::string(4096, 'x'), "");                 // not a snapshot at all

  // Archives made by GNU tar from the snapshot's files: read as ours when whole, refused when a
  // member is left out, added, or the list is tampered with.
  const std::string x = f.dir / "x";
  fs::create_directories(x);
  Shell("tar xf '" + snap + "' -C '" + x + "'");
  const Json meta = Json::parse(ReadAll(x + "/mosaic-snapshot.json"));
  std::string members;
  for (const Json& m : meta["files"]) members += " '" + m["name"].get<std::string>() + "'";
  auto tar = [&](const std::string& list) {
    Shell("tar cf '" + f.dir / "t.tar" + "' --format=ustar -C '" + x + "' mosaic-snapshot.json" +
        list);
    return ReadAll(f.dir / "t.tar");
  };
  {
    WriteAll(f.dir / "gnu.snapshot", tar(members));
    auto r = f.db->RestoreSnapshot(f.dir / "gnu.snapshot", "gnu");
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(testing::ScrollAll(**r), testing::ScrollAll(*f.c));
    ASSERT_TRUE(f.db->DropCollection("gnu").ok());
  }
  refused(tar(members.substr(0, members.rfind(" '"))), "is missing");
  WriteAll(x + "/extra", "x");
  refused(tar(members + " extra"), "member 'extra' is not listed");
  for (const auto& [key, value, says] :
       {std::tuple<std::string, Json, std::string>{"version", 4, "version 4"},
        {"format", "zip", "\"format\""}}) {
    Json edited = meta;
    edited[key] = value;
    WriteAll(x + "/mosaic-snapshot.json", edited.dump());
    refused(tar(members), says);
  }
  Json edited = meta;
  edited["files"].push_back({{"name", "../evil"}, {"bytes", 1}, {"crc32c", 0}});
  WriteAll(x + "/mosaic-snapshot.json", edited.dump());
  refused(tar(members), "'../evil' is not a file name");
  EXPECT_FALSE(fs::exists(f.dir / "collections/evil"));
}

}  // namespace
}  // namespace mosaic
