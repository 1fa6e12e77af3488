#include "shardrun/timings.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include <catch2/catch.hpp>

#include "../temp_dir.hpp"

#include "shardrun/error.hpp"

using namespace shardrun;
namespace fs = std::filesystem;
using Catch::Matchers::Contains;

namespace {

using shardrun::testing::TempDir;

void write_file(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  REQUIRE(out.good());
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

std::vector<std::string> names_in(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& item : fs::directory_iterator(dir)) names.push_back(item.path().filename());
  std::sort(names.begin(), names.end());
  return names;
}

// Loads `text` from a file and returns the warning; the timings must be empty.
std::string warning_for(const std::string& text) {
  TempDir dir;
  fs::path path = dir.path() / "timings.json";
  write_file(path, text);
  std::string warning;
  Timings t = Timings::load(path, &warning);
  CHECK(t.empty());
  CHECK_THAT(warning, Contains(path.string()));
  return warning;
}

}  // namespace

TEST_CASE("a missing file gives empty timings and no warning") {
  TempDir dir;
  std::string warning = "left over from before";
  Timings t = Timings::load(dir.path() / "nothing-here.json", &warning);
  CHECK(t.empty());
  CHECK(warning.empty());
  // A null warning pointer is allowed.
  CHECK(Timings::load(dir.path() / "nothing-here.json", nullptr).empty());
}

TEST_CASE("the first sample is taken as is, later ones are smoothed") {
  Timings t;
  t.record_test("api", "t1", 10);
  REQUIRE(t.test("api", "t1"));
  CHECK(t.test("api", "t1")->seconds == Approx(10));
  CHECK(t.test("api", "t1")->samples == 1);
  t.record_test("api", "t1", 20);
  CHECK(t.test("api", "t1")->seconds == Approx(15));
  CHECK(t.test("api", "t1")->samples == 2);
  t.record_test("api", "t1", 15);
  CHECK(t.test("api", "t1")->seconds == Approx(15));
  CHECK(t.test("api", "t1")->samples == 3);
  // Entries and tests are separate keys.
  CHECK_FALSE(t.test("web", "t1"));
  CHECK_FALSE(t.test("api", "t2"));
  CHECK_FALSE(t.empty());
}

TEST_CASE("broken observations do not poison the history") {
  Timings t;
  t.record_test("api", "t", std::numeric_limits<double>::quiet_NaN());
  t.record_test("api", "t", std::numeric_limits<double>::infinity());
  CHECK_FALSE(t.test("api", "t"));
  t.record_test("api", "t", -3);
  REQUIRE(t.test("api", "t"));
  CHECK(t.test("api", "t")->seconds == 0);
  t.record_unit("api", std::numeric_limits<double>::quiet_NaN(), 1);
  CHECK_FALSE(t.startup("api"));
}

TEST_CASE("record_unit keeps wall minus test time as the start-up cost, never negative") {
  Timings t;
  CHECK_FALSE(t.startup("api"));
  t.record_unit("api", 5.0, 3.0);
  REQUIRE(t.startup("api"));
  CHECK(*t.startup("api") == Approx(2.0));
  // Tests summing to more than the wall time (rounding) count as zero start-up.
  t.record_unit("api", 1.0, 3.0);
  CHECK(*t.startup("api") == Approx(1.0));
  // A unit without test ids: the whole wall time.
  t.record_unit("smoke", 8.0, 0);
  CHECK(*t.startup("smoke") == Approx(8.0));
  CHECK_FALSE(t.test("smoke", ""));
}

TEST_CASE("median of an entry's known tests") {
  Timings t;
  CHECK_FALSE(t.median("api"));
  t.record_test("api", "a", 5);
  CHECK(*t.median("api") == Approx(5));
  t.record_test("api", "b", 1);
  t.record_test("api", "c", 3);
  CHECK(*t.median("api") == Approx(3));
  t.record_test("api", "d", 100);
  CHECK(*t.median("api") == Approx(4));  // (3 + 5) / 2
  t.record_test("other", "x", 1000);
  CHECK(*t.median("api") == Approx(4));
  // An entry with only a start-up record has no median.
  t.record_unit("smoke", 2, 0);
  CHECK_FALSE(t.median("smoke"));
}

TEST_CASE("estimate: the test's own time, else the entry's median, else the fallback") {
  Timings t;
  CHECK(t.estimate("api", "a", 7.5) == Approx(7.5));
  t.record_test("api", "a", 1);
  t.record_test("api", "b", 2);
  t.record_test("api", "c", 9);
  CHECK(t.estimate("api", "c", 7.5) == Approx(9));
  CHECK(t.estimate("api", "new", 7.5) == Approx(2));
  CHECK(t.estimate("web", "a", 7.5) == Approx(7.5));
}

TEST_CASE("save and load round-trip every value, and the file says format 1") {
  TempDir dir;
  fs::path path = dir.path() / "timings.json";
  Timings t;
  t.record_test("api", "tests/test_a.py::test_x[1-2]", 0.25);
  t.record_test("api", "tests/test_a.py::test_x[1-2]", 0.75);
  t.record_test("api", "quote\"and\\slash ünïcode", 1.0 / 3);
  t.record_test("web", "w", 12);
  t.record_unit("api", 3.5, 1.0);
  t.record_unit("smoke", 8, 0);
  t.save(path);

  nlohmann::json doc = nlohmann::json::parse(read_file(path));
  CHECK(doc.at("format") == 1);

  std::string warning;
  Timings back = Timings::load(path, &warning);
  CHECK(warning.empty());
  auto x = back.test("api", "tests/test_a.py::test_x[1-2]");
  REQUIRE(x);
  CHECK(x->seconds == 0.5);
  CHECK(x->samples == 2);
  REQUIRE(back.test("api", "quote\"and\\slash ünïcode"));
  CHECK(back.test("api", "quote\"and\\slash ünïcode")->seconds == 1.0 / 3);  // exact
  CHECK(back.test("web", "w")->seconds == 12);
  CHECK(*back.startup("api") == 2.5);
  CHECK(*back.startup("smoke") == 8);
  CHECK_FALSE(back.startup("web"));
  // Smoothing continues from the loaded state.
  back.record_test("web", "w", 4);
  CHECK(back.test("web", "w")->seconds == Approx(8));
  CHECK(back.test("web", "w")->samples == 2);
}

TEST_CASE("save replaces the file atomically and leaves no temporary file") {
  TempDir dir;
  fs::path path = dir.path() / "timings.json";
  write_file(path, "old content");
  Timings t;
  t.record_test("api", "a", 1);
  t.save(path);
  CHECK(names_in(dir.path()) == std::vector<std::string>{"timings.json"});
  CHECK(Timings::load(path, nullptr).test("api", "a"));
  t.record_test("api", "b", 2);
  t.save(path);
  CHECK(names_in(dir.path()) == std::vector<std::string>{"timings.json"});
  CHECK(Timings::load(path, nullptr).test("api", "b"));
}

TEST_CASE("save creates the history folder") {
  TempDir dir;
  fs::path path = dir.path() / ".shardrun" / "nested" / "timings.json";
  Timings t;
  t.record_unit("e", 1, 0);
  t.save(path);
  CHECK(Timings::load(path, nullptr).startup("e"));
}

TEST_CASE("save failures throw Error and leave nothing behind") {
  TempDir dir;
  Timings t;
  t.record_test("api", "a", 1);

  SECTION("the parent is a file") {
    write_file(dir.path() / "plain", "x");
    CHECK_THROWS_AS(t.save(dir.path() / "plain" / "timings.json"), Error);
  }
  SECTION("the target is a folder") {
    fs::create_directory(dir.path() / "timings.json");
    fs::create_directory(dir.path() / "timings.json" / "inside");
    CHECK_THROWS_WITH(t.save(dir.path() / "timings.json"), Contains("timings.json"));
    CHECK(names_in(dir.path()) == std::vector<std::string>{"timings.json"});
  }
  SECTION("the folder is not writable") {
    if (::geteuid() == 0) return;  // root writes anyway
    fs::create_directory(dir.path() / "ro");
    fs::permissions(dir.path() / "ro", fs::perms::owner_read | fs::perms::owner_exec);
    CHECK_THROWS_AS(t.save(dir.path() / "ro" / "timings.json"), Error);
    fs::permissions(dir.path() / "ro", fs::perms::owner_all);
    CHECK(names_in(dir.path() / "ro").empty());
  }
}

TEST_CASE("test ids that are not UTF-8 do not stop the save") {
  TempDir dir;
  fs::path path = dir.path() / "timings.json";
  Timings t;
  t.record_test("api", std::string("bad\xff\xfe id"), 1);
  t.record_test("api", "good", 2);
  CHECK_NOTHROW(t.save(path));
  Timings back = Timings::load(path, nullptr);
  CHECK(back.test("api", "good"));
}

TEST_CASE("a corrupt or wrongly shaped file gives empty timings and a warning") {
  CHECK_THAT(warning_for(""), Contains("not valid JSON"));
  CHECK_THAT(warning_for("{\"format\": 1, \"entries\": {"), Contains("not valid JSON"));
  CHECK_THAT(warning_for("[1, 2]"), Contains("not a JSON object"));
  CHECK_THAT(warning_for("{\"entries\": {}}"), Contains("format"));
  CHECK_THAT(warning_for("{\"format\": \"1\", \"entries\": {}}"), Contains("format"));
  CHECK_THAT(warning_for("{\"format\": 1}"), Contains("entries"));
  CHECK_THAT(warning_for("{\"format\": 1, \"entries\": []}"), Contains("entries"));
  CHECK_THAT(warning_for("{\"format\": 1, \"entries\": {\"api\": 3}}"), Contains("\"api\""));
  CHECK_THAT(warning_for("{\"format\": 1, \"entries\": {\"api\": {\"tests\": []}}}"),
             Contains("tests"));
  CHECK_THAT(warning_for(R"({"format": 1, "entries": {"api": {"tests":
               {"t1": {"seconds": "fast", "samples": 1}}}}})"),
             Contains("\"t1\""));
  CHECK_THAT(warning_for(R"({"format": 1, "entries": {"api": {"tests":
               {"t1": {"seconds": -1, "samples": 1}}}}})"),
             Contains("negative"));
  CHECK_THAT(warning_for(R"({"format": 1, "entries": {"api": {"tests":
               {"t1": {"seconds": 1, "samples": 0}}}}})"),
             Contains("samples"));
  CHECK_THAT(warning_for(R"({"format": 1, "entries": {"api": {"startup": 2}}})"),
             Contains("startup"));
}

TEST_CASE("an unknown format version is ignored with a warning") {
  std::string warning = warning_for(
      R"({"format": 2, "entries": {"api": {"tests": {"t": {"seconds": 1, "samples": 1}}}}})");
  CHECK_THAT(warning, Contains("unknown format 2"));
}

TEST_CASE("a valid file with extra keys loads; what is known survives") {
  TempDir dir;
  fs::path path = dir.path() / "timings.json";
  write_file(path, R"({"format": 1, "written_by": "a newer shardrun",
    "entries": {"api": {"note": "x", "startup": {"seconds": 1.5, "samples": 4},
                        "tests": {"t": {"seconds": 2, "samples": 3, "spread": 0.1}}},
                "empty": {}}})");
  std::string warning;
  Timings t = Timings::load(path, &warning);
  CHECK(warning.empty());
  CHECK(*t.startup("api") == 1.5);
  CHECK(t.test("api", "t")->samples == 3);
  CHECK_FALSE(t.median("empty"));
}

TEST_CASE("a path that is a folder or unreadable is a warning, not an error") {
  TempDir dir;
  std::string warning;
  CHECK(Timings::load(dir.path(), &warning).empty());
  CHECK_THAT(warning, Contains("not a regular file"));

  if (::geteuid() == 0) return;  // root reads anyway
  fs::path path = dir.path() / "timings.json";
  Timings t;
  t.record_test("api", "a", 1);
  t.save(path);
  fs::permissions(path, fs::perms::none);
  warning.clear();
  CHECK(Timings::load(path, &warning).empty());
  CHECK_THAT(warning, Contains("cannot"));
}

TEST_CASE("group loads, start-ups and the prediction error round-trip and are smoothed") {
  TempDir dir;
  fs::path file = dir.path() / "timings.json";
  Timings t;
  t.record_group("py", "tests/test_a.py", 2.0);
  t.record_group("py", "tests/test_a.py", 4.0);  // smoothed halfway
  t.record_group("py", "tests/test_b.py", 1.0);
  t.record_startup("py", 0.8);
  t.record_error("py", 0.3);
  t.record_error("py", std::numeric_limits<double>::quiet_NaN());  // dropped
  t.record_group("py", "tests/test_c.py", -1.0);                   // counts as 0
  t.save(file);
  std::string warning;
  Timings back = Timings::load(file, &warning);
  CHECK(warning.empty());
  CHECK(*back.group("py", "tests/test_a.py") == Approx(3.0));
  CHECK(*back.group("py", "tests/test_c.py") == 0.0);
  CHECK_FALSE(back.group("py", "tests/test_z.py"));
  CHECK(*back.group_median("py") == Approx(1.0));  // of 3, 1 and 0
  CHECK(*back.startup("py") == Approx(0.8));
  CHECK(back.error("py")->seconds == Approx(0.3));
  CHECK(back.error("py")->samples == 1);
  CHECK_FALSE(back.error("other"));
}

TEST_CASE("a history without groups or error (an older shardrun's) still loads") {
  TempDir dir;
  fs::path file = dir.path() / "timings.json";
  write_file(file, R"({"format": 1, "entries": {"py": {"startup": {"seconds": 1, "samples": 2},
                      "tests": {"t.py::a": {"seconds": 0.5, "samples": 1}}}}})");
  std::string warning;
  Timings t = Timings::load(file, &warning);
  CHECK(warning.empty());
  CHECK(*t.startup("py") == 1.0);
  CHECK_FALSE(t.group_median("py"));
  CHECK_FALSE(t.error("py"));
  write_file(file, R"({"format": 1, "entries": {"py": {"groups": []}}})");
  Timings::load(file, &warning);
  CHECK_THAT(warning, Contains("\"groups\" is not an object"));
}
