// Ingest end to end through the library API, on real media from Debian packages (skimage and
// darknet photos, opencv-doc and imageio videos, pocketsphinx speech), documents written by the
// test (Markdown, HTML, text, a PDF) and deliberately broken files, with real models.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "embed/model_loader.h"
#include "embed/objects/coco_labels.h"
#include "embed/objects/object_detector.h"
#include "embed/registry/catalog.h"
#include "embed/registry/registry.h"
#include "embed/registry/sha256.h"
#include "ingest/ingest.h"
#include "ingest/scan.h"
#include "ingest/work.h"
#include "media/audio_decode.h"
#include "media/image_decode.h"
#include "media/image_encode.h"
#include "mosaic/db.h"
#include "text/clip_tokenizer.h"
#include "util/fault_env.h"
#include "util/paths.h"
#include "util/av_writer.h"
#include "util/pdf_writer.h"
#include "test_models.h"

namespace mosaic::ingest {
namespace {

namespace fs = std::filesystem;
using testing::DataDir;
using testing::TempDir;

void Copy(const std::string& from, const std::string& to) {
  fs::create_directories(fs::path(to).parent_path());
  fs::copy_file(from, to, fs::copy_options::overwrite_existing);
}
void Write(const std::string& path, const std::string& bytes) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream(path, std::ios::binary) << bytes;
}
std::string Read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}
std::string Photo(const std::string& name) {
  for (const char* d : {"/skimage/", "/darknet/"})
    if (fs::exists(DataDir() + d + name)) return DataDir() + d + name;
  ADD_FAILURE() << "no sample photo " << name;
  return "";
}
std::string Video(const std::string& name) { return DataDir() + "/video/" + name; }

class IngestTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = Db::Open(dir_ / "db");
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(*db);
  }

  Options Opts(std::vector<std::string> encoders) {
    Options o;
    o.models_dir = IngestModels();
    o.encoders = std::move(encoders);
    o.error_log = dir_ / "errors.jsonl";
    return o;
  }

  Stats Ingest(const std::string& collection, std::vector<std::string> paths, const Options& o) {
    auto ing = Ingestor::Open(db_.get(), collection, o);
    EXPECT_TRUE(ing.ok()) << ing.status().ToString();
    if (!ing.ok()) return {};
    auto stats = (*ing)->Run(paths);
    EXPECT_TRUE(stats.ok()) << stats.status().ToString();
    return stats.ok() ? *stats : Stats{};
  }

  // All points of a collection by id (payloads, vectors).
  std::map<std::string, Point> All(const std::string& collection) {
    auto c = db_->GetCollection(collection);
    EXPECT_TRUE(c.ok());
    std::map<std::string, Point> out;
    ScrollRequest r;
    r.limit = 1000;
    r.with_vectors = true;
    auto page = (*c)->Scroll(r);
    EXPECT_TRUE(page.ok());
    for (auto& p : page->points) out[p.id.is_num() ? std::to_string(p.id.num()) : p.id.str()] = p;
    return out;
  }

  // The primary point of `path` and its children.
  std::pair<Point, std::vector<Point>> OfFile(const std::map<std::string, Point>& all, const std::string& path) {
    Point primary;
    std::vector<Point> children;
    for (const auto& [id, p] : all) {
      if (!p.payload.contains("file") || p.payload["file"].value("path", "") != path) continue;
      if (p.payload.contains("parent")) children.push_back(p);
      else primary = p;
    }
    std::sort(children.begin(), children.end(), [](const Point& a, const Point& b) {
      return a.payload.value("index", 0) < b.payload.value("index", 0) ||
             (a.payload.value("index", 0) == b.payload.value("index", 0) && a.id < b.id);
    });
    return {primary, children};
  }

  TempDir dir_;
  std::unique_ptr<Db> db_;
};

double Norm(const std::vector<float>& v) {
  double n = 0;
  for (float x : v) n += double(x) * x;
  return std::sqrt(n);
}

std::vector<Point> OfKind(const std::vector<Point>& v, const std::string& kind) {
  std::vector<Point> out;
  for (const auto& p : v)
    if (p.payload.value("kind", "") == kind) out.push_back(p);
  return out;
}

TEST(ScanTest, KindsComeFromContentNotNames) {
  TempDir t;
  Copy(Photo("coffee.png"), t / "looks_like.jpg");  // a PNG named .jpg
  Copy(Video("cockatoo.mp4"), t / "clip.bin");       // an MP4 without a media extension
  Copy(DataDir() + "/speech/cards/001.wav", t / "a/b/sound");
  Write(t / "notes.md", "# Title\n\ntext\n");
  Write(t / "page.html", "<!DOCTYPE html><html><body><p>x</p></body></html>");
  Write(t / "random.dat", "\x01\x02\x03 not a known format");
  Write(t / "broken.jpg", "not a jpeg at all");  // damaged: still goes to the image decoder
  Write(t / ".hidden.md", "# hidden\n");
  std::vector<std::string> paths = {t.path()};
  ScanResult r = Scan(paths, Options{});
  std::map<std::string, std::pair<FileKind, std::string>> got;
  for (const auto& f : r.files) got[f.path.substr(t.path().size() + 1)] = {f.kind, f.mime};
  EXPECT_EQ(got["looks_like.jpg"], std::make_pair(FileKind::kImage, std::string("image/png")));
  EXPECT_EQ(got["clip.bin"], std::make_pair(FileKind::kVideo, std::string("video/mp4")));
  EXPECT_EQ(got["a/b/sound"], std::make_pair(FileKind::kAudio, std::string("audio/wav")));
  EXPECT_EQ(got["notes.md"], std::make_pair(FileKind::kDocument, std::string("text/markdown")));
  EXPECT_EQ(got["page.html"], std::make_pair(FileKind::kDocument, std::string("text/html")));
  EXPECT_EQ(got["broken.jpg"], std::make_pair(FileKind::kImage, std::string("image/jpeg")));
  EXPECT_EQ(got.count("random.dat"), 0u);
  EXPECT_EQ(got.count(".hidden.md"), 0u);
  EXPECT_EQ(r.unsupported, 1u);

  Options o;
  o.include = {"*.md", "a/*"};
  o.hidden = true;
  r = Scan(paths, o);
  std::set<std::string> names;
  for (const auto& f : r.files) names.insert(f.path.substr(t.path().size() + 1));
  EXPECT_EQ(names, (std::set<std::string>{"notes.md", ".hidden.md", "a/b/sound"}));
  o = Options{};
  o.exclude = {"a", "*.html"};
  r = Scan(paths, o);
  names.clear();
  for (const auto& f : r.files) names.insert(f.path.substr(t.path().size() + 1));
  EXPECT_EQ(names, (std::set<std::string>{"looks_like.jpg", "clip.bin", "notes.md", "broken.jpg"}));
}

TEST(ScanTest, ContainerSignatures) {
  struct Case {
    std::string head, name;
    FileKind kind;
    const char* mime;
  } cases[] = {
      {"fLaC\0\0\0\x22", "x", FileKind::kAudio, "audio/flac"},
      {"OggS\0\x02", "x.ogg", FileKind::kAudio, "audio/ogg"},
      {"OggS\0\x02", "x.ogv", FileKind::kVideo, "video/ogg"},
      {"ID3\x04\0\0", "x", FileKind::kAudio, "audio/mpeg"},
      {"\xff\xfb\x90\x64", "x", FileKind::kAudio, "audio/mpeg"},
      {"\xff\xf1\x50\x80", "x", FileKind::kAudio, "audio/aac"},
      {std::string("\0\0\0\x20" "ftypM4A ", 12), "x", FileKind::kAudio, "audio/mp4"},
      {std::string("\0\0\0\x14" "ftypqt  ", 12), "x", FileKind::kVideo, "video/quicktime"},
      {std::string("\0\0\0\x20" "ftypisom", 12), "x", FileKind::kVideo, "video/mp4"},
      {"\x1a\x45\xdf\xa3\x01", "x.webm", FileKind::kVideo, "video/webm"},
      {"\x1a\x45\xdf\xa3\x01", "x", FileKind::kVideo, "video/x-matroska"},
      {"FLV\x01", "x", FileKind::kVideo, "video/x-flv"},
      {std::string("\0\0\x01\xba\x44", 5), "x", FileKind::kVideo, "video/mpeg"},
      {std::string("RIFF\0\0\0\0AVI LIST", 16), "x", FileKind::kVideo, "video/x-msvideo"},
      {std::string("RIFF\0\0\0\0WAVEfmt ", 16), "x", FileKind::kAudio, "audio/wav"},
      {"%PDF-1.7\n", "x", FileKind::kDocument, "application/pdf"},
      {"just some words", "notes.txt", FileKind::kDocument, "text/plain"},
      {"just some words", "notes", FileKind::kUnsupported, ""},
  };
  for (const auto& c : cases) {
    std::string mime;
    EXPECT_EQ(DetectKind(c.name, c.head, &mime), c.kind) << c.name << " " << c.mime;
    if (c.kind != FileKind::kUnsupported) {
      EXPECT_EQ(mime, c.mime);
    }
  }
}

TEST_F(IngestTest, PhotosGetVectorsThumbnailsExifObjectsFacesAndText) {
  const std::string in = dir_ / "photos";
  for (const char* p : {"astronaut.png", "coffee.png", "chelsea.png", "page.png", "dog.jpg", "horses.jpg"})
    Copy(Photo(p), in + "/" + p);
  Stats s = Ingest("photos", {in}, Opts({}));
  EXPECT_EQ(s.files_new, 6u);
  EXPECT_EQ(s.files_failed, 0u);
  EXPECT_EQ(s.images_encoded, 6u);
  auto all = All("photos");

  for (const char* name : {"astronaut.png", "coffee.png", "chelsea.png", "page.png", "dog.jpg", "horses.jpg"}) {
    const std::string path = in + "/" + name;
    auto [p, children] = OfFile(all, path);
    SCOPED_TRACE(name);
    ASSERT_EQ(p.payload.value("kind", ""), "image");
    // Vectors of every installed vector model, unit length.
    for (const char* v : {"clip", "visual"}) {
      ASSERT_TRUE(p.vectors.count(v)) << v;
      EXPECT_NEAR(Norm(p.vectors[v]), 1.0, 1e-4);
    }
    EXPECT_EQ(p.vectors["clip"].size(), 32u);
    EXPECT_EQ(p.vectors["visual"].size(), 808u);
    // File fields: the hash is the file's SHA-256.
    const Json& f = p.payload["file"];
    EXPECT_EQ(f["size"].get<uint64_t>(), fs::file_size(path));
    EXPECT_EQ(f["hash"].get<std::string>(), "sha256:" + *embed::Sha256File(path));
    EXPECT_EQ(p.payload["mime"], std::string(name).ends_with(".jpg") ? "image/jpeg" : "image/png");
    auto img = media::DecodeImageFile(path);
    ASSERT_TRUE(img.ok());
    EXPECT_EQ(p.payload["width"].get<int>(), img->width);
    EXPECT_EQ(p.payload["height"].get<int>(), img->height);
    // The thumbnail is a JPEG whose longer side is 256 px, with the image's aspect.
    const Json& t = p.payload["thumbnail"];
    ASSERT_TRUE(t.is_object());
    EXPECT_EQ(t["mime"], "image/jpeg");
    EXPECT_EQ(std::max(t["width"].get<int>(), t["height"].get<int>()), 256);
    EXPECT_NEAR(double(t["width"].get<int>()) / t["height"].get<int>(), double(img->width) / img->height, 0.02);
    EXPECT_EQ(p.payload["children"].get<size_t>(), children.size());
    for (const auto& c : children) {
      EXPECT_EQ(c.payload["kind"], "face");
      EXPECT_EQ(c.payload["parent"], p.id.str());
      ASSERT_TRUE(c.vectors.count("face"));
      EXPECT_EQ(c.vectors.at("face").size(), 1024u);
    }
  }
  // Objects with WordNet terms, EXIF, faces, OCR text.
  auto dog = OfFile(all, in + "/dog.jpg").first;
  std::set<std::string> tags(dog.payload["tags"].begin(), dog.payload["tags"].end());
  EXPECT_TRUE(tags.count("dog") && tags.count("bicycle")) << dog.payload["tags"].dump();
  std::set<std::string> terms(dog.payload["tag_terms"].begin(), dog.payload["tag_terms"].end());
  EXPECT_TRUE(terms.count("canine") && terms.count("animal"));
  EXPECT_EQ(dog.payload["exif"]["camera_model"], "Canon PowerShot S95");
  EXPECT_EQ(dog.payload["exif"]["date_taken"], "2014-09-19T16:08:30Z");
  auto horses = OfFile(all, in + "/horses.jpg").first;
  EXPECT_EQ(horses.payload["tags"][0], "horse");
  auto astronaut = OfFile(all, in + "/astronaut.png");
  EXPECT_EQ(astronaut.first.payload["faces"], 1);
  EXPECT_EQ(astronaut.second.size(), 1u);
  EXPECT_EQ(OfFile(all, in + "/horses.jpg").first.payload["faces"], 0);
  std::string page_text = OfFile(all, in + "/page.png").first.payload.value("ocr_text", "");
  EXPECT_NE(page_text.find("markers of the coins"), std::string::npos) << page_text;

  // Searching with a stored vector finds its own image first.
  auto c = *db_->GetCollection("photos");
  SearchRequest r;
  r.vector_name = "visual";
  r.vector = OfFile(all, in + "/chelsea.png").first.vectors["visual"];
  r.limit = 2;
  auto hits = c->Search(r);
  ASSERT_TRUE(hits.ok());
  EXPECT_EQ((*hits)[0].payload->at("file")["name"], "chelsea.png");
}

// Images larger than max_model_side reach the models scaled down; boxes come back in the
// original's pixels, so they match a run at full size.
TEST_F(IngestTest, ScaledDownModelInputKeepsOriginalCoordinates) {
  const std::string in = dir_ / "big";
  Copy(Photo("dog.jpg"), in + "/dog.jpg");  // 768x576
  Options full = Opts({"visual", "objects"});
  Options small = full;
  small.max_model_side = 512;
  Ingest("full", {in}, full);
  Ingest("small", {in}, small);
  auto a = OfFile(All("full"), in + "/dog.jpg").first;
  auto b = OfFile(All("small"), in + "/dog.jpg").first;
  EXPECT_EQ(b.payload["width"], 768);
  auto box_of = [](const Point& p, const std::string& label) {
    for (const auto& o : p.payload["objects"])
      if (o["label"] == label) return o["box"].get<std::vector<double>>();
    return std::vector<double>();
  };
  for (const char* label : {"dog", "bicycle"}) {
    auto ba = box_of(a, label), bb = box_of(b, label);
    ASSERT_EQ(ba.size(), 4u) << label;
    ASSERT_EQ(bb.size(), 4u) << label << " not found at half size: " << b.payload["objects"].dump();
    for (int k = 0; k < 4; ++k) EXPECT_NEAR(ba[k], bb[k], 0.08 * 768) << label << " coordinate " << k;
  }
}

TEST_F(IngestTest, RerunSkipsUnchangedUpdatesChangedAndSyncRemovesDeleted) {
  const std::string in = dir_ / "tree";
  Copy(Photo("astronaut.png"), in + "/a.png");
  Copy(Photo("coffee.png"), in + "/sub/b.png");
  Copy(Photo("chelsea.png"), in + "/sub/c.png");
  Write(in + "/notes.md", "# Notes\n\nFirst paragraph about cats.\n\nSecond paragraph about coffee.\n");
  Options o = Opts({"clip", "visual", "faces"});
  Stats s1 = Ingest("t", {in}, o);
  EXPECT_EQ(s1.files_new, 4u);
  auto before = All("t");
  const size_t n_before = before.size();

  // Unchanged: nothing is read or written.
  Stats s2 = Ingest("t", {in}, o);
  EXPECT_EQ(s2.files_unchanged, 4u);
  EXPECT_EQ(s2.files_new + s2.files_changed + s2.points_written, 0u);
  EXPECT_EQ(All("t").size(), n_before);

  // Same bytes, new mtime: the record is updated, nothing re-encoded.
  struct timespec ts[2] = {{1700000000, 0}, {1700000000, 0}};
  ASSERT_EQ(::utimensat(AT_FDCWD, (in + "/sub/b.png").c_str(), ts, 0), 0);
  Stats s3 = Ingest("t", {in}, o);
  EXPECT_EQ(s3.files_touched, 1u);
  EXPECT_EQ(s3.images_encoded, 0u);
  EXPECT_EQ(OfFile(All("t"), in + "/sub/b.png").first.payload["file"]["mtime"], "2023-11-14T22:13:20Z");

  // Changed content: a.png (1 face) becomes horses (no face): the face point goes, in one write.
  Copy(Photo("horses.jpg"), in + "/a.png");
  Stats s4 = Ingest("t", {in}, o);
  EXPECT_EQ(s4.files_changed, 1u);
  auto after = All("t");
  EXPECT_EQ(after.size(), n_before - 1);
  auto [a, a_children] = OfFile(after, in + "/a.png");
  EXPECT_TRUE(a_children.empty());
  EXPECT_EQ(a.payload["faces"], 0);
  EXPECT_EQ(a.payload["width"], 773);  // horses.jpg's


  // Deleted: kept without --sync, removed with it (only under the given path).
  fs::remove(in + "/sub/c.png");
  fs::remove(in + "/notes.md");
  Stats s5 = Ingest("t", {in}, o);
  EXPECT_EQ(s5.files_deleted, 0u);
  EXPECT_TRUE(OfFile(All("t"), in + "/sub/c.png").first.payload.contains("file"));
  o.sync = true;
  Stats s6 = Ingest("t", {in + "/sub"}, o);  // notes.md is outside this root: kept
  EXPECT_EQ(s6.files_deleted, 1u);
  auto synced = All("t");
  EXPECT_FALSE(OfFile(synced, in + "/sub/c.png").first.payload.contains("file"));
  EXPECT_TRUE(OfFile(synced, in + "/notes.md").first.payload.contains("file"));
  Stats s7 = Ingest("t", {in}, o);
  EXPECT_EQ(s7.files_deleted, 1u);
  for (const auto& [id, p] : All("t"))
    EXPECT_NE(p.payload.value("file", Json::object()).value("path", ""), in + "/notes.md") << id;
}

// A Cancel that comes before Run (a signal during set-up) is not lost: that Run stops at once,
// and the flag is spent, so the following Run does the work.
TEST_F(IngestTest, CancelBeforeRunStopsThatRunOnly) {
  const std::string in = dir_ / "two";
  Copy(Photo("coffee.png"), in + "/a.png");
  Copy(Photo("chelsea.png"), in + "/b.png");
  auto ing = Ingestor::Open(db_.get(), "k", Opts({"visual"}));
  ASSERT_TRUE(ing.ok()) << ing.status().ToString();
  (*ing)->Cancel();
  std::vector<std::string> paths{in};
  auto s1 = (*ing)->Run(paths);
  ASSERT_TRUE(s1.ok()) << s1.status().ToString();
  EXPECT_TRUE(s1->cancelled);
  EXPECT_EQ(s1->files_new, 0u);
  auto s2 = (*ing)->Run(paths);
  ASSERT_TRUE(s2.ok()) << s2.status().ToString();
  EXPECT_FALSE(s2->cancelled);
  EXPECT_EQ(s2->files_new, 2u);
}

TEST_F(IngestTest, BadFilesAreReportedAndSkippedAndTheRestIsIngested) {
  const std::string in = dir_ / "mixed";
  Copy(Photo("coffee.png"), in + "/good.png");
  Copy(Photo("astronaut.png"), in + "/huge.png");  // over the pixel limit set below
  auto small = media::EncodeJpeg(*media::DecodeImageFile(Photo("coffee.png")));
  ASSERT_TRUE(small.ok());
  Write(in + "/truncated.jpg", std::string(small->begin(), small->begin() + small->size() / 3));
  Write(in + "/garbage.jpg", "this is not a JPEG");
  Write(in + "/empty.png", "");
  std::string mp4 = Read(Video("cockatoo.mp4"));
  Write(in + "/truncated.mp4", mp4.substr(0, mp4.size() / 2));
  testing::PdfSpec locked;
  locked.pages = {{"secret text"}};
  locked.user_password = "hunter2";
  Write(in + "/locked.pdf", testing::WritePdf(locked));
  Write(in + "/fake.pdf", "%PDF-1.4\nthis is not really a PDF");
  Options o = Opts({"visual"});
  o.max_pixels = 250'000;  // astronaut is 512x512, coffee 600x400
  std::vector<std::string> paths = {in, dir_ / "missing-folder"};
  auto ing = Ingestor::Open(db_.get(), "m", o);
  ASSERT_TRUE(ing.ok());
  auto s = (*ing)->Run(paths);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->files_new, 1u);
  std::map<std::string, FileError> errs;
  for (const auto& e : s->errors) errs[fs::path(e.path).filename()] = e;
  EXPECT_EQ(errs.size(), 8u);
  EXPECT_EQ(errs["huge.png"].status.code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(errs["truncated.jpg"].status.code(), StatusCode::kCorruption);
  EXPECT_EQ(errs["garbage.jpg"].status.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(errs["empty.png"].status.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(errs["truncated.mp4"].stage, "decode");
  EXPECT_EQ(errs["locked.pdf"].status.code(), StatusCode::kPermissionDenied);
  EXPECT_FALSE(errs["fake.pdf"].status.ok());
  EXPECT_EQ(errs["missing-folder"].status.code(), StatusCode::kNotFound);
  for (const auto& [name, e] : errs) EXPECT_NE(e.status.message().find(name), std::string::npos) << e.status.ToString();
  // The JSON error log has one line per error with path, stage, code and message.
  std::ifstream log(o.error_log);
  std::set<std::string> logged;
  for (std::string line; std::getline(log, line);) {
    Json j = Json::parse(line);
    EXPECT_FALSE(j["error"].get<std::string>().empty());
    EXPECT_FALSE(j["code"].get<std::string>().empty());
    logged.insert(fs::path(j["path"].get<std::string>()).filename());
  }
  EXPECT_EQ(logged.size(), 8u);
  auto all = All("m");
  EXPECT_TRUE(OfFile(all, in + "/good.png").first.vectors.count("visual"));
  EXPECT_EQ(all.size(), 2u);  // the good image and the ingest record
}

TEST_F(IngestTest, VideosBecomeShotsWithTimesThumbnailsAndPooledVectors) {
  const std::string in = dir_ / "videos";
  for (const char* v : {"cockatoo.mp4", "Megamind.avi"}) Copy(Video(v), in + "/" + v);
  Stats s = Ingest("v", {in}, Opts({"clip", "visual", "objects"}));
  ASSERT_EQ(s.files_failed, 0u) << s.errors[0].status.ToString();
  EXPECT_EQ(s.files_new, 2u);
  auto all = All("v");
  for (const char* v : {"cockatoo.mp4", "Megamind.avi"}) {
    SCOPED_TRACE(v);
    auto [video, children] = OfFile(all, in + "/" + v);
    EXPECT_EQ(video.payload["kind"], "video");
    auto shots = OfKind(children, "shot");
    ASSERT_FALSE(shots.empty());
    EXPECT_EQ(video.payload["shots"].get<size_t>(), shots.size());
    const double duration = video.payload["duration"].get<double>();
    EXPECT_GT(duration, 1.0);
    // Shots tile the video: contiguous, in order, from 0 to the end.
    EXPECT_NEAR(shots.front().payload["start"].get<double>(), 0.0, 0.5);
    EXPECT_NEAR(shots.back().payload["end"].get<double>(), duration, 1.0);
    for (size_t i = 0; i < shots.size(); ++i) {
      const Json& p = shots[i].payload;
      EXPECT_LT(p["start"].get<double>(), p["end"].get<double>());
      if (i > 0) {
        EXPECT_NEAR(p["start"].get<double>(), shots[i - 1].payload["end"].get<double>(), 1e-6);
      }
      if (p.value("blank", false)) continue;
      // Keyframes inside the shot, a thumbnail, and the pooled (re-normalized) vectors.
      for (const auto& t : p["keyframes"]) {
        EXPECT_GE(t.get<double>(), p["start"].get<double>() - 1e-6);
        EXPECT_LE(t.get<double>(), p["end"].get<double>() + 1e-6);
      }
      EXPECT_EQ(p["thumbnail"]["mime"], "image/jpeg");
      for (const char* name : {"clip", "visual"}) {
        ASSERT_TRUE(shots[i].vectors.count(name));
        EXPECT_NEAR(Norm(shots[i].vectors[name]), 1.0, 1e-4);
      }
    }
    ASSERT_TRUE(video.vectors.count("visual"));
    EXPECT_NEAR(Norm(video.vectors["visual"]), 1.0, 1e-4);
    EXPECT_TRUE(video.payload["thumbnail"].is_object());
  }
  // Megamind is a trailer: several shots, and its shots do not all look alike.
  auto mega = OfKind(OfFile(all, in + "/Megamind.avi").second, "shot");
  EXPECT_GE(mega.size(), 3u);
  std::set<std::vector<float>> distinct;
  for (const auto& sh : mega)
    if (sh.vectors.count("visual")) distinct.insert(sh.vectors.at("visual"));
  EXPECT_GE(distinct.size(), 3u);
}

// Two videos that open on 3 s of black (then different scenes) must not look alike: black frames
// are never keyframes, so neither the opening shot nor the whole-video vector is "black".
TEST_F(IngestTest, VideosOpeningOnBlackDoNotLookAlike) {
  const std::string in = dir_ / "black";
  fs::create_directories(in);
  for (auto [name, scene] : {std::pair<const char*, testing::Scene>{"a.avi", testing::SceneA},
                             std::pair<const char*, testing::Scene>{"b.avi", testing::SceneB}}) {
    testing::VideoSpec spec;
    spec.segments = {{3.0, testing::Black}, {4.0, scene}};
    ASSERT_TRUE(testing::WriteVideo(in + "/" + name, spec).ok());
  }
  testing::VideoSpec black;
  black.segments = {{3.0, testing::Black}};
  ASSERT_TRUE(testing::WriteVideo(in + "/black.avi", black).ok());
  Stats s = Ingest("black", {in}, Opts({"visual"}));
  ASSERT_EQ(s.files_failed, 0u) << s.errors[0].status.ToString();
  auto all = All("black");
  auto a = OfFile(all, in + "/a.avi");
  auto b = OfFile(all, in + "/b.avi");
  ASSERT_TRUE(a.first.vectors.count("visual") && b.first.vectors.count("visual"));
  double dot = 0;
  for (size_t i = 0; i < a.first.vectors["visual"].size(); ++i) dot += a.first.vectors["visual"][i] * b.first.vectors["visual"][i];
  EXPECT_LT(dot, 0.95);
  // The black opening is its own shot, without keyframes or vector; the scene after it has both.
  for (const auto* v : {&a, &b}) {
    auto shots = OfKind(v->second, "shot");
    ASSERT_EQ(shots.size(), 2u);
    EXPECT_TRUE(shots[0].payload.value("blank", false));
    EXPECT_TRUE(shots[0].vectors.empty());
    EXPECT_NEAR(shots[1].payload["start"].get<double>(), 3.0, 0.3);
    EXPECT_TRUE(shots[1].vectors.count("visual"));
    // The video's thumbnail is the first real keyframe: not black.
    auto thumb = v->first.payload["thumbnail"]["data"].get<std::string>();
    EXPECT_EQ(thumb, shots[1].payload["thumbnail"]["data"].get<std::string>());
  }
  // A video that is black throughout is stored, with no vector and no thumbnail.
  auto bl = OfFile(all, in + "/black.avi");
  EXPECT_EQ(bl.first.payload["kind"], "video");
  EXPECT_TRUE(bl.first.vectors.empty());
  EXPECT_FALSE(bl.first.payload.contains("thumbnail"));
}

TEST_F(IngestTest, DocumentsBecomeChunksWithTitlesPagesAndOffsets) {
  const std::string in = dir_ / "docs";
  std::string md = "---\ntitle: Field Guide\n---\n# Birds\n\n";
  for (int i = 0; i < 30; ++i) md += "Sentence " + std::to_string(i) + " is about the cockatoo and its crest. ";
  md += "\n\n## Cats\n\nThe cat sleeps on the warm windowsill all afternoon.\n";
  Write(in + "/guide.md", md);
  Write(in + "/page.html",
        "<html lang=en><head><title>Coffee Notes</title><style>p{}</style><script>var x=1;</script></head>"
        "<body><h1>Coffee</h1><p>Espresso is brewed by forcing hot water through ground beans &amp; more.</p></body></html>");
  Write(in + "/plain.txt", "Plain notes\n\nA line of plain text about tea.\n");
  testing::PdfSpec pdf;
  pdf.title = "Quarterly Report";
  pdf.author = "Mosaic Tests";
  pdf.pages = {{"Revenue grew in the first quarter."}, {"Costs fell in the second quarter."}};
  Write(in + "/report.pdf", testing::WritePdf(pdf));
  Stats s = Ingest("d", {in}, Opts({"clip", "visual"}));
  ASSERT_EQ(s.files_failed, 0u) << s.errors[0].status.ToString();
  EXPECT_EQ(s.files_new, 4u);
  auto all = All("d");

  // Full-text (BM25) search finds the chunk that says it, in other word forms too.
  auto coll = db_->GetCollection("d");
  ASSERT_TRUE(coll.ok());
  TextSearchRequest tr;
  tr.fields = {"title", "text"};
  tr.query = "sleeping cats";
  auto hits = (*coll)->SearchText(tr);
  ASSERT_TRUE(hits.ok()) << hits.status().ToString();
  ASSERT_FALSE(hits->empty());
  EXPECT_EQ((*hits)[0].payload->at("kind"), "chunk");
  EXPECT_NE((*hits)[0].payload->at("text").get<std::string>().find("The cat sleeps"), std::string::npos);
  tr.query = "quarterly costs";
  hits = (*coll)->SearchText(tr);
  ASSERT_TRUE(hits.ok() && hits->size() >= 2);
  for (const auto& h : *hits) EXPECT_EQ(h.payload->at("file").at("name"), "report.pdf") << h.payload->dump();

  auto [guide, guide_chunks] = OfFile(all, in + "/guide.md");
  EXPECT_EQ(guide.payload["kind"], "document");
  EXPECT_EQ(guide.payload["title"], "Field Guide");
  EXPECT_EQ(guide.payload["format"], "markdown");
  ASSERT_GE(guide_chunks.size(), 3u);  // 30 sentences do not fit one CLIP-sized chunk
  // Each chunk fits the CLIP text tower's context (75 tokens between start and end).
  auto tok = text::ClipTokenizer::Load(testing::TestModelsDir() + "/clip-random-tiny-openai/bpe_simple_vocab_16e6.txt");
  ASSERT_TRUE(tok.ok()) << tok.status().ToString();
  size_t longest = 0;
  for (const auto& c : guide_chunks) longest = std::max(longest, tok->Encode(c.payload["text"].get<std::string>())->size());
  EXPECT_LE(longest, 75u);
  EXPECT_GE(longest, 50u);  // and uses most of it
  EXPECT_EQ(guide.payload["chunks"].get<size_t>(), guide_chunks.size());
  bool cats = false;
  for (const auto& c : guide_chunks) {
    EXPECT_EQ(c.payload["kind"], "chunk");
    ASSERT_TRUE(c.vectors.count("clip"));
    EXPECT_NEAR(Norm(c.vectors.at("clip")), 1.0, 1e-4);
    const auto off = c.payload["offset"];
    EXPECT_LT(off[0].get<size_t>(), off[1].get<size_t>());
    if (c.payload["text"].get<std::string>().find("windowsill") != std::string::npos) {
      cats = true;
      EXPECT_EQ(c.payload["headings"], "Birds > Cats");
    }
  }
  EXPECT_TRUE(cats);
  EXPECT_TRUE(guide.vectors.count("clip"));  // the document: its chunks pooled

  auto [html, html_chunks] = OfFile(all, in + "/page.html");
  EXPECT_EQ(html.payload["title"], "Coffee Notes");
  ASSERT_EQ(html_chunks.size(), 1u);
  EXPECT_NE(html_chunks[0].payload["text"].get<std::string>().find("ground beans & more"), std::string::npos);
  EXPECT_EQ(html_chunks[0].payload["text"].get<std::string>().find("var x"), std::string::npos);

  auto [report, pages] = OfFile(all, in + "/report.pdf");
  EXPECT_EQ(report.payload["title"], "Quarterly Report");
  EXPECT_EQ(report.payload["pages"], 2);
  EXPECT_EQ(report.payload["mime"], "application/pdf");
  bool page2 = false;
  for (const auto& c : pages)
    if (c.payload["text"].get<std::string>().find("Costs fell") != std::string::npos)
      page2 = c.payload["page"] == 2 || c.payload.value("page_last", 0) == 2;
  EXPECT_TRUE(page2);

  auto [txt, txt_chunks] = OfFile(all, in + "/plain.txt");
  EXPECT_EQ(txt.payload["format"], "text");
  EXPECT_FALSE(txt_chunks.empty());
}

// Cancel during a long recording's transcription stops it within half a second of audio: the file
// is "interrupted", not failed; nothing of it is written; the next run would take it again.
TEST_F(IngestTest, CancelStopsALongTranscriptionMidFile) {
  std::vector<int16_t> pcm;  // the LibriVox sentences three times over: about 70 s
  for (int round = 0; round < 3; ++round)
    for (const char* id : {"0870", "0880", "0890", "0920", "0930"}) {
      auto a = media::DecodeAudio(DataDir() + "/speech/librivox/sense_and_sensibility_01_austen_64kb-" + id + ".wav");
      ASSERT_TRUE(a.ok()) << a.status().ToString();
      const auto part = media::ToPcm16(a->samples);
      pcm.insert(pcm.end(), part.begin(), part.end());
    }
  const std::string in = dir_ / "long";
  fs::create_directories(in);
  ASSERT_TRUE(testing::WriteWav(in + "/long.wav", pcm, 16000).ok());
  auto ing = Ingestor::Open(db_.get(), "l", Opts({"clip", "speech"}));
  ASSERT_TRUE(ing.ok()) << ing.status().ToString();
  Ingestor* ingestor = ing->get();
  std::vector<std::string> paths{in};
  // Cancels once a worker has the file (it is then opening the recognizer or transcribing).
  auto s = ingestor->Run(paths, [&](const Progress& p) {
    if (p.files_started == 1) ingestor->Cancel();
  });
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_TRUE(s->cancelled);
  EXPECT_EQ(s->files_interrupted, 1u);
  EXPECT_EQ(s->files_new, 0u);
  EXPECT_EQ(s->files_failed, 0u);
  EXPECT_TRUE(s->errors.empty()) << s->errors[0].status.ToString();
  EXPECT_EQ(s->points_written, 0u);
  std::ifstream log(dir_ / "errors.jsonl");
  std::string line;
  EXPECT_FALSE(std::getline(log, line)) << line;
}

TEST_F(IngestTest, AudioAndVideoSoundtracksBecomeTimedTranscripts) {
  const std::string in = dir_ / "audio";
  Copy(DataDir() + "/speech/cards/001.wav", in + "/001.wav");
  Copy(DataDir() + "/speech/librivox/sense_and_sensibility_01_austen_64kb-0880.wav", in + "/austen.wav");
  Stats s = Ingest("a", {in}, Opts({"clip", "speech"}));
  ASSERT_EQ(s.files_failed, 0u) << s.errors[0].status.ToString();
  auto all = All("a");
  auto [card, card_segments] = OfFile(all, in + "/001.wav");
  EXPECT_EQ(card.payload["kind"], "audio");
  EXPECT_NEAR(card.payload["duration"].get<double>(), 1.1, 0.1);
  EXPECT_EQ(card.payload["transcript"], "ten of clubs");
  ASSERT_EQ(card_segments.size(), 1u);
  EXPECT_EQ(card_segments[0].payload["kind"], "speech");
  EXPECT_EQ(card_segments[0].payload["text"], "ten of clubs");
  EXPECT_LT(card_segments[0].payload["start"].get<double>(), card_segments[0].payload["end"].get<double>());
  EXPECT_TRUE(card_segments[0].vectors.count("clip"));
  auto [austen, segs] = OfFile(all, in + "/austen.wav");
  ASSERT_FALSE(segs.empty());
  double last_end = 0;
  for (const auto& seg : segs) {
    EXPECT_GE(seg.payload["start"].get<double>(), last_end - 1e-6);
    last_end = seg.payload["end"].get<double>();
  }
  // Each speech point carries its words with their times, in order, inside the segment, and
  // they spell the segment's text.
  std::vector<Point> speech = card_segments;
  speech.insert(speech.end(), segs.begin(), segs.end());
  for (const auto& seg : speech) {
    SCOPED_TRACE(seg.payload.dump().substr(0, 200));
    const Json& words = seg.payload["words"];
    ASSERT_TRUE(words.is_array() && !words.empty());
    const double start = seg.payload["start"].get<double>(), end = seg.payload["end"].get<double>();
    std::string spelled;
    double prev = start;
    for (const Json& w : words) {
      const double ws = w["start"].get<double>(), we = w["end"].get<double>();
      EXPECT_GE(ws, start - 1e-3);
      EXPECT_LE(we, end + 1e-3);
      EXPECT_LE(ws, we);
      EXPECT_GE(ws, prev - 1e-3);
      prev = ws;
      const double conf = w["confidence"].get<double>();
      EXPECT_TRUE(conf >= 0 && conf <= 1) << conf;
      spelled += (spelled.empty() ? "" : " ") + w["text"].get<std::string>();
    }
    EXPECT_EQ(spelled, seg.payload["text"].get<std::string>());
  }
  const Json& ten = card_segments[0].payload["words"][0];
  EXPECT_EQ(ten["text"], "ten");
  EXPECT_LE(last_end, austen.payload["duration"].get<double>() + 0.1);
}

// tag_scores: a tag's score is the best confidence among its objects, a WordNet term's the best
// of the tags it comes from; a shot takes the best over its keyframes, a video over its shots.
TEST_F(IngestTest, TagScoresAgreeWithObjectsTagsAndTerms) {
  const std::string in = dir_ / "tagged";
  for (const char* p : {"dog.jpg", "person.jpg", "giraffe.jpg", "kite.jpg"}) Copy(Photo(p), in + "/" + p);
  Copy(Video("cockatoo.mp4"), in + "/cockatoo.mp4");
  Stats s = Ingest("tags", {in}, Opts({"visual", "objects"}));
  ASSERT_EQ(s.files_failed, 0u) << s.errors[0].status.ToString();
  auto all = All("tags");
  // The WordNet terms of each class, as the detectors expand them.
  auto det = embed::ObjectDetector::Open(testing::OfflineModelsDir() + "/nanodet/model.onnx");
  ASSERT_TRUE(det.ok()) << det.status().ToString();
  ASSERT_TRUE((*det)->wordnet_status().ok()) << (*det)->wordnet_status().ToString();
  const auto terms_of = [&](const std::string& label) {
    for (int c = 0; c < embed::objects::kCocoClasses; ++c)
      if (embed::objects::kCocoLabels[c] == label) return (*det)->TagTerms(c);
    ADD_FAILURE() << "not a COCO label: " << label;
    return std::vector<std::string>();
  };
  // Checks one point's tags, tag_terms and tag_scores against each other.
  const auto check_terms = [&](const Json& payload) {
    const Json& scores = payload.at("tag_scores");
    std::set<std::string> keys;
    for (const auto& [k, v] : scores.items()) keys.insert(k);
    std::set<std::string> expected;
    for (const auto& t : payload.at("tags")) expected.insert(t.get<std::string>());
    for (const auto& t : payload.at("tag_terms")) expected.insert(t.get<std::string>());
    EXPECT_EQ(keys, expected);
    for (const auto& term : payload["tag_terms"]) {
      double best = 0;
      for (const auto& tag : payload["tags"]) {
        const auto terms = terms_of(tag.get<std::string>());
        if (std::find(terms.begin(), terms.end(), term.get<std::string>()) != terms.end())
          best = std::max(best, scores.at(tag.get<std::string>()).get<double>());
      }
      EXPECT_GT(best, 0) << term << " comes from no tag";
      EXPECT_DOUBLE_EQ(scores.value(term.get<std::string>(), -1.0), best) << term;
    }
  };

  for (const char* name : {"dog.jpg", "person.jpg", "giraffe.jpg", "kite.jpg"}) {
    SCOPED_TRACE(name);
    const Json& p = OfFile(all, in + "/" + name).first.payload;
    ASSERT_TRUE(p.contains("tags") && !p["tags"].empty()) << p.dump().substr(0, 300);
    std::map<std::string, double> best_box;
    for (const auto& o : p.at("objects")) {
      const std::string label = o["label"];
      best_box[label] = std::max(best_box[label], o["confidence"].get<double>());
    }
    std::set<std::string> tags(p["tags"].begin(), p["tags"].end());
    EXPECT_EQ(tags.size(), best_box.size()) << "every tag has objects and every object a tag";
    for (const auto& [label, conf] : best_box) {
      EXPECT_TRUE(tags.count(label)) << label;
      EXPECT_DOUBLE_EQ(p["tag_scores"].value(label, -1.0), conf) << label;
    }
    check_terms(p);
  }
  const Json& dog = OfFile(all, in + "/dog.jpg").first.payload;
  EXPECT_DOUBLE_EQ(dog["tag_scores"]["canine"].get<double>(), dog["tag_scores"]["dog"].get<double>());

  auto [video, children] = OfFile(all, in + "/cockatoo.mp4");
  std::map<std::string, double> best_shot;
  for (const auto& shot : OfKind(children, "shot")) {
    if (!shot.payload.contains("tag_scores")) continue;
    check_terms(shot.payload);
    for (const auto& [k, v] : shot.payload["tag_scores"].items()) best_shot[k] = std::max(best_shot[k], v.get<double>());
  }
  ASSERT_FALSE(best_shot.empty()) << "no shot of cockatoo.mp4 got a tag";
  std::map<std::string, double> on_video;
  for (const auto& [k, v] : video.payload.at("tag_scores").items()) on_video[k] = v.get<double>();
  EXPECT_EQ(on_video, best_shot);
}

TEST(PayloadTest, NameWordsSplitPathsIntoWords) {
  EXPECT_EQ(NameWords("/photos/Beach_2019/IMG_0042-dogRun.jpg"), "photos Beach 2019 IMG 0042 dog Run");
  EXPECT_EQ(NameWords("/a/HTTPServer+notes.v2.txt"), "a HTTP Server notes v2");
  EXPECT_EQ(NameWords("/x/.hidden"), "x hidden");
  EXPECT_EQ(NameWords("/Été/café au  lait.md"), "Été café au lait");
  EXPECT_EQ(NameWords("relative/file"), "relative file");
}

TEST(PayloadTest, IsoDateReadsIsoAndExifAndRejectsImpossibleTimes) {
  EXPECT_EQ(IsoDate("2014:09:19 16:08:30"), "2014-09-19T16:08:30Z");
  EXPECT_EQ(IsoDate("2021-06-05T14:30:00.000000Z"), "2021-06-05T14:30:00Z");
  EXPECT_EQ(IsoDate("2024-03-05T14:30:00+01:00"), "2024-03-05T14:30:00+01:00");
  EXPECT_EQ(IsoDate("2024-03-05 14:30-0500"), "2024-03-05T14:30:00-05:00");
  EXPECT_EQ(IsoDate("2024-02-29"), "2024-02-29T00:00:00Z");
  for (const char* bad : {"", "0000:00:00 00:00:00", "2023-02-29", "2023-13-01T00:00:00Z", "2024-05-01T24:00:00",
                          "Mon Mar 10 15:04:43 2003", "2024-05-01T12:00:00 junk", "2024-05-01T12", "yesterday"})
    EXPECT_EQ(IsoDate(bad), "") << bad;
}

// Every point of a file carries the words of its path (`names`, BM25-indexed), its folder
// (`file.folder`) and, when the file says when it was made, `date`: EXIF for photos, the
// container's creation_time for videos, the PDF's CreationDate; never the file's mtime.
TEST_F(IngestTest, NamesFoldersAndDatesOnEveryPoint) {
  const std::string in = dir_ / "named";
  Copy(Photo("dog.jpg"), in + "/Beach_2019/IMG_0042-dogRun.jpg");  // EXIF DateTimeOriginal 2014:09:19 16:08:30
  Copy(Photo("coffee.png"), in + "/misc/coffee.png");               // no EXIF
  fs::create_directories(in + "/clips");
  testing::VideoSpec clip;
  clip.container = "matroska";
  clip.segments = {{2.0, testing::SceneA}, {2.0, testing::SceneB}};
  Status written = testing::WriteVideo(in + "/clips/undated.mkv", clip);
  ASSERT_TRUE(written.ok()) << written.ToString();
  clip.metadata = {{"creation_time", "2021-06-05T14:30:00.000000Z"}};
  ASSERT_TRUE(testing::WriteVideo(in + "/clips/holidayClip.mkv", clip).ok());
  testing::PdfSpec pdf;
  pdf.pages = {{"A dated report about the harbour."}, {"Its second page."}};
  pdf.creation_date = "D:20240305143000+01'00'";
  Write(in + "/docs/report.pdf", testing::WritePdf(pdf));
  Write(in + "/docs/notes.md", "# Notes\n\nNothing says when these were written.\n");
  Stats s = Ingest("named", {in}, Opts({"clip", "visual"}));
  ASSERT_EQ(s.files_failed, 0u) << s.errors[0].status.ToString();
  EXPECT_EQ(s.files_new, 6u);
  auto all = All("named");

  const std::map<std::string, std::string> dates = {
      {"Beach_2019/IMG_0042-dogRun.jpg", "2014-09-19T16:08:30Z"},
      {"misc/coffee.png", ""},
      {"clips/undated.mkv", ""},
      {"clips/holidayClip.mkv", "2021-06-05T14:30:00Z"},
      {"docs/report.pdf", "2024-03-05T14:30:00+01:00"},
      {"docs/notes.md", ""},
  };
  for (const auto& [rel, date] : dates) {
    SCOPED_TRACE(rel);
    const std::string path = in + "/" + rel;
    auto [primary, children] = OfFile(all, path);
    ASSERT_TRUE(primary.payload.contains("kind"));
    if (rel.ends_with(".mkv") || rel.ends_with(".pdf")) {
      ASSERT_FALSE(children.empty());
    }
    std::vector<Point> points = children;
    points.push_back(primary);
    for (const auto& p : points) {
      SCOPED_TRACE(p.payload.value("kind", ""));
      EXPECT_EQ(p.payload["file"]["folder"], fs::path(path).parent_path().string());
      EXPECT_EQ(p.payload["names"], NameWords(path));
      if (date.empty()) {
        EXPECT_FALSE(p.payload.contains("date")) << p.payload["date"];
      } else {
        EXPECT_EQ(p.payload.value("date", ""), date);
      }
    }
  }
  const Json& photo = OfFile(all, in + "/Beach_2019/IMG_0042-dogRun.jpg").first.payload;
  EXPECT_TRUE(photo["names"].get<std::string>().ends_with(" named Beach 2019 IMG 0042 dog Run")) << photo["names"];
  EXPECT_EQ(photo["exif"]["date_taken"], "2014-09-19T16:08:30Z");

  auto coll = db_->GetCollection("named");
  ASSERT_TRUE(coll.ok());
  // Found by the words of its name, in other forms too.
  TextSearchRequest tr;
  tr.fields = {"names"};
  tr.query = "dog running on the beach";
  auto hits = (*coll)->SearchText(tr);
  ASSERT_TRUE(hits.ok()) << hits.status().ToString();
  ASSERT_FALSE(hits->empty());
  EXPECT_EQ((*hits)[0].payload->at("file").at("name"), "IMG_0042-dogRun.jpg");
  // A date range selects the points of the dated files made since 2020: the video's and the PDF's.
  auto since = Filter::FromJson(Json::parse(R"({"must": [{"key": "date", "range": {"gte": "2020-01-01"}}]})"));
  ASSERT_TRUE(since.ok()) << since.status().ToString();
  auto n = (*coll)->Count(&*since);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 2 + OfFile(all, in + "/clips/holidayClip.mkv").second.size() +
                    OfFile(all, in + "/docs/report.pdf").second.size());
  // Points per folder.
  FacetRequest fr;
  fr.key = "file.folder";
  auto facets = (*coll)->Facet(fr);
  ASSERT_TRUE(facets.ok()) << facets.status().ToString();
  std::map<std::string, uint64_t> per_folder;
  for (const auto& f : *facets) per_folder[f.value.get<std::string>()] = f.count;
  EXPECT_EQ(per_folder.size(), 4u);
  EXPECT_EQ(per_folder[in + "/misc"], 1u);
}

// A collection made by an earlier ingest had a keyword index on tag_terms and none on names,
// date or file.folder: the next ingest into it puts the current indexes in place, over the points
// already there.
TEST_F(IngestTest, EarlierCollectionsGetTheCurrentIndexes) {
  const std::string in = dir_ / "old";
  Copy(Photo("dog.jpg"), in + "/dog.jpg");
  Copy(Photo("horses.jpg"), in + "/horses.jpg");
  const Options o = Opts({"visual", "objects"});
  Ingest("old", {in}, o);
  auto coll = db_->GetCollection("old");
  ASSERT_TRUE(coll.ok());
  ASSERT_TRUE((*coll)->DropPayloadIndex("tag_terms").ok());
  ASSERT_TRUE((*coll)->CreatePayloadIndex("tag_terms", PayloadIndexType::kKeyword).ok());
  for (const char* f : {"names", "date", "file.folder"}) ASSERT_TRUE((*coll)->DropPayloadIndex(f).ok()) << f;
  TextSearchRequest tr;
  tr.fields = {"tag_terms"};
  tr.query = "canine";
  EXPECT_FALSE((*coll)->SearchText(tr).ok());  // a keyword index does not rank

  Stats s = Ingest("old", {in}, o);
  EXPECT_EQ(s.files_unchanged, 2u);
  auto idx = (*coll)->PayloadIndexes();
  EXPECT_EQ(idx["tag_terms"], PayloadIndexType::kText);
  EXPECT_EQ(idx["tags"], PayloadIndexType::kKeyword);
  EXPECT_EQ(idx["names"], PayloadIndexType::kText);
  EXPECT_EQ(idx["date"], PayloadIndexType::kDatetime);
  EXPECT_EQ(idx["file.folder"], PayloadIndexType::kKeyword);
  auto hits = (*coll)->SearchText(tr);
  ASSERT_TRUE(hits.ok()) << hits.status().ToString();
  ASSERT_EQ(hits->size(), 1u);
  EXPECT_EQ((*hits)[0].payload->at("file").at("name"), "dog.jpg");
  // A keyword match on tag_terms still filters (by reading the payloads).
  auto f = Filter::FromJson(Json::parse(R"({"must": [{"key": "tag_terms", "match": {"value": "equine"}}]})"));
  ASSERT_TRUE(f.ok());
  auto n = (*coll)->Count(&*f);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 1u);
}

}  // namespace
}  // namespace mosaic::ingest
