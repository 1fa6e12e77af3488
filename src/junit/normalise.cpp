// DOM -> flat, recounted <testsuite> elements (DESIGN §8 rules 1-8).
//
// Nothing here recurses: input trees can be arbitrarily deep (a fuzzer or a
// broken runner can nest 10,000 elements), so suites are walked with an
// explicit stack and their subtrees' counts are added up bottom-up from the
// pre-order list of suites.
#include "normalise.hpp"

#include <array>
#include <charconv>
#include <optional>
#include <unordered_map>

#include <fmt/format.h>

#include "element_writer.hpp"
#include "shardrun/junit_text.hpp"

namespace shardrun::junit::detail {
namespace {

using pugi::xml_node;

constexpr std::array<const char*, 4> kCountNames = {"tests", "failures", "errors", "skipped"};
constexpr std::size_t kNoParent = static_cast<std::size_t>(-1);

struct Counts {
  std::array<std::uint64_t, 4> n{};  // in kCountNames' order
  std::uint64_t millis = 0;

  void add(Outcome outcome, std::uint64_t ms) {
    ++n[0];
    millis += ms;
    if (outcome == Outcome::kFailed) ++n[1];
    if (outcome == Outcome::kErrored) ++n[2];
    if (outcome == Outcome::kSkipped) ++n[3];
  }
  Counts& operator+=(const Counts& other) {
    for (std::size_t i = 0; i < n.size(); ++i) n[i] += other.n[i];
    millis += other.millis;
    return *this;
  }
};

// What one pass over a suite's direct children finds.
struct SuiteScan {
  std::vector<xml_node> testcases, properties, outputs;
  bool suite_level = false;                        // <error>/<failure> children of the suite itself
  Outcome suite_level_outcome = Outcome::kFailed;  // kErrored if one is an <error>
  bool has_nested = false;
  Counts cases;  // of its <testcase> children
};

SuiteScan scan_suite(xml_node suite) {
  SuiteScan scan;
  for (xml_node child : suite.children()) {
    if (named(child, "testcase")) {
      scan.cases.add(case_outcome(child), parse_millis(child.attribute("time").value()));
      scan.testcases.push_back(child);
    } else if (named(child, "error") || named(child, "failure")) {
      scan.suite_level = true;
      if (named(child, "error")) scan.suite_level_outcome = Outcome::kErrored;
    } else if (is_suite(child)) {
      scan.has_nested = true;
    } else if (named(child, "properties")) {
      scan.properties.push_back(child);
    } else if (named(child, "system-out") || named(child, "system-err")) {
      scan.outputs.push_back(child);
    }
  }
  return scan;
}

// What write_document keeps of each suite element until the whole document
// is written: for nested suites' timestamps and the count check.
struct SuiteRecord {
  xml_node node;
  std::size_t parent = kNoParent;
  std::string name;              // as written, or as it would be (a container is not)
  std::string timestamp;         // its own, else inherited; may be empty
  Counts cases, levels;          // its testcases; the testcase of its suite-level errors
  Counts all_cases, all_levels;  // the same with every nested suite's
};

// Rule 4: the suite's own name plus the entry, nothing that varies by run.
std::string suite_name(std::string_view given, const SuiteLabel& label) {
  std::string name = sanitize_text(given);
  const std::string entry = sanitize_text(label.entry);
  if (entry.empty()) return name.empty() ? "(unnamed)" : name;
  return name.empty() ? entry : fmt::format("{} [{}]", name, entry);
}

void write_suite_open(OutputFile& out, const std::string& name, const Counts& counts) {
  out.write("  <testsuite");
  out.write_attr("name", name);
  out.write(fmt::format(R"( tests="{}" failures="{}" errors="{}" skipped="{}" time="{}")",
                        counts.n[0], counts.n[1], counts.n[2], counts.n[3],
                        format_millis(counts.millis)));
}

// The suite's own <property> elements first, then the label's.
void write_properties(OutputFile& out, const std::vector<xml_node>& blocks,
                      const SuiteLabel& label) {
  bool open = false;
  auto open_once = [&] {
    if (!open) out.write("    <properties>\n");
    open = true;
  };
  for (xml_node block : blocks) {
    for (xml_node property : block.children()) {
      if (property.type() != pugi::node_element || !name_ok(property.name())) continue;
      open_once();
      out.write("      ");
      write_element(out, property);
      out.write("\n");
    }
  }
  for (const auto& [name, value] : label.properties) {
    open_once();
    out.write("      <property");
    out.write_attr("name", name);
    out.write_attr("value", value);
    out.write("/>\n");
  }
  if (open) out.write("    </properties>\n");
}

void write_suite(const SuiteScan& scan, const SuiteRecord& rec, const SuiteLabel& label,
                 ReportState& report, std::vector<CaseSummary>& cases) {
  Counts counts = rec.cases;
  counts += rec.levels;
  OutputFile& out = report.body();
  write_suite_open(out, rec.name, counts);
  if (!rec.timestamp.empty()) out.write_attr("timestamp", rec.timestamp);
  for (const char* key : {"hostname", "id", "package", "file"}) {
    if (pugi::xml_attribute attr = rec.node.attribute(key)) out.write_attr(key, attr.value());
  }
  out.write(">\n");
  write_properties(out, scan.properties, label);
  if (scan.suite_level) write_suite_level_case(rec.node, rec.name, report, cases);
  std::size_t position = 0;
  for (xml_node testcase : scan.testcases)
    write_testcase(testcase, ++position, rec.name, report, cases);
  for (xml_node output : scan.outputs) {
    out.write("    ");
    write_element(out, output);
    out.write("\n");
  }
  out.write("  </testsuite>\n");
}

std::optional<std::uint64_t> parse_count(std::string_view text) {
  std::uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// Rule 2: the report counts testcases, whatever the input declares; a
// declared count is believed to describe the suite if it matches its own
// testcases or its whole subtree's, with or without the suite-level errors
// (a runner may count those as a test or not). Anything else is a warning.
void check_declared(const SuiteRecord& rec, ReportState& report) {
  std::string declared, counted;
  for (std::size_t i = 0; i < kCountNames.size(); ++i) {
    const pugi::xml_attribute attr = rec.node.attribute(kCountNames[i]);
    if (!attr) continue;
    const std::uint64_t own = rec.cases.n[i] + rec.levels.n[i];
    const std::uint64_t all = rec.all_cases.n[i] + rec.all_levels.n[i];
    const std::optional<std::uint64_t> value = parse_count(attr.value());
    if (value && (*value == own || *value == rec.cases.n[i] || *value == all ||
                  *value == rec.all_cases.n[i]))
      continue;
    const char* sep = declared.empty() ? "" : " ";
    declared += fmt::format(R"({}{}="{}")", sep, kCountNames[i], first_line(attr.value(), 40));
    counted += fmt::format("{}{}={}", sep, kCountNames[i], rec.cases.n[0] > 0 ? own : all);
  }
  if (declared.empty()) return;
  report.warn(WarningKind::kCounts,
              fmt::format(R"(suite "{}" declares {} but its testcases show {}; )"
                          "the report counts the testcases",
                          rec.name, declared, counted));
}

void check_declared_counts(std::vector<SuiteRecord>& records, ReportState& report) {
  for (SuiteRecord& rec : records) {
    rec.all_cases = rec.cases;
    rec.all_levels = rec.levels;
  }
  // Pre-order puts every suite after its parent: walking backwards, a
  // suite's subtree is complete when it is added to its parent's.
  for (std::size_t i = records.size(); i-- > 0;) {
    if (records[i].parent == kNoParent) continue;
    records[records[i].parent].all_cases += records[i].all_cases;
    records[records[i].parent].all_levels += records[i].all_levels;
  }
  for (const SuiteRecord& rec : records) check_declared(rec, report);
}

}  // namespace

void write_document(const pugi::xml_document& doc, const SuiteLabel& label, ReportState& report,
                    std::vector<CaseSummary>& cases) {
  const std::string started = label.started ? format_timestamp(*label.started) : "";
  report.set_entry(label.entry);
  std::vector<SuiteRecord> records;
  std::unordered_map<const void*, std::size_t> record_of;  // suite element -> its record
  for_each_suite(doc, [&](xml_node suite) {
    SuiteRecord rec;
    rec.node = suite;
    if (auto up = record_of.find(suite.parent().internal_object()); up != record_of.end())
      rec.parent = up->second;
    rec.name = suite_name(suite.attribute("name").value(), label);
    // Rule 4: hoisted suites keep when their parent ran; a unit's suites
    // without any timestamp get the unit's start.
    if (auto own = normalise_timestamp(suite.attribute("timestamp").value())) {
      rec.timestamp = std::move(*own);
    } else {
      rec.timestamp = rec.parent == kNoParent ? started : records[rec.parent].timestamp;
    }
    const SuiteScan scan = scan_suite(suite);
    rec.cases = scan.cases;
    if (scan.suite_level) rec.levels.add(scan.suite_level_outcome, 0);
    const bool container = scan.testcases.empty() && !scan.suite_level &&
                           (scan.has_nested || !named(suite, "testsuite"));
    if (!container) write_suite(scan, rec, label, report, cases);
    record_of.emplace(suite.internal_object(), records.size());
    records.push_back(std::move(rec));
  });
  check_declared_counts(records, report);
}

void append_synthetic_suite(xml_node parent, const std::string& suite_name,
                            const std::vector<SyntheticCase>& cases) {
  auto set = [](xml_node node, const char* name, const std::string& value) {
    node.append_attribute(name).set_value(sanitize_text(value).c_str());
  };
  xml_node suite = parent.append_child("testsuite");
  set(suite, "name", suite_name);
  for (const SyntheticCase& c : cases) {
    xml_node tc = suite.append_child("testcase");
    set(tc, "classname", c.classname);
    set(tc, "name", c.name);
    set(tc, "time", format_millis(to_millis(c.time)));
    if (c.outcome != Outcome::kPassed) {
      // An empty message is filled in when the report is written (rule 7).
      xml_node r = tc.append_child(c.outcome == Outcome::kErrored  ? "error"
                                   : c.outcome == Outcome::kFailed ? "failure"
                                                                   : "skipped");
      if (!c.message.empty()) set(r, "message", c.message);
      if (!c.type.empty()) set(r, "type", c.type);
      if (!c.text.empty())
        r.append_child(pugi::node_pcdata).set_value(sanitize_text(c.text).c_str());
    }
    if (!c.system_out.empty()) {
      tc.append_child("system-out")
          .append_child(pugi::node_pcdata)
          .set_value(sanitize_text(c.system_out).c_str());
    }
  }
}

}  // namespace shardrun::junit::detail
