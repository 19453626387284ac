// A video's soundtrack through ingest: a video written by the test (util/av_writer.h) with hard
// cuts at known times and real speech (pocketsphinx-testdata's spoken card names) placed at known
// times on its audio track, ingested with the real recognizer. The speech must come back as timed
// "speech" points with text vectors, on the video's transcript, and on the shots it overlaps.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "ingest/ingest.h"
#include "media/audio_decode.h"
#include "mosaic/db.h"
#include "test_models.h"
#include "util/av_writer.h"
#include "util/fault_env.h"
#include "util/paths.h"

namespace mosaic::ingest {
namespace {

using testing::DataDir;
using testing::TempDir;

constexpr int kRate = 16000;
constexpr double kSeconds = 12.0;

// A card recording placed on the soundtrack.
struct Utterance {
  std::string file;  // in DataDir()/speech/cards
  double at_s;       // where its first sample goes
  double length_s = 0;
  std::string text;  // from cards.transcription
};

// "<s> ten of clubs  </s> (001)" → {"001": "ten of clubs"}.
std::map<std::string, std::string> CardTranscripts() {
  std::ifstream in(DataDir() + "/speech/cards/cards.transcription");
  std::map<std::string, std::string> out;
  const std::regex line(R"(<s>\s*(.*?)\s*</s>\s*\((\w+)\))");
  std::string l;
  for (std::smatch m; std::getline(in, l);)
    if (std::regex_search(l, m, line)) out[m[2]] = m[1];
  return out;
}

std::vector<std::string> Words(const std::string& s) {
  std::istringstream in(s);
  return {std::istream_iterator<std::string>(in), {}};
}

// Shares a word with `b`, leaving out "of", which every card name has.
bool SharesAWord(const std::string& a, const std::string& b) {
  const auto wb = Words(b);
  for (const auto& w : Words(a))
    if (w != "of" && std::find(wb.begin(), wb.end(), w) != wb.end()) return true;
  return false;
}

// Scenes A, B, C, A: cuts at 3, 5 and 9 s, on whole frames and on the scanner's sampling grid
// (4 per second). The second card straddles the cut at 5 s and the third the one at 9 s.
const std::vector<testing::VideoSegment>& Scenes() {
  static const std::vector<testing::VideoSegment> s = {{3.0, testing::SceneA},
                                                       {2.0, testing::SceneB},
                                                       {4.0, testing::SceneC},
                                                       {3.0, testing::SceneA}};
  return s;
}
constexpr double kCuts[] = {0.0, 3.0, 5.0, 9.0};

class SoundtrackTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = Db::Open(dir_ / "db");
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(*db);
  }

  // Ingests `paths` into `collection` with CLIP (image and text), the visual descriptor and
  // speech; returns every point of the collection.
  std::vector<Point> Ingest(const std::string& collection, const std::vector<std::string>& paths,
                            Stats& stats) {
    Options o;
    o.models_dir = IngestModels();
    o.encoders = {"clip", "visual", "speech"};
    auto ing = Ingestor::Open(db_.get(), collection, o);
    EXPECT_TRUE(ing.ok()) << ing.status().ToString();
    if (!ing.ok()) return {};
    auto s = (*ing)->Run(paths);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    if (!s.ok()) return {};
    stats = *s;
    auto c = db_->GetCollection(collection);
    EXPECT_TRUE(c.ok());
    ScrollRequest r;
    r.limit = 1000;
    r.with_vectors = true;
    auto page = (*c)->Scroll(r);
    EXPECT_TRUE(page.ok());
    return page.ok() ? page->points : std::vector<Point>{};
  }

  TempDir dir_;
  std::unique_ptr<Db> db_;
};

std::vector<Point> OfKind(const std::vector<Point>& all, const std::string& kind) {
  std::vector<Point> out;
  for (const auto& p : all)
    if (p.payload.value("kind", "") == kind) out.push_back(p);
  std::sort(out.begin(), out.end(), [](const Point& a, const Point& b) {
    return a.payload.value("start", 0.0) < b.payload.value("start", 0.0);
  });
  return out;
}

TEST_F(SoundtrackTest, SpeechOnAVideoSoundtrackBecomesTimedSpeechPointsAndShotTranscripts) {
  const auto transcripts = CardTranscripts();
  std::vector<Utterance> utts = {{"001", 0.5}, {"003", 4.5}, {"004", 8.5}};
  testing::AudioTrack audio;
  audio.sample_rate = kRate;
  audio.samples.assign(size_t(kSeconds * kRate), 0);
  for (auto& u : utts) {
    ASSERT_TRUE(transcripts.count(u.file)) << u.file;
    u.text = transcripts.at(u.file);
    auto card = media::DecodeAudio(DataDir() + "/speech/cards/" + u.file + ".wav", kRate);
    ASSERT_TRUE(card.ok()) << card.status().ToString();
    const auto pcm = media::ToPcm16(card->samples);
    u.length_s = double(pcm.size()) / kRate;
    const size_t at = size_t(u.at_s * kRate);
    ASSERT_LE(at + pcm.size(), audio.samples.size()) << u.file;
    std::copy(pcm.begin(), pcm.end(), audio.samples.begin() + at);
  }
  testing::VideoSpec spec;
  spec.container = "avi";
  spec.segments = Scenes();
  spec.audio = std::move(audio);
  const std::string in = dir_ / "in";
  std::filesystem::create_directories(in);
  const std::string path = in + "/cards.avi";
  const Status written = testing::WriteVideo(path, spec);
  ASSERT_TRUE(written.ok()) << written.ToString();

  Stats stats;
  const auto all = Ingest("v", {in}, stats);
  ASSERT_EQ(stats.files_failed, 0u) << stats.errors[0].status.ToString();
  ASSERT_EQ(stats.files_new, 1u);
  const auto videos = OfKind(all, "video");
  ASSERT_EQ(videos.size(), 1u);
  const Point& video = videos[0];
  EXPECT_FALSE(video.payload.contains("transcript_error")) << video.payload["transcript_error"];
  EXPECT_NEAR(video.payload["duration"].get<double>(), kSeconds, 0.1);

  // The transcript names the three cards, in order; pocketsphinx gets about 1 word in 20 wrong.
  const std::string transcript = video.payload.value("transcript", "");
  SCOPED_TRACE("transcript: " + transcript);
  int exact = 0;
  size_t from = 0;
  for (const auto& u : utts) {
    const size_t at = transcript.find(u.text, from);
    if (at != std::string::npos) {
      ++exact;
      from = at + u.text.size();
    }
    EXPECT_TRUE(SharesAWord(transcript, u.text)) << u.text;
  }
  EXPECT_GE(exact, 2);

  // Speech points: each lies within one card's placement (give or take 0.6 s), each card has
  // some, and their text is the card's.
  const auto speech = OfKind(all, "speech");
  ASSERT_GE(speech.size(), utts.size());
  std::vector<std::vector<const Point*>> by_utt(utts.size());
  for (const auto& p : speech) {
    const double start = p.payload["start"].get<double>(), end = p.payload["end"].get<double>();
    SCOPED_TRACE(p.payload.dump());
    EXPECT_LT(start, end);
    EXPECT_EQ(p.payload["parent"], video.id.str());
    ASSERT_TRUE(p.vectors.count("clip"));
    EXPECT_EQ(p.vectors.at("clip").size(), video.vectors.at("clip").size());
    size_t owner = utts.size();
    for (size_t i = 0; i < utts.size(); ++i)
      if (start >= utts[i].at_s - 0.6 && end <= utts[i].at_s + utts[i].length_s + 0.6) owner = i;
    ASSERT_LT(owner, utts.size()) << "speech outside every card's placement";
    by_utt[owner].push_back(&p);
  }
  std::vector<std::string> said(utts.size());
  for (size_t i = 0; i < utts.size(); ++i) {
    SCOPED_TRACE(utts[i].file + ": " + utts[i].text);
    ASSERT_FALSE(by_utt[i].empty());
    const double start = by_utt[i].front()->payload["start"].get<double>();
    const double end = by_utt[i].back()->payload["end"].get<double>();
    EXPECT_NEAR(start, utts[i].at_s, 0.6);
    EXPECT_NEAR(end, utts[i].at_s + utts[i].length_s, 0.6);
    for (const Point* p : by_utt[i])
      said[i] += (said[i].empty() ? "" : " ") + p->payload["text"].get<std::string>();
    EXPECT_TRUE(SharesAWord(said[i], utts[i].text)) << said[i];
  }

  // Shots start at the cuts; a shot carries the text of exactly the speech that overlaps it.
  const auto shots = OfKind(all, "shot");
  ASSERT_EQ(shots.size(), std::size(kCuts));
  for (size_t s = 0; s < shots.size(); ++s) {
    const Json& sp = shots[s].payload;
    SCOPED_TRACE("shot " + std::to_string(s) + ": " + sp.dump().substr(0, 300));
    EXPECT_NEAR(sp["start"].get<double>(), kCuts[s], 0.5);
    EXPECT_TRUE(shots[s].vectors.count("clip"));
    const std::string shot_text = sp.value("transcript", "");
    for (const auto& p : speech) {
      const bool overlaps = p.payload["end"].get<double>() > sp["start"].get<double>() &&
                            p.payload["start"].get<double>() < sp["end"].get<double>();
      const std::string text = p.payload["text"];
      EXPECT_EQ(shot_text.find(text) != std::string::npos, overlaps) << text;
    }
  }
  // The cards were placed so that shot 0 hears the first, shots 1 and 2 the second, shots 2
  // and 3 the third.
  auto shot_hears = [&](size_t shot, size_t utt) {
    return shots[shot].payload.value("transcript", "").find(said[utt]) != std::string::npos;
  };
  EXPECT_TRUE(shot_hears(0, 0));
  EXPECT_TRUE(shot_hears(1, 1) && shot_hears(2, 1));
  EXPECT_TRUE(shot_hears(2, 2) && shot_hears(3, 2));
}

TEST_F(SoundtrackTest, SilentSoundtrackGivesNoSpeechAndNoError) {
  testing::VideoSpec spec;
  spec.container = "matroska";
  spec.width = 160;
  spec.height = 90;
  spec.segments = {{2.0, testing::SceneB}, {2.0, testing::SceneC}};
  spec.audio = testing::AudioTrack{std::vector<int16_t>(4 * kRate, 0), kRate};
  const std::string in = dir_ / "in";
  std::filesystem::create_directories(in);
  const Status written = testing::WriteVideo(in + "/silent.mkv", spec);
  ASSERT_TRUE(written.ok()) << written.ToString();

  Stats stats;
  const auto all = Ingest("s", {in}, stats);
  EXPECT_EQ(stats.files_failed, 0u);
  EXPECT_TRUE(stats.errors.empty());
  const auto videos = OfKind(all, "video");
  ASSERT_EQ(videos.size(), 1u);
  EXPECT_FALSE(videos[0].payload.contains("transcript_error"))
      << videos[0].payload["transcript_error"];
  EXPECT_EQ(videos[0].payload.value("transcript", ""), "");
  EXPECT_TRUE(OfKind(all, "speech").empty());
  const auto shots = OfKind(all, "shot");
  ASSERT_EQ(shots.size(), 2u);
  for (const auto& s : shots)
    EXPECT_FALSE(s.payload.contains("transcript"));
  EXPECT_EQ(videos[0].payload["children"].get<size_t>(), shots.size());
}

}  // namespace
}  // namespace mosaic::ingest
