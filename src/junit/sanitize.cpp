// Text and value helpers: sanitising + escaping in one pass, times, timestamps.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <ctime>

#include <fmt/format.h>

#include "shardrun/junit.hpp"
#include "shardrun/junit_text.hpp"

namespace shardrun::junit {
namespace detail {
namespace {

// Length of the valid UTF-8 sequence starting at s[i] (RFC 3629: no
// overlongs, no surrogates, nothing above U+10FFFF), or 0 if it is invalid.
std::size_t utf8_length(std::string_view s, std::size_t i) {
  auto byte = [&](std::size_t k) -> unsigned { return static_cast<unsigned char>(s[k]); };
  auto in = [&](std::size_t k, unsigned lo, unsigned hi) {
    return k < s.size() && byte(k) >= lo && byte(k) <= hi;
  };
  const unsigned c = byte(i);
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) return in(i + 1, 0x80, 0xBF) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    const unsigned lo = c == 0xE0 ? 0xA0 : 0x80;
    const unsigned hi = c == 0xED ? 0x9F : 0xBF;  // ED A0..BF would be a surrogate
    return in(i + 1, lo, hi) && in(i + 2, 0x80, 0xBF) ? 3 : 0;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    const unsigned lo = c == 0xF0 ? 0x90 : 0x80;
    const unsigned hi = c == 0xF4 ? 0x8F : 0xBF;
    return in(i + 1, lo, hi) && in(i + 2, 0x80, 0xBF) && in(i + 3, 0x80, 0xBF) ? 4 : 0;
  }
  return 0;
}

// U+FFFE and U+FFFF are valid UTF-8 but not XML 1.0 characters.
bool is_noncharacter(std::string_view s, std::size_t i) {
  return static_cast<unsigned char>(s[i]) == 0xEF && static_cast<unsigned char>(s[i + 1]) == 0xBF &&
         (static_cast<unsigned char>(s[i + 2]) & 0xFE) == 0xBE;
}

void append_hex(std::string& out, unsigned char c) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  const char text[4] = {'\\', 'x', kDigits[c >> 4], kDigits[c & 0xF]};
  out.append(text, 4);
}

// The replacement for one ASCII byte, or nullptr if it is copied as is.
const char* ascii_replacement(unsigned char c, Escape mode) {
  if (mode == Escape::kNone) return nullptr;
  switch (c) {
    case '&':
      return "&amp;";
    case '<':
      return "&lt;";
    // '>' is always escaped so that "]]>" can never appear in element text.
    case '>':
      return "&gt;";
    case '\r':
      return "&#13;";
    case '"':
      return mode == Escape::kAttr ? "&quot;" : nullptr;
    // Attribute value normalisation would turn these into spaces.
    case '\t':
      return mode == Escape::kAttr ? "&#9;" : nullptr;
    case '\n':
      return mode == Escape::kAttr ? "&#10;" : nullptr;
    default:
      return nullptr;
  }
}

bool is_forbidden_control(unsigned char c) {
  return c < 0x20 && c != '\t' && c != '\n' && c != '\r';
}

std::string_view trim(std::string_view s) {
  const auto first = s.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return {};
  const auto last = s.find_last_not_of(" \t\r\n");
  return s.substr(first, last - first + 1);
}

std::string format_offset(long gmtoff_seconds) {
  const char sign = gmtoff_seconds < 0 ? '-' : '+';
  const long minutes = std::labs(gmtoff_seconds) / 60;
  return fmt::format("{}{:02}:{:02}", sign, minutes / 60, minutes % 60);
}

// The local UTC offset in force at the given local wall-clock time.
std::string local_offset(int year, int month, int day, int hour, int minute, int second) {
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  tm.tm_isdst = -1;  // let the zone rules decide (DST)
  if (std::mktime(&tm) == static_cast<std::time_t>(-1)) {
    const std::time_t now = std::time(nullptr);
    localtime_r(&now, &tm);
  }
  return format_offset(tm.tm_gmtoff);
}

bool read_digits(std::string_view s, std::size_t pos, std::size_t count, int& value) {
  if (pos + count > s.size()) return false;
  value = 0;
  for (std::size_t i = pos; i < pos + count; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    value = value * 10 + (s[i] - '0');
  }
  return true;
}

// `s` with a '.' decimal point and no digit grouping, for from_chars. With
// both ',' and '.', the last one is the decimal mark; a mark that occurs
// more than once is grouping; a lone ',' is a decimal comma. Grouping must
// look like grouping (1-3 digits, then groups of exactly 3), else false.
bool plain_number(std::string_view s, std::string& out) {
  const auto commas = std::count(s.begin(), s.end(), ',');
  const auto dots = std::count(s.begin(), s.end(), '.');
  char decimal = 0, grouping = 0;
  if (commas > 0 && dots > 0) {
    decimal = s[s.find_last_of(",.")];
    grouping = decimal == ',' ? '.' : ',';
    if ((decimal == ',' ? commas : dots) > 1) return false;
  } else if (commas + dots == 1) {
    decimal = commas == 1 ? ',' : '.';
  } else if (commas + dots > 1) {
    grouping = commas > 0 ? ',' : '.';
  }
  out.clear();
  std::size_t digits = 0;  // in the current group of the integer part
  bool grouped = false, integer_done = false;
  auto group_ok = [&] { return !grouped || digits == 3; };
  for (const char c : s) {
    if (grouping != 0 && c == grouping) {
      if (integer_done || digits == 0 || digits > 3 || (grouped && digits != 3)) return false;
      grouped = true;
      digits = 0;
      continue;
    }
    if (!integer_done && c >= '0' && c <= '9') {
      ++digits;
    } else if (!integer_done) {
      if (!group_ok()) return false;
      integer_done = true;
    }
    out += c == decimal ? '.' : c;
  }
  return integer_done || group_ok();
}

}  // namespace

void append_sanitized(std::string& out, std::string_view in, Escape mode) {
  std::size_t i = 0;
  while (i < in.size()) {
    // Copy the longest run that needs no change in one go.
    std::size_t run = i;
    while (run < in.size()) {
      const auto c = static_cast<unsigned char>(in[run]);
      if (c >= 0x80 || is_forbidden_control(c) || ascii_replacement(c, mode)) break;
      ++run;
    }
    out.append(in.data() + i, run - i);
    i = run;
    if (i == in.size()) break;

    const auto c = static_cast<unsigned char>(in[i]);
    if (c < 0x80) {
      if (is_forbidden_control(c)) {
        append_hex(out, c);
      } else {
        out.append(ascii_replacement(c, mode));
      }
      ++i;
      continue;
    }
    const std::size_t len = utf8_length(in, i);
    if (len == 0) {
      // Only the offending byte; what follows is examined afresh.
      append_hex(out, c);
      ++i;
    } else if (len == 3 && is_noncharacter(in, i)) {
      for (std::size_t k = 0; k < 3; ++k) append_hex(out, static_cast<unsigned char>(in[i + k]));
      i += 3;
    } else {
      out.append(in.data() + i, len);
      i += len;
    }
  }
}

bool is_clean(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      if (is_forbidden_control(c)) return false;
      ++i;
      continue;
    }
    const std::size_t len = utf8_length(s, i);
    if (len == 0 || (len == 3 && is_noncharacter(s, i))) return false;
    i += len;
  }
  return true;
}

std::uint64_t parse_millis(std::string_view seconds) {
  std::string_view s = trim(seconds);
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  std::string plain;
  if (s.empty() || !plain_number(s, plain)) return 0;
  double value = 0;
  // from_chars ignores the locale, unlike strtod and iostreams.
  const auto [end, ec] = std::from_chars(plain.data(), plain.data() + plain.size(), value);
  if (ec != std::errc() || end != plain.data() + plain.size()) return 0;
  return to_millis(value);
}

std::uint64_t to_millis(double seconds) {
  if (!std::isfinite(seconds) || seconds <= 0) return 0;
  if (seconds > kMaxSeconds) seconds = kMaxSeconds;
  return static_cast<std::uint64_t>(std::llround(seconds * 1000.0));
}

std::string format_millis(std::uint64_t ms) {
  const std::uint64_t whole = ms / 1000;
  std::uint64_t frac = ms % 1000;
  if (frac == 0) return fmt::format("{}", whole);
  int digits = 3;
  while (frac % 10 == 0) {
    frac /= 10;
    --digits;
  }
  return fmt::format("{}.{:0{}}", whole, frac, digits);
}

std::optional<std::string> normalise_timestamp(std::string_view timestamp) {
  const std::string_view ts = trim(timestamp);
  int year, month, day, hour, minute, second = 0;
  if (!read_digits(ts, 0, 4, year) || ts.size() < 16 || ts[4] != '-' ||
      !read_digits(ts, 5, 2, month) || ts[7] != '-' || !read_digits(ts, 8, 2, day) ||
      (ts[10] != 'T' && ts[10] != 't' && ts[10] != ' ') || !read_digits(ts, 11, 2, hour) ||
      ts[13] != ':' || !read_digits(ts, 14, 2, minute)) {
    return std::nullopt;
  }
  std::size_t pos = 16;
  if (pos < ts.size() && ts[pos] == ':') {
    if (!read_digits(ts, pos + 1, 2, second)) return std::nullopt;
    pos += 3;
    if (pos < ts.size() && (ts[pos] == '.' || ts[pos] == ',')) {
      const std::size_t start = ++pos;
      while (pos < ts.size() && ts[pos] >= '0' && ts[pos] <= '9') ++pos;
      if (pos == start) return std::nullopt;
    }
  }
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 24 || minute > 59 || second > 60) {
    return std::nullopt;
  }

  bool has_zone = false;
  if (pos < ts.size()) {
    const std::string_view zone = ts.substr(pos);
    int zh = 0, zm = 0;
    if (zone == "Z" || zone == "z") {
      has_zone = true;
    } else if (zone[0] == '+' || zone[0] == '-') {
      // +HH, +HHMM or +HH:MM
      has_zone = (zone.size() == 3 && read_digits(zone, 1, 2, zh)) ||
                 (zone.size() == 5 && read_digits(zone, 1, 2, zh) && read_digits(zone, 3, 2, zm)) ||
                 (zone.size() == 6 && read_digits(zone, 1, 2, zh) && zone[3] == ':' &&
                  read_digits(zone, 4, 2, zm));
      has_zone = has_zone && zh <= 23 && zm <= 59;
    }
    if (!has_zone) return std::nullopt;
  }

  std::string out(ts);
  out[10] = 'T';
  if (!has_zone) out += local_offset(year, month, day, hour, minute, second);
  return out;
}

std::string format_timestamp(std::chrono::system_clock::time_point when) {
  const std::time_t t = std::chrono::system_clock::to_time_t(when);
  std::tm tm{};
  localtime_r(&t, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}{}", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, format_offset(tm.tm_gmtoff));
}

std::string first_line(std::string_view text, std::size_t max_chars) {
  std::string_view line;
  while (!text.empty()) {
    const auto nl = text.find('\n');
    line = trim(text.substr(0, nl));
    if (!line.empty() || nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
  // Each character is at most 4 bytes, so this keeps enough of a huge line
  // without sanitising all of it; a sequence broken here lies past the cut.
  line = line.substr(0, max_chars * 4);
  std::string out;
  append_sanitized(out, line, Escape::kNone);
  // Cut at a code point boundary: after sanitising every byte >= 0x80 is part
  // of a valid sequence, so counting non-continuation bytes counts characters.
  std::size_t chars = 0;
  for (std::size_t i = 0; i < out.size(); ++i) {
    if ((static_cast<unsigned char>(out[i]) & 0xC0) == 0x80) continue;
    if (chars++ == max_chars) {
      out.resize(i);
      break;
    }
  }
  return out;
}

}  // namespace detail

std::string sanitize_text(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  detail::append_sanitized(out, text, detail::Escape::kNone);
  return out;
}

}  // namespace shardrun::junit
