#include "util/http_file_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

namespace mosaic::testing {
namespace {

bool SendAll(int fd, const char* data, size_t n) {
  while (n > 0) {
    ssize_t w = ::send(fd, data, n, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    data += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

void SendStatus(int fd, int code, const char* reason) {
  std::string body = std::to_string(code) + " " + reason + "\n";
  std::string head =
      "HTTP/1.1 " + std::to_string(code) + " " + reason +
      "\r\nContent-Type: text/plain\r\nContent-Length: " + std::to_string(body.size()) +
      "\r\nConnection: close\r\n\r\n";
  SendAll(fd, head.data(), head.size());
  SendAll(fd, body.data(), body.size());
}

std::string Lower(std::string s) {
  for (char& c : s)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

HttpFileServer::HttpFileServer(std::string root) : root_(std::move(root)) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0) throw std::runtime_error("socket failed");
  int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      ::listen(listen_fd_, 16) != 0)
    throw std::runtime_error(std::string("bind/listen failed: ") + std::strerror(errno));
  socklen_t len = sizeof(addr);
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  if (::pipe2(wake_pipe_, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
  thread_ = std::thread([this] { Serve(); });
}

HttpFileServer::~HttpFileServer() {
  char c = 'x';
  (void)!::write(wake_pipe_[1], &c, 1);
  thread_.join();
  ::close(listen_fd_);
  ::close(wake_pipe_[0]);
  ::close(wake_pipe_[1]);
}

std::string HttpFileServer::base_url() const {
  return "http://127.0.0.1:" + std::to_string(port_);
}

std::vector<HttpFileServer::Request> HttpFileServer::requests() const {
  std::lock_guard<std::mutex> l(mu_);
  return requests_;
}

int HttpFileServer::ClosedPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);  // bound but never listening, and now closed: connections are refused
  return ntohs(addr.sin_port);
}

void HttpFileServer::Serve() {
  for (;;) {
    pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {wake_pipe_[0], POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (fds[1].revents != 0) return;
    if ((fds[0].revents & POLLIN) == 0) continue;
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    Handle(fd);
    ::close(fd);
  }
}

void HttpFileServer::Handle(int fd) {
  // Read the request head.
  std::string head;
  char buf[4096];
  while (head.find("\r\n\r\n") == std::string::npos && head.size() < 65536) {
    ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    head.append(buf, static_cast<size_t>(n));
  }
  Request req;
  size_t line_end = head.find("\r\n");
  std::string first = head.substr(0, line_end);
  size_t sp1 = first.find(' ');
  size_t sp2 = first.find(' ', sp1 + 1);
  if (sp1 == std::string::npos || sp2 == std::string::npos)
    return SendStatus(fd, 400, "Bad Request");
  req.method = first.substr(0, sp1);
  req.path = first.substr(sp1 + 1, sp2 - sp1 - 1);
  for (size_t pos = line_end + 2; pos < head.size();) {
    size_t end = head.find("\r\n", pos);
    if (end == std::string::npos || end == pos) break;
    std::string line = head.substr(pos, end - pos);
    size_t colon = line.find(':');
    if (colon != std::string::npos && Lower(line.substr(0, colon)) == "range") {
      std::string v = line.substr(colon + 1);
      v.erase(0, v.find_first_not_of(' '));
      req.range = v;
    }
    pos = end + 2;
  }
  {
    std::lock_guard<std::mutex> l(mu_);
    requests_.push_back(req);
  }
  if (req.method != "GET") return SendStatus(fd, 405, "Method Not Allowed");
  if (req.path.empty() || req.path[0] != '/' || req.path.find("..") != std::string::npos)
    return SendStatus(fd, 400, "Bad Request");
  const std::string file = root_ + req.path;
  struct stat st;
  if (::stat(file.c_str(), &st) != 0 || !S_ISREG(st.st_mode))
    return SendStatus(fd, 404, "Not Found");
  const uint64_t size = static_cast<uint64_t>(st.st_size);

  uint64_t start = 0;
  bool partial = false;
  if (!req.range.empty() && !ignore_range_) {
    // Only the "bytes=N-" form, which is what resuming clients send.
    if (req.range.rfind("bytes=", 0) != 0) return SendStatus(fd, 400, "Bad Request");
    start = std::strtoull(req.range.c_str() + 6, nullptr, 10);
    if (start >= size) return SendStatus(fd, 416, "Range Not Satisfiable");
    partial = true;
  }
  const uint64_t length = size - start;
  std::string resp = partial ? "HTTP/1.1 206 Partial Content\r\n" : "HTTP/1.1 200 OK\r\n";
  resp += "Content-Type: application/octet-stream\r\nAccept-Ranges: bytes\r\n";
  resp += "Content-Length: " + std::to_string(length) + "\r\n";
  if (partial)
    resp += "Content-Range: bytes " + std::to_string(start) + "-" + std::to_string(size - 1) + "/" +
            std::to_string(size) + "\r\n";
  resp += "Connection: close\r\n\r\n";
  if (!SendAll(fd, resp.data(), resp.size())) return;

  int64_t cut = cut_after_.exchange(-1);
  uint64_t budget = cut >= 0 ? std::min<uint64_t>(static_cast<uint64_t>(cut), length) : length;
  int in = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (in < 0) return;
  ::lseek(in, static_cast<off_t>(start), SEEK_SET);
  std::vector<char> data(1 << 16);
  while (budget > 0) {
    ssize_t n = ::read(in, data.data(), std::min<uint64_t>(budget, data.size()));
    if (n <= 0) break;
    if (!SendAll(fd, data.data(), static_cast<size_t>(n))) break;
    budget -= static_cast<uint64_t>(n);
  }
  ::close(in);
  ::shutdown(fd, SHUT_RDWR);
}

}  // namespace mosaic::testing
