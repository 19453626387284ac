#include "server/context.h"

#include <climits>
#include <cstdlib>

#include "query/input/media_input_encoder.h"

namespace mosaic::server {

namespace {

Json ProgressToJson(const ingest::Progress& p) {
  return {{"files_total", p.files_total}, {"files_started", p.files_started},
          {"files_done", p.files_done},   {"bytes_total", p.bytes_total},
          {"bytes_done", p.bytes_done},   {"points", p.points},
          {"errors", p.errors},           {"elapsed_s", p.elapsed_s}};
}

// An encoder shared by handlers: Encode calls are serialized (the models are not thread-safe).
class SharedEncoder final : public query::InputEncoder {
 public:
  SharedEncoder(std::shared_ptr<Collection> c, std::unique_ptr<query::MediaInputEncoder> e)
      : collection_(std::move(c)), inner_(std::move(e)) {}
  std::vector<std::string> TextVectors() const override { return inner_->TextVectors(); }
  Result<query::EncodedInput> Encode(const query::Input& input) override {
    std::lock_guard l(mu_);
    return inner_->Encode(input);
  }
  const Collection* collection() const { return collection_.get(); }

 private:
  std::shared_ptr<Collection> collection_;  // the encoder refers to it
  std::mutex mu_;
  std::unique_ptr<query::MediaInputEncoder> inner_;
};

}  // namespace

struct ServerContext::EncoderEntry {
  std::shared_ptr<SharedEncoder> encoder;
};

Json Job::ToJson() const {
  std::lock_guard l(mu);
  Json errs = Json::array();
  for (const auto& e : errors)
    errs.push_back({{"path", e.path}, {"stage", e.stage}, {"message", e.status.message()}});
  Json j = {{"id", id},       {"collection", collection}, {"path", path},
            {"state", state}, {"progress", ProgressToJson(progress)}, {"errors", errs},
            {"version", version}};
  if (!failure.empty()) j["failure"] = failure;
  return j;
}

ServerContext::ServerContext(std::unique_ptr<Db> db, ServerOptions options)
    : db_(std::move(db)), options_(std::move(options)) {}

ServerContext::~ServerContext() {
  for (auto& job : Jobs()) {
    if (job->ingestor) job->ingestor->Cancel();
    if (job->thread.joinable()) job->thread.join();
  }
}

Result<std::shared_ptr<Collection>> ServerContext::GetCollection(const std::string& name) {
  auto c = db_->GetCollection(name);
  if (!c.ok() && c.status().code() == StatusCode::kNotFound)
    return Status::NotFound("collection '" + name + "' does not exist");
  return c;
}

Result<std::shared_ptr<query::InputEncoder>> ServerContext::Encoder(
    const std::shared_ptr<Collection>& c) {
  {
    std::lock_guard l(mu_);
    auto it = encoders_.find(c->name());
    if (it != encoders_.end() && it->second->encoder->collection() == c.get())
      return std::shared_ptr<query::InputEncoder>(it->second->encoder);
  }
  // Loading models takes a while: not under mu_ (two first queries may both load; one wins).
  query::MediaInputOptions mo;
  mo.models_dir = options_.models_dir;
  MOSAIC_ASSIGN_OR_RETURN(auto inner, query::MediaInputEncoder::Open(*c, mo));
  auto entry = std::make_shared<EncoderEntry>();
  entry->encoder = std::make_shared<SharedEncoder>(c, std::move(inner));
  std::lock_guard l(mu_);
  encoders_[c->name()] = entry;
  return std::shared_ptr<query::InputEncoder>(entry->encoder);
}

std::shared_ptr<query::InputEncoder> ServerContext::EncoderOrNone(
    const std::shared_ptr<Collection>& c, Status* why) {
  auto e = Encoder(c);
  if (e.ok()) return e.value();
  *why = e.status();
  return nullptr;
}

void ServerContext::ForgetEncoder(const std::string& collection) {
  std::lock_guard l(mu_);
  encoders_.erase(collection);
}

Result<std::shared_ptr<Job>> ServerContext::StartIngest(const std::string& collection,
                                                       const std::string& path) {
  if (options_.media_root.empty())
    return Status::PermissionDenied(
        "ingest jobs are off: start the server with --media-root DIR to allow folders under DIR");
  if (path.find('\0') != std::string::npos || (!path.empty() && path[0] == '/'))
    return Status::InvalidArgument("path '" + path + "' must be relative to the media root");
  char root[PATH_MAX], full[PATH_MAX];
  if (!::realpath(options_.media_root.c_str(), root))
    return Status::IOError("media root '" + options_.media_root + "' is not readable");
  std::string joined = std::string(root) + "/" + path;
  if (!::realpath(joined.c_str(), full))
    return Status::NotFound("path '" + path + "' does not exist under the media root");
  std::string r(root), f(full);
  if (f != r && !f.starts_with(r + "/"))
    return Status::PermissionDenied("path '" + path + "' leaves the media root");
  ingest::Options io;
  io.models_dir = options_.models_dir;
  MOSAIC_ASSIGN_OR_RETURN(auto ingestor, ingest::Ingestor::Open(db_.get(), collection, io));
  auto job = std::make_shared<Job>();
  {
    std::lock_guard l(mu_);
    job->id = "job-" + std::to_string(next_job_++);
    jobs_[job->id] = job;
  }
  job->collection = collection;
  job->path = path;
  job->ingestor = std::move(ingestor);
  ForgetEncoder(collection);  // a new collection's models are known only now
  job->thread = std::thread([job, f] {
    std::vector<std::string> paths{f};
    auto stats = job->ingestor->Run(paths, [&job](const ingest::Progress& p) {
      std::lock_guard l(job->mu);
      job->progress = p;
      ++job->version;
    });
    std::lock_guard l(job->mu);
    if (!stats.ok()) {
      job->state = "failed";
      job->failure = stats.status().message();
    } else {
      job->errors = stats.value().errors;
      job->state = stats.value().cancelled ? "cancelled" : "done";
      job->progress.errors = stats.value().errors.size();
    }
    ++job->version;
    job->running = false;
  });
  return job;
}

std::shared_ptr<Job> ServerContext::FindJob(const std::string& id) {
  std::lock_guard l(mu_);
  auto it = jobs_.find(id);
  return it == jobs_.end() ? nullptr : it->second;
}

std::vector<std::shared_ptr<Job>> ServerContext::Jobs() {
  std::lock_guard l(mu_);
  std::vector<std::shared_ptr<Job>> out;
  for (auto& [id, job] : jobs_) out.push_back(job);
  return out;
}

void ServerContext::FlushAll() {
  for (const std::string& name : db_->ListCollections())
    if (auto c = db_->GetCollection(name); c.ok()) (void)c.value()->Flush();
}

}  // namespace mosaic::server
