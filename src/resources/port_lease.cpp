// Ports unique across every shardrun on the host: "bind to 0 and hope"
// hands two concurrent runs the same port once both have closed their test
// socket, so each port is claimed with an flock(2)ed file first. The lock
// dies with the process (even on SIGKILL), so a crashed run frees its ports.

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <system_error>

#include <fmt/format.h>

#include "shardrun/error.hpp"
#include "shardrun/resources.hpp"

namespace shardrun {

namespace fs = std::filesystem;

namespace {

// True when nothing listens on or is bound to `port` on any IPv4 address.
bool bindable(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_ANY);
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

void make_lock_dir(const fs::path& dir) {
  std::error_code ec;
  if (fs::is_directory(dir, ec)) return;
  fs::create_directories(dir, ec);
  if (ec && !fs::is_directory(dir)) {
    throw Error(
        fmt::format("cannot create the port lock folder {}: {}", dir.string(), ec.message()));
  }
  // Shared by every user's shardrun on the host, like /tmp itself.
  ::chmod(dir.c_str(), 01777);
}

}  // namespace

fs::path default_lock_dir() {
  const char* dir = std::getenv("SHARDRUN_LOCK_DIR");
  return dir && *dir ? fs::path(dir) : fs::path("/tmp/shardrun-locks");
}

std::pair<int, int> default_port_range() {
  const char* text = std::getenv("SHARDRUN_PORT_RANGE");
  if (!text || !*text) return {20000, 32000};
  int first = 0, last = 0;
  char extra = 0;
  if (std::sscanf(text, "%d-%d%c", &first, &last, &extra) != 2 || first < 1 || last > 65535 ||
      first > last) {
    throw Error(fmt::format("SHARDRUN_PORT_RANGE must look like 30000-30999, not '{}'", text));
  }
  return {first, last};
}

PortLease PortLease::acquire(const fs::path& lock_dir, int first, int last) {
  make_lock_dir(lock_dir);
  const int span = last - first + 1;
  // Start somewhere different in each process so that runs rarely probe
  // the same ports, and go round the range once.
  auto seed =
      static_cast<unsigned long>(getpid()) * 2654435761UL +
      static_cast<unsigned long>(std::chrono::steady_clock::now().time_since_epoch().count());
  const int start = static_cast<int>(seed % static_cast<unsigned long>(span));
  int last_errno = 0;
  for (int i = 0; i < span; ++i) {
    int port = first + (start + i) % span;
    fs::path file = lock_dir / fmt::format("port-{}.lock", port);
    int fd = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0666);
    if (fd < 0) {
      last_errno = errno;
      if (last_errno == EACCES || last_errno == EROFS || last_errno == ENOENT) break;
      continue;
    }
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {  // another shard or run holds it
      ::close(fd);
      continue;
    }
    if (!bindable(port)) {  // someone else's server
      ::close(fd);
      continue;
    }
    return PortLease(port, fd);
  }
  if (last_errno != 0) {
    throw Error(fmt::format("cannot reserve a port: lock files in {}: {}", lock_dir.string(),
                            std::system_category().message(last_errno)));
  }
  throw Error(fmt::format("no free TCP port between {} and {}", first, last));
}

PortLease::PortLease(PortLease&& other) noexcept : port_(other.port_), fd_(other.fd_) {
  other.fd_ = -1;
}

PortLease& PortLease::operator=(PortLease&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    port_ = other.port_;
    fd_ = other.fd_;
    other.fd_ = -1;
  }
  return *this;
}

PortLease::~PortLease() {
  // Closing the descriptor drops the lock. The file stays: removing it
  // would race with a process that has just opened it.
  if (fd_ >= 0) ::close(fd_);
}

}  // namespace shardrun
