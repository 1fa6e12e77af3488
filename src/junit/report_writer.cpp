// ReportWriter: streams suites into an anonymous body file, keeps only
// totals, names and hashes, and commits root + body atomically (rule 11).
#include <sys/stat.h>
#include <algorithm>

#include <fmt/format.h>

#include "normalise.hpp"
#include "reader.hpp"
#include "report_state.hpp"
#include "shardrun/error.hpp"
#include "shardrun/junit.hpp"
#include "shardrun/junit_text.hpp"

namespace shardrun::junit {
namespace detail {
namespace {

std::string file_name_or(const std::filesystem::path& path, const char* fallback) {
  std::string name = path.filename().string();
  return name.empty() ? fallback : name;
}

// FNV-1a, 64 bits, over the parts with a NUL between them ("a"+"bc" and
// "ab"+"c" differ): enough that a false duplicate is practically impossible.
std::uint64_t identity_hash(std::string_view suite, std::string_view classname,
                            std::string_view name) {
  std::uint64_t hash = 14695981039346656037ull;
  auto mix = [&](std::string_view text) {
    for (char c : text) {
      hash ^= static_cast<unsigned char>(c);
      hash *= 1099511628211ull;
    }
  };
  mix(suite);
  mix(std::string_view("\0", 1));
  mix(classname);
  mix(std::string_view("\0", 1));
  mix(name);
  return hash;
}

const char* more_of(WarningKind kind) {
  switch (kind) {
    case WarningKind::kDuplicate:
      return "duplicate testcases";
    case WarningKind::kUnnamed:
      return "testcases without a name";
    case WarningKind::kCounts:
      break;
  }
  return "suites whose counts do not match their testcases";
}

// Keep the mode of the report being replaced; new reports are world-readable
// like any file a test runner writes (mkstemp would leave 0600).
unsigned report_mode(const std::filesystem::path& output) {
  struct stat st {};
  if (::stat(output.c_str(), &st) == 0 && S_ISREG(st.st_mode)) return st.st_mode & 07777;
  return 0644;
}

}  // namespace

ReportState::ReportState(const std::filesystem::path& output)
    : body_(OutputFile::create_temp(output.parent_path(),
                                    "." + file_name_or(output, "report") + ".body.", true)) {}

std::string ReportState::claim_case_name(std::string_view suite, std::string_view classname,
                                         const std::string& name) {
  const std::uint64_t hash = identity_hash(suite, classname, name);
  if (!seen_before(hash)) return name;
  unsigned& next = next_copy_[hash];
  if (next < 2) next = 2;
  for (;; ++next) {
    std::string candidate = fmt::format("{} ({})", name, next);
    if (!seen_before(identity_hash(suite, classname, candidate))) {
      ++next;
      warn(
          WarningKind::kDuplicate,
          fmt::format(R"(duplicate testcase: suite "{}" classname "{}" name "{}", written as "{}")",
                      suite, classname, name, candidate));
      return candidate;
    }
  }
}

void ReportState::record_case(const CaseSummary& summary, std::uint64_t millis) {
  ++totals_.tests;
  if (summary.outcome == Outcome::kFailed) ++totals_.failures;
  if (summary.outcome == Outcome::kErrored) ++totals_.errors;
  if (summary.outcome == Outcome::kSkipped) ++totals_.skipped;
  total_millis_ += millis;
  totals_.time = static_cast<double>(total_millis_) / 1000.0;
}

void ReportState::note_failure(FailedCase failed) {
  if (!failed.file.empty() && failed.line > 0) ++located_;
  if (failed_.size() >= kKeptFailedCases) return;
  failed.entry = entry_;
  failed_.push_back(std::move(failed));
}

void ReportState::warn(WarningKind kind, std::string text) {
  KindCount& k = kinds_[static_cast<int>(kind)];
  if (++k.count <= kMaxWarningsPerKind) {
    warnings_.push_back(std::move(text));
    return;
  }
  std::string more =
      fmt::format("... and {} more {}", k.count - kMaxWarningsPerKind, more_of(kind));
  if (k.count == kMaxWarningsPerKind + 1) {
    k.summary_line = warnings_.size();
    warnings_.push_back(std::move(more));
  } else {
    warnings_[k.summary_line] = std::move(more);
  }
}

void ReportState::commit(const std::filesystem::path& output, const std::string& report_name) {
  // Beside the output, so the rename stays within one filesystem and is atomic.
  OutputFile tmp = OutputFile::create_temp(output.parent_path(),
                                           "." + file_name_or(output, "report") + ".tmp.", false);
  tmp.chmod(report_mode(output));
  tmp.write("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites");
  tmp.write_attr("name", report_name);
  tmp.write(fmt::format(R"( tests="{}" failures="{}" errors="{}" skipped="{}" time="{}">)",
                        totals_.tests, totals_.failures, totals_.errors, totals_.skipped,
                        format_millis(total_millis_)));
  tmp.write("\n");
  tmp.append_file(body_);
  tmp.write("</testsuites>\n");
  tmp.sync_and_close();
  tmp.rename_to(output);
  sync_directory(output.parent_path());
}

}  // namespace detail

struct ReportWriter::Impl {
  Impl(std::filesystem::path out, std::string name)
      : output(std::move(out)), report_name(std::move(name)), state(output) {}

  // An I/O error part-way through a suite leaves the body unusable: every
  // later call reports the first error instead of writing a broken report.
  template <typename Fn>
  void guarded(Fn fn) {
    if (!broken.empty()) throw Error(broken);
    try {
      fn();
    } catch (const Error& e) {
      broken = e.what();
      throw;
    }
  }

  std::filesystem::path output;
  std::string report_name;
  detail::ReportState state;
  std::string broken;
};

ReportWriter::ReportWriter(std::filesystem::path output, std::string report_name)
    : impl_(std::make_unique<Impl>(std::move(output), std::move(report_name))) {}

ReportWriter::~ReportWriter() = default;

AddResult ReportWriter::add_file(const std::filesystem::path& input, const SuiteLabel& label) {
  AddResult result;
  // Both live only for this call: memory is bounded by the largest input.
  std::string buffer;
  pugi::xml_document doc;
  result.error = detail::parse_file(input, buffer, doc);
  if (!result.error.empty()) return result;
  impl_->guarded([&] { detail::write_document(doc, label, impl_->state, result.cases); });
  result.ok = true;
  return result;
}

AddResult ReportWriter::add_buffer(std::string_view xml, const SuiteLabel& label) {
  AddResult result;
  std::string buffer;
  pugi::xml_document doc;
  result.error = detail::parse_buffer(xml, buffer, doc);
  if (!result.error.empty()) return result;
  impl_->guarded([&] { detail::write_document(doc, label, impl_->state, result.cases); });
  result.ok = true;
  return result;
}

void ReportWriter::add_synthetic_suite(const std::string& suite_name, const SuiteLabel& label,
                                       const std::vector<SyntheticCase>& cases) {
  // Through a DOM, so that synthetic testcases get exactly the rules every
  // input gets (names, one result element, bodies).
  pugi::xml_document doc;
  detail::append_synthetic_suite(doc, suite_name, cases);
  SuiteLabel dated = label;
  if (!dated.started) dated.started = std::chrono::system_clock::now();
  std::vector<CaseSummary> written;
  impl_->guarded([&] { detail::write_document(doc, dated, impl_->state, written); });
}

const Totals& ReportWriter::totals() const {
  return impl_->state.totals();
}

const std::vector<FailedCase>& ReportWriter::failed_cases() const {
  return impl_->state.failed_cases();
}

std::uint64_t ReportWriter::located_failures() const {
  return impl_->state.located_failures();
}

const std::vector<std::string>& ReportWriter::warnings() const {
  return impl_->state.warnings();
}

void ReportWriter::commit() {
  // Losing buffered body data is fatal for this writer; failing to write the
  // report file is not (the body is intact), so commit() may be retried.
  impl_->guarded([&] { impl_->state.body().flush(); });
  impl_->state.commit(impl_->output, impl_->report_name);
}

Totals merge_files(const std::vector<std::filesystem::path>& inputs,
                   const std::filesystem::path& output, std::vector<std::string>* warnings) {
  ReportWriter writer(output);
  std::vector<std::string> unreadable;
  for (const std::filesystem::path& input : inputs) {
    SuiteLabel label;
    label.properties.emplace_back("shardrun.source", input.filename().string());
    const AddResult added = writer.add_file(input, label);
    if (added.ok) continue;
    SyntheticCase c;
    c.classname = "shardrun.merge";
    c.name = input.string();
    c.outcome = Outcome::kErrored;
    c.message = added.error;
    c.type = "shardrun.merge";
    c.text = fmt::format("{}: cannot merge: {}", input.string(), added.error);
    writer.add_synthetic_suite("shardrun.merge", label, {c});
    unreadable.push_back(c.text);
  }
  writer.commit();
  if (warnings != nullptr) {
    warnings->insert(warnings->end(), unreadable.begin(), unreadable.end());
    warnings->insert(warnings->end(), writer.warnings().begin(), writer.warnings().end());
  }
  return writer.totals();
}

}  // namespace shardrun::junit
