#pragma once
// Turns a Suite into the processes of one run: environments layered as
// DESIGN §3 says, placeholders expanded, log and JUnit paths in the run
// directory. Pure apart from creating each shard's {tmp} folder and writing
// each unit's {tests_file}.

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "shardrun/env.hpp"
#include "shardrun/placeholders.hpp"
#include "shardrun/resources.hpp"
#include "shardrun/scheduler.hpp"
#include "shardrun/suite.hpp"

namespace shardrun {

struct RunContext {
  std::string run_id;
  std::filesystem::path run_dir;  ///< absolute
  int shards = 1;
  EnvList base_env;  ///< the environment shardrun was started with
  Millis kill_grace{10000};
  bool keep_resources = false;     ///< --keep-resources: leave schemas and databases
  std::filesystem::path lock_dir;  ///< port locks; empty: default_lock_dir()
};

class JobBuilder;

/// The resources of a suite's shards (DESIGN §5, job_resources.cpp): expands
/// each resource's fields against the shard's environment so far (through
/// its JobBuilder), makes the port or the PostgreSQL object, or describes
/// the service for the scheduler to start, and holds what each exports for
/// every later command of the shard. Owned by its JobBuilder.
class SuiteResources final : public ShardResources {
 public:
  explicit SuiteResources(const JobBuilder& jobs) : jobs_(jobs) {}

  std::size_t resource_count() const override;
  ResourceStart acquire_resource(int shard, std::size_t index) override;
  ReadyCheck check_ready(int shard, std::size_t index, TimePoint since, TimePoint now) override;
  std::optional<std::string> release_resource(int shard, std::size_t index) override;
  std::string resource_name(std::size_t index) const override;
  /// A service's log: "<run_dir>/logs/shard-2-service-app.log".
  std::filesystem::path service_log(int shard, std::size_t index) const;

  /// What the shard's resources export so far, in the order they were made.
  EnvList exports(int shard) const;

 private:
  /// What one acquired resource of a shard holds until it is released.
  struct Held {
    std::optional<PortLease> port;
    std::unique_ptr<PostgresLease> postgres;
    ReadyProbe ready;  ///< a service's probe, placeholders expanded
    std::uintmax_t log_size_seen = static_cast<std::uintmax_t>(-1);  ///< log probe: size last read
    EnvList exports;
  };
  Held& held(int shard, std::size_t index);

  const JobBuilder& jobs_;
  std::vector<std::vector<Held>> held_;  ///< [shard][resource]
};

/// The commands of a run over a Suite: global and shard setup/teardown,
/// discover commands and units, with their environments, logs and JUnit
/// paths. Each shard's environment includes what its resources export.
class JobBuilder final : public CommandFactory {
 public:
  JobBuilder(const Suite& suite, RunContext context);
  JobBuilder(const JobBuilder&) = delete;  // its resources refer to it
  JobBuilder& operator=(const JobBuilder&) = delete;

  /// Global setup/teardown: run once, in the suite's folder, with the suite env.
  std::vector<ProcessSpec> global_setup() const;
  std::vector<ProcessSpec> global_teardown() const;

  /// An entry's discover command: once per run, with the global environment,
  /// in the entry's cwd.
  ProcessSpec discover(std::size_t entry) const;

  /// The full environment of a shard's commands (before entry env).
  EnvList shard_env(int shard) const;

  std::filesystem::path unit_log(const Unit& unit) const;
  std::filesystem::path unit_junit(const Unit& unit) const;
  /// {tests_file}: "<run_dir>/tests/003-api.txt", one test id per line.
  std::filesystem::path unit_tests_file(const Unit& unit) const;
  std::filesystem::path shard_tmp(int shard) const;
  /// Stem of a unit's files: "003-api" (retries: "003-api.retry1").
  std::string unit_stem(const Unit& unit) const;

  /// The shards' resources, for the scheduler.
  SuiteResources& resources() { return *resources_; }
  const SuiteResources& resources() const { return *resources_; }

  std::vector<ProcessSpec> shard_setup(int shard) override;
  std::vector<ProcessSpec> shard_teardown(int shard) override;
  ProcessSpec unit(int shard, const Unit& unit) override;

  const Suite& suite() const { return suite_; }
  const RunContext& context() const { return context_; }

 private:
  friend class SuiteResources;  // builds a service's spec as commands are built

  std::vector<ProcessSpec> commands(const std::vector<CommandSpec>& list, int shard,
                                    const std::string& log_prefix) const;
  PlaceholderValues values_for(int shard, const EnvList& env) const;
  /// Writes the unit's ids to unit_tests_file(); throws Error when it cannot.
  std::filesystem::path write_tests_file(const Unit& unit) const;
  ProcessSpec make_spec(const CommandSpec& command, const EnvList& env,
                        const PlaceholderValues& values, const std::filesystem::path& cwd,
                        const std::filesystem::path& log) const;
  /// Expands each value against the env built so far and appends it.
  void layer_env(EnvList& env, const EnvList& layer, PlaceholderValues values) const;

  const Suite& suite_;
  RunContext context_;
  std::unique_ptr<SuiteResources> resources_;
};

}  // namespace shardrun
