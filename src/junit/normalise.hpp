#pragma once
// Turning a parsed JUnit DOM (or synthetic cases) into flat, recounted,
// sanitised <testsuite> elements streamed into the report body
// (DESIGN §8 rules 1-7).

#include <string>
#include <vector>

#include <pugixml.hpp>

#include "report_state.hpp"
#include "shardrun/junit.hpp"

namespace shardrun::junit::detail {

/// Name of the testcase that holds a suite's suite-level <error>/<failure> elements.
inline constexpr const char* kSuiteLevelCase = "<suite-level error>";
/// Name of the testcase added when a suite declares errors="N" but shows none.
inline constexpr const char* kDeclaredErrorsCase = "<declared errors>";

/// Writes every <testsuite> of `doc` (top-level <testsuite>/<testsuites>
/// elements, nested suites hoisted, walked with an explicit stack) into
/// `report`, and appends the testcases written to `cases` in document order.
///
/// Hoisting: each <testsuite> keeps only its direct testcases; a suite left
/// without testcases is dropped if it had nested suites, and kept (empty)
/// otherwise. A <testsuites> element with direct testcases is written as a
/// suite too. Every suite keeps its own name, labelled (SuiteLabel::entry);
/// names are not made unique, since a name is part of a test's identity.
/// A suite without a timestamp takes its nearest ancestor's, else the
/// label's start.
void write_document(const pugi::xml_document& doc, const SuiteLabel& label, ReportState& report,
                    std::vector<CaseSummary>& cases);

/// An element named `name`.
bool named(pugi::xml_node node, const char* name);
/// A <testsuite> or <testsuites> element.
bool is_suite(pugi::xml_node node);
/// Rules 2 and 3: error > failure > skipped > passed, each testcase once;
/// flakyFailure, rerunFailure ... do not count.
Outcome case_outcome(pugi::xml_node testcase);

/// Calls visit(suite) for every <testsuite>/<testsuites> element under
/// `root`, nested ones included, in document order (pre-order), walked with
/// an explicit stack so that deep nesting cannot overflow ours.
template <class Visit>
void for_each_suite(pugi::xml_node root, Visit visit) {
  std::vector<pugi::xml_node> stack;
  auto push_suites = [&](pugi::xml_node parent) {
    // Children are pushed last-to-first, so they come off in document order.
    for (pugi::xml_node child = parent.last_child(); child; child = child.previous_sibling())
      if (is_suite(child)) stack.push_back(child);
  };
  push_suites(root);
  while (!stack.empty()) {
    const pugi::xml_node suite = stack.back();
    stack.pop_back();
    visit(suite);
    push_suites(suite);
  }
}

/// Writes one suite of synthetic testcases, dated by the label's start, else now.
void write_synthetic_suite(const std::string& suite_name, const SuiteLabel& label,
                           const std::vector<SyntheticCase>& synthetic, ReportState& report,
                           std::vector<CaseSummary>& cases);

}  // namespace shardrun::junit::detail
