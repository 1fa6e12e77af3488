// --plan-out / --plan-in files and the printed plan.
#include <fmt/format.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "shardrun/atomic_file.hpp"
#include "shardrun/error.hpp"
#include "shardrun/plan_io.hpp"
#include "shardrun/status.hpp"

namespace shardrun {

using nlohmann::json;

void write_plan_file(const std::filesystem::path& path, const Suite& suite,
                     const std::vector<Unit>& units) {
  json j;
  j["format"] = 1;
  j["suite"] = suite.name;
  json list = json::array();
  for (const Unit& u : units)
    list.push_back({{"id", u.id},
                    {"entry", suite.tests.at(u.entry).name},
                    {"label", u.label},
                    {"tests", u.tests},
                    {"predicted_seconds", u.predicted_seconds}});
  j["units"] = std::move(list);
  write_file_atomically(path, j.dump(2, ' ', false, json::error_handler_t::replace) + "\n");
}

std::vector<Unit> read_plan_file(const std::filesystem::path& path, const Suite& suite) {
  std::ifstream in(path);
  if (!in) throw UsageError(fmt::format("--plan-in: cannot read {}", path.string()));
  std::vector<Unit> units;
  try {
    json j = json::parse(in);
    if (j.at("format").get<int>() != 1) throw UsageError("unknown format");
    for (const json& ju : j.at("units")) {
      Unit u;
      u.id = ju.at("id").get<std::size_t>();
      std::string entry = ju.at("entry").get<std::string>();
      auto it = std::find_if(suite.tests.begin(), suite.tests.end(),
                             [&](const Entry& e) { return e.name == entry; });
      if (it == suite.tests.end())
        throw UsageError(fmt::format("entry '{}' is not in the suite", entry));
      u.entry = static_cast<std::size_t>(it - suite.tests.begin());
      u.label = ju.at("label").get<std::string>();
      u.tests = ju.at("tests").get<std::vector<std::string>>();
      u.predicted_seconds = ju.at("predicted_seconds").get<double>();
      units.push_back(std::move(u));
    }
  } catch (const json::exception& e) {
    throw UsageError(fmt::format("--plan-in {}: not a plan file: {}", path.string(), e.what()));
  } catch (const UsageError& e) {
    throw UsageError(fmt::format("--plan-in {}: {}", path.string(), e.what()));
  }
  return units;
}

namespace {

json costs_json(const EntryCosts& c) {
  json j{{"entry", c.name},
         {"groups", c.groups},
         {"groups_known", c.groups_known},
         {"tests", c.tests},
         {"tests_known", c.tests_known}};
  j["startup_seconds"] = c.startup ? json(*c.startup) : json();
  j["group_load_median_seconds"] = c.group_median ? json(*c.group_median) : json();
  j["prediction_error"] = c.error ? json(c.error->seconds) : json();
  j["prediction_error_runs"] = c.error ? c.error->samples : 0;
  return j;
}

std::string costs_text(const EntryCosts& c) {
  auto known = [](const std::optional<double>& s) {
    return s ? format_seconds(*s) : std::string("not learned yet");
  };
  std::string error = c.error ? fmt::format("+-{:.0f}% (over {} run{})", c.error->seconds * 100,
                                            c.error->samples, c.error->samples == 1 ? "" : "s")
                              : std::string("not measured yet");
  return fmt::format(
      "  {}: start-up {}; {} groups ({} learned, median load {}); {} tests ({} timed); "
      "prediction error {}\n",
      c.name, known(c.startup), c.groups, c.groups_known, known(c.group_median), c.tests,
      c.tests_known, error);
}

}  // namespace

std::string format_plan(const Suite& suite, const std::vector<Unit>& units, int shards,
                        bool json_out, const std::vector<EntryCosts>& costs) {
  Simulation sim = simulate(units, shards);
  if (json_out) {
    json j;
    j["suite"] = suite.name;
    j["shards"] = shards;
    j["predicted_makespan"] = sim.makespan;
    j["lower_bound"] = sim.lower_bound;
    j["ratio"] = sim.ratio();
    json list = json::array();
    for (std::size_t i = 0; i < units.size(); ++i)
      list.push_back({{"id", units[i].id},
                      {"label", units[i].label},
                      {"entry", suite.tests.at(units[i].entry).name},
                      {"tests", units[i].tests},
                      {"predicted_seconds", units[i].predicted_seconds},
                      {"groups", units[i].groups},
                      {"estimated", units[i].estimated},
                      {"shard", sim.shard[i]},
                      {"start", sim.start[i]}});
    j["units"] = std::move(list);
    json model = json::array();
    for (const EntryCosts& c : costs) model.push_back(costs_json(c));
    j["cost_model"] = std::move(model);
    return j.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
  }
  std::string out =
      fmt::format("plan for {}: {} units on {} shards\n", suite.name, units.size(), shards);
  if (!costs.empty()) {
    out += "cost model (per unit: start-up + each group's load + each test's time):\n";
    for (const EntryCosts& c : costs) out += costs_text(c);
  }
  out += fmt::format("{:>5}  {:<28}  {:>6}  {:>6}  {:>9}  {:>5}  {:>8}\n", "unit", "label",
                     "groups", "tests", "predicted", "shard", "start");
  for (std::size_t i = 0; i < units.size(); ++i)
    out += fmt::format("{:>5}  {:<28}  {:>6}  {:>6}  {:>9}{} {:>5}  {:>8}\n", units[i].id,
                       elide_middle(units[i].label, 28), units[i].groups, units[i].tests.size(),
                       format_seconds(units[i].predicted_seconds), units[i].estimated ? "~" : " ",
                       sim.shard[i], format_seconds(sim.start[i]));
  out += "(~: estimated, not enough history for this unit's tests)\n";
  out += fmt::format(
      "predicted makespan {} vs lower bound {} = max(sum / {} shards, longest): {:.2f}\n",
      format_seconds(sim.makespan), format_seconds(sim.lower_bound), shards, sim.ratio());
  return out;
}

}  // namespace shardrun
