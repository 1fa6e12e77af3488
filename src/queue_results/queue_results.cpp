// A unit's result as the shared queue stores it (queue_results.hpp).
#include <fmt/format.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <map>

#include "shardrun/file_text.hpp"
#include "shardrun/queue_results.hpp"

namespace shardrun {

namespace fs = std::filesystem;

namespace {

std::string log_tail(const std::string& log, junit::TextLimit limit) {
  return junit::tail_text(read_file_or_empty(log), limit);
}

// The testcases of the unit's own JUnit file, texts cut to `limit`.
std::vector<junit::SyntheticCase> cases_of_file(const fs::path& path, junit::TextLimit limit) {
  std::vector<junit::SyntheticCase> cases;
  std::error_code ec;
  if (!fs::exists(path, ec)) return cases;
  junit::UnitResults results = junit::UnitResults::read_file(path);
  if (!results.ok()) return cases;
  for (std::size_t i = 0; i < results.cases().size(); ++i) {
    const junit::CaseSummary& summary = results.cases()[i];
    junit::SyntheticCase c;
    c.classname = summary.classname;
    c.name = summary.name;
    c.outcome = summary.outcome;
    c.time = summary.time;
    if (summary.outcome == junit::Outcome::kFailed || summary.outcome == junit::Outcome::kErrored) {
      junit::Attempt attempt = results.attempt(i, limit);
      c.message = attempt.message;
      c.type = attempt.type;
      c.text = attempt.text;
      c.system_out = attempt.system_out;
    } else if (summary.outcome == junit::Outcome::kSkipped) {
      c.message = "skipped";
    }
    cases.push_back(std::move(c));
  }
  return cases;
}

}  // namespace

std::string render_fragment(const std::string& suite_name, const std::string& entry,
                            const std::vector<junit::SyntheticCase>& cases) {
  static std::atomic<unsigned> counter{0};
  fs::path path =
      fs::temp_directory_path() / fmt::format("shardrun-fragment-{}-{}.xml", ::getpid(), counter++);
  {
    junit::ReportWriter writer(path, suite_name);
    junit::SuiteLabel label;
    label.entry = entry;
    writer.add_synthetic_suite(suite_name, label, cases);
    writer.commit();
  }
  std::string xml = read_file_or_empty(path);
  std::error_code ec;
  fs::remove(path, ec);
  return xml;
}

std::string refused_result(const std::string& suite_name, const QueueUnit& q,
                           const std::string& why, const std::string& node) {
  junit::SyntheticCase c;
  c.classname = "shardrun.queue";
  c.name = fmt::format("refused unit {}", q.id);
  c.message = "refused, not run: " + why;
  c.type = "shardrun.queue.refused";
  nlohmann::json meta = {{"id", q.id},         {"entry", q.entry},
                         {"tests", q.tests},   {"attempt", q.attempt},
                         {"node", node},       {"result", "refused"},
                         {"note", c.message},  {"predicted_seconds", q.predicted_seconds},
                         {"timings_ok", false}};
  nlohmann::json stored = {
      {"shardrun_result", 1}, {"unit", meta}, {"junit", render_fragment(suite_name, "", {c})}};
  return stored.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string unit_fragment(const Suite& suite, const fs::path& junit_path, const UnitRecord* rec,
                          const Unit& unit, junit::TextLimit limit) {
  const std::string& entry = suite.tests.at(unit.entry).name;
  std::vector<junit::SyntheticCase> cases = cases_of_file(junit_path, limit);
  bool any_failing = false;
  for (const junit::SyntheticCase& c : cases)
    any_failing |= c.outcome == junit::Outcome::kFailed || c.outcome == junit::Outcome::kErrored;
  const std::string result = rec ? rec->result : "error";
  // A split unit's tests without a result run again in halves, and a unit
  // whose runner found no test in its files has none: nothing to add.
  const bool found_no_tests = rec && rec->found_no_tests;
  bool synthesize = result != "split" && !found_no_tests &&
                    (cases.empty() || (result != "passed" && !any_failing));
  if (synthesize) {
    std::vector<std::pair<std::string, std::string>> names;
    for (const std::string& id : unit.tests)
      names.emplace_back(fmt::format("{}.{}", suite.name, entry), id);
    if (names.empty()) names.emplace_back(suite.name, entry);
    for (auto& [classname, name] : names) {
      junit::SyntheticCase c;
      c.classname = classname;
      c.name = name;
      c.outcome = result == "passed" ? junit::Outcome::kPassed : junit::Outcome::kErrored;
      if (c.outcome != junit::Outcome::kPassed) {
        c.message = rec && !rec->note.empty() ? rec->note : "unit " + result;
        c.type = "shardrun." + result;
        if (rec) c.text = log_tail(rec->log, limit);
      }
      cases.push_back(std::move(c));
    }
  }
  return render_fragment(suite.name, entry, cases);
}

std::string stored_result(const Suite& suite, const Unit& unit, const UnitRecord* rec,
                          const std::string& node, bool junit_cases, const std::string& fragment) {
  using namespace std::chrono;
  const double now = duration<double>(system_clock::now().time_since_epoch()).count();
  nlohmann::json meta = {{"id", unit.id},
                         {"label", unit.label},
                         {"suite", suite.name},
                         {"entry", suite.tests.at(unit.entry).name},
                         {"tests", unit.tests},
                         {"attempt", unit.attempt},
                         {"role", unit.origin ? unit.origin->role : "planned"},
                         {"node", node},
                         {"predicted_seconds", unit.predicted_seconds},
                         {"estimated", unit.estimated},
                         {"junit_cases", junit_cases}};
  if (rec) {
    // finished() comes right after the unit's end: its end is now.
    const double actual = std::max(0.0, rec->end - rec->start);
    const ExitStatus& st = rec->status;
    meta["shard"] = rec->shard;
    meta["start_epoch"] = now - actual;
    meta["end_epoch"] = now;
    meta["actual_seconds"] = actual;
    meta["result"] = rec->result;
    meta["note"] = rec->note;
    meta["found_no_tests"] = rec->found_no_tests;
    meta["exit_code"] = st.kind == ExitStatus::Kind::kExited ? st.code : -1;
    meta["timings_ok"] = st.kind == ExitStatus::Kind::kExited && !st.timed_out && !st.interrupted;
  } else {
    meta["result"] = "error";
    meta["timings_ok"] = false;
  }
  nlohmann::json stored = {{"shardrun_result", 1}, {"unit", std::move(meta)}, {"junit", fragment}};
  return stored.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

StoredResult read_stored_result(const std::string& text) {
  StoredResult r;
  if (text.empty() || text.front() != '{') {
    r.junit = text;
    return r;
  }
  auto json = nlohmann::json::parse(text, nullptr, false);
  if (json.is_discarded() || !json.is_object() || !json.contains("junit") ||
      !json["junit"].is_string() || !json.contains("unit") || !json["unit"].is_object()) {
    r.junit = text;  // not ours: the JUnit reader says it is unreadable
    return r;
  }
  r.junit = json["junit"].get<std::string>();
  r.meta = std::move(json["unit"]);
  return r;
}

std::vector<EntryWithoutTests> entries_without_tests(const RedisQueue::Snapshot& snap,
                                                     const std::vector<std::size_t>& unsettled) {
  struct Seen {
    std::string suite;
    std::size_t units = 0;
    bool found_tests = false;
  };
  std::map<std::string, Seen> by_entry;
  for (const auto& [id, text] : snap.results) {
    const nlohmann::json meta = read_stored_result(text).meta;
    if (!meta.is_object() || !meta.contains("entry") || !meta["entry"].is_string()) continue;
    Seen& seen = by_entry[meta["entry"].get<std::string>()];
    if (meta.contains("suite") && meta["suite"].is_string())
      seen.suite = meta["suite"].get<std::string>();
    seen.units += 1;
    const auto found_none = meta.find("found_no_tests");
    if (found_none == meta.end() || !found_none->is_boolean() || !found_none->get<bool>())
      seen.found_tests = true;
  }
  for (std::size_t id : unsettled)
    for (const QueueUnit& unit : snap.units)
      if (unit.id == id) by_entry[unit.entry].found_tests = true;
  std::vector<EntryWithoutTests> without;
  for (const auto& [entry, seen] : by_entry)
    if (!seen.found_tests) without.push_back({seen.suite, entry, seen.units});
  return without;
}

}  // namespace shardrun
