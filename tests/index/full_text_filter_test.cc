// Full-text filter conditions ("match": {"text"} and {"phrase"}): a table of hand-checked cases,
// then random documents against a reference written here over the tokenizer's terms, with and
// without a text index giving the candidates. Also the retrieval half of Bm25Index: documents
// holding all terms, and the best k under an allow-set, against brute force.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "index/filter/payload_index.h"
#include "index/text/bm25_index.h"
#include "mosaic/filter.h"
#include "text/word_tokenizer.h"

namespace mosaic::index {
namespace {

Filter MustParse(const std::string& text) {
  Result<Filter> f = Filter::Parse(text);
  EXPECT_TRUE(f.ok()) << text << ": " << f.status().ToString();
  return f.ok() ? std::move(f).value() : Filter();
}

std::string TextCondition(const std::string& key, const std::string& mode,
                          const std::string& query) {
  return Json{{"must", {{{"key", key}, {"match", {{mode, query}}}}}}}.dump();
}

struct TableCase {
  std::string mode;  // "text" or "phrase"
  std::string query;
  Json payload;
  bool matches;
};

TEST(FullTextFilterTest, Table) {
  const std::vector<TableCase> cases = {
      // Every term, in any order, folded and stemmed like the text index.
      {"text", "sleeping cats", {{"t", "The cat sleeps on the mat"}}, true},
      {"text", "sleeping cats", {{"t", "CATS ARE SLEEPING"}}, true},
      {"text", "sleeping cats", {{"t", "a sleeping dog"}}, false},
      {"text", "sleeping cats", {{"t", "cat"}}, false},
      // The terms may come from different strings at the path.
      {"text", "sleeping cats", {{"t", {"my cats", "are sleeping"}}}, true},
      {"text", "cat cat", {{"t", "one cat"}}, true},
      // Stopwords in the query are not required.
      {"text", "the cat of the house", {{"t", "house cat"}}, true},
      {"text", "2019 report", {{"t", "Report for 2019"}}, true},
      {"text", "Straße", {{"t", "STRASSE"}}, true},
      // Non-strings and missing keys hold no words.
      {"text", "cat", {{"t", 5}}, false},
      {"text", "cat", {{"t", nullptr}}, false},
      {"text", "cat", {{"t", {{"inner", "cat"}}}}, false},
      {"text", "cat", Json::object(), false},
      {"text", "cat", {{"t", {1, "cat"}}}, true},
      // A phrase: consecutive terms, in order, within one string.
      {"phrase", "red car", {{"t", "a red car parked"}}, true},
      {"phrase", "red car", {{"t", "Red cars!"}}, true},
      {"phrase", "red car", {{"t", "red, car"}}, true},
      {"phrase", "red car", {{"t", "the car is red"}}, false},
      {"phrase", "red car", {{"t", "red sports car"}}, false},
      {"phrase", "red car", {{"t", {"red", "car"}}}, false},
      {"phrase", "red car", {{"t", {"blue car", "my red car"}}}, true},
      // Stopwords are dropped on both sides: "cup of coffee" is the phrase [cup, coffe].
      {"phrase", "cup of coffee", {{"t", "a cup coffee"}}, true},
      {"phrase", "cup of coffee", {{"t", "cup of coffee"}}, true},
      {"phrase", "cup coffee", {{"t", "cup of the coffee"}}, true},
      {"phrase", "cup of coffee", {{"t", "cup of hot coffee"}}, false},
      {"phrase", "cup of coffee", {{"t", "coffee cup"}}, false},
      {"phrase", "cat", {{"t", "cats"}}, true},
  };
  for (const TableCase& c : cases) {
    const std::string f = TextCondition("t", c.mode, c.query);
    EXPECT_EQ(MustParse(f).Matches(PointId(uint64_t{1}), c.payload), c.matches)
        << f << " on " << c.payload.dump();
  }
  // Nested paths and arrays of objects, as for other conditions.
  Filter nested = MustParse(TextCondition("items[].title", "text", "blue whale"));
  EXPECT_TRUE(
      nested.Matches(PointId(uint64_t{1}), Json::parse(R"({"items": [{"title": "a blue sky"},
                                                          {"title": "whales"}]})")));
  EXPECT_FALSE(
      nested.Matches(PointId(uint64_t{1}), Json::parse(R"({"items": {"title": "a blue sky"}})")));
}

// Documents of words from a small vocabulary (with inflections, stopwords and case changes),
// one string or several per document.
const std::vector<std::string> kWords = {
    "cat",  "cats", "Cat",   "dog",      "dogs",   "running", "runs",  "run",  "red",  "blue",
    "car",  "cars", "house", "houses",   "the",    "of",      "and",   "a",    "2019", "green",
    "tree", "sky",  "sleep", "sleeping", "Sleeps", "big",     "small", "fast", "slow", "river"};

std::string RandomText(std::mt19937& rng, int max_words) {
  const int words = std::uniform_int_distribution<int>(0, max_words)(rng);
  std::string out;
  for (int i = 0; i < words; ++i) {
    if (!out.empty()) out += std::uniform_int_distribution<int>(0, 4)(rng) == 0 ? ", " : " ";
    out += kWords[std::uniform_int_distribution<size_t>(0, kWords.size() - 1)(rng)];
  }
  return out;
}

Json RandomDoc(std::mt19937& rng) {
  const int shape = std::uniform_int_distribution<int>(0, 9)(rng);
  if (shape == 0) return Json::object();
  if (shape == 1) return {{"body", 42}};
  if (shape <= 6) return {{"body", RandomText(rng, 8)}};
  Json parts = Json::array();
  for (int k = std::uniform_int_distribution<int>(0, 3)(rng); k > 0; --k)
    parts.push_back(RandomText(rng, 4));
  return {{"body", parts}};
}

// The reference: the strings at "body" as term lists, by the tokenizer itself.
std::vector<std::vector<std::string>> TermLists(const text::WordTokenizer& tok, const Json& doc) {
  std::vector<std::vector<std::string>> out;
  if (!doc.contains("body")) return out;
  const Json& body = doc["body"];
  auto add = [&](const Json& v) {
    if (v.is_string()) out.push_back(tok.Terms(v.get<std::string>()));
  };
  if (body.is_array()) {
    for (const Json& v : body)
      add(v);
  } else {
    add(body);
  }
  return out;
}

bool ReferenceText(const std::vector<std::vector<std::string>>& lists,
                   const std::vector<std::string>& query) {
  std::set<std::string> have;
  for (const auto& l : lists)
    have.insert(l.begin(), l.end());
  for (const std::string& q : query)
    if (!have.count(q)) return false;
  return true;
}

bool ReferencePhrase(const std::vector<std::vector<std::string>>& lists,
                     const std::vector<std::string>& query) {
  for (const auto& l : lists)
    for (size_t i = 0; i + query.size() <= l.size(); ++i)
      if (std::equal(query.begin(), query.end(), l.begin() + static_cast<std::ptrdiff_t>(i)))
        return true;
  return false;
}

TEST(FullTextFilterTest, RandomDocumentsAgreeWithReferenceAndIndexCandidates) {
  Result<text::WordTokenizer> tok = text::WordTokenizer::Create();
  ASSERT_TRUE(tok.ok()) << tok.status().ToString();
  std::mt19937 rng(2024);
  std::vector<std::optional<Json>> docs;
  PayloadIndexSet set;
  ASSERT_TRUE(set.Create("body", PayloadIndexType::kText).ok());
  for (uint32_t slot = 0; slot < 3000; ++slot) {
    docs.push_back(RandomDoc(rng));
    set.Insert(slot, *docs.back());
  }
  // Some updates and deletes, so the index is not just a fresh build.
  for (uint32_t slot = 0; slot < docs.size(); slot += 7) {
    set.Erase(slot, *docs[slot]);
    if (slot % 2 == 0) {
      docs[slot] = RandomDoc(rng);
      set.Insert(slot, *docs[slot]);
    } else {
      docs[slot].reset();
    }
  }
  // The reference's term lists, once per document (not once per query).
  std::vector<std::vector<std::vector<std::string>>> doc_lists(docs.size());
  for (uint32_t slot = 0; slot < docs.size(); ++slot)
    if (docs[slot]) doc_lists[slot] = TermLists(*tok, *docs[slot]);
  auto no_ids = [](const PointId&) -> std::optional<uint32_t> { return std::nullopt; };
  size_t nontrivial = 0;
  for (int round = 0; round < 200; ++round) {
    const std::string mode = round % 2 ? "phrase" : "text";
    std::string query = RandomText(rng, 3);
    const std::vector<std::string> terms = tok->Terms(query);
    const std::string text = TextCondition("body", mode, query);
    Result<Filter> f = Filter::Parse(text);
    if (terms.empty()) {  // only stopwords or nothing: rejected
      EXPECT_TRUE(f.status().IsInvalidArgument()) << text;
      continue;
    }
    ASSERT_TRUE(f.ok()) << text << ": " << f.status().ToString();
    std::vector<uint32_t> scan;
    for (uint32_t slot = 0; slot < docs.size(); ++slot) {
      if (!docs[slot]) continue;
      const auto& lists = doc_lists[slot];
      const bool want =
          mode == "text" ? ReferenceText(lists, terms) : ReferencePhrase(lists, terms);
      ASSERT_EQ(f->Matches(PointId(uint64_t{slot}), *docs[slot]), want)
          << text << " on " << docs[slot]->dump();
      if (want) scan.push_back(slot);
    }
    nontrivial += !scan.empty();
    std::optional<std::vector<uint32_t>> cand = set.Candidates(f->root(), no_ids);
    ASSERT_TRUE(cand.has_value()) << text;
    EXPECT_TRUE(std::is_sorted(cand->begin(), cand->end()));
    EXPECT_TRUE(std::includes(cand->begin(), cand->end(), scan.begin(), scan.end())) << text;
    std::vector<uint32_t> checked;
    for (uint32_t slot : *cand) {
      ASSERT_TRUE(slot < docs.size() && docs[slot]) << "candidate " << slot << " is not a document";
      if (f->Matches(PointId(uint64_t{slot}), *docs[slot])) checked.push_back(slot);
    }
    EXPECT_EQ(checked, scan) << text;
    // All terms anywhere in the field is exactly what the index's documents hold.
    if (mode == "text") {
      EXPECT_EQ(*cand, scan) << text;
    }
  }
  EXPECT_GT(nontrivial, 50u);
  // Without a text index on the field, nothing bounds the condition.
  PayloadIndexSet keyword;
  ASSERT_TRUE(keyword.Create("body", PayloadIndexType::kKeyword).ok());
  EXPECT_FALSE(keyword.Candidates(MustParse(TextCondition("body", "text", "cat")).root(), no_ids));
}

TEST(Bm25IndexTest, SlotsWithAllTermsAndTopUnderAnAllowSet) {
  const Result<text::WordTokenizer>& tok = FullTextTokenizer();
  ASSERT_TRUE(tok.ok());
  Bm25Index index(*tok);
  std::mt19937 rng(5);
  std::vector<std::string> docs;
  for (uint32_t slot = 0; slot < 500; ++slot) {
    docs.push_back(RandomText(rng, 10));
    std::string_view text = docs.back();
    index.Insert(slot, std::span<const std::string_view>(&text, 1));
  }
  for (int round = 0; round < 50; ++round) {
    std::vector<std::string> terms = tok->Terms(RandomText(rng, 3));
    std::vector<uint32_t> want;
    for (uint32_t slot = 0; slot < docs.size(); ++slot) {
      std::vector<std::string> have = tok->Terms(docs[slot]);
      bool all = !terms.empty();
      for (const std::string& t : terms)
        all = all && std::count(have.begin(), have.end(), t) > 0;
      if (all) want.push_back(slot);
    }
    EXPECT_EQ(index.SlotsWithAll(terms), want);
    EXPECT_GE(index.EstimateWithAll(terms), want.size());
  }

  ScoreAccumulator scores(docs.size());
  index.Score("red car running", 1.2f, 0.75f, 1.0f, &scores);
  ASSERT_GT(scores.touched.size(), 20u);
  Bitset allow(docs.size());
  for (uint32_t slot = 0; slot < docs.size(); slot += 3)
    allow.Set(slot);
  // Ties by descending slot, to see that `before` decides them.
  auto before = [](uint32_t a, uint32_t b) { return a > b; };
  std::vector<std::pair<uint32_t, float>> all;
  for (uint32_t slot : scores.touched)
    if (allow.Test(slot)) all.emplace_back(slot, scores.score[slot]);
  std::sort(all.begin(), all.end(), [&](auto& a, auto& b) {
    return a.second != b.second ? a.second > b.second : before(a.first, b.first);
  });
  for (size_t k : {size_t{1}, size_t{7}, all.size(), all.size() + 5}) {
    std::vector<std::pair<uint32_t, float>> want(all.begin(),
                                                 all.begin() + std::min(k, all.size()));
    EXPECT_EQ(scores.Top(k, &allow, before), want) << k;
  }
  EXPECT_EQ(scores.Top(1000, nullptr, before).size(), scores.touched.size());
}

}  // namespace
}  // namespace mosaic::index
