// DOM -> flat, recounted <testsuite> elements (DESIGN §8 rules 1-7).
//
// Nothing here recurses: input trees can be arbitrarily deep (a fuzzer or a
// broken runner can nest 10,000 elements), so suites are walked with an
// explicit stack and element subtrees are copied by following parent links.
#include "normalise.hpp"

#include <charconv>
#include <cstring>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

#include <fmt/format.h>

#include "text.hpp"

namespace shardrun::junit::detail {

bool named(pugi::xml_node node, const char* name) {
  return node.type() == pugi::node_element && std::strcmp(node.name(), name) == 0;
}

bool is_suite(pugi::xml_node node) {
  return named(node, "testsuite") || named(node, "testsuites");
}

Outcome case_outcome(pugi::xml_node testcase) {
  bool failed = false, skipped = false;
  for (pugi::xml_node child : testcase.children()) {
    if (named(child, "error")) return Outcome::kErrored;
    failed = failed || named(child, "failure");
    skipped = skipped || named(child, "skipped");
  }
  return failed ? Outcome::kFailed : skipped ? Outcome::kSkipped : Outcome::kPassed;
}

namespace {

using pugi::xml_node;

// Element and attribute names are copied only when they are clean. Names
// with a namespace prefix are dropped: the prefix was declared on an input
// root that the report does not copy, so keeping them would make the output
// ill-formed for namespace-aware readers.
// An element or attribute name every consumer accepts: an ASCII XML Name
// ([A-Za-z_][A-Za-z0-9._-]*), or "xml:" plus one (xml:lang). pugixml accepts
// more (non-ASCII name characters it does not check, "xml:" alone), which
// strict parsers then reject; JUnit writers never need those.
bool name_ok(std::string_view name) {
  if (name.substr(0, 4) == "xml:") name.remove_prefix(4);
  if (name.empty()) return false;
  auto start = [](char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; };
  if (!start(name[0])) return false;
  for (char c : name.substr(1))
    if (!start(c) && !(c >= '0' && c <= '9') && c != '.' && c != '-') return false;
  return true;
}

// pugixml accepts duplicate attributes; XML does not. Keeps the first one.
class SeenNames {
 public:
  bool insert(std::string_view name) {
    if (!set_.empty()) return set_.insert(name).second;
    for (std::string_view seen : small_)
      if (seen == name) return false;
    small_.push_back(name);
    // Switch to hashing so a pathological element stays linear.
    if (small_.size() > 16) set_.insert(small_.begin(), small_.end());
    return true;
  }

 private:
  std::vector<std::string_view> small_;
  std::unordered_set<std::string_view> set_;
};

struct Counts {
  std::uint64_t tests = 0, failures = 0, errors = 0, skipped = 0, millis = 0;

  void add(Outcome outcome, std::uint64_t ms) {
    ++tests;
    millis += ms;
    if (outcome == Outcome::kFailed) ++failures;
    if (outcome == Outcome::kErrored) ++errors;
    if (outcome == Outcome::kSkipped) ++skipped;
  }
};

// Rule 6: the message attribute a <failure>/<error> gets.
std::string failure_message(std::string_view message, std::string_view text, std::string_view type,
                            bool is_error) {
  if (!first_line(message).empty()) return std::string(message);
  if (std::string line = first_line(text); !line.empty()) return line;
  if (std::string line = first_line(type); !line.empty()) return line;
  return is_error ? "error" : "failed";
}

void write_attributes(OutputFile& out, xml_node node, SeenNames& seen) {
  for (pugi::xml_attribute attr : node.attributes()) {
    if (name_ok(attr.name()) && seen.insert(attr.name())) out.write_attr(attr.name(), attr.value());
  }
}

// Copies the subtree at `top` (an element with a clean name) without adding
// whitespace anywhere inside it, so system-out stays byte-identical.
// `fix_message`: `top` is a <failure>/<error> that must carry a message.
void write_element(OutputFile& out, xml_node top, bool fix_message) {
  xml_node node = top;
  for (;;) {
    if (node.type() == pugi::node_element && name_ok(node.name())) {
      out.write("<");
      out.write(node.name());
      SeenNames seen;
      if (node == top && fix_message) {
        seen.insert("message");
        out.write_attr("message",
                       failure_message(node.attribute("message").value(), node.child_value(),
                                       node.attribute("type").value(), named(node, "error")));
      }
      write_attributes(out, node, seen);
      if (node.first_child()) {
        out.write(">");
        node = node.first_child();
        continue;
      }
      out.write("/>");
    } else if (node.type() == pugi::node_pcdata) {
      out.write_text(node.value(), Escape::kText);
    } else if (node.type() == pugi::node_cdata) {
      out.write_cdata(node.value());
    }
    // Leave finished elements until one has a next sibling.
    while (node != top && !node.next_sibling()) {
      node = node.parent();
      out.write("</");
      out.write(node.name());
      out.write(">");
    }
    if (node == top) return;
    node = node.next_sibling();
  }
}

void record(ReportState& report, std::vector<CaseSummary>& cases, std::string_view classname,
            std::string_view name, std::uint64_t ms, Outcome outcome) {
  CaseSummary summary{sanitize_text(classname), sanitize_text(name), ms / 1000.0, outcome};
  report.record_case(summary, ms);
  cases.push_back(std::move(summary));
}

void write_testcase(xml_node testcase, ReportState& report, std::vector<CaseSummary>& cases) {
  OutputFile& out = report.body();
  const pugi::xml_attribute classname = testcase.attribute("classname");
  const pugi::xml_attribute name = testcase.attribute("name");
  const std::uint64_t ms = parse_millis(testcase.attribute("time").value());

  out.write("    <testcase");
  SeenNames seen;
  seen.insert("time");
  seen.insert("classname");
  seen.insert("name");
  if (classname) out.write_attr("classname", classname.value());
  if (name) out.write_attr("name", name.value());
  out.write_attr("time", format_millis(ms));
  write_attributes(out, testcase, seen);

  bool open = false;
  for (xml_node child : testcase.children()) {
    if (child.type() != pugi::node_element || !name_ok(child.name())) continue;
    out.write(open ? "      " : ">\n      ");
    open = true;
    write_element(out, child, named(child, "failure") || named(child, "error"));
    out.write("\n");
  }
  out.write(open ? "    </testcase>\n" : "/>\n");
  record(report, cases, classname.value(), name.value(), ms, case_outcome(testcase));
}

void write_synthetic_case(OutputFile& out, const SyntheticCase& c, ReportState& report,
                          std::vector<CaseSummary>& cases) {
  const std::uint64_t ms = to_millis(c.time);
  out.write("    <testcase");
  out.write_attr("classname", c.classname);
  out.write_attr("name", c.name);
  out.write_attr("time", format_millis(ms));
  if (c.outcome == Outcome::kPassed && c.system_out.empty()) {
    out.write("/>\n");
  } else {
    out.write(">\n");
    if (c.outcome == Outcome::kErrored || c.outcome == Outcome::kFailed) {
      const bool is_error = c.outcome == Outcome::kErrored;
      const char* tag = is_error ? "error" : "failure";
      out.write(fmt::format("      <{}", tag));
      out.write_attr("message", failure_message(c.message, c.text, c.type, is_error));
      if (!c.type.empty()) out.write_attr("type", c.type);
      if (c.text.empty()) {
        out.write("/>\n");
      } else {
        out.write(">");
        out.write_text(c.text, Escape::kText);
        out.write(fmt::format("</{}>\n", tag));
      }
    } else if (c.outcome == Outcome::kSkipped) {
      out.write("      <skipped");
      if (!c.message.empty()) out.write_attr("message", c.message);
      if (!c.type.empty()) out.write_attr("type", c.type);
      out.write("/>\n");
    }
    if (!c.system_out.empty()) {
      out.write("      <system-out>");
      out.write_text(c.system_out, Escape::kText);
      out.write("</system-out>\n");
    }
    out.write("    </testcase>\n");
  }
  record(report, cases, c.classname, c.name, ms, c.outcome);
}

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
                        counts.tests, counts.failures, counts.errors, counts.skipped,
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
      write_element(out, property, false);
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

// What one pass over a suite's direct children finds.
struct SuiteScan {
  std::vector<xml_node> testcases, suite_level, properties, outputs;
  bool has_nested = false;
  bool any_errored = false;
  Counts counts;
};

SuiteScan scan_suite(xml_node suite) {
  SuiteScan scan;
  for (xml_node child : suite.children()) {
    if (named(child, "testcase")) {
      const Outcome outcome = case_outcome(child);
      scan.any_errored = scan.any_errored || outcome == Outcome::kErrored;
      scan.counts.add(outcome, parse_millis(child.attribute("time").value()));
      scan.testcases.push_back(child);
    } else if (named(child, "error") || named(child, "failure")) {
      scan.suite_level.push_back(child);
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

std::uint64_t parse_count(std::string_view text) {
  std::uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  return ec == std::errc() && end == text.data() + text.size() ? value : 0;
}

void write_suite(xml_node suite, const SuiteLabel& label, const std::string& timestamp,
                 ReportState& report, std::vector<CaseSummary>& cases) {
  const SuiteScan scan = scan_suite(suite);
  const bool is_testsuite = named(suite, "testsuite");
  if (scan.testcases.empty() && scan.suite_level.empty() && (scan.has_nested || !is_testsuite)) {
    return;  // a container whose suites are hoisted
  }

  Counts counts = scan.counts;
  Outcome suite_level_outcome = Outcome::kFailed;
  for (xml_node element : scan.suite_level)
    if (named(element, "error")) suite_level_outcome = Outcome::kErrored;
  if (!scan.suite_level.empty()) counts.add(suite_level_outcome, 0);
  // Rule 7: errors="N" with nothing to show for it (pytest collection errors
  // in some versions). Suites with nested suites are skipped: their count may
  // just be the sum of the children's.
  const std::uint64_t declared = parse_count(suite.attribute("errors").value());
  const bool add_declared = is_testsuite && declared > 0 && !scan.has_nested && !scan.any_errored &&
                            scan.suite_level.empty();
  if (add_declared) counts.add(Outcome::kErrored, 0);

  const std::string name = suite_name(suite.attribute("name").value(), label);
  OutputFile& out = report.body();
  write_suite_open(out, name, counts);
  if (!timestamp.empty()) out.write_attr("timestamp", timestamp);
  for (const char* key : {"hostname", "id", "package", "file"}) {
    if (pugi::xml_attribute attr = suite.attribute(key)) out.write_attr(key, attr.value());
  }
  out.write(">\n");
  write_properties(out, scan.properties, label);

  if (!scan.suite_level.empty()) {
    out.write("    <testcase");
    out.write_attr("classname", name);
    out.write_attr("name", kSuiteLevelCase);
    out.write(" time=\"0\">\n");
    for (xml_node element : scan.suite_level) {
      out.write("      ");
      write_element(out, element, true);
      out.write("\n");
    }
    out.write("    </testcase>\n");
    record(report, cases, name, kSuiteLevelCase, 0, suite_level_outcome);
  }
  if (add_declared) {
    SyntheticCase c;
    c.classname = name;
    c.name = kDeclaredErrorsCase;
    c.type = "shardrun.declared-errors";
    c.message =
        fmt::format("the input declared errors=\"{}\" but no testcase has an <error>", declared);
    write_synthetic_case(out, c, report, cases);
  }
  for (xml_node testcase : scan.testcases) write_testcase(testcase, report, cases);
  for (xml_node output : scan.outputs) {
    out.write("    ");
    write_element(out, output, false);
    out.write("\n");
  }
  out.write("  </testsuite>\n");
}

}  // namespace

void write_document(const pugi::xml_document& doc, const SuiteLabel& label, ReportState& report,
                    std::vector<CaseSummary>& cases) {
  const std::string started = label.started ? format_timestamp(*label.started) : "";
  // Each suite's timestamp, kept until the document is written for the
  // suites nested in it.
  std::unordered_map<const void*, std::string> timestamp_of;
  for_each_suite(doc, [&](xml_node suite) {
    // Rule 4: hoisted suites keep when their parent ran; a unit's suites
    // without any timestamp get the unit's start.
    std::string timestamp;
    if (auto own = normalise_timestamp(suite.attribute("timestamp").value())) {
      timestamp = std::move(*own);
    } else if (auto up = timestamp_of.find(suite.parent().internal_object());
               up != timestamp_of.end()) {
      timestamp = up->second;
    } else {
      timestamp = started;
    }
    write_suite(suite, label, timestamp, report, cases);
    timestamp_of.emplace(suite.internal_object(), std::move(timestamp));
  });
}

void write_synthetic_suite(const std::string& suite_name_given, const SuiteLabel& label,
                           const std::vector<SyntheticCase>& synthetic, ReportState& report,
                           std::vector<CaseSummary>& cases) {
  Counts counts;
  for (const SyntheticCase& c : synthetic) counts.add(c.outcome, to_millis(c.time));
  const std::string name = suite_name(suite_name_given, label);
  OutputFile& out = report.body();
  write_suite_open(out, name, counts);
  out.write_attr("timestamp",
                 format_timestamp(label.started.value_or(std::chrono::system_clock::now())));
  out.write(">\n");
  write_properties(out, {}, label);
  for (const SyntheticCase& c : synthetic) write_synthetic_case(out, c, report, cases);
  out.write("  </testsuite>\n");
}

}  // namespace shardrun::junit::detail
