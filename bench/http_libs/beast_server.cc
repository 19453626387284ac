// Minimal HTTP/1.1 server over Boost.Beast + Asio for bench/http_libs (the peer of
// httplib_server.cc; same routes, limits and answers, see common.h).
//
// A fixed number of threads (--threads, default 2) run one io_context. Every connection is a
// Session whose handlers run on its own strand; no thread belongs to a connection, so idle
// keep-alive connections and slow clients cost a socket and a buffer, not a thread.
//
//   GET  /hello[?sleep_ms=N]  {"hello":"world"}; sleep_ms waits on a timer (holds no thread)
//   POST /echo                JSON made from the body after ~50 us of CPU work
//
// Limits: body over 1 MiB -> 413 (Content-Length or chunked); a request must arrive within
// kReadTimeoutS of its first byte; an idle keep-alive connection is closed after kIdleTimeoutS.
// SIGTERM/SIGINT: stop accepting, close idle connections, let requests in flight finish (answered
// with "Connection: close"), exit 0 when the last connection is gone (or after kShutdownGraceS).
#include <array>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/version.hpp>

#include "common.h"

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using namespace std::chrono_literals;

namespace {

class Server;

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, Server& server);
  ~Session();

  void Start() {
    net::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->WaitForRequest(); });
  }
  // Called (on the strand) when the server begins shutting down.
  void OnShutdown() {
    if (!busy_) {
      beast::error_code ec;
      stream_.socket().cancel(ec);  // the idle wait ends with operation_aborted
    }
    // else: the request in flight finishes and its answer carries "Connection: close".
  }
  net::any_io_executor Executor() { return stream_.get_executor(); }

 private:
  bool Stopping() const;

  // Idle: wait for the first byte of the next request (idle timeout applies).
  void WaitForRequest() {
    busy_ = false;
    if (buffer_.size() > 0) {  // a pipelined request is already here
      ReadRequest();
      return;
    }
    if (Stopping()) {
      Close();
      return;
    }
    stream_.expires_after(std::chrono::seconds(httpbench::kIdleTimeoutS));
    stream_.async_read_some(buffer_.prepare(4096), [self = shared_from_this()](beast::error_code ec, std::size_t n) {
      self->buffer_.commit(n);
      if (ec || n == 0) {
        self->Close();  // timeout, EOF, reset, or cancelled by shutdown
        return;
      }
      self->ReadRequest();
    });
  }

  // Busy: a request has started; it must arrive whole within the read timeout.
  void ReadRequest() {
    busy_ = true;
    parser_.emplace();
    parser_->body_limit(httpbench::kBodyLimit);
    stream_.expires_after(std::chrono::seconds(httpbench::kReadTimeoutS));
    http::async_read(stream_, buffer_, *parser_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      self->OnRead(ec);
    });
  }

  void OnRead(beast::error_code ec) {
    if (ec == http::error::body_limit) {
      Reply(413, httpbench::ErrorJson(413, "body larger than 1048576 bytes"), /*keep_alive=*/false, 11);
      return;
    }
    if (ec == http::error::header_limit) {
      Reply(431, httpbench::ErrorJson(431, "headers too large"), false, 11);
      return;
    }
    if (ec == beast::error::timeout) {  // tcp_stream has already closed the socket: no 408
      Close();
      return;
    }
    if (ec) {  // EOF mid-request, reset, or a malformed request
      if (ec.category() == http::make_error_code(http::error::bad_target).category() && ec != http::error::end_of_stream) {
        Reply(400, httpbench::ErrorJson(400, ec.message()), false, 11);
      } else {
        Close();
      }
      return;
    }
    Handle(parser_->release());
  }

  void Handle(http::request<http::string_body> req) {
    std::string_view target(req.target().data(), req.target().size());
    std::size_t q = target.find('?');
    std::string_view path = target.substr(0, q);
    std::string_view query = q == std::string_view::npos ? std::string_view() : target.substr(q + 1);
    bool keep_alive = req.keep_alive();
    unsigned version = req.version();

    if (path == "/echo" && req.method() == http::verb::post) {
      Reply(200, httpbench::EchoJson(req.body(), work_iters_), keep_alive, version);
    } else if (path == "/hello" && req.method() == http::verb::get) {
      int sleep_ms = httpbench::SleepMsFromQuery(query);
      if (sleep_ms == 0) {
        Reply(200, httpbench::HelloJson(), keep_alive, version);
        return;
      }
      timer_.expires_after(std::chrono::milliseconds(sleep_ms));
      timer_.async_wait([self = shared_from_this(), keep_alive, version](beast::error_code) {
        self->Reply(200, httpbench::HelloJson(), keep_alive, version);
      });
    } else {  // wrong path or method: 404, as cpp-httplib answers both
      Reply(404, httpbench::ErrorJson(404, "not found"), keep_alive, version);
    }
  }

  void Reply(unsigned status, std::string body, bool keep_alive, unsigned version) {
    res_ = {};
    res_.result(status);
    res_.version(version);
    res_.set(http::field::server, "beast-bench");
    res_.set(http::field::content_type, "application/json");
    res_.body() = std::move(body);
    res_.keep_alive(keep_alive && !Stopping());
    res_.prepare_payload();
    stream_.expires_after(std::chrono::seconds(httpbench::kWriteTimeoutS));
    http::async_write(stream_, res_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec) {
        self->Close();
      } else if (self->res_.keep_alive()) {
        self->WaitForRequest();
      } else {
        self->Linger();
      }
    });
  }

  // After the last answer: send FIN, then read and discard what the client still sends (the rest
  // of an oversized body) for up to a second, so closing does not reset the connection before the
  // client has read the answer.
  void Linger() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    if (ec) {
      Close();
      return;
    }
    stream_.expires_after(1s);
    DrainOnce();
  }
  void DrainOnce() {
    stream_.async_read_some(net::buffer(drain_), [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec) {
        self->Close();
      } else {
        self->DrainOnce();
      }
    });
  }

  void Close() {
    beast::error_code ec;
    stream_.socket().close(ec);
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  http::response<http::string_body> res_;
  net::steady_timer timer_;
  std::array<char, 16384> drain_{};
  Server& server_;
  long work_iters_;
  bool busy_ = false;  // a request is being read, handled or answered
};

class Server {
 public:
  Server(net::io_context& ioc, const httpbench::Options& opt)
      : ioc_(ioc), acceptor_(ioc), signals_(ioc, SIGINT, SIGTERM), grace_(ioc), opt_(opt) {
    tcp::endpoint ep(net::ip::make_address("127.0.0.1"), static_cast<unsigned short>(opt.port));
    acceptor_.open(ep.protocol());
    acceptor_.set_option(net::socket_base::reuse_address(true));
    acceptor_.bind(ep);
    acceptor_.listen(net::socket_base::max_listen_connections);
    std::printf("listening on %u\n", static_cast<unsigned>(acceptor_.local_endpoint().port()));
    std::fflush(stdout);
    signals_.async_wait([this](beast::error_code ec, int) {
      if (!ec) BeginShutdown();
    });
    Accept();
  }

  long work_iters() const { return opt_.work_iters; }
  bool stopping() const { return stopping_.load(std::memory_order_relaxed); }

  void Register(Session* s, std::weak_ptr<Session> w) {
    std::lock_guard<std::mutex> lock(mu_);
    sessions_.emplace(s, std::move(w));
  }
  void Unregister(Session* s) {
    std::lock_guard<std::mutex> lock(mu_);
    sessions_.erase(s);
    if (stopping_ && sessions_.empty() && !ioc_.stopped()) {
      net::post(ioc_, [this] { grace_.cancel(); });
    }
  }

 private:
  void Accept() {
    acceptor_.async_accept(net::make_strand(ioc_), [this](beast::error_code ec, tcp::socket socket) {
      if (ec) {
        if (ec == net::error::operation_aborted || stopping()) return;  // closed by shutdown
        if (ec == net::error::no_descriptors) {  // out of fds: back off briefly, keep going
          std::this_thread::sleep_for(1ms);
        }
        Accept();
        return;
      }
      if (stopping()) return;
      beast::error_code ignored;
      socket.set_option(tcp::no_delay(true), ignored);
      auto s = std::make_shared<Session>(std::move(socket), *this);
      Register(s.get(), s);
      s->Start();
      Accept();
    });
  }

  void BeginShutdown() {
    std::fprintf(stderr, "beast_server: shutting down\n");
    stopping_ = true;
    beast::error_code ec;
    acceptor_.close(ec);
    std::vector<std::shared_ptr<Session>> live;
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (auto& [p, w] : sessions_) {
        if (auto s = w.lock()) live.push_back(std::move(s));
      }
    }
    for (auto& s : live) {
      net::post(s->Executor(), [s] { s->OnShutdown(); });
    }
    if (live.empty()) return;  // nothing in flight: run() returns once the accept is aborted
    grace_.expires_after(std::chrono::seconds(httpbench::kShutdownGraceS));
    grace_.async_wait([this](beast::error_code ec) {
      if (!ec) {
        std::fprintf(stderr, "beast_server: grace period over, closing remaining connections\n");
        ioc_.stop();
      }
    });
  }

  net::io_context& ioc_;
  tcp::acceptor acceptor_;
  net::signal_set signals_;
  net::steady_timer grace_;
  httpbench::Options opt_;
  std::atomic<bool> stopping_{false};
  std::mutex mu_;
  std::unordered_map<Session*, std::weak_ptr<Session>> sessions_;
};

Session::Session(tcp::socket socket, Server& server)
    : stream_(std::move(socket)), timer_(stream_.get_executor()), server_(server), work_iters_(server.work_iters()) {}

Session::~Session() { server_.Unregister(this); }

bool Session::Stopping() const { return server_.stopping(); }

}  // namespace

int main(int argc, char** argv) {
  httpbench::Options opt = httpbench::ParseOptions(argc, argv);
  std::signal(SIGPIPE, SIG_IGN);
  net::io_context ioc(opt.threads);
  // Never destroyed: sessions still queued when the grace period ends are destroyed with ioc and
  // unregister themselves from it.
  Server& server = *new Server(ioc, opt);
  (void)server;
  std::vector<std::thread> threads;
  for (int i = 1; i < opt.threads; ++i) threads.emplace_back([&ioc] { ioc.run(); });
  ioc.run();
  for (auto& t : threads) t.join();
  std::fprintf(stderr, "beast_server: stopped\n");
  return 0;
}
