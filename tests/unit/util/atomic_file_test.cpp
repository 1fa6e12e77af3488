// write_file_atomically and UniqueFd (util).

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>

#include "../temp_dir.hpp"
#include "shardrun/atomic_file.hpp"
#include "shardrun/error.hpp"
#include "shardrun/unique_fd.hpp"

using namespace shardrun;
using shardrun::testing::TempDir;
namespace fs = std::filesystem;

TEST_CASE("write_file_atomically creates and replaces, leaving no temporary file") {
  TempDir dir;
  fs::path file = dir.path() / "state.json";
  write_file_atomically(file, "first\n");
  CHECK(dir.read("state.json") == "first\n");
  write_file_atomically(file, std::string(100000, 'x'));
  CHECK(dir.read("state.json") == std::string(100000, 'x'));
  write_file_atomically(file, "");
  CHECK(dir.read("state.json").empty());
  CHECK(dir.entries() == std::set<std::string>{"state.json"});
}

TEST_CASE("write_file_atomically fails with the file's name and leaves the old content") {
  TempDir dir;
  // No such folder: the temporary file cannot be made.
  CHECK_THROWS_WITH(write_file_atomically(dir.path() / "missing" / "f.json", "x"),
                    Catch::Contains("cannot create") && Catch::Contains("missing/f.json.tmp.") &&
                        Catch::Contains("No such file or directory"));
  // A folder in the way: the rename fails, the temporary file is removed,
  // and what was there stays.
  fs::create_directories(dir.path() / "taken" / "inside");
  CHECK_THROWS_WITH(write_file_atomically(dir.path() / "taken", "x"),
                    Catch::Contains("cannot replace") && Catch::Contains("taken"));
  CHECK(fs::is_directory(dir.path() / "taken" / "inside"));
  CHECK(dir.entries() == std::set<std::string>{"taken"});
}

TEST_CASE("UniqueFd closes once, moves, releases and reports close errors") {
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  {
    UniqueFd a(fds[0]);
    UniqueFd b(std::move(a));
    CHECK(a.get() == -1);
    CHECK(b.get() == fds[0]);
    UniqueFd c;
    c = std::move(b);
    CHECK(c.get() == fds[0]);
    CHECK(::fcntl(fds[0], F_GETFD) != -1);  // still open
  }
  CHECK(::fcntl(fds[0], F_GETFD) == -1);  // closed exactly when the last owner went
  UniqueFd w(fds[1]);
  int raw = w.release();
  CHECK(w.get() == -1);
  CHECK(raw == fds[1]);
  w.reset(raw);
  CHECK(w.close() == 0);
  CHECK(w.close() == 0);  // nothing held
  CHECK(::fcntl(raw, F_GETFD) == -1);
}
