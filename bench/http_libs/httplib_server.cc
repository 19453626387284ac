// Minimal HTTP/1.1 server over cpp-httplib (Debian libcpp-httplib-dev 0.11.4, linked as
// libcpp-httplib.so) for bench/http_libs: the peer of beast_server.cc, same routes, limits and
// answers (common.h).
//
// cpp-httplib's model: one accept thread; every accepted connection becomes a task in the
// server's task queue, and a pool thread runs that connection's whole keep-alive loop with
// blocking reads. So a connection holds a pool thread from its first byte until it closes; the
// rest wait in the (unbounded) queue. Configuration, set from the command line:
//   --threads N         pool size (new_task_queue -> httplib::ThreadPool(N)); the library's
//                       default is max(8, cores - 1) = 8 here
//   --keep-alive-max N  requests served on a connection before the server closes it (library
//                       default 5); it is what lets queued connections get a thread at all
// plus, as beast_server: 1 MiB payload limit (413), read/write timeout, keep-alive idle timeout,
// TCP_NODELAY (the answer is written as headers + body, two sends).
//
// Known limits of this version (compiled into the .so, not settable): listen backlog 5; the read
// timeout applies to each recv, not to the whole request; a chunked body is not size-checked.
//
// SIGTERM/SIGINT: a thread waiting in sigwait() calls Server::stop(): the listener closes, each
// connection finishes the request it is on and is closed, listen() returns once the pool has
// drained, exit 0.
#include <httplib.h>

#include <pthread.h>
#include <signal.h>

#include <chrono>
#include <cstdio>
#include <thread>

#include "common.h"

int main(int argc, char** argv) {
  httpbench::Options opt = httpbench::ParseOptions(argc, argv);

  // Block the stop signals in every thread (the pool threads inherit the mask); one thread takes
  // them with sigwait(), outside any signal handler, so it may call Server::stop().
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  httplib::Server svr;
  const std::size_t pool = static_cast<std::size_t>(opt.threads);
  svr.new_task_queue = [pool] { return new httplib::ThreadPool(pool); };
  svr.set_keep_alive_max_count(static_cast<std::size_t>(opt.keep_alive_max));
  svr.set_keep_alive_timeout(httpbench::kIdleTimeoutS);
  svr.set_read_timeout(httpbench::kReadTimeoutS, 0);
  svr.set_write_timeout(httpbench::kWriteTimeoutS, 0);
  svr.set_payload_max_length(httpbench::kBodyLimit);
  svr.set_tcp_nodelay(true);
  svr.set_default_headers({{"Server", "httplib-bench"}});

  const long work_iters = opt.work_iters;
  svr.Post("/echo", [work_iters](const httplib::Request& req, httplib::Response& res) {
    res.set_content(httpbench::EchoJson(req.body, work_iters), "application/json");
  });
  svr.Get("/hello", [](const httplib::Request& req, httplib::Response& res) {
    int sleep_ms = 0;
    if (req.has_param("sleep_ms")) {
      sleep_ms = httpbench::SleepMsFromQuery("sleep_ms=" + req.get_param_value("sleep_ms"));
    }
    if (sleep_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(sleep_ms));
    res.set_content(httpbench::HelloJson(), "application/json");
  });
  // Errors the library produces itself (404, 413, 400, ...) get the same JSON body as Beast's.
  svr.set_error_handler([](const httplib::Request&, httplib::Response& res) {
    const char* msg = res.status == 413 ? "body larger than 1048576 bytes"
                      : res.status == 404 ? "not found"
                                          : "error";
    res.set_content(httpbench::ErrorJson(res.status, msg), "application/json");
  });

  int port = opt.port;
  if (port == 0) {
    port = svr.bind_to_any_port("127.0.0.1");
    if (port < 0) {
      std::perror("bind");
      return 1;
    }
  } else if (!svr.bind_to_port("127.0.0.1", port)) {
    std::perror("bind");
    return 1;
  }
  std::printf("listening on %d\n", port);
  std::fflush(stdout);

  std::thread stopper([&svr, &stop_signals] {
    int sig = 0;
    sigwait(&stop_signals, &sig);
    std::fprintf(stderr, "httplib_server: shutting down\n");
    svr.stop();
  });

  bool ok = svr.listen_after_bind();  // returns after stop() once the pool has finished
  // listen_after_bind returning on its own (an accept error) leaves the stopper waiting.
  if (!ok) {
    std::fprintf(stderr, "httplib_server: listen failed\n");
    pthread_kill(stopper.native_handle(), SIGTERM);
  }
  stopper.join();
  std::fprintf(stderr, "httplib_server: stopped\n");
  return ok ? 0 : 1;
}
