#include "shardrun/discovery.hpp"

#include <catch2/catch.hpp>

using namespace shardrun;

TEST_CASE("pytest --collect-only -q output becomes ids, without its summary") {
  std::string out =
      "tests/test_a.py::test_one\n"
      "tests/test_a.py::TestX::test_two[param with space]\n"
      "tests/test_b.py::test_three\r\n"
      "\n"
      "3 tests collected in 0.01s\n";
  CHECK(parse_test_ids(out) ==
        std::vector<std::string>{"tests/test_a.py::test_one",
                                 "tests/test_a.py::TestX::test_two[param with space]",
                                 "tests/test_b.py::test_three"});
}

TEST_CASE("summary-like lines, leading blanks and duplicates are skipped") {
  std::string out =
      "\n\n"
      "==================== warnings summary ====================\n"
      "a\n"
      "b\n"
      "a\n"
      "5 passed in 1s\n";
  CHECK(parse_test_ids(out) == std::vector<std::string>{"a", "b"});
  CHECK(parse_test_ids("").empty());
  CHECK(parse_test_ids("no tests ran in 0.01s\n").empty());
}

TEST_CASE("pytest junit testcases map back to node ids") {
  std::vector<junit::CaseSummary> cases = {
      {"tests.test_a", "test_one", 1.5, junit::Outcome::kPassed},
      {"tests.test_a.TestX", "test_two[p]", 0.25, junit::Outcome::kFailed},
      {"", "plain", 3.0, junit::Outcome::kPassed},
  };
  auto times = match_case_times({"tests/test_a.py::test_one", "tests/test_a.py::TestX::test_two[p]",
                                 "plain", "tests/test_a.py::missing"},
                                cases);
  CHECK(times == std::vector<double>{1.5, 0.25, 3.0, -1.0});
}

TEST_CASE("glob patterns: * within a folder, ** across folders") {
  CHECK(glob_match("tests/*.py", "tests/test_a.py"));
  CHECK_FALSE(glob_match("tests/*.py", "tests/sub/test_a.py"));
  CHECK(glob_match("tests/**/*.py", "tests/test_a.py"));
  CHECK(glob_match("tests/**/*.py", "tests/a/b/test_c.py"));
  CHECK(glob_match("**/conftest.py", "conftest.py"));
  CHECK(glob_match("**/conftest.py", "x/y/conftest.py"));
  CHECK_FALSE(glob_match("**/conftest.py", "x/y/conftest.pyc"));
  CHECK(glob_match("./pytest.ini", "pytest.ini"));
  CHECK_FALSE(glob_match("*.py", ".hidden.py"));  // like the shell
  CHECK(glob_match("test_[ab].py", "test_b.py"));
}

TEST_CASE("fnv1a differs for different data and is stable") {
  CHECK(fnv1a("") == 0xcbf29ce484222325ULL);
  CHECK(fnv1a("a") == 0xaf63dc4c8601ec8cULL);
  CHECK(fnv1a("ab") != fnv1a("ba"));
}
