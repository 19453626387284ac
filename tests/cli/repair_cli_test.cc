// A damaged collection through the `mosaic` binary: listed as damaged while the others work,
// refused by name, and salvaged by `mosaic repair` (issue 14, hole 9).
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "mosaic/env.h"
#include "util/cli_run.h"
#include "util/fault_env.h"

namespace mosaic {
namespace {

struct Ran {
  int code;
  std::string out;  // stdout and stderr together
};

Ran Mosaic(const std::string& args) {
  testing::CliRun r = testing::RunMosaic(args);
  return {r.code, r.all()};
}

TEST(RepairCli, ListsTheDamagedCollectionAndSalvagesItsLog) {
  testing::TempDir dir;
  const std::string db = dir / "db";
  const std::string q = "--db '" + db + "' ";
  {
    std::ofstream f(dir / "pts.jsonl");
    for (int i = 1; i <= 6; ++i)
      f << "{\"id\": " << i << ", \"vector\": [" << i << ", 0], \"payload\": {\"n\": " << i << "}}\n";
  }
  for (const char* name : {"good", "bad"}) {
    ASSERT_EQ(Mosaic(q + "collection create " + name + " --dim 2").code, 0);
    // Two points per write: three log records.
    Ran r = Mosaic(q + "upsert --collection " + name + " --batch 2 '" + (dir / "pts.jsonl") + "'");
    ASSERT_EQ(r.code, 0) << r.out;
  }
  // Damage the payload of the second of the three records (docs/wal_format.md: a 16-byte file
  // header, then records of a 13-byte header, whose bytes 4-7 are the payload length, and the
  // payload).
  std::string wal;
  for (const auto& e : std::filesystem::directory_iterator(db + "/collections/bad"))
    if (e.path().filename().string().starts_with("wal-")) wal = e.path().string();
  std::string data = *Env::Default()->ReadFile(wal);
  uint32_t first_length;
  std::memcpy(&first_length, data.data() + 16 + 4, 4);
  const size_t second = 16 + 13 + first_length;
  ASSERT_LT(second + 20, data.size());
  data[second + 13 + 2] ^= 0x20;
  std::ofstream(wal, std::ios::binary | std::ios::trunc) << data;

  Ran r = Mosaic(q + "collection list");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("good\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("bad  damaged: Corruption: "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("offset " + std::to_string(second)), std::string::npos) << r.out;
  r = Mosaic(q + "count --collection good");
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("6\n"), std::string::npos) << r.out;
  r = Mosaic(q + "collection info bad");
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("collection 'bad' is damaged"), std::string::npos) << r.out;
  r = Mosaic(q + "collection create bad --dim 2");
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("already exists and is damaged"), std::string::npos) << r.out;
  EXPECT_EQ(*Env::Default()->ReadFile(wal), data);  // untouched so far

  r = Mosaic("repair '" + db + "' good");
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("is not damaged"), std::string::npos) << r.out;
  r = Mosaic("repair '" + db + "' bad");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("repaired collection 'bad': 2 points"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("kept: 1 log records"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("lost: the log from offset " + std::to_string(second) + " on (" +
                       std::to_string(data.size() - second) +
                       " bytes: the damaged record and 1 whole records after it)"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("the damaged files are kept in " + db + "/collections/bad/.damaged-"),
            std::string::npos)
      << r.out;
  // The damaged log, byte for byte, in the copy.
  std::string copy;
  for (const auto& e : std::filesystem::recursive_directory_iterator(db + "/collections/bad"))
    if (e.path().parent_path().filename().string().starts_with(".damaged-") &&
        e.path().filename() == std::filesystem::path(wal).filename())
      copy = e.path().string();
  ASSERT_FALSE(copy.empty());
  EXPECT_EQ(*Env::Default()->ReadFile(copy), data);

  r = Mosaic(q + "count --collection bad");
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(r.out, "2\n");
  r = Mosaic(q + "collection list");
  EXPECT_EQ(r.out.find("damaged"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace mosaic
