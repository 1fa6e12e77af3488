// Reading one JUnit input: bad input becomes a message, never an exception.
#include "reader.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "shardrun/junit.hpp"
#include "shardrun/unique_fd.hpp"

namespace shardrun::junit::detail {
namespace {

// parse_default has no parse_doctype, so a DOCTYPE is skipped whole: no
// entity is ever declared or expanded (external ones included); only the
// five predefined entities and character references are decoded.
// parse_ws_pcdata_single keeps <system-out>  </system-out> text that is
// only whitespace, without keeping the indentation between elements.
constexpr unsigned kParseFlags = pugi::parse_default | pugi::parse_ws_pcdata_single;

std::string read_file(const std::filesystem::path& path, std::string& out) {
  out.clear();
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) {
    return errno == ENOENT || errno == ENOTDIR ? "no such file" : std::strerror(errno);
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return std::strerror(errno);
  if (S_ISDIR(st.st_mode)) return "is a directory";
  if (S_ISREG(st.st_mode)) {
    if (static_cast<std::uintmax_t>(st.st_size) > kMaxInputBytes) {
      return fmt::format("file too large ({} bytes; the limit is {})", st.st_size, kMaxInputBytes);
    }
    out.reserve(static_cast<std::size_t>(st.st_size));
  }
  char chunk[64 * 1024];
  for (;;) {
    const ssize_t n = ::read(fd.get(), chunk, sizeof chunk);
    if (n < 0) {
      if (errno == EINTR) continue;
      return std::strerror(errno);
    }
    if (n == 0) break;
    out.append(chunk, static_cast<std::size_t>(n));
    if (out.size() > kMaxInputBytes)
      return fmt::format("file too large (over {} bytes)", out.size());
  }
  return out.empty() ? "empty file" : "";
}

bool blank(std::string_view text) {
  return text.find_first_not_of(" \t\r\n") == std::string_view::npos;
}

// pugixml stops at a NUL byte, which would turn a whole report with one NUL
// in its captured output into a parse error. In an 8-bit encoding a NUL can
// only be such garbage, so it becomes the text "\x00" the sanitiser would
// have written. UTF-16/32 input (a NUL among the first four bytes) is left
// alone.
void protect_nuls(std::string& buffer) {
  const std::size_t head = std::min<std::size_t>(buffer.size(), 4);
  if (std::memchr(buffer.data(), 0, head) != nullptr) return;
  if (buffer.find('\0') == std::string::npos) return;
  std::string fixed;
  fixed.reserve(buffer.size() + 16);
  for (char c : buffer) {
    if (c == '\0') {
      fixed += "\\x00";
    } else {
      fixed += c;
    }
  }
  buffer.swap(fixed);
}

// `text` is the input as it was handed to pugixml (in-place parsing has
// since scribbled over that copy).
std::string describe(const pugi::xml_parse_result& result, std::string_view text) {
  if (result.status == pugi::status_no_document_element) return "not XML: no root element";
  const auto offset = static_cast<std::size_t>(
      std::clamp<std::ptrdiff_t>(result.offset, 0, static_cast<std::ptrdiff_t>(text.size())));
  const std::string_view before = text.substr(0, offset);
  const auto line = 1 + std::count(before.begin(), before.end(), '\n');
  const auto last_newline = before.rfind('\n');
  const auto column = offset - (last_newline == std::string_view::npos ? 0 : last_newline + 1) + 1;
  const bool at_end = blank(text.substr(offset));
  return fmt::format("line {}, column {}: {}{}", line, column, result.description(),
                     at_end ? " (unexpected end of file)" : "");
}

std::string check_roots(const pugi::xml_document& doc) {
  pugi::xml_node first;
  for (pugi::xml_node child : doc.children()) {
    if (child.type() != pugi::node_element) continue;
    const std::string_view name = child.name();
    if (name == "testsuite" || name == "testsuites") return "";
    if (!first) first = child;
  }
  if (!first) return "not XML: no root element";
  return fmt::format("root element is <{}>, expected <testsuite> or <testsuites>",
                     sanitize_text(first.name()));
}

template <typename Reload>
std::string parse_prepared(std::string& buffer, pugi::xml_document& doc, Reload reload) {
  if (blank(buffer)) return "empty file";
  protect_nuls(buffer);
  const pugi::xml_parse_result result =
      doc.load_buffer_inplace(buffer.data(), buffer.size(), kParseFlags, pugi::encoding_auto);
  if (!result) {
    doc.reset();
    std::string original = reload();
    protect_nuls(original);
    return describe(result, original);
  }
  return check_roots(doc);
}

}  // namespace

std::string parse_file(const std::filesystem::path& path, std::string& buffer,
                       pugi::xml_document& doc) {
  if (std::string error = read_file(path, buffer); !error.empty()) return error;
  return parse_prepared(buffer, doc, [&] {
    std::string again;
    read_file(path, again);
    return again;
  });
}

std::string parse_buffer(std::string_view xml, std::string& buffer, pugi::xml_document& doc) {
  buffer.assign(xml);
  return parse_prepared(buffer, doc, [&] { return std::string(xml); });
}

}  // namespace shardrun::junit::detail
