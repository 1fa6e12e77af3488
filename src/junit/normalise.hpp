#pragma once
// Turning a parsed JUnit DOM into flat, recounted, sanitised <testsuite>
// elements streamed into the report body (DESIGN §8 rules 1-8), and
// synthetic testcases into a DOM that goes the same way.

#include <string>
#include <vector>

#include <pugixml.hpp>

#include "element_writer.hpp"
#include "report_state.hpp"
#include "shardrun/junit.hpp"

namespace shardrun::junit::detail {

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
/// label's start. Declared counts that match neither the suite's own
/// testcases nor its subtree's are warned about, never written (rule 2).
void write_document(const pugi::xml_document& doc, const SuiteLabel& label, ReportState& report,
                    std::vector<CaseSummary>& cases);

/// Appends to `parent` a <testsuite name="suite_name"> with one <testcase>
/// per synthetic case, with the result element and system-out it describes.
/// Texts are sanitised on the way in: a DOM cannot hold a NUL byte.
void append_synthetic_suite(pugi::xml_node parent, const std::string& suite_name,
                            const std::vector<SyntheticCase>& cases);

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

}  // namespace shardrun::junit::detail
