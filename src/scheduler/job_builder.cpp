#include "shardrun/job_builder.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <system_error>

#include "shardrun/error.hpp"

namespace shardrun {

namespace fs = std::filesystem;

JobBuilder::JobBuilder(const Suite& suite, RunContext context)
    : suite_(suite),
      context_(std::move(context)),
      resources_(std::make_unique<SuiteResources>(*this)) {}

PlaceholderValues JobBuilder::values_for(int shard, const EnvList& env) const {
  PlaceholderValues v;
  v.shard = std::max(shard, 0);  // global commands have no shard; the loader forbids {shard}
  v.shards = context_.shards;
  v.run_dir = context_.run_dir.string();
  v.tmp = shard >= 0 ? shard_tmp(shard).string() : std::string();
  // The lookup reads the env it is given at the time of the call, so a layer
  // sees the variables of the layers before it.
  v.env = [&env](std::string_view name) { return get_env(env, name); };
  return v;
}

void JobBuilder::layer_env(EnvList& env, const EnvList& layer, PlaceholderValues values) const {
  for (const auto& [name, value] : layer) {
    values.env = [&env](std::string_view n) { return get_env(env, n); };
    set_env(env, name, expand_placeholders(value, values, false));
  }
}

ProcessSpec JobBuilder::make_spec(const CommandSpec& command, const EnvList& env,
                                  const PlaceholderValues& values, const fs::path& cwd,
                                  const fs::path& log) const {
  ProcessSpec spec;
  if (command.shell) {
    spec.argv = {"/bin/sh", "-c", expand_placeholders(command.script, values, true)};
  } else {
    spec.argv = expand_argv(command.argv, values);
  }
  spec.env = to_environ(env);
  spec.cwd = cwd;
  spec.log = log;
  spec.kill_grace = context_.kill_grace;
  return spec;
}

EnvList JobBuilder::shard_env(int shard) const {
  EnvList env;
  // A run started from inside another run's unit must not pass that run's
  // per-shard and per-unit variables on: they are set below where they apply.
  for (const auto& [name, value] : context_.base_env)
    if (name != "SHARDRUN_SHARD" && name != "SHARDRUN_TMPDIR" && name != "TEST_ENV_NUMBER" &&
        name != "SHARDRUN_JUNIT")
      env.emplace_back(name, value);
  set_env(env, "SHARDRUN_SHARDS", std::to_string(context_.shards));
  set_env(env, "SHARDRUN_RUN_ID", context_.run_id);
  set_env(env, "SHARDRUN_RUN_DIR", context_.run_dir.string());
  if (shard >= 0) {
    set_env(env, "SHARDRUN_SHARD", std::to_string(shard));
    set_env(env, "SHARDRUN_TMPDIR", shard_tmp(shard).string());
    set_env(env, "TEST_ENV_NUMBER", std::to_string(shard + 1));
  }
  PlaceholderValues values = values_for(shard, env);
  layer_env(env, suite_.env, values);
  if (shard >= 0) {
    layer_env(env, suite_.shard.env, values);
    // Then what the shard's resources export, in the order they were made.
    for (const auto& [name, value] : resources_->exports(shard)) set_env(env, name, value);
  }
  return env;
}

std::vector<ProcessSpec> JobBuilder::commands(const std::vector<CommandSpec>& list, int shard,
                                              const std::string& log_prefix) const {
  EnvList env = shard_env(shard);
  std::vector<ProcessSpec> specs;
  for (std::size_t i = 0; i < list.size(); ++i)
    specs.push_back(
        make_spec(list[i], env, values_for(shard, env), suite_.dir,
                  context_.run_dir / "logs" / fmt::format("{}-{}.log", log_prefix, i + 1)));
  return specs;
}

std::vector<ProcessSpec> JobBuilder::global_setup() const {
  return commands(suite_.setup, -1, "setup");
}

std::vector<ProcessSpec> JobBuilder::global_teardown() const {
  return commands(suite_.teardown, -1, "teardown");
}

ProcessSpec JobBuilder::discover(std::size_t index) const {
  const Entry& entry = suite_.tests.at(index);
  EnvList env = shard_env(-1);
  return make_spec(*entry.discover, env, values_for(-1, env), entry.cwd,
                   context_.run_dir / "logs" / fmt::format("discover-{}.log", entry.name));
}

fs::path JobBuilder::shard_tmp(int shard) const {
  return context_.run_dir / "tmp" / fmt::format("shard-{}", shard);
}

std::string JobBuilder::unit_stem(const Unit& unit) const {
  std::string stem = fmt::format("{:03}-{}", unit.id, suite_.tests.at(unit.entry).name);
  if (unit.attempt > 0) stem += fmt::format(".retry{}", unit.attempt);
  return stem;
}

fs::path JobBuilder::unit_log(const Unit& unit) const {
  return context_.run_dir / "logs" / (unit_stem(unit) + ".log");
}

fs::path JobBuilder::unit_junit(const Unit& unit) const {
  return context_.run_dir / "junit" / (unit_stem(unit) + ".xml");
}

fs::path JobBuilder::unit_tests_file(const Unit& unit) const {
  return context_.run_dir / "tests" / (unit_stem(unit) + ".txt");
}

fs::path JobBuilder::write_tests_file(const Unit& unit) const {
  fs::path path = unit_tests_file(unit);
  std::error_code ec;
  fs::create_directories(path.parent_path(), ec);
  std::string text;
  for (const std::string& id : unit.tests) text.append(id).append("\n");
  std::FILE* f = std::fopen(path.c_str(), "wb");
  bool ok = f != nullptr && std::fwrite(text.data(), 1, text.size(), f) == text.size();
  if (f != nullptr && std::fclose(f) != 0) ok = false;
  if (!ok)
    throw Error(fmt::format("cannot write the test ids of unit {} to {}: {}", unit.label,
                            path.string(), std::strerror(errno)));
  return path;
}

std::vector<ProcessSpec> JobBuilder::shard_setup(int shard) {
  // Made by the first resource already when there is one; a failure shows
  // in the commands that use {tmp}.
  std::error_code ec;
  fs::create_directories(shard_tmp(shard), ec);
  return commands(suite_.shard.setup, shard, fmt::format("shard-{}-setup", shard));
}

std::vector<ProcessSpec> JobBuilder::shard_teardown(int shard) {
  return commands(suite_.shard.teardown, shard, fmt::format("shard-{}-teardown", shard));
}

ProcessSpec JobBuilder::unit(int shard, const Unit& unit) {
  const Entry& entry = suite_.tests.at(unit.entry);
  EnvList env = shard_env(shard);
  std::string junit = unit_junit(unit).string();
  set_env(env, "SHARDRUN_JUNIT", junit);
  PlaceholderValues values = values_for(shard, env);
  values.junit = junit;
  layer_env(env, entry.env, values);
  // values.env reads `env` itself, so it already sees the entry's layer.
  values.tests = &unit.tests;
  if (entry.command.mentions("tests_file")) values.tests_file = write_tests_file(unit).string();
  ProcessSpec spec = make_spec(entry.command, env, values, entry.cwd, unit_log(unit));
  spec.timeout = entry.timeout;
  return spec;
}

}  // namespace shardrun
