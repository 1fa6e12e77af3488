#pragma once
// Internal to the suite module: the pieces load_suite is built from. Only
// src/suite/ includes yaml-cpp; nothing here is part of the public API.

#include <yaml-cpp/yaml.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "shardrun/suite.hpp"
#include "shardrun/yaml_syntax.hpp"

namespace shardrun::suite_detail {

// Limits that keep hostile or broken files from crashing or stalling us.
inline constexpr size_t kMaxFileBytes = 4 * 1024 * 1024;
/// Deepest nesting of collections accepted (yaml-cpp recurses per level).
inline constexpr int kMaxNesting = 64;
/// Nodes and scalar bytes the walk may visit. Aliases (*x) make the walked
/// tree larger than the text ("billion laughs"); without them a 4 MiB file
/// holds at most about 2 million nodes, and a real suite far fewer.
inline constexpr size_t kMaxNodes = 1'000'000;
inline constexpr size_t kMaxScalarBytes = 32 * 1024 * 1024;

/// Rejects text that is too large, contains NUL bytes or invalid UTF-8,
/// nests deeper than kMaxNesting or holds several YAML documents, before
/// any parser sees it. Throws SuiteError naming `file`.
void prescan(std::string_view text, const std::string& file);

/// check_yaml_syntax (yaml_syntax.hpp), as the loader calls it.
using shardrun::check_yaml_syntax;

/// 1-based line and column of byte `offset` of `text`; the column counts
/// characters (bytes that do not continue a UTF-8 sequence), as libfyaml's do.
SourceLocation locate(std::string_view text, size_t offset);

/// "suite file is too large (N bytes; the limit is 4 MiB)".
std::string too_large_message(std::uintmax_t bytes);

/// Where the first text that is not blank, a comment, a directive or a
/// document marker is; nullopt when there is none.
std::optional<SourceLocation> first_content(std::string_view text);

/// Placeholder names as bits, to say which are allowed in a field.
enum PlaceholderBit : unsigned {
  kShard = 1u << 0,
  kShards = 1u << 1,
  kTests = 1u << 2,
  kJunit = 1u << 3,
  kRunDir = 1u << 4,
  kTmp = 1u << 5,
  kEnvVar = 1u << 6,
  kTestsFile = 1u << 7,
};
/// Before and after all shards: global setup/teardown, discover.
inline constexpr unsigned kGlobalPlaceholders = kShards | kRunDir | kEnvVar;
/// Inside a shard, outside a unit: suite env, shard.*, resource fields.
inline constexpr unsigned kShardPlaceholders = kGlobalPlaceholders | kShard | kTmp;
/// A unit's env.
inline constexpr unsigned kUnitPlaceholders = kShardPlaceholders | kJunit;
inline constexpr unsigned kAllPlaceholders = kUnitPlaceholders | kTests | kTestsFile;

/// Which placeholders a text field may use, and how to name it in messages.
struct FieldRule {
  unsigned allowed = 0;
  std::string_view where;            ///< e.g. "the global 'setup'"
  bool tests_need_discover = false;  ///< a test command of an entry without discover
};

/// One key: value pair of a YAML map, in file order.
struct Field {
  std::string key;
  YAML::Node key_node;
  YAML::Node value;
};

/// Walks the parsed YAML tree: turns nodes into values, checks keys and
/// placeholders, counts visited nodes against the budget, and throws
/// SuiteError at the offending node.
class Walker {
 public:
  Walker(std::string file, std::string_view source) : file_(std::move(file)), source_(source) {}

  /// 1-based location of a node (0 when yaml-cpp has none).
  SourceLocation where(const YAML::Node& node) const;
  [[noreturn]] void fail(const YAML::Node& node, const std::string& message) const;
  [[noreturn]] void fail_at(SourceLocation at, const std::string& message) const;
  /// "'KEY' must be EXPECTATION, not 'VALUE'" at the value, or, when the
  /// value is empty, "'KEY' has no value; it must be EXPECTATION" at the key.
  [[noreturn]] void fail_value(const Field& field, std::string_view expectation) const;

  /// Charges one visit of `node` to the budget.
  void count(const YAML::Node& node);

  /// The pairs of a map node in order. Rejects non-scalar and duplicate
  /// keys, and keys not in `allowed` (unless it is empty) as unknown in
  /// `context` ("test entry").
  std::vector<Field> fields(const YAML::Node& map, std::span<const std::string_view> allowed,
                            std::string_view context);
  /// The items of a sequence node, each charged to the budget.
  std::vector<YAML::Node> items(const YAML::Node& sequence);

  /// The text of a scalar value, else fail_value(field, expectation).
  std::string text(const Field& field, std::string_view expectation) const;

  /// Fails at the first placeholder of `text` (the scalar `node`) that is
  /// unknown, unterminated or not allowed by `rule`.
  void check_placeholders(const YAML::Node& node, std::string_view text,
                          const FieldRule& rule) const;

  /// An `env:` map: NAME: scalar, values checked against `rule`.
  EnvList env(const Field& field, const FieldRule& rule);
  /// A command: a string (shell) or a non-empty list of words (argv).
  /// `what` names it in messages ("'command'", "an item of 'setup'").
  CommandSpec command(const YAML::Node& node, std::string_view what, const FieldRule& rule);
  /// A list of commands (`setup`, `teardown`).
  std::vector<CommandSpec> commands(const Field& field, const FieldRule& rule);

 private:
  /// The column of byte `offset` of a scalar's value when it can be proven
  /// from the source (single-line plain or simply quoted), else its start.
  SourceLocation location_in(const YAML::Node& node, std::string_view value, size_t offset) const;

  std::string file_;
  std::string_view source_;
  size_t nodes_ = 0;
  size_t scalar_bytes_ = 0;
};

/// "'x'", "a list", "a map" or "nothing": how a node is named in messages.
std::string describe(const YAML::Node& node);
/// Text quoted for a message: control characters escaped, long text cut.
std::string quote_for_message(std::string_view text);
/// " (did you mean 'x'?)" for the closest of `known` within a small edit
/// distance, else "" .
std::string did_you_mean(std::string_view word, std::span<const std::string_view> known);
/// A whole number 0..999999999 written only with digits.
std::optional<int> parse_count(std::string_view text);

std::string unknown_placeholder_message(std::string_view name);
std::string unterminated_placeholder_message(std::string_view text);

/// One item of `shard.resources`, checked against the keys of its type.
ResourceSpec read_resource(Walker& walker, const YAML::Node& node,
                           const std::filesystem::path& suite_dir);

/// `path` lexically normalised, without a trailing separator.
std::filesystem::path normal_dir(const std::filesystem::path& path);

/// A folder path field (`cwd`), relative to `base`; fails unless it exists.
std::filesystem::path existing_folder(Walker& walker, const Field& field,
                                      const std::filesystem::path& base);

}  // namespace shardrun::suite_detail
