#pragma once
// Writing elements of an input DOM into the report body. Generic copying:
// which element and attribute names may be copied, subtrees copied without
// recursion, the text directly inside an element. And one testcase as the
// report writes it (DESIGN §8 rules 2, 3, 7, 10): it has a name (given one
// when it has none, suffixed when its identity repeats) and at most one
// result element, the <error>, <failure> or <skipped> that decides its
// outcome; the other result elements' text is appended to that one's body,
// which starts with its message.

#include <cstddef>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include <pugixml.hpp>

#include "report_state.hpp"
#include "shardrun/junit.hpp"
#include "shardrun/junit_output_file.hpp"

namespace shardrun::junit::detail {

/// An element named `name`.
bool named(pugi::xml_node node, const char* name);
/// A <testsuite> or <testsuites> element.
bool is_suite(pugi::xml_node node);

/// An element or attribute name every consumer accepts: an ASCII XML Name
/// ([A-Za-z_][A-Za-z0-9._-]*), or "xml:" plus one (xml:lang). Names with a
/// namespace prefix are not: the prefix was declared on an input root that
/// the report does not copy.
bool name_ok(std::string_view name);

/// Attribute names already written on one element. pugixml accepts
/// duplicate attributes; XML does not, so only the first is copied.
class SeenNames {
 public:
  /// False if `name` was inserted before.
  bool insert(std::string_view name);

 private:
  std::vector<std::string_view> small_;
  std::unordered_set<std::string_view> set_;
};

/// Writes the attributes of `node` whose names are ok and not yet in `seen`.
void write_attributes(OutputFile& out, pugi::xml_node node, SeenNames& seen);

/// Copies the subtree at `top` (skipped unless its name is ok) without
/// adding whitespace anywhere inside it, so system-out stays byte-identical.
/// Walks with parent links: input trees can be arbitrarily deep.
void write_element(OutputFile& out, pugi::xml_node top);

/// Copies one child node: an element as write_element does, text and CDATA
/// as they are; anything else (comments, processing instructions) is left out.
void write_child(OutputFile& out, pugi::xml_node child);

/// All text and CDATA directly inside `node` (child_value() gives only the
/// first piece).
std::string text_of(pugi::xml_node node);

/// The start of that text: leading whitespace skipped, then at most
/// `max_bytes` bytes. Enough to derive a message or compare with one,
/// without copying a megabyte-long trace.
std::string leading_text(pugi::xml_node node, std::size_t max_bytes);

/// Name of the testcase that holds a suite's suite-level <error>/<failure> elements.
inline constexpr const char* kSuiteLevelCase = "<suite-level error>";

/// Rules 2 and 3: error > failure > skipped > passed, each testcase once;
/// flakyFailure, rerunFailure ... do not count.
Outcome case_outcome(pugi::xml_node testcase);

/// Writes `testcase`, the `position`-th (from 1) of the suite written as
/// `suite_name`, and appends it to `cases` as written.
void write_testcase(pugi::xml_node testcase, std::size_t position, const std::string& suite_name,
                    ReportState& report, std::vector<CaseSummary>& cases);

/// Writes the testcase that stands for the <error>/<failure> children of
/// `suite` itself (rule 8), classname = `suite_name`.
void write_suite_level_case(pugi::xml_node suite, const std::string& suite_name,
                            ReportState& report, std::vector<CaseSummary>& cases);

}  // namespace shardrun::junit::detail
