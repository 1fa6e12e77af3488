#pragma once
// Text and value helpers of the junit module (DESIGN §8 rules 5-7): UTF-8 /
// XML 1.0 sanitising fused with XML escaping, locale-independent times, and
// ISO 8601 timestamps. Pure functions; no pugixml here.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace shardrun::junit::detail {

/// What, besides sanitising, append_sanitized does to the text.
enum class Escape {
  kNone,  ///< sanitise only (CDATA content, sanitize_text)
  kText,  ///< element text: & < > escaped, \r as &#13; so it survives re-parsing
  kAttr,  ///< attribute value: & < > " escaped, \t \n \r as &#9; &#10; &#13;
};

/// Appends `in` to `out`, replacing invalid UTF-8 bytes and characters XML 1.0
/// forbids (C0 controls other than \t \n \r, U+FFFE, U+FFFF; surrogates are
/// invalid UTF-8 anyway) by the visible text "\xNN", one per byte, and then
/// escaping per `mode`. Never emits a character reference to a forbidden char.
void append_sanitized(std::string& out, std::string_view in, Escape mode);

/// True if sanitize_text(s) == s, i.e. s is valid UTF-8 without forbidden chars.
bool is_clean(std::string_view s);

/// Parses a JUnit `time` attribute (seconds) into whole milliseconds. The
/// decimal mark may be a comma ("1,5" is what some locales' runners write,
/// and what GitLab and dorny read as 1.5). With both marks the last one is
/// the decimal mark and the other digit grouping ("1,234.5", "1.234,5"); a
/// mark that occurs more than once is grouping ("1,234,567").
/// Missing, unparsable, negative, NaN or infinite values give 0; absurdly
/// large ones are clamped to kMaxSeconds.
std::uint64_t parse_millis(std::string_view seconds);
inline constexpr double kMaxSeconds = 1e12;

/// Seconds as whole milliseconds, with the same rules as parse_millis.
std::uint64_t to_millis(double seconds);

/// Milliseconds as seconds with up to 3 decimals and no trailing zeros:
/// 1500 -> "1.5", 3 -> "0.003", 12000 -> "12".
std::string format_millis(std::uint64_t ms);

/// An ISO 8601 date-time ("YYYY-MM-DDTHH:MM[:SS[.frac]][zone]"; a space
/// instead of 'T' is accepted and written as 'T'). Returns it with a zone:
/// as given when it has one, otherwise with the local UTC offset at that
/// moment appended ("+HH:MM"), which is what pytest's naive local timestamps
/// mean. Returns nullopt for anything else.
std::optional<std::string> normalise_timestamp(std::string_view timestamp);

/// `when` in local time as ISO 8601 with its offset, e.g. "2024-01-02T03:04:05+01:00".
std::string format_timestamp(std::chrono::system_clock::time_point when);

/// The first non-blank line of `text`, trimmed, sanitised and cut to
/// `max_chars` code points; empty if `text` is blank.
std::string first_line(std::string_view text, std::size_t max_chars = 200);

}  // namespace shardrun::junit::detail
