// libFuzzer target for the JUnit merge (shardrun::junit::ReportWriter).
//
// Each input is handed to add_buffer() twice (the second copy exercises
// suite-name and duplicate-testcase handling) and, as arbitrary bytes, to a
// synthetic suite (message, body, system-out, names); the report is
// committed to a scratch file and read back the way a consumer would.
//
// Findings: a crash or sanitizer report, an exception from add_buffer()
// (bad input must become AddResult::error), and any report that breaks
// DESIGN §8:
//   - not well-formed to pugixml, nor to libxml2 when built with it (strict
//     XML 1.0 + Namespaces like Jenkins', Azure's and Python's parsers;
//     pugixml accepts some documents that they refuse, e.g. bad name
//     characters);
//   - root not <testsuites>, or <testsuite> not flat (rule 1);
//   - counts that do not match the testcases, per suite and in total, or
//     ReportWriter::totals() that disagree with the file (rules 2, 3);
//   - a time that is not a plain non-negative decimal, a timestamp without a
//     zone (rule 5);
//   - a character XML 1.0 forbids, raw or as a reference (rule 6);
//   - a testcase without a name, or two with one identity (suite name +
//     classname + name; rules 4, 7, 10);
//   - more than one <failure>/<error>/<skipped> in a testcase, or one
//     without a message, or whose body does not start with it (rules 2, 3, 7).

#include <fcntl.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <string_view>

#include <pugixml.hpp>

#ifdef SHARDRUN_FUZZ_LIBXML2
#include <libxml/parser.h>
#endif

#include "shardrun/error.hpp"
#include "shardrun/junit.hpp"

namespace {

namespace fs = std::filesystem;
using shardrun::junit::Outcome;

[[noreturn]] void finding(const char* what, const std::string& detail = {}) {
  std::fprintf(stderr, "fuzz_junit: %s%s%s\n", what, detail.empty() ? "" : ": ", detail.c_str());
  std::abort();
}

// One scratch folder per fuzzing process, removed at exit.
const fs::path& scratch() {
  static const fs::path dir = [] {
    // tmpfs when there is one: commit() fsyncs, which on a disk would
    // dominate the run time.
    std::error_code ec;
    const fs::path base =
        fs::is_directory("/dev/shm", ec) ? fs::path("/dev/shm") : fs::temp_directory_path();
    std::string pattern = (base / "fuzz_junit.XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) finding("mkdtemp failed", std::strerror(errno));
    std::atexit([] {
      std::error_code ec;
      fs::remove_all(scratch(), ec);
    });
    return fs::path(pattern);
  }();
  return dir;
}

std::string read_all(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// Decodes one UTF-8 sequence at s[i]; returns its length, 0 if invalid.
std::size_t utf8_at(std::string_view s, std::size_t i, std::uint32_t& cp) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  std::size_t len = b0 < 0x80           ? 1
                    : (b0 >> 5) == 0x6  ? 2
                    : (b0 >> 4) == 0xE  ? 3
                    : (b0 >> 3) == 0x1E ? 4
                                        : 0;
  if (len == 0 || i + len > s.size()) return 0;
  cp = len == 1 ? b0 : len == 2 ? (b0 & 0x1F) : len == 3 ? (b0 & 0x0F) : (b0 & 0x07);
  for (std::size_t k = 1; k < len; ++k) {
    const auto b = static_cast<unsigned char>(s[i + k]);
    if ((b & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (b & 0x3F);
  }
  static constexpr std::uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMin[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return len;
}

bool xml_char(std::uint32_t cp) {
  return cp == 0x9 || cp == 0xA || cp == 0xD || (cp >= 0x20 && cp <= 0xD7FF) ||
         (cp >= 0xE000 && cp <= 0xFFFD) || (cp >= 0x10000 && cp <= 0x10FFFF);
}

// Rule 6 on decoded text (character references already resolved by pugixml).
void check_text(std::string_view text, const char* where) {
  for (std::size_t i = 0; i < text.size();) {
    std::uint32_t cp = 0;
    const std::size_t len = utf8_at(text, i, cp);
    if (len == 0) finding("invalid UTF-8 in the report", where);
    if (!xml_char(cp)) finding("character XML 1.0 forbids in the report", where);
    i += len;
  }
}

bool plain_decimal(std::string_view s) {
  const auto dot = s.find('.');
  auto digits = [](std::string_view d) {
    return !d.empty() && d.find_first_not_of("0123456789") == std::string_view::npos;
  };
  return dot == std::string_view::npos ? digits(s)
                                       : digits(s.substr(0, dot)) && digits(s.substr(dot + 1));
}

// "YYYY-MM-DDTHH:MM[:SS[.frac]]" followed by "Z" or "+HH:MM"-style zone.
bool iso_with_zone(std::string_view s) {
  if (s.size() < 17 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':') return false;
  const std::string_view tail = s.substr(16);
  return tail.find_first_of("Z+-") != std::string_view::npos;
}

// The first non-blank line of `s`, trimmed, cut at 200 code points: what
// the writer compares a body with its message by.
std::string first_line(std::string_view s) {
  std::string_view line;
  while (!s.empty()) {
    const auto nl = s.find('\n');
    line = s.substr(0, nl);
    const auto first = line.find_first_not_of(" \t\r");
    line = first == std::string_view::npos ? std::string_view() : line.substr(first);
    line = line.substr(0, line.find_last_not_of(" \t\r") + 1);
    if (!line.empty() || nl == std::string_view::npos) break;
    s.remove_prefix(nl + 1);
  }
  std::size_t chars = 0;
  for (std::size_t i = 0; i < line.size(); ++i) {
    if ((static_cast<unsigned char>(line[i]) & 0xC0) == 0x80) continue;
    if (chars++ == 200) return std::string(line.substr(0, i));
  }
  return std::string(line);
}

std::string all_text(pugi::xml_node node) {
  std::string text;
  for (pugi::xml_node c : node.children())
    if (c.type() == pugi::node_pcdata || c.type() == pugi::node_cdata) text += c.value();
  return text;
}

// Rules 2, 3, 7: one result element, with a message its body starts with.
void check_results(pugi::xml_node testcase) {
  int results = 0;
  for (pugi::xml_node f : testcase.children()) {
    const std::string_view fn = f.name();
    if (fn != "failure" && fn != "error" && fn != "skipped") continue;
    if (++results > 1) finding("more than one failure/error/skipped in a testcase");
    if (!f.attribute("message")) finding("failure/error/skipped without a message attribute");
    const std::string want = first_line(f.attribute("message").value());
    if (want.empty()) finding("failure/error/skipped with a blank message");
    if (first_line(all_text(f)).rfind(want, 0) != 0)
      finding("a body that does not start with its message", want);
  }
}

struct Counted {
  std::uint64_t tests = 0, failures = 0, errors = 0, skipped = 0;
  bool operator==(const Counted&) const = default;
};

Outcome outcome_of(pugi::xml_node testcase) {
  bool failed = false, skipped = false;
  for (pugi::xml_node c : testcase.children()) {
    const std::string_view n = c.name();
    if (n == "error") return Outcome::kErrored;
    failed = failed || n == "failure";
    skipped = skipped || n == "skipped";
  }
  return failed ? Outcome::kFailed : skipped ? Outcome::kSkipped : Outcome::kPassed;
}

void add(Counted& c, Outcome o) {
  ++c.tests;
  if (o == Outcome::kFailed) ++c.failures;
  if (o == Outcome::kErrored) ++c.errors;
  if (o == Outcome::kSkipped) ++c.skipped;
}

Counted declared(pugi::xml_node n) {
  return {n.attribute("tests").as_ullong(~0ull), n.attribute("failures").as_ullong(~0ull),
          n.attribute("errors").as_ullong(~0ull), n.attribute("skipped").as_ullong(~0ull)};
}

void check_all_text(pugi::xml_node root) {
  for (pugi::xml_node n = root; n;) {
    check_text(n.name(), "name");
    check_text(n.value(), "text");
    for (pugi::xml_attribute a : n.attributes()) {
      check_text(a.name(), "attribute name");
      check_text(a.value(), "attribute value");
    }
    if (n.first_child()) {
      n = n.first_child();
      continue;
    }
    while (n != root && !n.next_sibling()) n = n.parent();
    if (n == root) break;
    n = n.next_sibling();
  }
}

void check_report(const fs::path& path, const shardrun::junit::Totals& totals,
                  std::uint64_t expected_tests) {
  const std::string bytes = read_all(path);
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    const auto c = static_cast<unsigned char>(bytes[i]);
    if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') finding("raw control byte in the report");
  }
#ifdef SHARDRUN_FUZZ_LIBXML2
  // Strict XML 1.0 plus Namespaces (consumers such as Python's ElementTree
  // and Java's namespace-aware SAX refuse "xml:" or "a:b:c" names); no
  // network, no entity substitution, huge text allowed.
  xmlParserCtxtPtr ctxt = xmlNewParserCtxt();
  if (ctxt == nullptr) finding("xmlNewParserCtxt failed");
  xmlDocPtr strict =
      xmlCtxtReadMemory(ctxt, bytes.data(), static_cast<int>(bytes.size()), "report.xml", nullptr,
                        XML_PARSE_NONET | XML_PARSE_HUGE | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
  const bool well_formed = strict != nullptr && ctxt->wellFormed != 0;
  const bool ns_well_formed = ctxt->nsWellFormed != 0;
  std::string why;
  if (const xmlError* e = xmlCtxtGetLastError(ctxt); e != nullptr && e->message != nullptr)
    why = e->message;
  xmlFreeDoc(strict);
  xmlFreeParserCtxt(ctxt);
  if (!well_formed) finding("libxml2 rejects the report", why);
  if (!ns_well_formed) finding("the report breaks XML Namespaces", why);
#endif
  pugi::xml_document doc;
  const pugi::xml_parse_result parsed = doc.load_buffer(bytes.data(), bytes.size());
  if (!parsed) finding("pugixml rejects the report", parsed.description());
  const pugi::xml_node root = doc.document_element();
  if (std::string_view(root.name()) != "testsuites") finding("root is not <testsuites>");
  check_all_text(root);

  Counted all;
  std::set<std::string> identities;
  for (pugi::xml_node suite : root.children()) {
    if (suite.type() != pugi::node_element) continue;
    if (std::string_view(suite.name()) != "testsuite")
      finding("non-<testsuite> child of the root", suite.name());
    if (!plain_decimal(suite.attribute("time").value()))
      finding("suite time is not a plain decimal", suite.attribute("time").value());
    if (pugi::xml_attribute ts = suite.attribute("timestamp"); ts && !iso_with_zone(ts.value()))
      finding("timestamp without a zone", ts.value());
    Counted mine;
    for (pugi::xml_node child : suite.children()) {
      const std::string_view name = child.name();
      if (name == "testsuite" || name == "testsuites") finding("nested suite in the report");
      if (name != "testcase") continue;
      if (pugi::xml_attribute t = child.attribute("time"); t && !plain_decimal(t.value()))
        finding("testcase time is not a plain decimal", t.value());
      const std::string_view case_name = child.attribute("name").value();
      if (case_name.find_first_not_of(" \t\r\n") == std::string_view::npos)
        finding("a testcase without a name");
      std::string identity = suite.attribute("name").value();
      for (std::string_view part :
           {std::string_view(child.attribute("classname").value()), case_name})
        identity.append(1, '\0').append(part);
      if (!identities.insert(std::move(identity)).second)
        finding("two testcases with one identity", std::string(case_name));
      check_results(child);
      const Outcome o = outcome_of(child);
      add(mine, o);
      add(all, o);
    }
    if (!(declared(suite) == mine)) finding("suite counts do not match its testcases");
  }
  if (!(declared(root) == all)) finding("root counts do not match the testcases");
  if (totals.tests != all.tests || totals.failures != all.failures || totals.errors != all.errors ||
      totals.skipped != all.skipped)
    finding("ReportWriter::totals() disagrees with the report");
  if (all.tests != expected_tests) finding("testcases lost or invented");
  if (!plain_decimal(root.attribute("time").value())) finding("root time is not a plain decimal");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const fs::path output = scratch() / "report.xml";

  shardrun::junit::SuiteLabel label;
  label.entry = "fuzz";
  label.properties.emplace_back("shardrun.shard", "0");
  label.properties.emplace_back("shardrun.unit", "fuzz");

  std::uint64_t expected = 0;
  shardrun::junit::Totals totals;
  {
    shardrun::junit::ReportWriter writer(output, "fuzz");
    for (int copy = 0; copy < 2; ++copy) {
      const shardrun::junit::AddResult added = writer.add_buffer(input, label);
      if (added.ok != added.error.empty()) finding("AddResult: ok and error disagree", added.error);
      if (added.ok) expected += added.cases.size();
    }
    // Arbitrary bytes in every field of a synthetic testcase.
    shardrun::junit::SyntheticCase c;
    const std::string_view head = input.substr(0, 64);
    c.classname = std::string(head);
    c.name = std::string(input.substr(std::min<std::size_t>(size, 64), 64));
    c.outcome = size % 2 == 0 ? Outcome::kErrored : Outcome::kFailed;
    c.message = std::string(head);
    c.type = "fuzz";
    c.text = std::string(input);
    c.system_out = std::string(input);
    writer.add_synthetic_suite(std::string(head), label, {c});
    ++expected;

    try {
      writer.commit();
    } catch (const shardrun::Error& e) {
      finding("commit failed", e.what());
    }
    totals = writer.totals();
  }
  check_report(output, totals, expected);
  return 0;
}
