#include "shardrun/atomic_file.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "shardrun/error.hpp"
#include "shardrun/unique_fd.hpp"

namespace shardrun {

namespace fs = std::filesystem;

namespace {

[[noreturn]] void fail(const char* what, const fs::path& path, int error) {
  throw Error(fmt::format("cannot {} {}: {}", what, path.string(), std::strerror(error)));
}

void write_all(int fd, std::string_view text, const fs::path& shown) {
  while (!text.empty()) {
    ssize_t n = ::write(fd, text.data(), text.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      fail("write", shown, errno);
    }
    text.remove_prefix(static_cast<std::size_t>(n));
  }
}

}  // namespace

void write_file_atomically(const fs::path& path, std::string_view content) {
  fs::path tmp = path;
  tmp += fmt::format(".tmp.{}", ::getpid());
  UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (fd.get() < 0) fail("create", tmp, errno);
  try {
    write_all(fd.get(), content, tmp);
    // Without fsync a crash soon after the rename can leave an empty file.
    if (::fsync(fd.get()) != 0) fail("sync", tmp, errno);
    if (int error = fd.close(); error != 0) fail("close", tmp, error);
    if (::rename(tmp.c_str(), path.c_str()) != 0) fail("replace", path, errno);
  } catch (...) {
    ::unlink(tmp.c_str());
    throw;
  }
  // The rename lives in the folder: sync it too. Some file systems refuse
  // fsync on a folder; the rename itself has happened, so that is no error.
  fs::path dir = path.parent_path().empty() ? fs::path(".") : path.parent_path();
  UniqueFd folder(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (folder.get() >= 0) ::fsync(folder.get());
}

}  // namespace shardrun
