// TextIndex: BM25 scores against the formula computed here from the documents themselves, and
// updates (erase, re-insert) leaving the index as if built from the final documents.
#include "index/text/text_index.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <sstream>

#include "common/coding.h"
#include "util/fault_env.h"

namespace mosaic::index {
namespace {

std::vector<std::string> Split(const std::string& s) {
  std::istringstream in(s);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

// BM25 straight from the definition, over the documents as given.
std::map<uint32_t, double> Reference(const std::map<uint32_t, std::string>& docs, const std::string& query,
                                     double k1, double b) {
  double total = 0;
  for (const auto& [slot, d] : docs) total += Split(d).size();
  const double n = docs.size(), avg = total / n;
  std::map<uint32_t, double> out;
  for (const std::string& q : Split(query)) {
    double df = 0;
    for (const auto& [slot, d] : docs) {
      auto w = Split(d);
      df += std::count(w.begin(), w.end(), q) > 0;
    }
    if (df == 0) continue;
    const double idf = std::log(1 + (n - df + 0.5) / (df + 0.5));
    for (const auto& [slot, d] : docs) {
      auto w = Split(d);
      const double tf = std::count(w.begin(), w.end(), q);
      if (tf == 0) continue;
      out[slot] += idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * w.size() / avg));
    }
  }
  return out;
}

void ExpectScores(const TextIndex& index, const std::map<uint32_t, std::string>& docs, const std::string& query,
                  float k1, float b) {
  for (float weight : {1.0f, 0.3f}) {
    ScoreAccumulator got;
    index.Score(Split(query), k1, b, weight, &got);
    const auto want = Reference(docs, query, k1, b);
    ASSERT_EQ(got.touched.size(), want.size()) << query;
    for (const auto& [slot, score] : want) {
      ASSERT_LT(slot, got.score.size()) << query << " slot " << slot;
      EXPECT_NEAR(got.score[slot], weight * score, 1e-5 * std::max(1.0, score)) << query << " slot " << slot;
    }
  }
}

const std::map<uint32_t, std::string> kDocs = {
    {0, "cat sat mat"},
    {1, "dog chase cat cat"},
    {2, "dog bark loud long night dog"},
    {5, "bird sing morn"},
    {9, "cat dog bird fish everi pet shop sell"},
};

TEST(TextIndexTest, ScoresAreBm25) {
  TextIndex index;
  for (const auto& [slot, d] : kDocs) index.Insert(slot, Split(d));
  EXPECT_EQ(index.documents(), 5u);
  EXPECT_NEAR(index.average_length(), 24.0 / 5, 1e-9);
  for (const char* q : {"cat", "dog", "cat dog", "bird fish", "cat cat", "zebra", "zebra cat"}) {
    ExpectScores(index, kDocs, q, 1.2f, 0.75f);
    ExpectScores(index, kDocs, q, 0.9f, 0.4f);
  }
  // Rarer terms weigh more; a document repeating the term ranks above one that has it once
  // when lengths are alike.
  ScoreAccumulator s(10);
  index.Score(Split("cat"), 1.2f, 0.75f, 1.0f, &s);
  EXPECT_GT(s.score[1], s.score[0]);
  ScoreAccumulator fish(10), dog(10);
  index.Score(Split("fish"), 1.2f, 0.75f, 1.0f, &fish);
  index.Score(Split("dog"), 1.2f, 0.75f, 1.0f, &dog);
  EXPECT_GT(fish.score[9], dog.score[9]);
}

TEST(TextIndexTest, UpdatesMatchAFreshBuild) {
  TextIndex index;
  for (const auto& [slot, d] : kDocs) index.Insert(slot, Split(d));
  auto docs = kDocs;
  index.Erase(2, Split(docs[2]));  // delete
  docs.erase(2);
  index.Erase(0, Split(docs[0]));  // update
  docs[0] = "cat nap sun";
  index.Insert(0, Split(docs[0]));
  index.Insert(12, Split("fish swim"));  // a new one
  docs[12] = "fish swim";
  index.Erase(40, Split("never inserted"));  // unknown: nothing happens
  index.Insert(41, {});                     // no terms: not a document
  EXPECT_EQ(index.documents(), docs.size());
  for (const char* q : {"cat", "dog", "fish", "bark", "nap cat sun"}) ExpectScores(index, docs, q, 1.2f, 0.75f);
  ScoreAccumulator s;
  index.Score(Split("bark"), 1.2f, 0.75f, 1.0f, &s);
  EXPECT_TRUE(s.touched.empty());
}

std::vector<uint32_t> SlotsWith(const std::map<uint32_t, std::string>& docs,
                                const std::vector<std::string>& terms) {
  std::vector<uint32_t> out;
  for (const auto& [slot, d] : docs) {
    auto w = Split(d);
    bool all = !terms.empty();
    for (const auto& t : terms) all = all && std::count(w.begin(), w.end(), t) > 0;
    if (all) out.push_back(slot);
  }
  return out;
}

// The documents exported whole, written to a file, and imported from it mapped: the lists are
// read in place (only the dictionary is built), and the index answers as the one it came from.
// Then documents of the file are erased and re-inserted and new ones added beside it: every
// answer (scores, with the document frequencies corrected for the erased ones, the documents
// holding all terms, the counts) is that of the final documents, and an export of the mixed index
// is byte for byte the export of an index built from them.
TEST(TextIndexTest, ListsReadInPlaceFromAFileFollowChanges) {
  TextIndex built;
  for (const auto& [slot, d] : kDocs) built.Insert(slot, Split(d));
  std::string out;
  built.Export(ExportMap{0, {}, 10}, &out);
  testing::TempDir dir;
  ASSERT_TRUE(WriteFileAtomically(Env::Default(), dir / "lists", out).ok());
  auto file = Env::Default()->OpenFileView(dir / "lists", /*map=*/true);
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  ImportMap map{0, {}, 10};
  map.file = std::move(file).value();
  TextIndex index;
  Decoder in(map.file->data());
  ASSERT_TRUE(index.Import(&in, map));
  EXPECT_TRUE(in.empty());
  EXPECT_TRUE(index.in_file());
  EXPECT_EQ(index.documents(), kDocs.size());
  EXPECT_NEAR(index.average_length(), 24.0 / 5, 1e-9);
  for (const char* q : {"cat", "dog", "cat dog", "bird fish", "cat cat", "zebra cat"})
    ExpectScores(index, kDocs, q, 1.2f, 0.75f);
  EXPECT_EQ(index.SlotsWithAll(Split("cat dog")), SlotsWith(kDocs, Split("cat dog")));
  EXPECT_EQ(index.DocumentFrequency("dog"), 3u);

  auto docs = kDocs;
  index.Erase(2, Split(docs[2]));  // deleted
  docs.erase(2);
  index.Erase(0, Split(docs[0]));  // changed: erased in the file, inserted beside it
  docs[0] = "cat nap sun dog";
  index.Insert(0, Split(docs[0]));
  index.Insert(12, Split("fish swim dog"));  // new
  docs[12] = "fish swim dog";
  index.Erase(2, Split("dog bark loud long night dog"));  // erased twice: nothing more happens
  index.Erase(7, Split("never inserted"));
  EXPECT_EQ(index.documents(), docs.size());
  EXPECT_EQ(index.DocumentFrequency("dog"), 4u);  // 1, 9 in the file; 0, 12 beside it
  EXPECT_EQ(index.DocumentFrequency("bark"), 0u);
  for (const char* q : {"cat", "dog", "fish", "bark", "nap cat sun", "dog swim"})
    ExpectScores(index, docs, q, 1.2f, 0.75f);
  for (const char* q : {"dog", "cat dog", "fish dog", "bark"})
    EXPECT_EQ(index.SlotsWithAll(Split(q)), SlotsWith(docs, Split(q))) << q;
  TextIndex fresh;
  for (const auto& [slot, d] : docs) fresh.Insert(slot, Split(d));
  std::string mixed, rebuilt;
  index.Export(ExportMap{0, {}, 13}, &mixed);
  fresh.Export(ExportMap{0, {}, 13}, &rebuilt);
  EXPECT_EQ(mixed, rebuilt);
  // Renumbered: an import with a map (as a merge makes) copies the lists into the heap.
  std::vector<uint32_t> local(13, kDroppedSlot);
  local[1] = 0;
  local[12] = 1;
  std::string part;
  index.Export(ExportMap{0, local}, &part);
  TextIndex merged;
  Decoder part_in(part);
  ImportMap renumber{5, {}};
  renumber.file = map.file;  // not read in place: the slots move
  ASSERT_TRUE(merged.Import(&part_in, renumber));
  EXPECT_FALSE(merged.in_file());
  ExpectScores(merged, {{5, docs[1]}, {6, docs[12]}}, "dog cat fish", 1.2f, 0.75f);
}

// Files of version 1 (frequencies after each term's slots, document lengths as a slot list) are
// still read, into the heap.
TEST(TextIndexTest, ReadsVersionOneLists) {
  std::string v1;
  std::map<std::string, std::vector<std::pair<uint32_t, uint32_t>>> postings;
  for (const auto& [slot, d] : kDocs) {
    std::map<std::string, uint32_t> tf;
    for (const auto& w : Split(d)) tf[w]++;
    for (const auto& [w, n] : tf) postings[w].push_back({slot, n});
  }
  PutVarint64(&v1, postings.size());
  for (const auto& [term, list] : postings) {
    PutLengthPrefixed(&v1, term);
    std::vector<uint32_t> slots;
    for (auto [slot, tf] : list) slots.push_back(slot);
    PutSlotList(&v1, slots);
    for (auto [slot, tf] : list) PutVarint64(&v1, tf);
  }
  std::vector<uint32_t> doc_slots;
  for (const auto& [slot, d] : kDocs) doc_slots.push_back(slot);
  PutSlotList(&v1, doc_slots);
  for (const auto& [slot, d] : kDocs) PutVarint64(&v1, Split(d).size());
  TextIndex index;
  Decoder in(v1);
  ImportMap map{0, {}, 10, 1};
  ASSERT_TRUE(index.Import(&in, map));
  EXPECT_TRUE(in.empty());
  EXPECT_FALSE(index.in_file());
  EXPECT_EQ(index.documents(), kDocs.size());
  for (const char* q : {"cat", "dog", "cat dog", "bird fish"}) ExpectScores(index, kDocs, q, 1.2f, 0.75f);
}

// Persistence (a segment's index file): slots [2, 10) exported without slot 5, imported after an
// index already holding slots 0 and 1, at base 2; the scores are those of the documents where
// they landed, and a second export of the imported range gives the same bytes.
TEST(TextIndexTest, ExportImportRenumbers) {
  TextIndex index;
  for (const auto& [slot, d] : kDocs) index.Insert(slot, Split(d));
  std::vector<uint32_t> local(8, kDroppedSlot);
  local[0] = 0;  // slot 2
  local[7] = 1;  // slot 9; slot 5 is dropped
  std::string out;
  index.Export(ExportMap{2, local}, &out);
  TextIndex loaded;
  loaded.Insert(0, Split(kDocs.at(0)));
  loaded.Insert(1, Split(kDocs.at(1)));
  Decoder in(out);
  ASSERT_TRUE(loaded.Import(&in, ImportMap{2, {}}));
  EXPECT_TRUE(in.empty());
  const std::map<uint32_t, std::string> docs = {
      {0, kDocs.at(0)}, {1, kDocs.at(1)}, {2, kDocs.at(2)}, {3, kDocs.at(9)}};
  EXPECT_EQ(loaded.documents(), docs.size());
  for (const char* q : {"cat", "dog", "bird", "sing", "fish pet dog"})
    ExpectScores(loaded, docs, q, 1.2f, 0.75f);
  EXPECT_EQ(loaded.SlotsWithAll(Split("cat dog")), (std::vector<uint32_t>{1, 3}));
  std::string again;
  loaded.Export(ExportMap{2, {}, 2}, &again);
  EXPECT_EQ(again, out);
  // Slots that would not follow those present, or a truncated export, are refused.
  Decoder twice(out);
  EXPECT_FALSE(loaded.Import(&twice, ImportMap{2, {}}));
  TextIndex fresh;
  Decoder cut(std::string_view(out).substr(0, out.size() - 1));
  EXPECT_FALSE(fresh.Import(&cut, ImportMap{0, {}}));
}

}  // namespace
}  // namespace mosaic::index
