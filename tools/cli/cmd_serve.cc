// mosaic serve: the HTTP server (REST API, Qdrant-compatible API, web UI) until SIGINT/SIGTERM.
#include <pthread.h>
#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <utility>

#include "cli.h"
#include "server/server.h"

namespace mosaic::cli {
namespace {

constexpr char kHelp[] =
    "usage: mosaic [--db DIR] serve [--host H] [--port N] [--media-root DIR] [--models DIR]\n"
    "                           [--max-body-mb N] [--io-threads N] [--workers N]\n"
    "                           [--wal-flush-kb N] [--quiet]\n"
    "\n"
    "Serves the database over HTTP (docs/server.md): the REST API under /v1, a Qdrant-compatible\n"
    "API (Qdrant clients work unchanged), Prometheus metrics at /metrics and the web UI at /ui/.\n"
    "Default 127.0.0.1:6333 (Qdrant's port); --port 0 takes a free port. The bound address is\n"
    "printed as 'listening on http://HOST:PORT'.\n"
    "\n"
    "--media-root DIR   originals are served, and ingest jobs take folders, only under DIR\n"
    "--io-threads N     threads that run the connections and answer quick requests (searches by\n"
    "                   vector or id, reads by id); default 0: one per core\n"
    "--workers N        threads for the rest (models, ingest, apps, writes); default 0: one per core\n"
    "--wal-flush-kb N   write a collection's log into a segment once it passes N KiB (default\n"
    "                   65536; small values make flushes and graph builds frequent, for tests)\n"
    "API keys: $MOSAIC_API_KEY (admin: everything) and $MOSAIC_READ_API_KEY (reads and searches),\n"
    "sent as 'api-key: KEY' or 'Authorization: Bearer KEY'. Without keys the server listens on\n"
    "loopback addresses only.\n"
    "SIGINT/SIGTERM: stop accepting, finish the requests in flight (up to 10 s), flush, exit 0.\n";

bool IsLoopback(const std::string& host) {
  return host == "127.0.0.1" || host == "::1" || host == "localhost" || host.starts_with("127.");
}

}  // namespace

int RunServe(Args& args) {
  if (auto rc = CheckFlags(args, {"host", "port", "media-root", "models", "max-body-mb", "io-threads",
                                  "workers", "wal-flush-kb", "quiet"},
                           kHelp))
    return *rc;
  server::ServerOptions o;
  o.db_path = DbPath(args);
  o.models_dir = args.GetOr("models", "");
  o.media_root = args.GetOr("media-root", "");
  o.http.host = args.GetOr("host", "127.0.0.1");
  if (o.http.host == "localhost") o.http.host = "127.0.0.1";
  auto port = args.GetInt("port", 6333);
  if (!port.ok()) return Fail(port.status());
  if (port.value() < 0 || port.value() > 65535)
    return Usage("--port: expected 0..65535, got " + std::to_string(port.value()), kHelp);
  o.http.port = static_cast<uint16_t>(port.value());
  auto body_mb = args.GetInt("max-body-mb", 64);
  if (!body_mb.ok()) return Fail(body_mb.status());
  if (body_mb.value() < 1 || body_mb.value() > 4096)
    return Usage("--max-body-mb: expected 1..4096, got " + std::to_string(body_mb.value()), kHelp);
  o.http.max_body_bytes = static_cast<size_t>(body_mb.value()) << 20;
  for (auto [flag, out] : {std::pair{"io-threads", &o.http.io_threads},
                           std::pair{"workers", &o.http.workers}}) {
    auto n = args.GetInt(flag, 0);
    if (!n.ok()) return Fail(n.status());
    if (n.value() < 0 || n.value() > 1024)
      return Usage(std::string("--") + flag + ": expected 0..1024, got " + std::to_string(n.value()),
                   kHelp);
    *out = static_cast<int>(n.value());
  }
  auto flush_kb = args.GetInt("wal-flush-kb", 64 << 10);
  if (!flush_kb.ok()) return Fail(flush_kb.status());
  if (flush_kb.value() < 1 || flush_kb.value() > (1 << 30))
    return Usage("--wal-flush-kb: expected 1..1073741824, got " + std::to_string(flush_kb.value()),
                 kHelp);
  o.db.wal_flush_bytes = static_cast<uint64_t>(flush_kb.value()) << 10;
  o.log_requests = !args.Has("quiet");
  if (const char* k = std::getenv("MOSAIC_API_KEY")) o.admin_key = k;
  if (const char* k = std::getenv("MOSAIC_READ_API_KEY")) o.read_key = k;
  if (o.admin_key.empty() && o.read_key.empty()) {
    if (!IsLoopback(o.http.host))
      return Fail(Status::PermissionDenied(
          "no API key is set ($MOSAIC_API_KEY, $MOSAIC_READ_API_KEY): refusing to listen on '" +
          o.http.host + "'; set a key, or listen on 127.0.0.1"));
    std::fprintf(stderr, "mosaic: no API keys set: listening on loopback only, every caller is admin\n");
  }

  // Signals are taken by a thread of their own (sigwait), blocked everywhere else.
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);
  signal(SIGPIPE, SIG_IGN);

  std::string host = o.http.host;
  auto server = server::Server::Start(std::move(o));
  if (!server.ok()) return Fail(server.status());
  std::fprintf(stderr, "listening on http://%s:%u (web UI: http://%s:%u/ui/)\n", host.c_str(),
               server.value()->port(), host.c_str(), server.value()->port());
  int sig = 0;
  sigwait(&sigs, &sig);
  std::fprintf(stderr, "mosaic: %s: finishing requests in flight, then stopping\n",
               sig == SIGINT ? "SIGINT" : "SIGTERM");
  server.value()->Shutdown(std::chrono::seconds(10));
  std::fprintf(stderr, "mosaic: stopped\n");
  return kExitOk;
}

}  // namespace mosaic::cli
