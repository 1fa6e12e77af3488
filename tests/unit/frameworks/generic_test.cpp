// The generic adapter: one id per line, and the testcase named as an id
// reports it; nothing of pytest's.
#include <catch2/catch.hpp>

#include "shardrun/frameworks.hpp"

using namespace shardrun;
using frameworks::generic;

TEST_CASE("generic: one id per line, trimmed, blanks and duplicates skipped") {
  CHECK(generic().name() == "generic");
  CHECK(generic().parse_discover_output(" TestA\r\n\n\tTestB\nTestA\n") ==
        std::vector<std::string>{"TestA", "TestB"});
  // Lines pytest would take for its summary are ids here, also after a blank line.
  CHECK(generic().parse_discover_output("a\n\n5 passed\n=== x ===\n") ==
        std::vector<std::string>{"a", "5 passed", "=== x ==="});
  CHECK(generic().parse_discover_output("").empty());
  CHECK(generic().parse_discover_output("\n \n").empty());
}

TEST_CASE("generic: a testcase reports the id that is its name, untranslated") {
  std::vector<junit::CaseSummary> cases = {
      {"pkg", "TestA", 1, junit::Outcome::kPassed},
      {"pkg.test_a", "test_x", 1, junit::Outcome::kPassed},  // pytest's form: no mapping
      {"other", "TestA", 1, junit::Outcome::kFailed},        // the same name again
      {"pkg", "TestB", 1, junit::Outcome::kPassed},
  };
  std::vector<std::string> ids = {"TestA", "pkg/test_a.py::test_x", "pkg/test_a.py", "TestB"};
  CHECK(generic().id_of_cases(ids, cases) == std::vector<long>{0, -1, 0, 3});
  CHECK(generic().case_of_ids(ids, cases) == std::vector<long>{0, -1, -1, 3});
  // Two ids, one testcase: the first id has it.
  CHECK(generic().case_of_ids({"TestB", "TestB"}, cases) == std::vector<long>{3, -1});
  CHECK(generic().case_of_ids({"a"}, {}) == std::vector<long>{-1});
}

TEST_CASE("generic: any ids may be files") {
  CHECK(generic().ids_may_be_files({"a::b"}));
  CHECK(generic().ids_may_be_files({"tests/a.sh"}));
  CHECK_FALSE(generic().ids_may_be_files({}));
}
