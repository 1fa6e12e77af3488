// split_path: the parts of a path that glob and test-file matching compare.
#include <catch2/catch.hpp>

#include "shardrun/paths.hpp"

using shardrun::split_path;
using Parts = std::vector<std::string_view>;

TEST_CASE("split_path drops empty parts and '.', keeps '..' and names") {
  CHECK(split_path("a//b/./c/") == Parts{"a", "b", "c"});
  CHECK(split_path("/abs/../x.py") == Parts{"abs", "..", "x.py"});
  CHECK(split_path("") == Parts{});
  CHECK(split_path("./") == Parts{});
  CHECK(split_path("test_a.py") == Parts{"test_a.py"});
}
