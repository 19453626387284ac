#include "server/http.h"

#include <atomic>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

namespace mosaic::server {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

Result<std::string> PercentDecode(std::string_view s, bool plus_is_space) {
  std::string out;
  out.reserve(s.size());
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%') {
      int hi = i + 2 < s.size() ? hex(s[i + 1]) : -1;
      int lo = i + 2 < s.size() ? hex(s[i + 2]) : -1;
      if (hi < 0 || lo < 0)
        return Status::InvalidArgument("bad percent escape in '" + std::string(s) + "'");
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (s[i] == '+' && plus_is_space) {
      out.push_back(' ');
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

void ParseTarget(std::string_view target, Request* req) {
  const size_t q = target.find('?');
  auto path = PercentDecode(target.substr(0, q), false);
  req->path = path.ok() ? std::move(path).value() : std::string(target.substr(0, q));
  if (q == std::string_view::npos) return;
  std::string_view qs = target.substr(q + 1);
  while (!qs.empty()) {
    const size_t amp = qs.find('&');
    std::string_view kv = qs.substr(0, amp);
    const size_t eq = kv.find('=');
    auto k = PercentDecode(kv.substr(0, eq), true);
    auto v = PercentDecode(eq == std::string_view::npos ? "" : kv.substr(eq + 1), true);
    if (k.ok() && v.ok() && !k.value().empty()) req->query[k.value()] = v.value();
    if (amp == std::string_view::npos) break;
    qs.remove_prefix(amp + 1);
  }
}

void AddHeader(std::string_view name, std::string_view value, Request* req) {
  std::string lower(name);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  req->headers.emplace_back(std::move(lower), std::string(value));
}

namespace {

class Session;

}  // namespace

struct HttpServer::Impl {
  HttpOptions options;
  Dispatch dispatch;
  ErrorDispatch on_error;
  // One event loop per I/O thread, each connection on one of them for its whole life: a thread
  // sleeps in its own epoll and wakes only for its connections (one io_context shared by all
  // threads made them hand the reactor to each other and wake each other for every request).
  std::vector<std::unique_ptr<net::io_context>> loops;
  std::vector<net::executor_work_guard<net::io_context::executor_type>> work;
  size_t next_loop = 0;  // round robin; used by the acceptor's handler only
  std::unique_ptr<tcp::acceptor> acceptor;
  std::unique_ptr<net::thread_pool> workers;
  std::vector<std::thread> io_threads;

  std::mutex mu;
  std::condition_variable cv;
  std::set<std::shared_ptr<Session>> sessions;  // guarded by mu
  size_t in_flight = 0;                          // guarded by mu
  std::atomic<bool> stopping{false};
  bool stopped = false;  // guarded by mu

  void Accept();
  void Add(const std::shared_ptr<Session>& s) {
    std::lock_guard l(mu);
    sessions.insert(s);
  }
  void Remove(const std::shared_ptr<Session>& s) {
    std::lock_guard l(mu);
    sessions.erase(s);
    cv.notify_all();
  }
  void Begin() {
    std::lock_guard l(mu);
    ++in_flight;
  }
  void End() {
    std::lock_guard l(mu);
    --in_flight;
    cv.notify_all();
  }
};

namespace {

std::atomic<uint64_t> g_request_seq{0};

std::string NewRequestId() {
  static const uint32_t boot = static_cast<uint32_t>(
      std::chrono::steady_clock::now().time_since_epoch().count() & 0xffffff);
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%06x-%llu", boot,
                static_cast<unsigned long long>(++g_request_seq));
  return buf;
}

// An id the client sent, if it is short and plain (it is echoed into logs and headers).
bool PlainId(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.')
      return false;
  return true;
}

constexpr size_t kReadBuffer = 16 << 10;

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, HttpServer::Impl* server)
      : stream_(std::move(socket)), server_(server), timer_(stream_.get_executor()) {
    // Beast reads max(512, free capacity) bytes at a time: without room, a 4 KB query body took
    // eight recvmsg calls.
    buffer_.reserve(kReadBuffer);
  }

  void Start() {
    net::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->Read(); });
  }

  // From another thread at shutdown: closes the connection if it waits for a request; else it
  // closes after answering the one in hand.
  void Stop() {
    net::post(stream_.get_executor(), [self = shared_from_this()] {
      self->close_after_ = true;
      if (!self->busy_) self->Close();
    });
  }

 private:
  void Read() {
    if (server_->stopping) return Close();
    parser_.emplace();
    parser_->body_limit(server_->options.max_body_bytes);
    parser_->header_limit(static_cast<uint32_t>(server_->options.max_header_bytes));
    stream_.expires_after(first_ ? server_->options.read_timeout : server_->options.idle_timeout);
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code ec, size_t) {
                       self->OnRead(ec);
                     });
  }

  void OnRead(beast::error_code ec) {
    first_ = false;
    if (ec == http::error::end_of_stream || ec == net::error::operation_aborted ||
        ec == beast::error::timeout || ec == net::error::eof ||
        ec == net::error::connection_reset || ec == net::error::bad_descriptor)
      return Close();
    Request req;
    req.request_id = NewRequestId();
    if (ec) {
      // A request we will not run: answer once, then close (the stream is out of step).
      int status = 400;
      std::string what = "malformed HTTP request: " + ec.message();
      if (ec == http::error::body_limit) {
        status = 413;
        what = "request body is larger than the limit of " +
               std::to_string(server_->options.max_body_bytes) + " bytes";
      } else if (ec == http::error::header_limit) {
        status = 431;
        what = "request headers are larger than the limit of " +
               std::to_string(server_->options.max_header_bytes) + " bytes";
      }
      if (parser_->is_header_done()) {
        req.method = std::string(parser_->get().method_string());
        req.path = std::string(parser_->get().target());
      }
      close_after_ = true;
      busy_ = true;
      server_->Begin();
      Response res = server_->on_error(req, Status::InvalidArgument(what), status);
      return Write(std::move(res), /*keep_alive=*/false, req.request_id);
    }
    auto msg = parser_->release();
    req.method = std::string(msg.method_string());
    ParseTarget(std::string_view(msg.target().data(), msg.target().size()), &req);
    for (const auto& field : msg)
      AddHeader({field.name_string().data(), field.name_string().size()},
                {field.value().data(), field.value().size()}, &req);
    if (std::string sent = req.Header("x-request-id"); PlainId(sent)) req.request_id = sent;
    req.body = std::move(msg.body());
    bool keep_alive = msg.keep_alive();
    bool head = msg.method() == http::verb::head;
    if (head) req.method = "GET";
    busy_ = true;
    server_->Begin();
    stream_.expires_never();
    // A quick route's handler runs here, on this connection's I/O thread; others (and quick ones
    // that find the request heavy) run on a worker, and the answer is written back here.
    req.on_io_thread = true;
    Response res = server_->dispatch(req);
    if (!res.defer) {
      head_ = head;
      if (head) res.stream.reset();
      return Write(std::move(res), keep_alive, req.request_id);
    }
    req.on_io_thread = false;
    net::post(*server_->workers, [self = shared_from_this(), req = std::move(req), keep_alive,
                                  head]() mutable {
      Response res = self->server_->dispatch(req);
      if (res.defer)  // a handler's mistake: it cannot defer from a worker
        res = self->server_->on_error(req, Status::Internal("handler deferred on a worker"), 500);
      if (head) res.stream.reset();
      net::post(self->stream_.get_executor(),
                [self, res = std::move(res), keep_alive, head, id = req.request_id]() mutable {
                  self->head_ = head;
                  self->Write(std::move(res), keep_alive, id);
                });
    });
  }

  template <typename Msg>
  void SetHeaders(Msg& m, const Response& res, const std::string& id) {
    m.set(http::field::server, "mosaic");
    m.set(http::field::content_type, res.content_type);
    m.set("X-Request-Id", id);
    for (const auto& [k, v] : res.headers) m.set(k, v);
  }

  void Write(Response res, bool keep_alive, const std::string& id) {
    if (server_->stopping) close_after_ = true;
    keep_alive = keep_alive && !close_after_;
    stream_.expires_after(std::chrono::seconds(60));
    if (res.stream) return StartStream(std::move(res), id);
    auto msg = std::make_shared<http::response<http::string_body>>();
    msg->result(static_cast<unsigned>(res.status));
    msg->version(11);
    SetHeaders(*msg, res, id);
    msg->keep_alive(keep_alive);
    size_t size = res.body.size();
    msg->body() = std::move(res.body);
    msg->prepare_payload();
    if (head_) {
      msg->body().clear();
      msg->content_length(size);
    }
    auto done = [self = shared_from_this(), msg, keep_alive](beast::error_code ec, size_t) {
      self->Finished(ec, keep_alive);
    };
    if (head_) {
      auto sr = std::make_shared<http::response_serializer<http::string_body>>(*msg);
      http::async_write_header(stream_, *sr,
                               [sr, done](beast::error_code ec, size_t n) { done(ec, n); });
    } else {
      http::async_write(stream_, *msg, std::move(done));
    }
  }

  void Finished(beast::error_code ec, bool keep_alive) {
    busy_ = false;
    head_ = false;
    server_->End();
    if (ec || !keep_alive || close_after_) return Close();
    Read();
  }

  // A chunked body fed by res.stream until it ends (server-sent events).
  void StartStream(Response res, const std::string& id) {
    stream_res_ = std::make_shared<http::response<http::empty_body>>();
    stream_res_->result(static_cast<unsigned>(res.status));
    stream_res_->version(11);
    SetHeaders(*stream_res_, res, id);
    stream_res_->set(http::field::cache_control, "no-cache");
    stream_res_->chunked(true);
    stream_res_->keep_alive(false);
    body_stream_ = res.stream;
    sr_ = std::make_shared<http::response_serializer<http::empty_body>>(*stream_res_);
    stream_.expires_never();
    http::async_write_header(stream_, *sr_,
                             [self = shared_from_this()](beast::error_code ec, size_t) {
                               if (ec) return self->Finished(ec, false);
                               self->NextChunk();
                             });
  }

  void NextChunk() {
    if (server_->stopping) return EndStream();
    std::string chunk;
    bool more = body_stream_->next(chunk);
    auto after = [self = shared_from_this(), more](beast::error_code ec, size_t) {
      if (ec) return self->Finished(ec, false);
      if (!more) return self->EndStream();
      self->timer_.expires_after(std::chrono::milliseconds(self->body_stream_->interval_ms));
      self->timer_.async_wait([self](beast::error_code) { self->NextChunk(); });
    };
    if (chunk.empty()) return after({}, 0);
    auto data = std::make_shared<std::string>(std::move(chunk));
    net::async_write(stream_, http::make_chunk(net::buffer(*data)),
                     [data, after](beast::error_code ec, size_t n) { after(ec, n); });
  }

  void EndStream() {
    net::async_write(stream_, http::make_chunk_last(),
                     [self = shared_from_this()](beast::error_code ec, size_t) {
                       self->Finished(ec, false);
                     });
  }

  void Close() {
    if (closed_) return;
    closed_ = true;
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
    stream_.close();
    timer_.cancel();
    server_->Remove(shared_from_this());
  }

  beast::tcp_stream stream_;
  HttpServer::Impl* server_;
  net::steady_timer timer_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::shared_ptr<http::response<http::empty_body>> stream_res_;
  std::shared_ptr<http::response_serializer<http::empty_body>> sr_;
  std::shared_ptr<Stream> body_stream_;
  bool first_ = true;
  bool busy_ = false;
  bool head_ = false;
  bool close_after_ = false;
  bool closed_ = false;
};

}  // namespace

void HttpServer::Impl::Accept() {
  net::io_context& loop = *loops[next_loop++ % loops.size()];
  acceptor->async_accept(loop, [this](beast::error_code ec, tcp::socket socket) {
    if (stopping) return;
    if (!ec) {
      beast::error_code ignored;
      socket.set_option(tcp::no_delay(true), ignored);
      auto s = std::make_shared<Session>(std::move(socket), this);
      Add(s);
      s->Start();
    }
    Accept();
  });
}

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpServer::~HttpServer() {
  Shutdown(std::chrono::milliseconds(0));
  Wait();
}

Result<std::unique_ptr<HttpServer>> HttpServer::Start(const HttpOptions& options,
                                                      Dispatch dispatch, ErrorDispatch on_error) {
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->dispatch = std::move(dispatch);
  impl->on_error = std::move(on_error);
  beast::error_code ec;
  auto address = net::ip::make_address(options.host, ec);
  if (ec) return Status::InvalidArgument("bad listen address '" + options.host + "': " + ec.message());
  int io_threads = options.io_threads > 0
                       ? options.io_threads
                       : std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  for (int i = 0; i < io_threads; ++i) {
    impl->loops.push_back(std::make_unique<net::io_context>(1));  // run by one thread
    impl->work.push_back(net::make_work_guard(*impl->loops.back()));
  }
  impl->acceptor = std::make_unique<tcp::acceptor>(*impl->loops.front());
  tcp::acceptor& acceptor = *impl->acceptor;
  tcp::endpoint endpoint(address, options.port);
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec)
    return Status::IOError("cannot listen on " + options.host + ":" +
                           std::to_string(options.port) + ": " + ec.message());
  int workers = options.workers > 0
                    ? options.workers
                    : std::max(2, static_cast<int>(std::thread::hardware_concurrency()));
  impl->workers = std::make_unique<net::thread_pool>(workers);
  impl->Accept();
  for (auto& loop : impl->loops)
    impl->io_threads.emplace_back([loop = loop.get()] { loop->run(); });
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

uint16_t HttpServer::port() const {
  beast::error_code ec;
  auto ep = impl_->acceptor->local_endpoint(ec);
  return ec ? 0 : ep.port();
}

size_t HttpServer::open_connections() const {
  std::lock_guard l(impl_->mu);
  return impl_->sessions.size();
}

void HttpServer::Shutdown(std::chrono::milliseconds grace) {
  Impl& s = *impl_;
  if (s.stopping.exchange(true)) return;
  net::post(*s.loops.front(), [&s] {
    beast::error_code ec;
    s.acceptor->close(ec);
  });
  std::vector<std::shared_ptr<Session>> sessions;
  {
    std::lock_guard l(s.mu);
    sessions.assign(s.sessions.begin(), s.sessions.end());
  }
  for (auto& session : sessions) session->Stop();
  {
    std::unique_lock l(s.mu);
    s.cv.wait_for(l, grace, [&s] { return s.in_flight == 0 && s.sessions.empty(); });
  }
  s.work.clear();
  for (auto& loop : s.loops) loop->stop();
  for (auto& t : s.io_threads)
    if (t.joinable()) t.join();
  s.workers->join();
  {
    std::lock_guard l(s.mu);
    s.sessions.clear();
    s.stopped = true;
  }
  s.cv.notify_all();
}

void HttpServer::Wait() {
  std::unique_lock l(impl_->mu);
  impl_->cv.wait(l, [this] { return impl_->stopped; });
}

}  // namespace mosaic::server
