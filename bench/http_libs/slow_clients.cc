// Slow HTTP clients for bench/http_libs: COUNT connections that each send a request's headers one
// byte per interval (default 1 s), never finishing within a run (a long padding header). A
// connection the server closes (timeout, error answer) is counted and reopened, so COUNT stay
// open. One thread, non-blocking sockets, poll().
//
//   slow_clients PORT COUNT SECONDS [INTERVAL_MS] [--idle]
//
// --idle: connect and send nothing (idle keep-alive connections, for the shutdown test).
//
// Prints one JSON line at the end (or on SIGTERM/SIGINT):
//   {"connections":200,"opened":N,"connect_failed":N,"closed_by_server":N,"reset":N,"answers":N,
//    "bytes_sent":N}
// closed_by_server: connections the server ended (FIN or error); "reset" the part of those that
// ended with an error (ECONNRESET, ETIMEDOUT, EPIPE) rather than a FIN; "answers" those that got
// bytes back (e.g. a 408) first.
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

volatile sig_atomic_t g_stop = 0;
void OnSignal(int) { g_stop = 1; }

struct Conn {
  int fd = -1;
  bool connected = false;
  bool answered = false;
  std::size_t sent = 0;  // bytes of the request sent so far
};

std::string MakeRequest() {
  // ~2.1 KB of headers: at one byte a second it takes over half an hour to finish.
  std::string r = "GET /hello HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: slow-client\r\nX-Pad: ";
  r.append(2048, 'a');
  r += "\r\n\r\n";
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: %s PORT COUNT SECONDS [INTERVAL_MS] [--idle]\n", argv[0]);
    return 2;
  }
  const int port = std::atoi(argv[1]);
  const int count = std::atoi(argv[2]);
  const double seconds = std::atof(argv[3]);
  const int interval_ms = argc > 4 ? std::atoi(argv[4]) : 1000;
  const bool idle = argc > 5 && std::string(argv[5]) == "--idle";
  signal(SIGPIPE, SIG_IGN);
  signal(SIGTERM, OnSignal);
  signal(SIGINT, OnSignal);

  const std::string request = MakeRequest();
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);

  long opened = 0, connect_failed = 0, closed_by_server = 0, reset = 0, answers = 0, bytes_sent = 0;
  std::vector<Conn> conns(static_cast<std::size_t>(count));

  auto open_conn = [&](Conn& c) {
    c = Conn{};
    c.fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c.fd < 0) {
      ++connect_failed;
      return;
    }
    int one = 1;
    setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);  // each byte its own segment
    int rc = connect(c.fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    if (rc == 0) {
      c.connected = true;
    } else if (errno != EINPROGRESS) {
      close(c.fd);
      c.fd = -1;
      ++connect_failed;
      return;
    }
    ++opened;
  };
  auto drop = [&](Conn& c, bool by_server, bool error = false) {
    if (c.fd >= 0) close(c.fd);
    if (by_server) {
      ++closed_by_server;
      if (error) ++reset;
      if (c.answered) ++answers;
    }
    c.fd = -1;
  };

  for (auto& c : conns) open_conn(c);

  using clock = std::chrono::steady_clock;
  const auto start = clock::now();
  const auto end = start + std::chrono::duration_cast<clock::duration>(std::chrono::duration<double>(seconds));
  auto next_tick = start;
  std::vector<pollfd> pfds(conns.size());
  char buf[4096];

  while (!g_stop && clock::now() < end) {
    auto now = clock::now();
    if (now >= next_tick) {  // one byte on every connected socket; reopen the closed ones
      for (auto& c : conns) {
        if (c.fd < 0) {
          open_conn(c);
          continue;
        }
        if (idle || !c.connected || c.sent >= request.size()) continue;
        ssize_t n = send(c.fd, request.data() + c.sent, 1, MSG_NOSIGNAL);
        if (n == 1) {
          ++c.sent;
          ++bytes_sent;
        } else if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
          drop(c, true, true);
        }
      }
      next_tick += std::chrono::milliseconds(interval_ms);
    }
    for (std::size_t i = 0; i < conns.size(); ++i) {
      pfds[i].fd = conns[i].fd;  // a negative fd is ignored by poll
      pfds[i].events = conns[i].connected ? POLLIN : POLLOUT;
      pfds[i].revents = 0;
    }
    auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(next_tick - clock::now()).count();
    if (wait < 0) wait = 0;
    if (wait > 100) wait = 100;
    int rc = poll(pfds.data(), pfds.size(), static_cast<int>(wait));
    if (rc <= 0) continue;
    for (std::size_t i = 0; i < conns.size(); ++i) {
      Conn& c = conns[i];
      if (c.fd < 0 || pfds[i].revents == 0) continue;
      if (!c.connected) {
        int err = 0;
        socklen_t len = sizeof err;
        getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err != 0) {
          close(c.fd);
          c.fd = -1;
          ++connect_failed;
        } else {
          c.connected = true;
        }
        continue;
      }
      // Readable: the server answered (e.g. 408) or closed.
      ssize_t n = recv(c.fd, buf, sizeof buf, 0);
      if (n > 0) {
        c.answered = true;
      } else if (n == 0) {
        drop(c, true);
      } else if (errno != EAGAIN && errno != EWOULDBLOCK) {
        drop(c, true, true);
      }
    }
  }
  for (auto& c : conns) drop(c, false);
  std::printf(
      "{\"connections\":%d,\"opened\":%ld,\"connect_failed\":%ld,\"closed_by_server\":%ld,\"reset\":%ld,"
      "\"answers\":%ld,\"bytes_sent\":%ld}\n",
      count, opened, connect_failed, closed_by_server, reset, answers, bytes_sent);
  return 0;
}
