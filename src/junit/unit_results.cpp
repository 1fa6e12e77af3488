// UnitResults: one unit's JUnit as an editable DOM, for retries (DESIGN §8
// rule 9). The edited document is serialised and handed to
// ReportWriter::add_buffer, so it goes through exactly the normalising and
// sanitising every other input gets; the cost (a second parse) is paid only
// by entries with retries.
#include "shardrun/junit_attempts.hpp"

#include <cstring>
#include <unordered_set>
#include <utility>

#include <fmt/format.h>
#include <pugixml.hpp>

#include "element_writer.hpp"
#include "normalise.hpp"
#include "reader.hpp"
#include "shardrun/junit_text.hpp"

namespace shardrun::junit {

namespace {

using pugi::xml_node;

using detail::case_outcome;
using detail::is_suite;
using detail::named;
using detail::text_of;

std::string joined_text(xml_node testcase, const char* element) {
  std::string text;
  for (xml_node child : testcase.children(element)) text += text_of(child);
  return text;
}

// A suite that a drop() left with nothing to say.
bool nothing_left(xml_node suite) {
  for (xml_node child : suite.children())
    if (named(child, "testcase") || named(child, "error") || named(child, "failure") ||
        is_suite(child))
      return false;
  return true;
}

class StringWriter final : public pugi::xml_writer {
 public:
  explicit StringWriter(std::string& out) : out_(out) {}
  void write(const void* data, std::size_t size) override {
    out_.append(static_cast<const char*>(data), size);
  }

 private:
  std::string& out_;
};

void add_text_child(xml_node parent, const char* name, const std::string& text) {
  if (text.empty()) return;
  parent.append_child(name).append_child(pugi::node_pcdata).set_value(text.c_str());
}

}  // namespace

std::string tail_text(std::string_view text, TextLimit limit) {
  if (limit.lines == 0 || limit.bytes == 0) return {};
  std::string_view body = text;
  if (!body.empty() && body.back() == '\n') body.remove_suffix(1);
  std::size_t from = body.size() > limit.bytes ? body.size() - limit.bytes : 0;
  // Do not start inside a UTF-8 sequence: skip its continuation bytes.
  while (from > 0 && from < body.size() && (static_cast<unsigned char>(body[from]) & 0xC0) == 0x80)
    ++from;
  std::size_t count = 0;
  for (std::size_t pos = body.size(); pos > from;) {
    std::size_t newline = body.rfind('\n', pos - 1);
    if (newline == std::string_view::npos || newline < from) break;
    if (++count == limit.lines) {
      from = newline + 1;
      break;
    }
    pos = newline;
  }
  return std::string(text.substr(from));
}

SyntheticCase case_of(const Attempt& attempt) {
  SyntheticCase c;
  c.classname = attempt.classname;
  c.name = attempt.name;
  c.outcome = attempt.outcome;
  c.time = attempt.time;
  c.message = attempt.message;
  c.type = attempt.type;
  c.text = attempt.text;
  c.system_out = attempt.system_out;
  return c;
}

struct UnitResults::Impl {
  std::string buffer;  // the bytes an in-place parsed DOM points into
  pugi::xml_document doc;
  std::string error;
  std::vector<xml_node> nodes;  // the <testcase> elements, in cases order
  std::vector<CaseSummary> cases;
  std::vector<bool> dropped;
  bool added = false;

  void collect() {
    // The same walk as write_document, so cases line up with what it writes.
    detail::for_each_suite(doc, [&](xml_node suite) {
      for (xml_node child : suite.children("testcase")) {
        nodes.push_back(child);
        std::uint64_t ms = detail::parse_millis(child.attribute("time").value());
        cases.push_back(CaseSummary{sanitize_text(child.attribute("classname").value()),
                                    sanitize_text(child.attribute("name").value()),
                                    static_cast<double>(ms) / 1000.0, case_outcome(child)});
      }
    });
    dropped.assign(nodes.size(), false);
  }
};

UnitResults::UnitResults() : impl_(std::make_unique<Impl>()) {}
UnitResults::UnitResults(UnitResults&&) noexcept = default;
UnitResults& UnitResults::operator=(UnitResults&&) noexcept = default;
UnitResults::~UnitResults() = default;

UnitResults UnitResults::read_file(const std::filesystem::path& path) {
  UnitResults r;
  r.impl_->error = detail::parse_file(path, r.impl_->buffer, r.impl_->doc);
  if (r.impl_->error.empty()) r.impl_->collect();
  return r;
}

UnitResults UnitResults::read_buffer(std::string_view xml) {
  UnitResults r;
  r.impl_->error = detail::parse_buffer(xml, r.impl_->buffer, r.impl_->doc);
  if (r.impl_->error.empty()) r.impl_->collect();
  return r;
}

UnitResults UnitResults::synthetic(const std::string& suite_name,
                                   const std::vector<SyntheticCase>& cases) {
  UnitResults r;
  // No timestamp: the label's start (the unit's) is written.
  detail::append_synthetic_suite(r.impl_->doc, suite_name, cases);
  r.impl_->collect();
  return r;
}

bool UnitResults::ok() const {
  return impl_->error.empty();
}

const std::string& UnitResults::error() const {
  return impl_->error;
}

const std::vector<CaseSummary>& UnitResults::cases() const {
  return impl_->cases;
}

Attempt UnitResults::attempt(std::size_t i, TextLimit limit) const {
  const xml_node tc = impl_->nodes.at(i);
  const CaseSummary& summary = impl_->cases.at(i);
  Attempt a;
  a.outcome = summary.outcome == Outcome::kErrored ? Outcome::kErrored : Outcome::kFailed;
  a.classname = summary.classname;
  a.name = summary.name;
  a.time = summary.time;
  xml_node failure = tc.child("error");
  if (!failure) failure = tc.child("failure");
  if (failure) {
    a.message = tail_text(failure.attribute("message").value(), limit);
    a.type = failure.attribute("type").value();
    a.text = tail_text(text_of(failure), limit);
  }
  a.system_out = tail_text(joined_text(tc, "system-out"), limit);
  a.system_err = tail_text(joined_text(tc, "system-err"), limit);
  return a;
}

void UnitResults::drop(std::size_t i) {
  impl_->dropped.at(i) = true;
}

void UnitResults::add_earlier(std::size_t i, const std::vector<Attempt>& earlier) {
  if (impl_->dropped.at(i) || earlier.empty()) return;
  xml_node tc = impl_->nodes.at(i);
  const Outcome now = impl_->cases.at(i).outcome;
  const bool failed_again = now == Outcome::kFailed || now == Outcome::kErrored;
  // Surefire's order: the attempts before the testcase's own output.
  xml_node before;
  for (xml_node child : tc.children())
    if (named(child, "system-out") || named(child, "system-err")) {
      before = child;
      break;
    }
  for (const Attempt& a : earlier) {
    const bool errored = a.outcome == Outcome::kErrored;
    std::string element =
        fmt::format("{}{}", failed_again ? "rerun" : "flaky", errored ? "Error" : "Failure");
    xml_node el =
        before ? tc.insert_child_before(element.c_str(), before) : tc.append_child(element.c_str());
    std::string message =
        detail::first_line(a.message).empty() ? detail::first_line(a.text) : a.message;
    if (message.empty()) message = errored ? "error" : "failed";
    el.append_attribute("message").set_value(message.c_str());
    // Surefire's schema requires a type.
    std::string type = a.type.empty() ? (errored ? "error" : "failure") : a.type;
    el.append_attribute("type").set_value(type.c_str());
    add_text_child(el, "stackTrace", a.text);
    add_text_child(el, "system-out", a.system_out);
    add_text_child(el, "system-err", a.system_err);
  }
}

AddResult UnitResults::add_to(ReportWriter& report, const SuiteLabel& label) {
  AddResult result;
  if (impl_->added) {
    result.error = "already added";
    return result;
  }
  impl_->added = true;
  if (!ok()) {
    result.error = impl_->error;
    return result;
  }
  // The counts a suite, and every suite around it, declares no longer hold
  // once a case left it; the report recounts anyway, but would warn that
  // they do not match (rule 2).
  std::unordered_set<const void*> uncounted;
  for (std::size_t i = 0; i < impl_->nodes.size(); ++i) {
    if (!impl_->dropped[i]) continue;
    for (xml_node suite = impl_->nodes[i].parent(); is_suite(suite); suite = suite.parent()) {
      if (!uncounted.insert(suite.internal_object()).second) break;  // and its ancestors
      for (const char* count : {"tests", "failures", "errors", "skipped"})
        suite.remove_attribute(count);
    }
  }
  // Dropped cases go now, so that attempt() and add_earlier() could use every
  // node until here; suites they leave empty go with them.
  for (std::size_t i = 0; i < impl_->nodes.size(); ++i) {
    if (!impl_->dropped[i]) continue;
    xml_node parent = impl_->nodes[i].parent();
    parent.remove_child(impl_->nodes[i]);
    while (named(parent, "testsuite") && nothing_left(parent)) {
      xml_node up = parent.parent();
      up.remove_child(parent);
      parent = up;
    }
  }
  bool any_suite = false;
  for (xml_node child : impl_->doc.children()) any_suite = any_suite || is_suite(child);
  if (!any_suite) {
    result.ok = true;
    return result;
  }
  std::string xml;
  StringWriter writer(xml);
  // Raw: no indentation is added anywhere, so system-out stays as it was.
  impl_->doc.save(writer, "", pugi::format_raw | pugi::format_no_declaration, pugi::encoding_utf8);
  impl_->doc.reset();
  impl_->buffer.clear();
  impl_->buffer.shrink_to_fit();
  return report.add_buffer(xml, label);
}

}  // namespace shardrun::junit
