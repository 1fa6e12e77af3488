// Parsing of the typed scalars of a suite (durations, counts) and quoting
// of user text inside error messages.
//
// Durations: a plain number of seconds ("30", "1.5", "0"), or one or more
// NUMBER+UNIT parts with units h, m, s, ms in that order, each at most once
// ("1h30m", "2m0.5s", "250ms"). Every NUMBER may have a decimal fraction
// ("1.5m" = 90s), as in Go's time.ParseDuration. The result is rounded to
// the nearest millisecond. Rejected: empty text, signs ("-1", "+1"), spaces
// ("1m 30s"), ".5" or "1." (a digit is needed on both sides of the point),
// units out of order or repeated ("30s1m", "1m1m"), unknown units ("10x"),
// and anything above 8760h (one year), so that adding the value to a clock
// can never overflow.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "shardrun/suite.hpp"
#include "suite_internal.hpp"

namespace shardrun {

namespace {

constexpr std::int64_t kMaxDurationMs = std::int64_t{8760} * 3600 * 1000;
// More integer digits than this cannot be below kMaxDurationMs in any unit.
constexpr size_t kMaxIntegerDigits = 12;
// Fraction digits beyond a nanosecond of an hour change nothing after rounding.
constexpr size_t kMaxFractionDigits = 12;

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

struct Number {
  std::uint64_t whole = 0;
  std::uint64_t fraction = 0;     // numerator
  std::uint64_t denominator = 1;  // 10^(digits of the fraction kept)
};

// Reads digits ('.' digits)? at text[i]; advances i. nullopt when malformed.
std::optional<Number> read_number(std::string_view text, size_t& i) {
  Number number;
  const size_t start = i;
  while (i < text.size() && is_digit(text[i])) {
    if (i - start >= kMaxIntegerDigits) return std::nullopt;
    number.whole = number.whole * 10 + static_cast<std::uint64_t>(text[i] - '0');
    ++i;
  }
  if (i == start) return std::nullopt;
  if (i < text.size() && text[i] == '.') {
    ++i;
    const size_t fraction_start = i;
    while (i < text.size() && is_digit(text[i])) {
      if (i - fraction_start < kMaxFractionDigits) {
        number.fraction = number.fraction * 10 + static_cast<std::uint64_t>(text[i] - '0');
        number.denominator *= 10;
      }
      ++i;
    }
    if (i == fraction_start) return std::nullopt;
  }
  return number;
}

// The number in milliseconds when it counts `unit_ms` each; nullopt above the cap.
std::optional<std::int64_t> scale(const Number& number, std::int64_t unit_ms) {
  // whole < 10^12 and unit_ms <= 3.6e6 keep every product below 2^63.
  const auto unit = static_cast<unsigned __int128>(unit_ms);
  const unsigned __int128 whole = number.whole * unit;
  const unsigned __int128 part =
      (number.fraction * unit + number.denominator / 2) / number.denominator;
  const unsigned __int128 total = whole + part;
  if (total > static_cast<unsigned __int128>(kMaxDurationMs)) return std::nullopt;
  return static_cast<std::int64_t>(total);
}

}  // namespace

std::optional<std::chrono::milliseconds> parse_duration(std::string_view text) {
  size_t i = 0;
  auto first = read_number(text, i);
  if (!first) return std::nullopt;
  if (i == text.size()) {
    auto ms = scale(*first, 1000);
    if (!ms) return std::nullopt;
    return std::chrono::milliseconds(*ms);
  }

  std::int64_t total = 0;
  int last_rank = 4;  // h = 3, m = 2, s = 1, ms = 0; each part must rank lower
  std::optional<Number> number = first;
  while (true) {
    std::int64_t unit_ms = 0;
    int rank = 0;
    if (text.substr(i).starts_with("ms")) {
      unit_ms = 1;
      rank = 0;
      i += 2;
    } else if (i < text.size() && text[i] == 'h') {
      unit_ms = 3600 * 1000;
      rank = 3;
      ++i;
    } else if (i < text.size() && text[i] == 'm') {
      unit_ms = 60 * 1000;
      rank = 2;
      ++i;
    } else if (i < text.size() && text[i] == 's') {
      unit_ms = 1000;
      rank = 1;
      ++i;
    } else {
      return std::nullopt;
    }
    if (rank >= last_rank) return std::nullopt;
    last_rank = rank;
    auto ms = scale(*number, unit_ms);
    if (!ms) return std::nullopt;
    total += *ms;
    if (total > kMaxDurationMs) return std::nullopt;
    if (i == text.size()) break;
    number = read_number(text, i);
    if (!number || i == text.size()) return std::nullopt;  // a number needs its unit
  }
  return std::chrono::milliseconds(total);
}

namespace suite_detail {

std::optional<int> parse_count(std::string_view text) {
  // Nine digits always fit an int; nobody needs a billion workers or retries.
  if (text.empty() || text.size() > 9) return std::nullopt;
  int value = 0;
  for (char c : text) {
    if (!is_digit(c)) return std::nullopt;
    value = value * 10 + (c - '0');
  }
  return value;
}

std::string quote_for_message(std::string_view text) {
  constexpr size_t kMaxShown = 60;
  bool cut = false;
  if (text.size() > kMaxShown) {
    size_t end = kMaxShown;
    // Do not cut a UTF-8 sequence in half: back up over continuation bytes.
    while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
    text = text.substr(0, end);
    cut = true;
  }
  std::string out = "'";
  for (char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\r') {
      out += "\\r";
    } else if (byte < 0x20 || byte == 0x7F) {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[byte >> 4];
      out += kHex[byte & 0xF];
    } else {
      out += c;
    }
  }
  out += cut ? "...'" : "'";
  return out;
}

}  // namespace suite_detail

}  // namespace shardrun
