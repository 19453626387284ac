// What route handlers share: the database, the options, the query encoders per collection, the
// ingest jobs and the metrics. Thread-safe: handlers run on several worker threads at once.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "ingest/ingest.h"
#include "mosaic/db.h"
#include "query/input.h"
#include "server/http.h"
#include "server/metrics.h"

namespace mosaic::server {

struct ServerOptions {
  std::string db_path;
  std::string models_dir;     // model registry (empty: the default)
  std::string media_root;     // ingest jobs take folders under it only (empty: no ingest jobs)
  std::string snapshots_dir;  // empty: <db_path>/snapshots
  std::string read_key;       // API keys (empty: none); see auth.h
  std::string admin_key;
  bool log_requests = true;
  HttpOptions http;
  DbOptions db;  // how the database is opened (sync policy, flush threshold)
};

// An ingest job: one Ingestor::Run on its own thread.
struct Job {
  std::string id;
  std::string collection;
  std::string path;
  std::atomic<bool> running{true};
  mutable std::mutex mu;
  ingest::Progress progress;  // guarded by mu
  std::vector<ingest::FileError> errors;  // guarded by mu (the run's, once done)
  std::string state = "running";  // running, done, cancelled, failed; guarded by mu
  std::string failure;            // guarded by mu
  uint64_t version = 0;           // bumps on every change; guarded by mu
  std::unique_ptr<ingest::Ingestor> ingestor;
  std::thread thread;

  Json ToJson() const;
};

class ServerContext {
 public:
  ServerContext(std::unique_ptr<Db> db, ServerOptions options);
  ~ServerContext();  // cancels and joins running jobs

  Db& db() { return *db_; }
  const ServerOptions& options() const { return options_; }
  Metrics& metrics() { return metrics_; }

  // NotFound naming the collection.
  Result<std::shared_ptr<Collection>> GetCollection(const std::string& name);

  // The collection's query encoder (models loaded on first use), safe to use from any thread:
  // encodings are serialized per collection.
  Result<std::shared_ptr<query::InputEncoder>> Encoder(const std::shared_ptr<Collection>& c);
  // Encoder, or none when the collection's models cannot be opened (then `why` says why): inputs
  // by id or vector, and BM25's words, need no model.
  std::shared_ptr<query::InputEncoder> EncoderOrNone(const std::shared_ptr<Collection>& c,
                                                     Status* why);
  void ForgetEncoder(const std::string& collection);

  // Starts ingesting `path` (relative to the media root) into `collection`.
  Result<std::shared_ptr<Job>> StartIngest(const std::string& collection, const std::string& path);
  std::shared_ptr<Job> FindJob(const std::string& id);
  std::vector<std::shared_ptr<Job>> Jobs();

  // Flushes every collection (shutdown).
  void FlushAll();

 private:
  std::unique_ptr<Db> db_;
  ServerOptions options_;
  Metrics metrics_;
  std::mutex mu_;
  struct EncoderEntry;
  std::map<std::string, std::shared_ptr<EncoderEntry>> encoders_;  // guarded by mu_
  std::map<std::string, std::shared_ptr<Job>> jobs_;               // guarded by mu_
  uint64_t next_job_ = 1;                                          // guarded by mu_
};

}  // namespace mosaic::server
