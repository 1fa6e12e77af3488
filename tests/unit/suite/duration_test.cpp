// parse_duration: the accepted forms and the rejected ones.

#include <catch2/catch.hpp>

#include "shardrun/suite.hpp"

using shardrun::parse_duration;
using namespace std::chrono_literals;
using Ms = std::chrono::milliseconds;

namespace {
std::optional<long long> ms(std::string_view text) {
  auto d = parse_duration(text);
  if (!d) return std::nullopt;
  return d->count();
}
}  // namespace

TEST_CASE("durations with units", "[duration]") {
  CHECK(parse_duration("30s") == std::optional<Ms>(30s));
  CHECK(parse_duration("10m") == std::optional<Ms>(10min));
  CHECK(parse_duration("1h") == std::optional<Ms>(1h));
  CHECK(parse_duration("1m30s") == std::optional<Ms>(90s));
  CHECK(parse_duration("1h30m") == std::optional<Ms>(90min));
  CHECK(parse_duration("1h2m3s") == std::optional<Ms>(1h + 2min + 3s));
  CHECK(parse_duration("1h2m3s4ms") == std::optional<Ms>(1h + 2min + 3s + 4ms));
  CHECK(parse_duration("250ms") == std::optional<Ms>(250ms));
  CHECK(parse_duration("2m250ms") == std::optional<Ms>(120250ms));
  CHECK(parse_duration("0s") == std::optional<Ms>(0ms));
  CHECK(parse_duration("007s") == std::optional<Ms>(7s));
}

TEST_CASE("plain numbers are seconds", "[duration]") {
  CHECK(ms("0") == 0);
  CHECK(ms("30") == 30000);
  CHECK(ms("1.5") == 1500);
  CHECK(ms("0.001") == 1);
  CHECK(ms("0.0004") == 0);  // rounds to the nearest millisecond
  CHECK(ms("0.0005") == 1);
}

TEST_CASE("fractions are allowed with any unit", "[duration]") {
  CHECK(ms("1.5m") == 90000);
  CHECK(ms("0.5h") == 1800000);
  CHECK(ms("2.5s") == 2500);
  CHECK(ms("1m0.25s") == 60250);
  CHECK(ms("1.5ms") == 2);
}

TEST_CASE("malformed durations are rejected", "[duration]") {
  for (const char* bad :
       {"",       " ",    "-1",   "+1",    "-1s",  "10x",   "s",    "m",     "1.",  ".5",   "1..5",
        "1m 30s", " 30s", "30s ", "30S",   "1H",   "30s1m", "1m1m", "1ms1s", "1s1", "1h30", "abc",
        "1e3",    "0x10", "1,5",  "1_000", "1:30", "10sec", "5min", "1d",    "ms",  "1mss"}) {
    INFO("text: '" << bad << "'");
    CHECK_FALSE(parse_duration(bad).has_value());
  }
}

TEST_CASE("durations above one year are rejected, so clocks cannot overflow", "[duration]") {
  CHECK(ms("8760h") == 8760LL * 3600 * 1000);
  CHECK(ms("31536000") == 31536000000LL);
  CHECK_FALSE(parse_duration("8760h1ms").has_value());
  CHECK_FALSE(parse_duration("31536000.001").has_value());
  CHECK_FALSE(parse_duration("9999999999999999999999s").has_value());
  CHECK_FALSE(parse_duration("99999999999h").has_value());
  CHECK_FALSE(parse_duration("18446744073709551616").has_value());
  CHECK_FALSE(parse_duration("8000h99999m").has_value());
  // Many fraction digits are fine (only precision beyond a millisecond is lost).
  CHECK(ms("1.000000000000000000001") == 1000);
}
