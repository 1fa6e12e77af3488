// The timeline page from run.json: the data it embeds, escaped; the
// critical path; nothing that would reach the network.
#include "shardrun/timeline.hpp"

#include <catch2/catch.hpp>

#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>

#include "../temp_dir.hpp"
#include "shardrun/error.hpp"

using namespace shardrun;
using nlohmann::json;

namespace {

json unit(std::size_t id, int shard, double start, double end, std::string result = "passed") {
  return {{"id", id},
          {"label", "u" + std::to_string(id)},
          {"entry", "e"},
          {"shard", shard},
          {"start", start},
          {"end", end},
          {"result", result},
          {"tests", json::array({"t::a", "t::b"})},
          {"log", "/runs/r/logs/u.log"},
          {"status", {{"description", "exit status 0"}}}};
}

json sample_run() {
  // Shard 0: 0-4 and 4-9 (ends last); shard 1: 0-6; one unit never ran.
  return {{"suite", "demo"},
          {"run_id", "r1"},
          {"shards", 2},
          {"elapsed", 9.5},
          {"units", json::array({unit(3, 0, 4, 9, "failed"), unit(1, 0, 0, 4), unit(2, 1, 0, 6),
                                 unit(4, -1, 0, 0, "not-run")})},
          {"shard_spans",
           json::array(
               {{{"shard", 0},
                 {"spans",
                  json::array(
                      {{{"kind", "setup"}, {"start", 0}, {"end", 0.1}, {"outcome", "ok"}}})}}})}};
}

/// The JSON the page embeds, parsed back.
json embedded(const std::string& page) {
  std::string open = "<script type=\"application/json\" id=\"runs\">";
  std::size_t from = page.find(open);
  REQUIRE(from != std::string::npos);
  from += open.size();
  std::size_t to = page.find("</script>", from);
  REQUIRE(to != std::string::npos);
  return json::parse(page.substr(from, to - from));
}

}  // namespace

TEST_CASE("the critical path is the units of the shard that ended last, in start order") {
  CriticalPath path = critical_path(sample_run().dump());
  CHECK(path.shard == 0);
  CHECK(path.units == std::vector<std::size_t>{1, 3});
  CHECK(path.end == 9);

  json none = sample_run();
  none["units"] = json::array({unit(4, -1, 0, 0, "not-run")});
  CHECK(critical_path(none.dump()).shard == -1);
  CHECK(critical_path(none.dump()).units.empty());
}

TEST_CASE("the page embeds each run's units, spans and critical path as JSON") {
  std::string page = render_timeline({sample_run().dump()});
  json runs = embedded(page);
  REQUIRE(runs.size() == 1);
  CHECK(runs[0]["suite"] == "demo");
  CHECK(runs[0]["shards"] == 2);
  CHECK(runs[0]["units"].size() == 4);
  CHECK(runs[0]["units"][0]["label"] == "u3");
  CHECK(runs[0]["units"][0]["result"] == "failed");
  CHECK(runs[0]["units"][0]["ntests"] == 2);
  CHECK(runs[0]["units"][0]["status"] == "exit status 0");
  CHECK(runs[0]["units"][0]["log"] == "/runs/r/logs/u.log");
  CHECK(runs[0]["critical"]["shard"] == 0);
  CHECK(runs[0]["critical"]["units"] == json::array({1, 3}));
  CHECK(runs[0]["shard_spans"][0]["spans"][0]["kind"] == "setup");
  CHECK(page.find("<title>shardrun timeline: demo r1</title>") != std::string::npos);
}

TEST_CASE("a label with </script> cannot end the data early or inject markup") {
  json run = sample_run();
  run["units"][0]["label"] = "</script><script>alert(1)</script><!--";
  run["suite"] = "<b>x</b>";
  std::string page = render_timeline({run.dump()});
  // One data block and one script block: the label's tags are escaped.
  std::regex closing("</script>", std::regex::icase);
  auto n = std::distance(std::sregex_iterator(page.begin(), page.end(), closing),
                         std::sregex_iterator());
  CHECK(n == 2);
  CHECK(page.find("<!--") == std::string::npos);
  CHECK(embedded(page)[0]["units"][0]["label"] == "</script><script>alert(1)</script><!--");
  CHECK(page.find("<title>shardrun timeline: &lt;b&gt;x&lt;/b&gt; r1</title>") !=
        std::string::npos);
}

TEST_CASE("the page loads nothing: no src, href, url() or import") {
  std::string page = render_timeline({sample_run().dump(), sample_run().dump()});
  CHECK(embedded(page).size() == 2);
  for (const char* needle : {" src=", "href=", "url(", "@import", "http://", "https://", "fetch("})
    CHECK(page.find(needle) == std::string::npos);
  CHECK(page.find("Content-Security-Policy") != std::string::npos);
}

TEST_CASE("write_timeline reads run directories; a missing or wrong run.json is an Error") {
  shardrun::testing::TempDir dir;
  std::filesystem::create_directories(dir.path() / "r1");
  std::ofstream(dir.path() / "r1" / "run.json") << sample_run().dump();
  write_timeline(dir.path() / "t.html", {dir.path() / "r1"});
  std::ifstream in(dir.path() / "t.html");
  std::string page((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  CHECK(embedded(page)[0]["run_id"] == "r1");

  CHECK_THROWS_AS(write_timeline(dir.path() / "u.html", {dir.path() / "nope"}), Error);
  std::ofstream(dir.path() / "bad.json") << "{\"units\": 3}";
  CHECK_THROWS_WITH(write_timeline(dir.path() / "u.html", {dir.path() / "bad.json"}),
                    Catch::Contains("not a shardrun run.json"));
  CHECK_FALSE(std::filesystem::exists(dir.path() / "u.html"));
}
