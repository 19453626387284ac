// Write-ahead log: round trip, torn tails at every byte of the last record, corruption in the
// middle (damaged payloads and damaged lengths), logs of format version 1, and failed appends
// rolled back.
#include <gtest/gtest.h>

#include <random>

#include "common/coding.h"
#include "storage/log_format.h"
#include "storage/log_reader.h"
#include "storage/log_writer.h"
#include "util/fault_env.h"
#include "util/wal_v1.h"

namespace mosaic::storage {
namespace {

using testing::FaultEnv;
using testing::TempDir;
using testing::Version1Wal;

std::vector<std::string> MakeRecords(int n) {
  std::mt19937 rng(7);
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) {
    std::string r(rng() % 300, '\0');
    for (char& c : r) c = static_cast<char>(rng());
    out.push_back(r);
  }
  return out;
}

// Writes a new log at `path` holding `records` (type 3); returns the offset of each record.
std::vector<uint64_t> WriteLog(const std::string& path, const std::vector<std::string>& records) {
  auto w = LogWriter::Create(Env::Default(), path);
  EXPECT_TRUE(w.ok()) << w.status().ToString();
  std::vector<uint64_t> starts;
  for (const auto& r : records) {
    starts.push_back((*w)->size());
    EXPECT_TRUE((*w)->AddRecord(3, r).ok());
  }
  return starts;
}

struct ReadAll {
  std::vector<std::string> records;
  LogReader::Outcome end = LogReader::Outcome::kEof;
  Status status;
  uint64_t valid_end = 0;
};

ReadAll Read(const std::string& data) {
  ReadAll r;
  LogReader reader(data, "test.log");
  r.status = reader.ReadHeader();
  if (!r.status.ok()) return r;
  for (;;) {
    uint8_t type;
    std::string_view payload;
    auto o = reader.Next(&type, &payload);
    if (!o.ok()) {
      r.status = o.status();
      break;
    }
    if (*o != LogReader::Outcome::kRecord) {
      r.end = *o;
      break;
    }
    EXPECT_EQ(type, 3);
    r.records.emplace_back(payload);
  }
  r.valid_end = reader.valid_end();
  return r;
}

TEST(Wal, RoundTrip) {
  TempDir dir;
  auto records = MakeRecords(50);
  auto w = LogWriter::Create(Env::Default(), dir / "a.log");
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  for (const auto& r : records) ASSERT_TRUE((*w)->AddRecord(3, r).ok());
  ASSERT_TRUE((*w)->Sync().ok());
  auto data = Env::Default()->ReadFile(dir / "a.log");
  ReadAll got = Read(*data);
  ASSERT_TRUE(got.status.ok()) << got.status.ToString();
  EXPECT_EQ(got.end, LogReader::Outcome::kEof);
  EXPECT_EQ(got.records, records);
}

TEST(Wal, EveryTruncationPointIsATornTailOrABoundary) {
  TempDir dir;
  auto records = MakeRecords(6);
  auto w = LogWriter::Create(Env::Default(), dir / "a.log");
  std::vector<uint64_t> boundaries = {kLogFileHeaderSize};
  for (const auto& r : records) {
    ASSERT_TRUE((*w)->AddRecord(3, r).ok());
    boundaries.push_back((*w)->size());
  }
  std::string full = *Env::Default()->ReadFile(dir / "a.log");
  for (size_t cut = kLogFileHeaderSize; cut <= full.size(); ++cut) {
    ReadAll got = Read(full.substr(0, cut));
    ASSERT_TRUE(got.status.ok()) << "cut " << cut << ": " << got.status.ToString();
    // The records that survive are exactly those wholly before the cut.
    size_t complete = 0;
    while (complete < records.size() && boundaries[complete + 1] <= cut) ++complete;
    ASSERT_EQ(got.records.size(), complete) << "cut " << cut;
    bool at_boundary = boundaries[complete] == cut;
    EXPECT_EQ(got.end, at_boundary ? LogReader::Outcome::kEof : LogReader::Outcome::kTornTail)
        << "cut " << cut;
    EXPECT_EQ(got.valid_end, boundaries[complete]);
  }
}

TEST(Wal, DamagedMiddleRecordIsCorruption) {
  TempDir dir;
  auto records = MakeRecords(5);
  const uint64_t second = WriteLog(dir / "a.log", records)[1];
  std::string data = *Env::Default()->ReadFile(dir / "a.log");
  data[second + kLogRecordHeaderSize + 1] ^= 0x20;  // flip a bit in record 1's payload
  ReadAll got = Read(data);
  ASSERT_TRUE(got.status.IsCorruption()) << got.status.ToString();
  EXPECT_NE(got.status.message().find("offset " + std::to_string(second)), std::string::npos)
      << got.status.message();
  EXPECT_EQ(got.records.size(), 1u);
}

// A damaged length used to read as a torn tail (the length was outside the CRC), so reopening
// truncated every acknowledged record after it.
TEST(Wal, DamagedLengthInTheMiddleIsCorruption) {
  TempDir dir;
  auto records = MakeRecords(5);
  const uint64_t second = WriteLog(dir / "a.log", records)[1];
  const std::string data = *Env::Default()->ReadFile(dir / "a.log");
  const uint32_t length = static_cast<uint32_t>(records[1].size());
  for (uint32_t damaged : {length + 1, length - 1, 0u, 0x00ffffffu, kMaxLogRecordSize + 1,
                           0xffffffffu}) {
    std::string bad = data;
    EncodeFixed32(bad.data() + second + 4, damaged);
    ReadAll got = Read(bad);
    ASSERT_TRUE(got.status.IsCorruption()) << "length " << damaged << ": " << got.status.ToString();
    EXPECT_NE(got.status.message().find("test.log"), std::string::npos) << got.status.message();
    EXPECT_NE(got.status.message().find("offset " + std::to_string(second)), std::string::npos)
        << got.status.message();
    EXPECT_EQ(got.records.size(), 1u);
    EXPECT_EQ(got.valid_end, second);
  }
}

// Whatever byte is damaged, records before it are read; damage before the last record is
// reported, damage in the last record drops only that record.
TEST(Wal, AnyDamagedByteIsCorruptionUnlessInTheLastRecord) {
  TempDir dir;
  auto records = MakeRecords(4);
  const std::vector<uint64_t> starts = WriteLog(dir / "a.log", records);
  const std::string data = *Env::Default()->ReadFile(dir / "a.log");
  for (size_t p = kLogFileHeaderSize; p < data.size(); ++p) {
    for (char flip : {'\x01', '\x80'}) {
      std::string bad = data;
      bad[p] ^= flip;
      size_t damaged = 0;
      while (damaged + 1 < starts.size() && starts[damaged + 1] <= p) ++damaged;
      ReadAll got = Read(bad);
      EXPECT_EQ(got.records.size(), damaged) << "byte " << p;
      if (damaged + 1 < records.size()) {
        EXPECT_TRUE(got.status.IsCorruption()) << "byte " << p << ": " << got.status.ToString();
      } else {
        EXPECT_TRUE(got.status.ok()) << "byte " << p << ": " << got.status.ToString();
        EXPECT_EQ(got.end, LogReader::Outcome::kTornTail) << "byte " << p;
      }
    }
  }
}

TEST(Wal, GarbageAfterTheLastRecordIsATornTail) {
  TempDir dir;
  auto w = LogWriter::Create(Env::Default(), dir / "a.log");
  ASSERT_TRUE((*w)->AddRecord(3, "hello").ok());
  const std::string data = *Env::Default()->ReadFile(dir / "a.log");
  std::mt19937 rng(3);
  std::string garbage(5000, '\0');
  for (char& c : garbage) c = static_cast<char>(rng());
  ReadAll got = Read(data + garbage);
  ASSERT_TRUE(got.status.ok()) << got.status.ToString();
  EXPECT_EQ(got.end, LogReader::Outcome::kTornTail);
  EXPECT_EQ(got.records, std::vector<std::string>{"hello"});
  EXPECT_EQ(got.valid_end, data.size());
}

std::vector<std::pair<uint8_t, std::string>> Typed(const std::vector<std::string>& records) {
  std::vector<std::pair<uint8_t, std::string>> out;
  for (const auto& r : records) out.emplace_back(3, r);
  return out;
}

TEST(Wal, ReadsAndAppendsToVersion1Logs) {
  TempDir dir;
  auto records = MakeRecords(4);
  const std::string v1 = Version1Wal(Typed(records));
  ReadAll got = Read(v1);
  ASSERT_TRUE(got.status.ok()) << got.status.ToString();
  EXPECT_EQ(got.end, LogReader::Outcome::kEof);
  EXPECT_EQ(got.records, records);
  // Its torn tails are still dropped.
  ReadAll torn = Read(v1.substr(0, v1.size() - 3));
  ASSERT_TRUE(torn.status.ok()) << torn.status.ToString();
  EXPECT_EQ(torn.end, LogReader::Outcome::kTornTail);
  EXPECT_EQ(torn.records.size(), records.size() - 1);
  // A writer reopened on it appends in its version, so the file stays readable.
  auto f = *Env::Default()->NewWritableFile(dir / "a.log");
  ASSERT_TRUE(f->Append(v1).ok());
  ASSERT_TRUE(f->Close().ok());
  LogReader reader(v1, "a.log");
  ASSERT_TRUE(reader.ReadHeader().ok());
  EXPECT_EQ(reader.version(), 1u);
  auto w = LogWriter::Reopen(Env::Default(), dir / "a.log", v1.size(), reader.version());
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  ASSERT_TRUE((*w)->AddRecord(3, "more").ok());
  records.push_back("more");
  EXPECT_EQ(*Env::Default()->ReadFile(dir / "a.log"), Version1Wal(Typed(records)));
}

TEST(Wal, DamagedLastRecordIsATornTail) {
  TempDir dir;
  auto records = MakeRecords(3);
  auto w = LogWriter::Create(Env::Default(), dir / "a.log");
  for (const auto& r : records) ASSERT_TRUE((*w)->AddRecord(3, r).ok());
  std::string data = *Env::Default()->ReadFile(dir / "a.log");
  data.back() ^= 1;
  ReadAll got = Read(data);
  ASSERT_TRUE(got.status.ok());
  EXPECT_EQ(got.end, LogReader::Outcome::kTornTail);
  EXPECT_EQ(got.records.size(), 2u);
}

TEST(Wal, ZeroFilledTailIsATornTail) {
  TempDir dir;
  auto w = LogWriter::Create(Env::Default(), dir / "a.log");
  ASSERT_TRUE((*w)->AddRecord(3, "hello").ok());
  std::string data = *Env::Default()->ReadFile(dir / "a.log") + std::string(4096, '\0');
  ReadAll got = Read(data);
  ASSERT_TRUE(got.status.ok()) << got.status.ToString();
  EXPECT_EQ(got.end, LogReader::Outcome::kTornTail);
  EXPECT_EQ(got.records, std::vector<std::string>{"hello"});
}

TEST(Wal, BadHeaderIsCorruption) {
  EXPECT_TRUE(Read("").status.IsCorruption());
  EXPECT_TRUE(Read("MOSWAL\0\0xxxxxxxx").status.IsCorruption());  // too short / bad version
  std::string wrong_magic(16, 'x');
  EXPECT_TRUE(Read(wrong_magic).status.IsCorruption());
}

TEST(Wal, FailedAppendIsRolledBack) {
  TempDir dir;
  FaultEnv env;
  auto w = LogWriter::Create(&env, dir / "a.log");
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE((*w)->AddRecord(3, "first").ok());
  uint64_t size = (*w)->size();
  env.SetWriteBudget(4);  // the next record tears after 4 bytes
  Status s = (*w)->AddRecord(3, std::string(100, 'x'));
  EXPECT_TRUE(s.IsResourceExhausted()) << s.ToString();
  EXPECT_EQ(*env.GetFileSize(dir / "a.log"), size);
  env.SetWriteBudget(-1);
  ASSERT_TRUE((*w)->AddRecord(3, "third").ok());
  ReadAll got = Read(*env.ReadFile(dir / "a.log"));
  ASSERT_TRUE(got.status.ok());
  EXPECT_EQ(got.records, (std::vector<std::string>{"first", "third"}));
}

TEST(Wal, FailedSyncStopsFurtherWrites) {
  TempDir dir;
  FaultEnv env;
  auto w = LogWriter::Create(&env, dir / "a.log");
  ASSERT_TRUE((*w)->AddRecord(3, "a").ok());
  env.FailSyncs(true);
  EXPECT_TRUE((*w)->Sync().IsIOError());
  env.FailSyncs(false);
  Status s = (*w)->AddRecord(3, "b");
  EXPECT_TRUE(s.IsIOError());
  EXPECT_NE(s.message().find("reopen"), std::string::npos);
}

}  // namespace
}  // namespace mosaic::storage
