// Buffered, checked file output for the merged report.
#include "shardrun/junit_output_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <vector>

#include <fmt/format.h>

#include "shardrun/error.hpp"

namespace shardrun::junit::detail {
namespace {

// Big enough to make syscalls rare, small enough that a huge system-out is
// never held twice in memory.
constexpr std::size_t kFlushAt = 256 * 1024;
// Text is sanitised in slices of this size for the same reason.
constexpr std::size_t kSlice = 64 * 1024;

bool is_continuation(char c) {
  return (static_cast<unsigned char>(c) & 0xC0) == 0x80;
}

}  // namespace

OutputFile OutputFile::create_temp(const std::filesystem::path& dir, const std::string& prefix,
                                   bool anonymous) {
  const std::filesystem::path folder = dir.empty() ? std::filesystem::path(".") : dir;
  std::string pattern = (folder / (prefix + "XXXXXX")).string();
  const int fd = ::mkostemp(pattern.data(), O_CLOEXEC);
  if (fd < 0) {
    throw Error(fmt::format("cannot create a temporary file in {}: {}", folder.string(),
                            std::strerror(errno)));
  }
  if (anonymous && ::unlink(pattern.c_str()) != 0) {
    const int err = errno;
    ::close(fd);
    throw Error(fmt::format("cannot remove {}: {}", pattern, std::strerror(err)));
  }
  return OutputFile(fd, pattern, !anonymous);
}

OutputFile::OutputFile(int fd, std::filesystem::path path, bool named)
    : fd_(fd), path_(std::move(path)), named_(named) {
  buf_.reserve(kFlushAt + kSlice);
}

OutputFile::OutputFile(OutputFile&& other) noexcept
    : fd_(other.fd_),
      path_(std::move(other.path_)),
      named_(other.named_),
      buf_(std::move(other.buf_)) {
  other.fd_ = -1;
  other.named_ = false;
}

OutputFile::~OutputFile() {
  if (fd_ >= 0) ::close(fd_);
  if (named_) ::unlink(path_.c_str());
}

void OutputFile::fail(std::string_view what) const {
  throw Error(fmt::format("cannot {} {}: {}", what, path_.string(), std::strerror(errno)));
}

void OutputFile::write(std::string_view raw) {
  buf_.append(raw);
  flush_if_full();
}

void OutputFile::write_text(std::string_view text, Escape mode) {
  while (!text.empty()) {
    std::size_t n = std::min(text.size(), kSlice);
    // Never cut a UTF-8 sequence in two: it would be reported as invalid.
    while (n < text.size() && n < kSlice + 3 && is_continuation(text[n])) ++n;
    append_sanitized(buf_, text.substr(0, n), mode);
    text.remove_prefix(n);
    flush_if_full();
  }
}

void OutputFile::write_cdata(std::string_view text) {
  // "]]>" cannot occur inside a CDATA section: end the section after "]]" and
  // start a new one with ">". Sanitising never creates "]]>" because it only
  // replaces bytes with "\xNN".
  write("<![CDATA[");
  for (;;) {
    const auto end = text.find("]]>");
    write_text(text.substr(0, end), Escape::kNone);
    if (end == std::string_view::npos) break;
    write("]]]]><![CDATA[>");
    text.remove_prefix(end + 3);
  }
  write("]]>");
}

void OutputFile::write_attr(std::string_view name, std::string_view value) {
  buf_ += ' ';
  buf_.append(name);
  buf_ += "=\"";
  write_text(value, Escape::kAttr);
  buf_ += '"';
}

void OutputFile::flush_if_full() {
  if (buf_.size() >= kFlushAt) flush();
}

void OutputFile::flush() {
  std::size_t done = 0;
  while (done < buf_.size()) {
    const ssize_t n = ::write(fd_, buf_.data() + done, buf_.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      buf_.clear();
      fail("write");
    }
    done += static_cast<std::size_t>(n);
  }
  buf_.clear();
}

void OutputFile::append_file(OutputFile& other) {
  other.flush();
  flush();
  off_t offset = 0;
  // In the kernel where it can (no copy through this process); from where it
  // stopped through a buffer where it cannot (another filesystem on old
  // kernels, or no copy_file_range at all).
  for (;;) {
    const ssize_t n = ::copy_file_range(other.fd_, &offset, fd_, nullptr, 1 << 30, 0);
    if (n > 0) continue;
    if (n == 0) return;
    if (errno == EINTR) continue;
    if (errno == EXDEV || errno == ENOSYS || errno == EINVAL || errno == EOPNOTSUPP) break;
    fail("write");
  }
  std::vector<char> chunk(kFlushAt);
  for (;;) {
    const ssize_t n = ::pread(other.fd_, chunk.data(), chunk.size(), offset);
    if (n < 0) {
      if (errno == EINTR) continue;
      other.fail("read back");
    }
    if (n == 0) break;
    offset += n;
    buf_.assign(chunk.data(), static_cast<std::size_t>(n));
    flush();
  }
}

void OutputFile::chmod(unsigned mode) {
  if (::fchmod(fd_, static_cast<mode_t>(mode)) != 0) fail("set the mode of");
}

void OutputFile::sync_and_close() {
  flush();
  if (::fsync(fd_) != 0) fail("sync");
  const int fd = fd_;
  fd_ = -1;
  // close() can report a delayed write error (e.g. on NFS); it counts.
  if (::close(fd) != 0) fail("close");
}

void OutputFile::rename_to(const std::filesystem::path& target) {
  if (::rename(path_.c_str(), target.c_str()) != 0) {
    throw Error(fmt::format("cannot rename {} to {}: {}", path_.string(), target.string(),
                            std::strerror(errno)));
  }
  named_ = false;
  path_ = target;
}

void sync_directory(const std::filesystem::path& dir) {
  const std::filesystem::path folder = dir.empty() ? std::filesystem::path(".") : dir;
  const int fd = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  // Some filesystems refuse fsync on directories; the rename itself happened.
  ::fsync(fd);
  ::close(fd);
}

}  // namespace shardrun::junit::detail
