// Readiness probes for services (DESIGN §5): a TCP connect, an HTTP GET
// that answers 2xx, or a regular expression found in the service's log.
// Each look is short and bounded, since the scheduler's loop calls them.

#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <regex>
#include <system_error>

#include <fmt/format.h>

#include "shardrun/resources.hpp"
#include "shardrun/unique_fd.hpp"

namespace shardrun {

namespace {

constexpr int kConnectMillis = 300;
constexpr int kAnswerMillis = 500;
constexpr std::size_t kLogScanBytes = 4 * 1024 * 1024;

// "host:port" or "[v6]:port".
bool split_host_port(const std::string& text, std::string* host, std::string* port) {
  auto colon = text.rfind(':');
  if (colon == std::string::npos || colon + 1 == text.size()) return false;
  *host = text.substr(0, colon);
  *port = text.substr(colon + 1);
  if (host->size() >= 2 && host->front() == '[' && host->back() == ']')
    *host = host->substr(1, host->size() - 2);
  if (host->empty()) *host = "127.0.0.1";
  return true;
}

// A connected socket, or -1 with `detail` set.
int connect_to(const std::string& host_port, std::string* detail) {
  std::string host, port;
  if (!split_host_port(host_port, &host, &port)) {
    *detail = fmt::format("'{}' is not HOST:PORT", host_port);
    return -1;
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (int rc = ::getaddrinfo(host.c_str(), port.c_str(), &hints, &found); rc != 0) {
    *detail = fmt::format("{}: {}", host_port, gai_strerror(rc));
    return -1;
  }
  int result = -1;
  for (addrinfo* a = found; a && result < 0; a = a->ai_next) {
    int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, a->ai_protocol);
    if (fd < 0) continue;
    int rc = ::connect(fd, a->ai_addr, a->ai_addrlen);
    if (rc != 0 && errno == EINPROGRESS) {
      pollfd p{fd, POLLOUT, 0};
      if (::poll(&p, 1, kConnectMillis) == 1) {
        int err = 0;
        socklen_t len = sizeof err;
        ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
        rc = err == 0 ? 0 : -1;
        errno = err;
      } else {
        errno = ETIMEDOUT;
      }
    }
    if (rc == 0) {
      result = fd;
    } else {
      *detail = fmt::format("{}: {}", host_port, std::system_category().message(errno));
      ::close(fd);
    }
  }
  ::freeaddrinfo(found);
  return result;
}

bool probe_http(const std::string& url, std::string* detail) {
  // http://HOST[:PORT][/PATH]
  std::string rest = url.substr(std::strlen("http://"));
  auto slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  std::string path = slash == std::string::npos ? "/" : rest.substr(slash);
  std::string host_port = authority.find(':') == std::string::npos || authority.back() == ']'
                              ? authority + ":80"
                              : authority;
  UniqueFd sock(connect_to(host_port, detail));
  if (sock.get() < 0) return false;
  // HTTP/1.1: chromedriver refuses 1.0 requests without answering.
  std::string request =
      fmt::format("GET {} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n", path, authority);
  if (::send(sock.get(), request.data(), request.size(), MSG_NOSIGNAL) !=
      static_cast<ssize_t>(request.size())) {
    *detail = fmt::format("{}: could not send the request", url);
    return false;
  }
  std::string answer;
  char buf[512];
  while (answer.find('\n') == std::string::npos && answer.size() < 4096) {
    pollfd p{sock.get(), POLLIN, 0};
    if (::poll(&p, 1, kAnswerMillis) != 1) break;
    ssize_t n = ::recv(sock.get(), buf, sizeof buf, 0);
    if (n <= 0) break;
    answer.append(buf, static_cast<std::size_t>(n));
  }
  // "HTTP/1.1 200 OK"
  auto space = answer.find(' ');
  if (answer.rfind("HTTP/", 0) != 0 || space == std::string::npos || space + 4 > answer.size()) {
    *detail = fmt::format("{}: no HTTP answer", url);
    return false;
  }
  std::string code = answer.substr(space + 1, 3);
  if (code[0] == '2') return true;
  *detail = fmt::format("{}: answered {}", url, code);
  return false;
}

bool probe_log(const std::string& pattern, const std::filesystem::path& log, std::string* detail) {
  std::ifstream in(log, std::ios::binary);
  std::error_code ec;
  std::uintmax_t size = std::filesystem::file_size(log, ec);
  std::string text(ec ? 0 : std::min<std::uintmax_t>(size, kLogScanBytes), '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<std::size_t>(in.gcount()));
  try {
    if (std::regex_search(text, std::regex(pattern))) return true;
  } catch (const std::regex_error& e) {
    *detail = fmt::format("bad regular expression '{}': {}", pattern, e.what());
    return false;
  }
  *detail = fmt::format("'{}' not yet in its log {}", pattern, log.string());
  return false;
}

}  // namespace

bool probe_ready(const ReadyProbe& probe, const std::filesystem::path& log, std::string* detail) {
  switch (probe.kind) {
    case ReadyProbe::Kind::kNone:
      return true;
    case ReadyProbe::Kind::kTcp: {
      UniqueFd sock(connect_to(probe.target, detail));
      return sock.get() >= 0;
    }
    case ReadyProbe::Kind::kHttp:
      return probe_http(probe.target, detail);
    case ReadyProbe::Kind::kLog:
      return probe_log(probe.target, log, detail);
  }
  return false;
}

}  // namespace shardrun
