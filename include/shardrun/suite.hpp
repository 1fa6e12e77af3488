#pragma once
// The validated model of a suite file (DESIGN §3). Strings that may hold
// placeholders are kept as written; placeholders.hpp expands them per shard.

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "shardrun/env.hpp"

namespace shardrun {

// EnvList: ordered NAME=VALUE pairs (env.hpp).

/// Where something was written in the suite file (1-based; 0 = unknown).
struct SourceLocation {
  int line = 0;
  int column = 0;
};

/// A command as written: a string runs under `/bin/sh -c`, a list runs as argv.
struct CommandSpec {
  bool shell = true;
  std::string script;             ///< when shell: the text given to /bin/sh -c
  std::vector<std::string> argv;  ///< when !shell: the words, argv[0] the program
  SourceLocation where;

  /// True if any part of the command mentions the placeholder (e.g. "junit").
  bool mentions(std::string_view placeholder) const;
  /// For messages and run.json: the script, or the argv joined with spaces.
  std::string display() const;
};

/// One item of `tests:`.
struct Entry {
  std::string name;
  CommandSpec command;
  std::optional<CommandSpec> discover;
  /// Files whose content decides what `discover` prints (patterns relative
  /// to cwd, `*` and `**`); when given, the ids are cached on their hash.
  std::vector<std::string> discover_inputs;
  /// Test files as patterns relative to cwd (`*`, `**`): the matching files
  /// are the entry's test ids, found without running anything. Excludes
  /// `discover`.
  std::vector<std::string> files;
  /// A regex whose first capture is a test id's group (units hold whole
  /// groups); empty: the part of the id before the first "::".
  std::string group;
  std::optional<std::chrono::milliseconds> timeout;  ///< per unit
  int retries = 0;
  EnvList env;
  std::filesystem::path cwd;  ///< absolute; default: the suite file's folder
  SourceLocation where;

  /// Has test ids (from `discover` or `files`), so its command takes {tests}.
  bool has_ids() const { return discover.has_value() || !files.empty(); }
};

/// How a service says it is ready (DESIGN §5).
struct ReadyProbe {
  enum class Kind { kNone, kTcp, kHttp, kLog };
  Kind kind = Kind::kNone;
  std::string target;  ///< "HOST:PORT", a URL, or a regex; may hold placeholders
};

/// One item of `shard.resources` (DESIGN §5), validated per type. Text
/// fields are kept as written; placeholders are expanded per shard.
struct ResourceSpec {
  enum class Type { kPort, kPostgres, kService };
  Type type = Type::kPort;
  std::string name;  ///< port: the variable; service: names its log and messages
  // postgres
  bool database_mode = false;  ///< `mode: database` (else schema)
  std::string prefix = "shardrun";
  std::string url;                        ///< empty: the PG* variables
  std::string template_db = "template1";  ///< database mode
  // service
  std::optional<CommandSpec> command;
  std::filesystem::path cwd;  ///< absolute; default: the suite file's folder
  ReadyProbe ready;
  std::chrono::milliseconds timeout{30000};  ///< start-up limit for `ready`
  SourceLocation where;

  /// "port WEB_PORT", "postgres schema app_test", "service 'app'".
  std::string display() const;
};

struct ShardSpec {
  EnvList env;
  std::vector<ResourceSpec> resources;
  std::vector<CommandSpec> setup;
  std::vector<CommandSpec> teardown;
};

struct Suite {
  std::filesystem::path file;  ///< absolute path of the suite file
  std::filesystem::path dir;   ///< its folder; relative paths are relative to it
  std::string name;
  std::optional<int> workers;  ///< nullopt: not given
  bool workers_auto = false;   ///< `workers: auto`
  EnvList env;
  std::vector<CommandSpec> setup;
  std::vector<CommandSpec> teardown;
  ShardSpec shard;
  std::vector<Entry> tests;
};

/// Reads and validates a suite file. Throws SuiteError (exit 2) with the
/// file, line and column of the first problem; nothing has run by then.
Suite load_suite(const std::filesystem::path& file);

/// Same, from text already read; `file` is used for messages and for
/// resolving relative paths.
Suite parse_suite(const std::string& text, const std::filesystem::path& file);

/// "30s", "10m", "1h", "1m30s", "250ms" or a plain number of seconds
/// ("1.5"). Returns nullopt when the text is not a duration.
std::optional<std::chrono::milliseconds> parse_duration(std::string_view text);

}  // namespace shardrun
