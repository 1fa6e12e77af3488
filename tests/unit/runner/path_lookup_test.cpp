// execvp-style lookup of argv[0] with the child's PATH and cwd.

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <catch2/catch.hpp>

#include "shardrun/path_lookup.hpp"

namespace shardrun::runner_detail {
namespace {

namespace fs = std::filesystem;

class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "shardrun-path-XXXXXX").string();
    REQUIRE(::mkdtemp(pattern.data()) != nullptr);
    path_ = fs::canonical(pattern);
  }
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

void make_file(const fs::path& path, fs::perms perms) {
  fs::create_directories(path.parent_path());
  std::ofstream(path) << "#!/bin/sh\n";
  fs::permissions(path, perms);
}

TEST_CASE("search_path_of: spec PATH, else the parent's", "[path_lookup]") {
  CHECK(search_path_of({"A=1", "PATH=/a:/b", "B=2"}) == "/a:/b");
  CHECK(search_path_of({"PATH=/first", "PATH=/last"}) == "/last");
  CHECK(search_path_of({"PATH="}) == "");
  const char* parent = std::getenv("PATH");
  REQUIRE(parent != nullptr);
  CHECK(search_path_of({"XPATH=/no", "PATHX=/no"}) == parent);
}

TEST_CASE("find_program: bare names", "[path_lookup]") {
  TempDir dir;
  const fs::path& root = dir.path();
  make_file(root / "one" / "tool", fs::perms(0755));
  make_file(root / "two" / "tool", fs::perms(0755));
  make_file(root / "plain" / "tool", fs::perms(0644));
  fs::create_directories(root / "isdir" / "tool");
  make_file(root / "work" / "here", fs::perms(0755));
  make_file(root / "work" / "rel" / "deep", fs::perms(0755));
  std::error_code error;

  SECTION("the first matching entry wins, including the very first") {
    fs::path found = find_program(
        "tool", {"PATH=" + (root / "one").string() + ":" + (root / "two").string()}, root, error);
    CHECK_FALSE(error);
    CHECK(found == root / "one" / "tool");
  }
  SECTION("directories and non-executables are skipped") {
    std::string path = "PATH=" + (root / "isdir").string() + ":" + (root / "plain").string() + ":" +
                       (root / "two").string();
    CHECK(find_program("tool", {path}, root, error) == root / "two" / "tool");
    CHECK_FALSE(error);
  }
  SECTION("only a non-executable match: EACCES") {
    CHECK(find_program("tool", {"PATH=" + (root / "plain").string()}, root, error).empty());
    CHECK(error == std::error_code(EACCES, std::system_category()));
  }
  SECTION("no match: ENOENT") {
    CHECK(find_program("nosuch", {"PATH=" + (root / "one").string()}, root, error).empty());
    CHECK(error == std::error_code(ENOENT, std::system_category()));
    CHECK(find_program("", {"PATH=/usr/bin"}, root, error).empty());
    CHECK(error == std::error_code(ENOENT, std::system_category()));
  }
  SECTION("empty and relative entries count from the child's cwd") {
    CHECK(find_program("here", {"PATH=/nonexistent::/usr/bin"}, root / "work", error) ==
          root / "work" / "here");
    CHECK(find_program("deep", {"PATH=rel"}, root / "work", error) ==
          root / "work" / "rel" / "deep");
    CHECK_FALSE(error);
  }
}

TEST_CASE("find_program: names with a slash are not searched", "[path_lookup]") {
  std::error_code error;
  CHECK(find_program("/bin/sh", {"PATH=/nonexistent"}, "/tmp", error) == "/bin/sh");
  CHECK_FALSE(error);
  // Left to execve to check, relative to the cwd.
  CHECK(find_program("./x/y", {}, "/srv/work", error) == "/srv/work/./x/y");
  CHECK_FALSE(error);
  CHECK(find_program("bin/tool", {}, "", error) == fs::current_path() / "bin/tool");
}

}  // namespace
}  // namespace shardrun::runner_detail
