// The ingest pipeline: scan → plan (compare with the collection) → prepare workers → one encode
// thread → the writer (the calling thread), joined by bounded queues.
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "embed/model_loader.h"
#include "ingest/encoders.h"
#include "ingest/ingest.h"
#include "ingest/layout.h"
#include "ingest/queue.h"
#include "ingest/scan.h"
#include "ingest/tta.h"
#include "ingest/work.h"

namespace mosaic::ingest {

namespace {

using Clock = std::chrono::steady_clock;
double Seconds(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double>(b - a).count(); }

constexpr int kMetaFormat = 1;

// The payload indexes of an ingested collection (docs/ingest.md), made for collections of
// earlier versions too: an index of another type on the field is replaced (tag_terms was a
// keyword index before ingest ranked tags by BM25).
const std::vector<std::pair<std::string, PayloadIndexType>>& PayloadIndexLayout() {
  static const std::vector<std::pair<std::string, PayloadIndexType>> v = {
      {"kind", PayloadIndexType::kKeyword},
      {"file_id", PayloadIndexType::kKeyword},
      {"file.path", PayloadIndexType::kKeyword},
      {"file.folder", PayloadIndexType::kKeyword},
      {"mime", PayloadIndexType::kKeyword},
      {"tags", PayloadIndexType::kKeyword},
      {"tag_terms", PayloadIndexType::kText},
      {"exif.date_taken", PayloadIndexType::kDatetime},
      {"date", PayloadIndexType::kDatetime},
      {"title", PayloadIndexType::kText},
      {"text", PayloadIndexType::kText},
      {"ocr_text", PayloadIndexType::kText},
      {"transcript", PayloadIndexType::kText},
      {"names", PayloadIndexType::kText},
  };
  return v;
}

Status EnsurePayloadIndexes(Collection& coll) {
  const std::map<std::string, PayloadIndexType> have = coll.PayloadIndexes();
  for (const auto& [field, type] : PayloadIndexLayout()) {
    auto it = have.find(field);
    if (it != have.end() && it->second == type) continue;
    if (it != have.end()) MOSAIC_RETURN_IF_ERROR(coll.DropPayloadIndex(field));
    MOSAIC_RETURN_IF_ERROR(coll.CreatePayloadIndex(field, type));
  }
  return Status::OK();
}

class IngestorImpl final : public Ingestor {
 public:
  IngestorImpl(std::shared_ptr<Collection> c, Options o, EncoderSet enc, std::vector<TtaView> tta)
      : coll_(std::move(c)), o_(std::move(o)), enc_(std::move(enc)), tta_(std::move(tta)) {}

  std::vector<std::pair<std::string, std::string>> vectors() const override {
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto& [role, name] : VectorRoles())
      if (const RoleModel* m = enc_.Find(role)) out.emplace_back(name, m->model);
    return out;
  }

  void Cancel() override { cancel_ = true; }

  Result<Stats> Run(std::span<const std::string> paths,
                    const std::function<void(const Progress&)>& on_progress) override;

 private:
  Result<std::map<std::string, Record>> LoadRecords() const;
  void EncodeGroup(std::vector<Work*>& group, Stats& stats, std::mutex& stats_mu);
  Status EncodeImages(std::vector<Work*>& group, std::map<std::string, double>& timing, uint64_t* images);
  Status EncodeTexts(std::vector<Work*>& group, std::map<std::string, double>& timing);
  void LogError(const FileError& e);

  std::shared_ptr<Collection> coll_;
  Options o_;
  EncoderSet enc_;
  std::vector<TtaView> tta_;  // views averaged into the clip and visual vectors
  std::atomic<bool> cancel_{false};
  std::mutex log_mu_;
  std::ofstream error_log_;
};

Result<std::map<std::string, Record>> IngestorImpl::LoadRecords() const {
  std::map<std::string, Record> records;
  MOSAIC_ASSIGN_OR_RETURN(
      Filter f, Filter::FromJson({{"must", {{{"key", "kind"}, {"match", {{"any", {"image", "video", "document", "audio"}}}}}}}}));
  ScrollRequest r;
  r.filter = f;
  r.limit = 512;
  while (true) {
    MOSAIC_ASSIGN_OR_RETURN(ScrollPage page, coll_->Scroll(r));
    for (const auto& p : page.points) {
      const Json& file = p.payload.value("file", Json::object());
      if (!p.id.is_num() && file.contains("path")) {
        Record rec;
        rec.key = p.id.str();
        rec.size = file.value("size", uint64_t{0});
        rec.mtime_ns = file.value("mtime_ns", int64_t{0});
        rec.hash = file.value("hash", std::string());
        rec.children = p.payload.value("children", uint64_t{0});
        records[file["path"].get<std::string>()] = std::move(rec);
      }
    }
    if (!page.next_offset) break;
    r.offset = page.next_offset;
  }
  return records;
}

void IngestorImpl::LogError(const FileError& e) {
  std::lock_guard<std::mutex> l(log_mu_);
  if (!error_log_.is_open()) return;
  Json j = {{"path", e.path},
            {"stage", e.stage},
            {"code", StatusCodeName(e.status.code())},
            {"error", e.status.message()},
            {"time", IsoTime(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                 std::chrono::system_clock::now().time_since_epoch())
                                 .count())}};
  error_log_ << j.dump() << '\n';
  error_log_.flush();
}

Status IngestorImpl::EncodeImages(std::vector<Work*>& group, std::map<std::string, double>& timing, uint64_t* images) {
  std::vector<const media::Image*> all;
  for (Work* w : group) {
    w->image_results.assign(w->images.size(), ImageResult());
    for (const auto& img : w->images) all.push_back(&img);
  }
  if (all.empty()) return Status::OK();
  *images += all.size();
  struct Step {
    embed::Encoder* enc;
    const char* role;
  };
  for (Step step : {Step{enc_.clip_image.get(), "clip"}, Step{enc_.visual.get(), "visual"},
                    Step{enc_.objects.get(), "objects"}, Step{enc_.faces.get(), "faces"},
                    Step{enc_.ocr.get(), "ocr"}}) {
    if (step.enc == nullptr) continue;
    auto t0 = Clock::now();
    const std::string role = step.role;
    const bool augment = !tta_.empty() && (role == "clip" || role == "visual");
    MOSAIC_ASSIGN_OR_RETURN(auto outs, ingest::EncodeImages(*step.enc, all, augment ? tta_ : std::vector<TtaView>()));
    timing[step.role] += Seconds(t0, Clock::now());
    size_t k = 0;
    for (Work* w : group)
      for (auto& r : w->image_results) {
        embed::EncoderOutput& o = outs[k++];
        if (role == "clip" || role == "visual") {
          if (!o.vectors.empty()) r.vectors[role] = std::move(o.vectors[0]);
        } else if (role == "objects") {
          r.objects = std::move(o.data);
        } else if (role == "faces") {
          r.face_vectors = std::move(o.vectors);
          r.faces = std::move(o.data);
        } else {
          r.ocr = std::move(o.data);
        }
      }
  }
  return Status::OK();
}

Status IngestorImpl::EncodeTexts(std::vector<Work*>& group, std::map<std::string, double>& timing) {
  if (!enc_.clip_text) return Status::OK();
  std::vector<embed::EncoderInput> in;
  for (Work* w : group)
    for (const auto& t : w->texts) {
      embed::EncoderInput e;
      e.text = t;
      in.push_back(e);
    }
  if (in.empty()) return Status::OK();
  auto t0 = Clock::now();
  std::vector<embed::EncoderOutput> outs;
  const size_t step = std::max(1, enc_.clip_text->max_batch());
  for (size_t b = 0; b < in.size(); b += step) {
    MOSAIC_ASSIGN_OR_RETURN(auto part, enc_.clip_text->Encode(std::span(in).subspan(b, std::min(step, in.size() - b))));
    for (auto& o : part) outs.push_back(std::move(o));
  }
  timing["clip_text"] += Seconds(t0, Clock::now());
  size_t k = 0;
  for (Work* w : group) {
    w->text_vectors.clear();
    for (size_t i = 0; i < w->texts.size(); ++i, ++k)
      w->text_vectors.push_back(outs[k].vectors.empty() ? std::vector<float>() : std::move(outs[k].vectors[0]));
  }
  return Status::OK();
}

// Encodes a group of prepared files together; a failure is retried file by file so that only
// the file that causes it is reported.
void IngestorImpl::EncodeGroup(std::vector<Work*>& group, Stats& stats, std::mutex& stats_mu) {
  std::vector<Work*> live;
  for (Work* w : group)
    if (w->status.ok() && !w->touch_only) live.push_back(w);
  std::map<std::string, double> timing;
  uint64_t images = 0;
  auto t0 = Clock::now();
  Status s = EncodeImages(live, timing, &images);
  if (s.ok()) s = EncodeTexts(live, timing);
  if (!s.ok() && live.size() > 1) {
    for (Work* w : live) {
      std::vector<Work*> one = {w};
      Status s1 = EncodeImages(one, timing, &images);
      if (s1.ok()) s1 = EncodeTexts(one, timing);
      if (!s1.ok()) {
        w->status = s1.WithContext(w->file.path);
        w->failed_stage = "encode";
      }
    }
  } else if (!s.ok() && live.size() == 1) {
    live[0]->status = s.WithContext(live[0]->file.path);
    live[0]->failed_stage = "encode";
  }
  std::lock_guard<std::mutex> l(stats_mu);
  stats.encode_s += Seconds(t0, Clock::now());
  stats.images_encoded += images;
  for (const auto& [role, sec] : timing) {
    // An init-capture: clang before 16 cannot capture a structured binding.
    auto it = std::find_if(stats.encoder_s.begin(), stats.encoder_s.end(), [&r = role](auto& p) { return p.first == r; });
    if (it == stats.encoder_s.end()) stats.encoder_s.emplace_back(role, sec);
    else it->second += sec;
  }
}

Result<Stats> IngestorImpl::Run(std::span<const std::string> paths,
                                const std::function<void(const Progress&)>& on_progress) {
  const auto start = Clock::now();
  Stats stats;
  if (!o_.error_log.empty()) {
    std::lock_guard<std::mutex> l(log_mu_);
    error_log_.close();
    error_log_.open(o_.error_log, std::ios::out | std::ios::trunc);
    if (!error_log_) return Status::IOError("cannot write the error log " + o_.error_log);
  }
  auto report = [&](FileError e) {
    LogError(e);
    stats.errors.push_back(std::move(e));
  };

  // 1. Scan and plan.
  ScanResult scan = Scan(paths, o_);
  stats.files_seen = scan.files.size();
  stats.files_unsupported = scan.unsupported;
  std::set<std::string> unreadable;
  for (auto& e : scan.errors) {
    unreadable.insert(e.path);
    stats.files_failed++;
    report(std::move(e));
  }
  MOSAIC_ASSIGN_OR_RETURN(auto records, LoadRecords());
  std::vector<Work> works;
  std::set<std::string> seen;
  for (auto& f : scan.files) {
    seen.insert(f.path);
    auto it = records.find(f.path);
    if (it != records.end() && !o_.force && it->second.size == f.size && it->second.mtime_ns == f.mtime_ns) {
      stats.files_unchanged++;
      continue;
    }
    Work w;
    w.key = it != records.end() ? it->second.key : FileKey(f.path);
    if (it != records.end()) w.old = it->second;
    w.file = std::move(f);
    works.push_back(std::move(w));
  }
  scan.files.clear();

  // 2. --sync: files under the scanned paths that are gone lose their points first.
  if (o_.sync) {
    std::vector<PointId> remove;
    for (const auto& [path, rec] : records) {
      if (seen.count(path) || unreadable.count(path) || !UnderRoots(path, scan.roots)) continue;
      remove.push_back(rec.key);
      for (uint64_t c = 0; c < rec.children; ++c) remove.push_back(ChildId(rec.key, c));
      stats.files_deleted++;
    }
    if (!remove.empty()) {
      auto t0 = Clock::now();
      MOSAIC_RETURN_IF_ERROR(coll_->Replace(remove, {}));
      stats.write_s += Seconds(t0, Clock::now());
      stats.points_deleted += remove.size();
    }
  }

  // 3. The pipeline.
  Progress progress;
  progress.files_total = works.size();
  for (const auto& w : works) progress.bytes_total += w.file.size;
  progress.errors = stats.errors.size();
  std::mutex stats_mu;

  const int hw = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const int n_prepare = std::max(1, o_.prepare_threads > 0 ? o_.prepare_threads : hw);
  const int batch = std::max(1, o_.batch);
  BoundedQueue<size_t> prepared(static_cast<size_t>(std::max(4, 2 * batch)));
  BoundedQueue<std::vector<size_t>> encoded(4);
  std::atomic<size_t> next{0};
  std::atomic<int> preparers_left{n_prepare};

  // Chunks the text encoder reads whole (CLIP: 75 BPE tokens), else 256 words.
  const embed::Encoder* text_enc = enc_.clip_text.get();
  const bool by_encoder = text_enc != nullptr && text_enc->max_tokens() > 0;
  size_t chunk_tokens = o_.chunk_tokens > 0 ? o_.chunk_tokens : (by_encoder ? text_enc->max_tokens() : 256);
  size_t chunk_overlap = o_.chunk_overlap > 0 ? o_.chunk_overlap : chunk_tokens / 8;
  std::function<size_t(std::string_view)> count_tokens;
  if (by_encoder) count_tokens = [text_enc](std::string_view t) { return text_enc->CountTokens(t); };

  auto prepare_worker = [&] {
    // Below the model threads: when both want a core, the models (the bottleneck) should win;
    // when the models idle (audio, documents), the workers still get all of it.
    ::setpriority(PRIO_PROCESS, static_cast<id_t>(::syscall(SYS_gettid)), 5);
    std::unique_ptr<embed::Encoder> speech;  // this worker's decoder, opened on first use
    Status speech_status;
    bool speech_tried = false;
    PrepareContext ctx{&o_, &enc_, nullptr, chunk_tokens, chunk_overlap, count_tokens, &cancel_};
    double busy = 0;
    while (!cancel_) {
      size_t i = next.fetch_add(1);
      if (i >= works.size()) break;
      auto t0 = Clock::now();
      const FileKind kind = works[i].file.kind;
      if (enc_.speech != nullptr && !speech_tried && (kind == FileKind::kAudio || kind == FileKind::kVideo)) {
        speech_tried = true;
        auto s = embed::OpenEncoder(enc_.speech->manifest, enc_.speech->dir, embed::Modality::kAudio);
        if (s.ok()) speech = std::move(*s);
        else speech_status = s.status();
        ctx.speech = speech.get();
      }
      if (!speech_status.ok() && kind == FileKind::kAudio) {
        works[i].status = speech_status.WithContext("speech model");
        works[i].failed_stage = "decode";
      } else {
        Prepare(works[i], ctx);
      }
      busy += Seconds(t0, Clock::now());
      prepared.Push(i);
    }
    {
      std::lock_guard<std::mutex> l(stats_mu);
      stats.prepare_s += busy;
    }
    if (--preparers_left == 0) prepared.Close();
  };

  auto encode_worker = [&] {
    while (auto first = prepared.Pop()) {
      std::vector<size_t> ids = {*first};
      size_t images = works[*first].images.size();
      while (images < static_cast<size_t>(batch)) {
        auto more = prepared.TryPop();
        if (!more) break;
        ids.push_back(*more);
        images += works[*more].images.size();
      }
      std::vector<Work*> group;
      for (size_t i : ids) group.push_back(&works[i]);
      EncodeGroup(group, stats, stats_mu);
      for (Work* w : group) {  // decoded pixels are no longer needed
        w->images.clear();
        w->images.shrink_to_fit();
      }
      encoded.Push(std::move(ids));
    }
    encoded.Close();
  };

  std::vector<std::thread> threads;
  for (int t = 0; t < n_prepare; ++t) threads.emplace_back(prepare_worker);
  threads.emplace_back(encode_worker);

  // The writer: groups finished files into one atomic Replace each.
  auto last_progress = Clock::now() - std::chrono::seconds(1);
  auto tick = [&](bool force) {
    if (!on_progress) return;
    auto now = Clock::now();
    if (!force && now - last_progress < std::chrono::milliseconds(100)) return;
    last_progress = now;
    progress.elapsed_s = Seconds(start, now);
    progress.files_started = std::min<uint64_t>(next.load(), works.size());
    on_progress(progress);
  };
  Status fatal;
  std::vector<size_t> pending;
  size_t pending_points = 0;
  std::vector<std::vector<Point>> pending_built;
  auto fail_file = [&](Work& w, const std::string& stage, const Status& s) {
    stats.files_failed++;
    report({w.file.path, stage, s});
    progress.errors++;
  };
  auto last_write = Clock::now();
  auto write_pending = [&] {
    last_write = Clock::now();
    if (pending.empty()) return;
    auto t0 = Clock::now();
    auto removals = [&](const Work& w) {
      std::vector<PointId> r;
      if (w.old) {
        r.push_back(w.old->key);
        for (uint64_t c = 0; c < w.old->children; ++c) r.push_back(ChildId(w.old->key, c));
      }
      return r;
    };
    std::vector<PointId> remove;
    std::vector<Point> upsert;
    for (size_t k = 0; k < pending.size(); ++k) {
      auto r = removals(works[pending[k]]);
      remove.insert(remove.end(), r.begin(), r.end());
      for (auto& p : pending_built[k]) upsert.push_back(p);
    }
    Status s = coll_->Replace(remove, upsert);
    std::vector<bool> ok(pending.size(), s.ok());
    if (!s.ok() && pending.size() > 1) {  // find the file that is the problem
      for (size_t k = 0; k < pending.size(); ++k) {
        Status s1 = coll_->Replace(removals(works[pending[k]]), pending_built[k]);
        ok[k] = s1.ok();
        if (!s1.ok()) fail_file(works[pending[k]], "write", s1);
      }
    } else if (!s.ok()) {
      fail_file(works[pending[0]], "write", s);
    }
    for (size_t k = 0; k < pending.size(); ++k) {
      Work& w = works[pending[k]];
      if (ok[k]) {
        stats.points_written += pending_built[k].size();
        progress.points += pending_built[k].size();
        (w.old ? stats.files_changed : stats.files_new)++;
      }
      w = Work();  // release the file's memory
    }
    if (!s.ok() && (s.IsIOError() || s.code() == StatusCode::kUnavailable)) fatal = s;
    stats.write_s += Seconds(t0, Clock::now());
    pending.clear();
    pending_built.clear();
    pending_points = 0;
  };
  while (true) {
    auto ids = encoded.PopFor(std::chrono::milliseconds(200));
    if (!ids) {
      if (encoded.Done()) break;
      write_pending();  // nothing arriving: do not hold finished files back
      tick(false);
      continue;
    }
    for (size_t i : *ids) {
      Work& w = works[i];
      progress.files_done++;
      progress.bytes_done += w.file.size;
      stats.bytes_read += w.bytes;
      if (w.status.IsAborted() && cancel_) {  // stopped by Cancel mid-file (long video or audio)
        stats.files_interrupted++;
        w = Work();
        continue;
      }
      if (!w.status.ok()) {
        fail_file(w, w.failed_stage.empty() ? "decode" : w.failed_stage, w.status);
        w = Work();
        continue;
      }
      if (w.touch_only) {  // same content, new mtime: update the record only
        std::vector<PointId> id = {w.key};
        Status s = coll_->SetPayload(id, {{"file", FileRecord(w.file, w.hash)}});
        if (s.ok()) stats.files_touched++;
        else fail_file(w, "write", s);
        w = Work();
        continue;
      }
      std::vector<Point> pts = BuildPoints(w, enc_, o_.min_face_score);
      pending_points += pts.size();
      pending.push_back(i);
      pending_built.push_back(std::move(pts));
    }
    // Write in groups (one log record, one fsync each), at least every second so that an
    // interrupted run loses little.
    if (pending_points >= 256 || pending.size() >= 64 || Clock::now() - last_write > std::chrono::seconds(1))
      write_pending();
    tick(false);
    if (!fatal.ok()) {
      cancel_ = true;
      break;
    }
  }
  write_pending();
  // Drain (after a fatal error or cancel) so the workers can finish.
  while (encoded.Pop()) {
  }
  for (auto& t : threads) t.join();
  stats.cancelled = cancel_.exchange(false) && fatal.ok();
  progress.elapsed_s = Seconds(start, Clock::now());
  tick(true);
  stats.seconds = Seconds(start, Clock::now());
  if (!fatal.ok()) return fatal.WithContext("writing to collection '" + coll_->name() + "'");
  return stats;
}

}  // namespace

Result<std::unique_ptr<Ingestor>> Ingestor::Open(Db* db, const std::string& collection, const Options& options) {
  std::shared_ptr<Collection> coll;
  Json pinned = Json::object();
  MOSAIC_ASSIGN_OR_RETURN(std::vector<TtaView> tta, ParseTta(options.tta));
  bool exists = false;
  for (const auto& n : db->ListCollections()) exists = exists || n == collection;
  if (exists) {
    MOSAIC_ASSIGN_OR_RETURN(coll, db->GetCollection(collection));
    std::vector<PointId> meta_id = {PointId(kIngestRecordId)};
    MOSAIC_ASSIGN_OR_RETURN(auto meta, coll->Get(meta_id, true, false));
    if (meta.empty())
      return Status::InvalidArgument("collection '" + collection +
                                     "' was not made by `mosaic ingest` (no ingest record); ingest into a new collection");
    const Json& enc = meta[0].payload.value("encoders", Json::object());
    for (const auto& [role, vec] : VectorRoles())
      if (enc.contains(role)) pinned[role] = enc[role];
    MOSAIC_ASSIGN_OR_RETURN(std::vector<TtaView> made_with, ParseTta(meta[0].payload.value("tta", std::string())));
    if (!options.tta.empty() && tta != made_with)
      return Status::InvalidArgument("collection '" + collection + "' was ingested with test-time augmentation '" +
                                     TtaName(made_with) + "', not '" + TtaName(tta) +
                                     "': its image vectors would not compare; ingest into a new collection");
    tta = std::move(made_with);
  }
  MOSAIC_ASSIGN_OR_RETURN(auto models, ChooseModels(options.models_dir, options.encoders, pinned, options.object_tags));
  bool any_vector = false;
  for (const auto& m : models)
    for (const auto& [role, vec] : VectorRoles()) any_vector = any_vector || m.role == role;
  if (!any_vector)
    return Status::NotFound(
        "no vector encoder installed (needs one of: a CLIP model, visual-descriptor, faces); see `mosaic models list`");

  embed::SessionOptions so;
  so.intra_op_threads = options.model_threads;
  so.allow_spinning = false;  // the prepare workers need the cores the model threads would spin on
  MOSAIC_ASSIGN_OR_RETURN(EncoderSet enc, OpenEncoders(std::move(models), so));

  if (!exists) {
    CollectionSchema schema;
    for (const auto& [role, vec] : VectorRoles()) {
      const RoleModel* m = enc.Find(role);
      if (m == nullptr) continue;
      VectorSpec v;
      v.name = vec;
      v.dim = static_cast<uint32_t>(m->manifest.dim);
      v.metric = Metric::kCosine;
      v.index.kind = IndexKind::kHnsw;
      schema.vectors.push_back(v);
    }
    MOSAIC_ASSIGN_OR_RETURN(coll, db->CreateCollection(collection, schema));
    Point meta;
    meta.id = PointId(kIngestRecordId);
    Json vectors = Json::object();
    for (const auto& [role, vec] : VectorRoles())
      if (const RoleModel* m = enc.Find(role)) vectors[role] = m->model;
    meta.payload = {{"kind", "meta"}, {"format", kMetaFormat}, {"encoders", vectors}};
    if (!tta.empty()) meta.payload["tta"] = TtaName(tta);
    MOSAIC_RETURN_IF_ERROR(coll->Upsert(std::vector<Point>{meta}));
  }
  MOSAIC_RETURN_IF_ERROR(EnsurePayloadIndexes(*coll));
  return std::unique_ptr<Ingestor>(new IngestorImpl(std::move(coll), options, std::move(enc), std::move(tta)));
}

}  // namespace mosaic::ingest
