// RunListener's retries and crash isolation, driven by hand-made
// completions and JUnit files (no process runs): what is held back, what is
// requeued, and the one testcase per test that ends up in the report.
#include <catch2/catch.hpp>

#include <cstdio>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include <pugixml.hpp>

#include "../temp_dir.hpp"
#include "shardrun/job_builder.hpp"
#include "shardrun/run_listener.hpp"

using namespace shardrun;
namespace fs = std::filesystem;
using shardrun::testing::TempDir;

namespace {

CommandSpec shell(std::string script) {
  CommandSpec c;
  c.script = std::move(script);
  return c;
}

/// Entry 0 "api": discovered ids, JUnit. Entry 1 "script": neither.
Suite make_suite(const fs::path& dir) {
  Suite s;
  s.file = dir / "suite.yaml";
  s.dir = dir;
  s.name = "demo";
  Entry api;
  api.name = "api";
  api.command = shell("pytest {tests} --junitxml={junit}");
  api.discover = shell("pytest --collect-only -q");
  api.cwd = dir;
  Entry script;
  script.name = "script";
  script.command = shell("./check.sh");
  script.cwd = dir;
  s.tests = {api, script};
  return s;
}

ExitStatus exited(int code) {
  ExitStatus s;
  s.code = code;
  return s;
}

ExitStatus signaled(int signal) {
  ExitStatus s;
  s.kind = ExitStatus::Kind::kSignaled;
  s.signal = signal;
  return s;
}

/// <testcase> lines for pytest ids "test_m.py::NAME": NAME:p passes, NAME:f fails.
std::string junit_xml(const std::vector<std::string>& results) {
  std::string xml = "<testsuite name=\"pytest\">";
  for (const std::string& r : results) {
    std::string name = r.substr(0, r.size() - 2);
    xml += "<testcase classname=\"test_m\" name=\"" + name + "\" time=\"0.5\">";
    if (r.back() == 'f')
      xml += "<failure message=\"" + name + " broke\">trace of " + name + "</failure>";
    xml += "</testcase>";
  }
  return xml + "</testsuite>";
}

struct Harness {
  TempDir dir;
  Suite suite;
  std::unique_ptr<JobBuilder> jobs;
  std::unique_ptr<junit::ReportWriter> report;
  std::FILE* out = nullptr;
  std::unique_ptr<StatusPrinter> status;
  std::unique_ptr<RunListener> listener;
  TimePoint start = Clock::now();
  pugi::xml_document doc;
  std::string bytes;

  explicit Harness(std::vector<int> retries, std::size_t planned_units = 1) {
    suite = make_suite(dir.path());
    RunContext context;
    context.run_id = "run-1";
    context.run_dir = dir / "run";
    fs::create_directories(context.run_dir / "junit");
    jobs = std::make_unique<JobBuilder>(suite, context);
    report = std::make_unique<junit::ReportWriter>(dir / "report.xml", "demo");
    out = std::fopen("/dev/null", "w");
    StatusPrinter::Options options;
    options.out = out;
    options.tail_lines = 0;
    status = std::make_unique<StatusPrinter>(options);
    listener = std::make_unique<RunListener>(*jobs, *report, *status, start);
    std::deque<Unit> planned;
    for (std::size_t i = 0; i < planned_units; ++i) planned.push_back(unit(i, 0, {}));
    next_id = planned_units;
    listener->set_plan(planned, 2);
    listener->set_retries(std::move(retries));
  }
  ~Harness() { std::fclose(out); }

  static Unit unit(std::size_t id, std::size_t entry, std::vector<std::string> tests,
                   std::string label = "api#1") {
    Unit u;
    u.id = id;
    u.entry = entry;
    u.tests = std::move(tests);
    u.label = std::move(label);
    return u;
  }

  /// Ends `u` with `status`, after writing `xml` as its JUnit file (unless
  /// empty). The units it requeues are numbered as the run's UnitSource
  /// (LocalQueue) numbers them: after every id so far.
  UnitVerdict end(const Unit& u, ExitStatus st, const std::string& xml = "") {
    if (!xml.empty()) std::ofstream(jobs->unit_junit(u)) << xml;
    Completion done;
    done.status = st;
    done.started = start;
    done.ended = start + std::chrono::seconds(1);
    UnitVerdict verdict = listener->on_unit_end(0, u, done);
    for (Unit& requeued : verdict.requeue)
      if (requeued.id == Unit::kNoId) requeued.id = next_id++;
    return verdict;
  }
  std::size_t next_id = 0;

  /// finish(), commit, and parse the report.
  pugi::xml_node committed() {
    listener->finish();
    report->commit();
    std::ifstream in(dir / "report.xml");
    bytes.assign(std::istreambuf_iterator<char>(in), {});
    REQUIRE(doc.load_string(bytes.c_str()));
    return doc.document_element();
  }
};

/// The one testcase named `name` (fails if there are none or several).
pugi::xml_node only_case(pugi::xml_node root, const std::string& name) {
  pugi::xml_node found;
  int count = 0;
  for (pugi::xpath_node n : root.select_nodes("//testcase"))
    if (name == n.node().attribute("name").value()) {
      found = n.node();
      ++count;
    }
  INFO(name);
  REQUIRE(count == 1);
  return found;
}

std::vector<std::string> children(pugi::xml_node node) {
  std::vector<std::string> names;
  for (pugi::xml_node c : node.children())
    if (c.type() == pugi::node_element) names.push_back(c.name());
  return names;
}

const std::vector<std::string> kIds = {"test_m.py::a", "test_m.py::b", "test_m.py::c"};

}  // namespace

TEST_CASE("retries: only failed ids run again; flaky and never-passing tests are one testcase") {
  Harness h({2});
  Unit first = Harness::unit(0, 0, kIds);
  UnitVerdict v = h.end(first, exited(1), junit_xml({"a:p", "b:f", "c:f"}));
  REQUIRE(v.requeue.size() == 1);
  const Unit retry1 = v.requeue.front();
  CHECK(retry1.tests == std::vector<std::string>{"test_m.py::b", "test_m.py::c"});
  CHECK(retry1.attempt == 1);
  CHECK(retry1.label == "api#1.retry1");
  CHECK(retry1.id == 1);  // after the planned units
  REQUIRE(retry1.origin);
  CHECK(retry1.origin->role == "retry");  // carried in the unit
  CHECK(v.failed_tests == 0);             // held failures do not count against --max-failures yet
  CHECK(h.report->totals().tests == 1);   // only a was written

  v = h.end(retry1, exited(1), junit_xml({"b:p", "c:f"}));
  REQUIRE(v.requeue.size() == 1);
  CHECK(v.requeue.front().tests == std::vector<std::string>{"test_m.py::c"});
  CHECK(v.requeue.front().attempt == 2);
  CHECK(v.failed_tests == 0);

  v = h.end(v.requeue.front(), exited(1), junit_xml({"c:f"}));
  CHECK(v.requeue.empty());  // retries: 2 used up
  CHECK(v.failed_tests == 1);

  pugi::xml_node root = h.committed();
  CHECK(root.attribute("tests").as_int() == 3);
  CHECK(root.attribute("failures").as_int() == 1);
  CHECK(children(only_case(root, "a")).empty());
  pugi::xml_node b = only_case(root, "b");
  CHECK(children(b) == std::vector<std::string>{"flakyFailure"});
  CHECK(std::string(b.child("flakyFailure").attribute("message").value()) == "b broke");
  CHECK(children(only_case(root, "c")) ==
        std::vector<std::string>{"failure", "rerunFailure", "rerunFailure"});

  REQUIRE(h.listener->flaky().size() == 1);
  CHECK(h.listener->flaky()[0].entry == "api");
  CHECK(h.listener->flaky()[0].test == "test_m.py::b");
  CHECK(h.listener->flaky()[0].failed_attempts == 1);
  const auto& units = h.listener->units();
  REQUIRE(units.size() == 3);
  CHECK(units[0].role == "planned");
  CHECK(units[0].retried == 2);
  CHECK(units[1].role == "retry");
  CHECK(units[2].attempt == 2);
}

TEST_CASE("retries: without retries a failure is written at once, nothing requeued") {
  Harness h({0});
  UnitVerdict v = h.end(Harness::unit(0, 0, kIds), exited(1), junit_xml({"a:p", "b:f", "c:p"}));
  CHECK(v.requeue.empty());
  CHECK(v.failed_tests == 1);
  pugi::xml_node root = h.committed();
  CHECK(root.attribute("failures").as_int() == 1);
  CHECK(children(only_case(root, "b")) == std::vector<std::string>{"failure"});
}

TEST_CASE("retries: a retry that never runs leaves the test failed, not skipped") {
  Harness h({1});
  UnitVerdict v = h.end(Harness::unit(0, 0, kIds), exited(1), junit_xml({"a:p", "b:f", "c:p"}));
  REQUIRE(v.requeue.size() == 1);
  h.listener->on_unit_not_run(v.requeue.front(), "interrupted before it started");
  pugi::xml_node root = h.committed();
  CHECK(root.attribute("tests").as_int() == 3);
  CHECK(root.attribute("failures").as_int() == 1);
  CHECK(root.attribute("skipped").as_int() == 0);
  pugi::xml_node b = only_case(root, "b");
  CHECK(children(b) == std::vector<std::string>{"failure"});
  CHECK(std::string(b.child("failure").attribute("message").value()) == "b broke");
  CHECK(h.listener->units().back().result == "not-run");
}

TEST_CASE("retries: an entry without ids runs again whole; its passing run is flaky") {
  Harness h({0, 1});
  Unit script = Harness::unit(0, 1, {}, "script");
  UnitVerdict v = h.end(script, exited(3));
  REQUIRE(v.requeue.size() == 1);
  CHECK(v.requeue.front().tests.empty());
  CHECK(v.requeue.front().attempt == 1);
  CHECK(h.report->totals().tests == 0);
  v = h.end(v.requeue.front(), exited(0));
  CHECK(v.requeue.empty());
  pugi::xml_node root = h.committed();
  CHECK(root.attribute("tests").as_int() == 1);
  CHECK(root.attribute("failures").as_int() == 0);
  pugi::xml_node tc = only_case(root, "script");
  CHECK(children(tc) == std::vector<std::string>{"flakyFailure"});
  CHECK(std::string(tc.child("flakyFailure").attribute("message").value()) == "exit status 3");
  REQUIRE(h.listener->flaky().size() == 1);
  CHECK(h.listener->flaky()[0].test == "demo.script");
}

TEST_CASE("crash isolation: halves until the one crashing test; the others keep their results") {
  Harness h({0});
  const std::vector<std::string> four = {"test_m.py::a", "test_m.py::b", "test_m.py::c",
                                         "test_m.py::d"};
  UnitVerdict v = h.end(Harness::unit(0, 0, four), signaled(11));  // no JUnit at all
  REQUIRE(v.requeue.size() == 2);
  CHECK(v.requeue[0].tests == std::vector<std::string>{"test_m.py::a", "test_m.py::b"});
  CHECK(v.requeue[1].tests == std::vector<std::string>{"test_m.py::c", "test_m.py::d"});
  CHECK(v.requeue[0].attempt == 0);  // not a retry
  CHECK(v.requeue[0].label == "api#1.a");
  CHECK(v.failed_tests == 0);
  CHECK(h.report->totals().tests == 0);  // nothing is blamed yet

  CHECK(h.end(v.requeue[0], exited(0), junit_xml({"a:p", "b:p"})).requeue.empty());
  UnitVerdict second = h.end(v.requeue[1], signaled(11));
  REQUIRE(second.requeue.size() == 2);
  CHECK(second.requeue[0].label == "api#1.b.a");
  CHECK(h.end(second.requeue[0], exited(0), junit_xml({"c:p"})).requeue.empty());
  UnitVerdict culprit = h.end(second.requeue[1], signaled(11));
  CHECK(culprit.requeue.empty());
  CHECK(culprit.failed_tests == 1);

  pugi::xml_node root = h.committed();
  CHECK(root.attribute("tests").as_int() == 4);
  CHECK(root.attribute("errors").as_int() == 1);
  pugi::xml_node d = only_case(root, "test_m.py::d");
  std::string message = d.child("error").attribute("message").value();
  CHECK(message.find("killed by signal 11 (SIGSEGV)") != std::string::npos);
  CHECK(message.find("isolated from api#1") != std::string::npos);
  for (const char* innocent : {"a", "b", "c"}) CHECK(children(only_case(root, innocent)).empty());
  CHECK(h.listener->units()[1].role == "isolation");
}

TEST_CASE("crash isolation: a half that is never run is skipped with the crash named") {
  Harness h({0});
  UnitVerdict v = h.end(Harness::unit(0, 0, kIds), signaled(9));
  REQUIRE(v.requeue.size() == 2);
  for (const Unit& u : v.requeue) h.listener->on_unit_not_run(u, "interrupted before it started");
  pugi::xml_node root = h.committed();
  CHECK(root.attribute("tests").as_int() == 3);
  CHECK(root.attribute("skipped").as_int() == 3);
  std::string why = only_case(root, "test_m.py::c").child("skipped").attribute("message").value();
  CHECK(why.find("interrupted before it started") != std::string::npos);
  CHECK(why.find("crashed api#1: killed by signal 9 (SIGKILL)") != std::string::npos);
}

TEST_CASE("crash isolation and retries: the crashing test is retried, and may be flaky") {
  Harness h({1});
  UnitVerdict v = h.end(Harness::unit(0, 0, {"test_m.py::a", "test_m.py::b"}), signaled(11));
  REQUIRE(v.requeue.size() == 2);
  CHECK(h.end(v.requeue[0], exited(0), junit_xml({"a:p"})).requeue.empty());
  UnitVerdict crash = h.end(v.requeue[1], signaled(11));
  REQUIRE(crash.requeue.size() == 1);  // the culprit's crash is a failed attempt
  CHECK(crash.requeue[0].attempt == 1);
  CHECK(crash.failed_tests == 0);
  h.end(crash.requeue[0], exited(0), junit_xml({"b:p"}));
  pugi::xml_node root = h.committed();
  CHECK(root.attribute("tests").as_int() == 2);
  CHECK(root.attribute("errors").as_int() == 0);
  pugi::xml_node b = only_case(root, "b");
  CHECK(children(b) == std::vector<std::string>{"flakyError"});
  std::string message = b.child("flakyError").attribute("message").value();
  CHECK(message.find("SIGSEGV") != std::string::npos);
}

TEST_CASE("crash isolation: a crash with some results isolates only the tests without one") {
  Harness h({0});
  // A runner that writes results as it goes: a passed, b failed, then c crashed.
  UnitVerdict v = h.end(Harness::unit(0, 0, kIds), signaled(11), junit_xml({"a:p", "b:f"}));
  CHECK(v.requeue.empty());  // one test without a result is the culprit at once
  CHECK(v.failed_tests == 2);
  pugi::xml_node root = h.committed();
  CHECK(root.attribute("tests").as_int() == 3);
  CHECK(root.attribute("failures").as_int() == 1);
  CHECK(root.attribute("errors").as_int() == 1);
  CHECK(children(only_case(root, "test_m.py::c")) == std::vector<std::string>{"error"});
}
