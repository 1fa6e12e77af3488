#pragma once
// Reading one JUnit input into a pugixml DOM, turning every way it can be
// bad into a short message instead of an exception (DESIGN §3 "Results").

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include <pugixml.hpp>

namespace shardrun::junit::detail {

/// Inputs larger than this are refused ("file too large") rather than read.
inline constexpr std::uintmax_t kMaxInputBytes = std::uintmax_t{2} << 30;

/// Parses the file at `path` into `doc`. `buffer` receives the bytes the DOM
/// points into (pugixml parses in place, so large text is held once) and must
/// outlive `doc`'s use. Returns "" on success, else why not: "no such file",
/// "empty file", "line L, column C: <pugixml's description>", "root element
/// is <x>, expected <testsuite> or <testsuites>" ...
std::string parse_file(const std::filesystem::path& path, std::string& buffer,
                       pugi::xml_document& doc);

/// The same for bytes in memory.
std::string parse_buffer(std::string_view xml, std::string& buffer, pugi::xml_document& doc);

}  // namespace shardrun::junit::detail
