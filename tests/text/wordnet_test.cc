// WordNet reader on WordNet 3.0's noun files (scripts/fetch-data links them into
// .cache/data/wordnet/), plus the errors for a missing directory and damaged files.
#include "text/wordnet.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "util/paths.h"

namespace mosaic::text {
namespace {

namespace fs = std::filesystem;

std::string WordNetDir() {
  return testing::DataDir() + "/wordnet";
}

class WordNetTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto wn = WordNet::Open(WordNetDir());
    ASSERT_TRUE(wn.ok()) << wn.status().ToString();
    wn_ = std::move(*wn).release();
  }
  static void TearDownTestSuite() {
    delete wn_;
    wn_ = nullptr;
  }

  // All words of the synsets above sense `sense` of `lemma`.
  static std::vector<std::string> Broader(const std::string& lemma, int sense = 1) {
    const auto senses = wn_->Senses(lemma);
    EXPECT_GE(static_cast<int>(senses.size()), sense) << lemma;
    if (static_cast<int>(senses.size()) < sense) return {};
    auto hypernyms = wn_->Hypernyms(senses[sense - 1]);
    EXPECT_TRUE(hypernyms.ok()) << hypernyms.status().ToString();
    if (!hypernyms.ok()) return {};
    std::vector<std::string> words;
    for (const auto& s : *hypernyms) {
      words.insert(words.end(), s.words.begin(), s.words.end());
    }
    return words;
  }

  static bool Has(const std::vector<std::string>& words, const std::string& w) {
    return std::find(words.begin(), words.end(), w) != words.end();
  }

  static std::string Joined(const std::vector<std::string>& words) {
    std::string s;
    for (const auto& w : words) {
      s += (s.empty() ? "" : ", ") + w;
    }
    return s;
  }

  static WordNet* wn_;
};

WordNet* WordNetTest::wn_ = nullptr;

TEST_F(WordNetTest, LooksUpLemmasAndSynonyms) {
  EXPECT_GT(wn_->lemma_count(), 100000u);  // 117,798 nouns in WordNet 3.0
  auto dog = wn_->Lookup("dog");
  ASSERT_TRUE(dog.ok()) << dog.status().ToString();
  ASSERT_EQ(dog->size(), 1u);
  const WordNetSynset& s = (*dog)[0];
  EXPECT_EQ(s.offset, 2084071u);
  EXPECT_EQ(s.words, (std::vector<std::string>{"dog", "domestic dog", "Canis familiaris"}));
  EXPECT_NE(s.gloss.find("domesticated"), std::string::npos) << s.gloss;
  EXPECT_EQ(s.hypernyms.size(), 2u);  // canine; domestic animal

  EXPECT_EQ(wn_->Senses("dog").size(), 7u);
  auto three = wn_->Lookup("dog", 3);
  ASSERT_TRUE(three.ok());
  EXPECT_EQ(three->size(), 3u);
  auto all = wn_->Lookup("dog", 100);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 7u);

  // Spaces and capitals as callers write them find WordNet's underscored lower-case lemmas.
  ASSERT_EQ(wn_->Senses("Traffic light").size(), 1u);
  EXPECT_EQ(wn_->Senses("traffic light"), wn_->Senses("traffic_light"));
  EXPECT_TRUE(wn_->Senses("stop sign").empty());
  EXPECT_TRUE(wn_->Senses("").empty());
  auto none = wn_->Lookup("qwzxv");
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

TEST_F(WordNetTest, HypernymChainsReachBroadWords) {
  const auto dog = Broader("dog");
  for (const char* w :
       {"canine", "canid", "carnivore", "mammal", "vertebrate", "animal", "organism", "entity"}) {
    EXPECT_TRUE(Has(dog, w)) << w << " not in " << Joined(dog);
  }
  EXPECT_TRUE(Has(dog, "domestic animal")) << Joined(dog);  // the second parent
  EXPECT_FALSE(Has(dog, "dog"));
  const auto truck = Broader("truck");
  EXPECT_TRUE(Has(truck, "motor vehicle")) << Joined(truck);
  EXPECT_TRUE(Has(truck, "vehicle")) << Joined(truck);
  EXPECT_TRUE(Has(Broader("horse"), "animal"));
  // Sense 1 of banana is the plant; sense 2 the fruit.
  const auto banana = Broader("banana", 2);
  EXPECT_TRUE(Has(banana, "fruit") || Has(banana, "edible fruit")) << Joined(banana);
  // Instance hypernyms (@i) count too: Paris is an instance of a national capital.
  EXPECT_TRUE(Has(Broader("paris"), "national capital")) << Joined(Broader("paris"));
}

TEST_F(WordNetTest, HypernymsAreNearestFirstAndEachOnce) {
  const auto senses = wn_->Senses("dog");
  auto h = wn_->Hypernyms(senses[0]);
  ASSERT_TRUE(h.ok());
  ASSERT_FALSE(h->empty());
  EXPECT_EQ(h->front().words.front(), "canine");
  EXPECT_EQ(h->back().words.front(), "entity");
  std::vector<uint32_t> offsets;
  for (const auto& s : *h) {
    offsets.push_back(s.offset);
  }
  std::sort(offsets.begin(), offsets.end());
  EXPECT_EQ(std::adjacent_find(offsets.begin(), offsets.end()), offsets.end());
}

// The senses the object detector picks where COCO means something other than sense 1.
TEST_F(WordNetTest, CocoSenses) {
  const auto words_of = [](const std::string& lemma, int sense) {
    auto s = wn_->Lookup(lemma, sense);
    EXPECT_TRUE(s.ok() && static_cast<int>(s->size()) == sense) << lemma << " " << sense;
    return s.ok() && static_cast<int>(s->size()) == sense ? s->back().words
                                                          : std::vector<std::string>{};
  };
  EXPECT_TRUE(Has(words_of("mouse", 4), "computer mouse"));
  EXPECT_TRUE(Has(Broader("mouse", 4), "electronic device")) << Joined(Broader("mouse", 4));
  EXPECT_TRUE(Has(Broader("mouse", 1), "rodent"));
  EXPECT_TRUE(Has(words_of("tie", 1), "necktie"));
  EXPECT_TRUE(Has(words_of("remote", 1), "remote control"));
  EXPECT_TRUE(Has(words_of("tv", 2), "television receiver"));
  EXPECT_TRUE(Has(words_of("microwave", 2), "microwave oven"));
  EXPECT_TRUE(Has(Broader("kite", 3), "toy")) << Joined(Broader("kite", 3));
  EXPECT_TRUE(Has(Broader("hot dog", 2), "sandwich")) << Joined(Broader("hot dog", 2));
  EXPECT_TRUE(Has(Broader("toilet", 2), "plumbing fixture")) << Joined(Broader("toilet", 2));
  EXPECT_TRUE(Has(Broader("toaster", 2), "kitchen appliance")) << Joined(Broader("toaster", 2));
  EXPECT_TRUE(Has(Broader("cake", 3), "baked goods")) << Joined(Broader("cake", 3));
  EXPECT_TRUE(Has(Broader("wineglass", 1), "glass")) << Joined(Broader("wineglass", 1));
  EXPECT_TRUE(Has(words_of("cellular telephone", 1), "mobile phone"));
  EXPECT_TRUE(Has(Broader("baseball bat", 1), "sports equipment"))
      << Joined(Broader("baseball bat", 1));
}

TEST_F(WordNetTest, SynsetAtABadOffsetIsCorruption) {
  auto mid = wn_->Synset(2084071 + 3);  // inside the dog line
  ASSERT_FALSE(mid.ok());
  EXPECT_TRUE(mid.status().IsCorruption()) << mid.status().ToString();
  EXPECT_NE(mid.status().message().find("data.noun at offset 02084074"), std::string::npos)
      << mid.status().ToString();
  auto past_end = wn_->Synset(4000000000u);
  ASSERT_FALSE(past_end.ok());
  EXPECT_TRUE(past_end.status().IsCorruption()) << past_end.status().ToString();
}

class WordNetFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) / ("wordnet_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  void Write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name, std::ios::binary) << text;
  }

  fs::path dir_;
};

TEST_F(WordNetFilesTest, MissingDirectoryIsNotFound) {
  const std::string dir = (dir_ / "nope").string();
  auto wn = WordNet::Open(dir);
  ASSERT_FALSE(wn.ok());
  EXPECT_TRUE(wn.status().IsNotFound()) << wn.status().ToString();
  EXPECT_NE(wn.status().message().find(dir + "/data.noun"), std::string::npos)
      << wn.status().ToString();

  Write("data.noun", "");
  auto no_index = WordNet::Open(dir_.string());
  ASSERT_FALSE(no_index.ok());
  EXPECT_TRUE(no_index.status().IsNotFound()) << no_index.status().ToString();
  EXPECT_NE(no_index.status().message().find((dir_ / "index.noun").string()), std::string::npos)
      << no_index.status().ToString();
}

TEST_F(WordNetFilesTest, CorruptIndexLineNamesFileAndLine) {
  // A tiny consistent database: "pup" is a kind of "dog", which has no hypernym.
  const std::string dog = "00000000 05 n 01 dog 0 000 | a dog\n";
  const std::string pup = "00000035 05 n 01 pup 0 001 @ 00000000 n 0000 | a young dog\n";
  ASSERT_EQ(dog.size(), 35u);
  Write("data.noun", dog + pup);
  const std::string header = "  1 license text\n";
  Write("index.noun", header + "dog n 1 0 1 0 00000000\npup n 1 1 @ 1 0 00000035\n");
  auto wn = WordNet::Open(dir_.string());
  ASSERT_TRUE(wn.ok()) << wn.status().ToString();
  EXPECT_EQ((*wn)->lemma_count(), 2u);
  auto up = (*wn)->Hypernyms((*wn)->Senses("pup").at(0));
  ASSERT_TRUE(up.ok()) << up.status().ToString();
  ASSERT_EQ(up->size(), 1u);
  EXPECT_EQ(up->front().words, std::vector<std::string>{"dog"});
  EXPECT_EQ(up->front().gloss, "a dog");

  // Line 3 claims two synsets but lists one.
  Write("index.noun", header + "dog n 1 0 1 0 00000000\npup n 2 1 @ 1 0 00000035\n");
  auto bad = WordNet::Open(dir_.string());
  ASSERT_FALSE(bad.ok());
  EXPECT_TRUE(bad.status().IsCorruption()) << bad.status().ToString();
  EXPECT_NE(bad.status().message().find((dir_ / "index.noun").string() + ":3:"), std::string::npos)
      << bad.status().ToString();

  Write("index.noun", header + "dog n 1 0 1 0 0000x000\n");
  bad = WordNet::Open(dir_.string());
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("index.noun:2: bad synset offset '0000x000'"),
            std::string::npos)
      << bad.status().ToString();

  // A hypernym pointer into the middle of a line is reported with the data file and offset.
  Write("data.noun", dog + "00000035 05 n 01 pup 0 001 @ 00000004 n 0000 | a young dog\n");
  Write("index.noun", header + "dog n 1 0 1 0 00000000\npup n 1 1 @ 1 0 00000035\n");
  auto wn2 = WordNet::Open(dir_.string());
  ASSERT_TRUE(wn2.ok()) << wn2.status().ToString();
  auto broken = (*wn2)->Hypernyms(35);
  ASSERT_FALSE(broken.ok());
  EXPECT_TRUE(broken.status().IsCorruption()) << broken.status().ToString();
  EXPECT_NE(broken.status().message().find("data.noun at offset 00000004"), std::string::npos)
      << broken.status().ToString();
}

}  // namespace
}  // namespace mosaic::text
