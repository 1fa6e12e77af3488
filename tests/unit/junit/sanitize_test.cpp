// Rule 11 (sanitize_text) and the pure text/time helpers behind rules 4-6.
#include <cstdlib>
#include <ctime>

#include "shardrun/junit_output_file.hpp"
#include "shardrun/junit_text.hpp"
#include "support.hpp"

using shardrun::junit::sanitize_text;
using namespace shardrun::junit::detail;
using namespace junit_test;

TEST_CASE("sanitize_text replaces forbidden control characters with visible \\xNN") {
  CHECK(sanitize_text("a\x1b[31mred") == "a\\x1B[31mred");
  CHECK(sanitize_text(std::string_view("x\0y", 3)) == "x\\x00y");
  CHECK(sanitize_text("\x01\x08\x0b\x0c\x1f") == "\\x01\\x08\\x0B\\x0C\\x1F");
}

TEST_CASE("sanitize_text keeps tab, newline and carriage return") {
  CHECK(sanitize_text("a\tb\nc\r\nd") == "a\tb\nc\r\nd");
}

TEST_CASE("sanitize_text replaces invalid UTF-8 byte by byte") {
  CHECK(sanitize_text("bad \xff byte") == "bad \\xFF byte");
  // A 3-byte sequence cut after two bytes, then ASCII.
  CHECK(sanitize_text("cut \xe6\x97 here") == "cut \\xE6\\x97 here");
  CHECK(sanitize_text("end \xe6\x97") == "end \\xE6\\x97");
  // Overlong encoding of '/', a UTF-16 surrogate, and a code point above U+10FFFF.
  CHECK(sanitize_text("\xc0\xaf") == "\\xC0\\xAF");
  CHECK(sanitize_text("\xed\xa0\x80") == "\\xED\\xA0\\x80");
  CHECK(sanitize_text("\xf4\x90\x80\x80") == "\\xF4\\x90\\x80\\x80");
  // A stray continuation byte.
  CHECK(sanitize_text("\x80") == "\\x80");
}

TEST_CASE("sanitize_text replaces U+FFFE and U+FFFF, which XML 1.0 forbids") {
  CHECK(sanitize_text("a\xef\xbf\xbe"
                      "b\xef\xbf\xbf") == "a\\xEF\\xBF\\xBEb\\xEF\\xBF\\xBF");
  // U+FFFD is allowed.
  CHECK(sanitize_text("\xef\xbf\xbd") == "\xef\xbf\xbd");
}

TEST_CASE("sanitize_text passes valid multi-byte text unchanged") {
  const std::string text = "caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x99\x82 \xc2\x85";
  CHECK(sanitize_text(text) == text);
  CHECK(is_clean(text));
  CHECK_FALSE(is_clean("\x1b"));
  CHECK_FALSE(is_clean("\xe6\x97"));
}

TEST_CASE("append_sanitized escapes per context and never references forbidden chars") {
  std::string text, attr;
  append_sanitized(text, "<a & \"b\"> \x1b\t\n\r", Escape::kText);
  append_sanitized(attr, "<a & \"b\"> \x1b\t\n\r", Escape::kAttr);
  CHECK(text == "&lt;a &amp; \"b\"&gt; \\x1B\t\n&#13;");
  CHECK(attr == "&lt;a &amp; &quot;b&quot;&gt; \\x1B&#9;&#10;&#13;");
}

TEST_CASE("parse_millis reads seconds locale-independently and rejects nonsense") {
  CHECK(parse_millis("1.5") == 1500);
  CHECK(parse_millis(" 2.25 ") == 2250);
  CHECK(parse_millis("+3") == 3000);
  CHECK(parse_millis("1e3") == 1000000);
  CHECK(parse_millis("0.0004") == 0);
  CHECK(parse_millis("0.0005") == 1);
  CHECK(parse_millis("-1") == 0);
  CHECK(parse_millis("NaN") == 0);
  CHECK(parse_millis("inf") == 0);
  CHECK(parse_millis("1.5s") == 0);
  CHECK(parse_millis("") == 0);
  CHECK(parse_millis("1e300") == static_cast<std::uint64_t>(kMaxSeconds * 1000));
}

TEST_CASE("parse_millis reads a decimal comma and digit grouping (issue 13, item 6)") {
  CHECK(parse_millis("1,5") == 1500);
  CHECK(parse_millis("0,004") == 4);
  CHECK(parse_millis("1,234.5") == 1234500);
  CHECK(parse_millis("1.234,5") == 1234500);
  CHECK(parse_millis("1,234,567") == 1234567000);
  CHECK(parse_millis("1.234.567") == 1234567000);
  CHECK(parse_millis("1,234") == 1234);  // one comma alone is a decimal comma
  CHECK(parse_millis(",5") == 500);
  CHECK(parse_millis("1,5e2") == 150000);
  // Not grouping: groups of three after one of one to three digits.
  CHECK(parse_millis("1,,5") == 0);
  CHECK(parse_millis("12,34.5") == 0);
  CHECK(parse_millis("1234,567.5") == 0);
  CHECK(parse_millis("1,5,5.5") == 0);
  CHECK(parse_millis("1.5.5,5") == 0);
  CHECK(parse_millis("1,234.5.6") == 0);
  CHECK(parse_millis(",") == 0);
  CHECK(parse_millis("1,") == 1000);
}

TEST_CASE("format_millis writes up to three decimals without grouping") {
  CHECK(format_millis(1500) == "1.5");
  CHECK(format_millis(3) == "0.003");
  CHECK(format_millis(12000) == "12");
  CHECK(format_millis(0) == "0");
  CHECK(format_millis(1234567890) == "1234567.89");
  CHECK(format_millis(10) == "0.01");
}

TEST_CASE("normalise_timestamp keeps zoned ISO 8601 and adds the local offset otherwise") {
  CHECK(normalise_timestamp("2024-01-02T03:04:05Z") == "2024-01-02T03:04:05Z");
  CHECK(normalise_timestamp("2024-01-02T03:04:05.5+02:00") == "2024-01-02T03:04:05.5+02:00");
  CHECK(normalise_timestamp("2024-01-02T03:04:05-0700") == "2024-01-02T03:04:05-0700");
  CHECK(normalise_timestamp("2024-01-02 03:04:05Z") == "2024-01-02T03:04:05Z");
  {
    ScopedTz tz("IST-5:30");  // POSIX: 5h30 east of UTC, no tzdata needed
    CHECK(normalise_timestamp("2024-01-02T03:04:05.123456") == "2024-01-02T03:04:05.123456+05:30");
  }
  {
    ScopedTz tz("XST8");  // 8h west of UTC
    CHECK(normalise_timestamp("2024-01-02T03:04") == "2024-01-02T03:04-08:00");
  }
  CHECK_FALSE(normalise_timestamp("yesterday"));
  CHECK_FALSE(normalise_timestamp("2024-13-02T03:04:05Z"));
  CHECK_FALSE(normalise_timestamp("2024-01-02"));
  CHECK_FALSE(normalise_timestamp("2024-01-02T03:04:05 UTC"));
  CHECK_FALSE(normalise_timestamp("1704164645"));
}

TEST_CASE("first_line takes the first non-blank line, trimmed and cut at 200 characters") {
  CHECK(first_line("\n\n   second line  \nthird") == "second line");
  CHECK(first_line(" \n\t") == "");
  CHECK(first_line("bad \x1b byte") == "bad \\x1B byte");
  std::string long_line;
  for (int i = 0; i < 300; ++i) long_line += "\xc3\xa9";  // 300 two-byte characters
  const std::string cut = first_line(long_line);
  CHECK(cut.size() == 400);
  CHECK(is_clean(cut));
}

TEST_CASE("write_cdata splits ]]> so the text survives re-parsing") {
  TempDir dir;
  const std::string text = "a]]>b]]]>c]]>";
  {
    OutputFile out = OutputFile::create_temp(dir.path(), "cdata.", false);
    out.write("<x>");
    out.write_cdata(text);
    out.write("</x>");
    out.sync_and_close();
    out.rename_to(dir / "cdata.xml");
  }
  const std::string bytes = read_bytes(dir / "cdata.xml");
  pugi::xml_document doc;
  REQUIRE(doc.load_buffer(bytes.data(), bytes.size()));
  CHECK(all_text(doc.child("x")) == text);
  CHECK(doc.child("x").first_child().type() == pugi::node_cdata);
}

TEST_CASE("OutputFile removes a temporary file that was never renamed") {
  TempDir dir;
  {
    OutputFile out = OutputFile::create_temp(dir.path(), "gone.", false);
    out.write("data");
    out.flush();
    CHECK(dir.entries().size() == 1);
  }
  CHECK(dir.entries().empty());
}
