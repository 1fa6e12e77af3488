#include "shardrun/discovery.hpp"

#include <catch2/catch.hpp>

using namespace shardrun;

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
