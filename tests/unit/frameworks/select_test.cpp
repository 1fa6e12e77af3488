// Which adapter an entry gets, and the JUnit question all of them answer.
#include <catch2/catch.hpp>

#include "shardrun/frameworks.hpp"

using namespace shardrun;
using frameworks::framework_for;

namespace {

CommandSpec shell(std::string script) {
  CommandSpec c;
  c.script = std::move(script);
  return c;
}

Entry entry(std::string command) {
  Entry e;
  e.command = shell(std::move(command));
  return e;
}

}  // namespace

TEST_CASE("every entry gets pytest's rules, which tell pytest's ids by their form") {
  Entry discovered = entry("pytest {tests} --junitxml={junit}");
  discovered.discover = shell("pytest --collect-only -q");
  CHECK(framework_for(discovered).name() == "pytest");

  // Ids printed by any command, node ids or plain names: as before.
  Entry listed = entry("./run {tests} {junit}");
  listed.discover = shell("cat ids.txt");
  const frameworks::Framework& f = framework_for(listed);
  CHECK(&f == &frameworks::pytest());
  CHECK(f.parse_discover_output("t.py::a\nTestB\n\n2 tests collected\n") ==
        std::vector<std::string>{"t.py::a", "TestB"});
  CHECK(f.id_of_cases({"t.py::a", "TestB"}, {{"t", "a", 0, junit::Outcome::kPassed},
                                             {"pkg", "TestB", 0, junit::Outcome::kPassed}}) ==
        std::vector<long>{0, 1});

  Entry files = entry("python3 -m pytest {tests}");
  files.files = {"tests/test_*.py"};
  CHECK(framework_for(files).name() == "pytest");
  CHECK(framework_for(entry("./check.sh")).name() == "pytest");
}

TEST_CASE("writes_junit: the command or the entry's env mentions {junit}") {
  for (const frameworks::Framework* f : {&frameworks::pytest(), &frameworks::generic()}) {
    INFO(f->name());
    CHECK(f->writes_junit(entry("pytest --junitxml={junit}")));
    CHECK_FALSE(f->writes_junit(entry("./check.sh")));
    Entry by_env = entry("npx jest");
    by_env.env = {{"JEST_JUNIT_OUTPUT_FILE", "{junit}"}};
    CHECK(f->writes_junit(by_env));
    by_env.env = {{"OUT", "junit.xml"}};
    CHECK_FALSE(f->writes_junit(by_env));
    CommandSpec argv;
    argv.shell = false;
    argv.argv = {"go-junit-report", "-out", "{junit}"};
    Entry words;
    words.command = argv;
    CHECK(f->writes_junit(words));
  }
}
