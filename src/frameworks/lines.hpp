#pragma once
// What the adapters share in reading a discover command's output.

#include <string_view>

namespace shardrun::frameworks {

/// The line without surrounding spaces and tabs, nor a trailing '\r'.
inline std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

/// Takes the next line off `text` (without its '\n'), trimmed.
inline std::string_view next_line(std::string_view& text) {
  const std::size_t end = text.find('\n');
  std::string_view line = trim(text.substr(0, end));
  text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
  return line;
}

}  // namespace shardrun::frameworks
