// load_suite / parse_suite: the suite file (DESIGN §3) → validated Suite.
//
// Order of work: read the file (bounded), prescan the text (size, NUL,
// UTF-8, nesting), check that it is YAML at all (libfyaml: strict where
// yaml-cpp is lenient), let yaml-cpp parse it, then walk the tree along
// the schema below. The walk only descends where the schema expects a
// collection, so its depth is bounded; the Walker's budget bounds its
// breadth even when aliases share nodes. The first problem throws
// SuiteError at its node.
//
// Choices the spec leaves open: `timeout` must be more than 0; `workers`
// and `retries` are whole numbers below 10^9; a test name may hold any
// printable text except '/' (it becomes part of file names) and may not be
// "." or ".."; env names are [A-Za-z_][A-Za-z0-9_]*; an env value with no
// value (`FOO:`) is an error rather than ""; a file with several YAML
// documents is an error.

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <regex>
#include <system_error>
#include <unordered_map>

#include "shardrun/error.hpp"
#include "shardrun/suite.hpp"
#include "suite_internal.hpp"

namespace shardrun {

namespace {

using suite_detail::Field;
using suite_detail::FieldRule;
using suite_detail::Walker;
namespace sd = suite_detail;

constexpr std::array<std::string_view, 8> kTopKeys = {"version", "name",     "workers", "env",
                                                      "setup",   "teardown", "shard",   "tests"};
constexpr std::array<std::string_view, 4> kShardKeys = {"env", "resources", "setup", "teardown"};
constexpr std::array<std::string_view, 10> kEntryKeys = {
    "name",    "command", "discover", "discover_inputs", "files", "group", "timeout",
    "retries", "env",     "cwd"};

constexpr FieldRule kSuiteEnv{sd::kShardPlaceholders, "the suite's 'env'"};
constexpr FieldRule kGlobalSetup{sd::kGlobalPlaceholders, "the global 'setup'"};
constexpr FieldRule kGlobalTeardown{sd::kGlobalPlaceholders, "the global 'teardown'"};
constexpr FieldRule kShardEnv{sd::kShardPlaceholders, "'shard.env'"};
constexpr FieldRule kShardSetup{sd::kShardPlaceholders, "'shard.setup'"};
constexpr FieldRule kShardTeardown{sd::kShardPlaceholders, "'shard.teardown'"};
constexpr FieldRule kTestEnv{sd::kUnitPlaceholders, "a test's 'env'"};
constexpr FieldRule kDiscover{sd::kGlobalPlaceholders, "'discover'"};

const Field* find(const std::vector<Field>& fields, std::string_view key) {
  for (const Field& field : fields) {
    if (field.key == key) return &field;
  }
  return nullptr;
}

// Test names become parts of file names (logs, JUnit files).
std::optional<std::string> bad_name_reason(const std::string& name) {
  if (name.empty()) return "must not be empty";
  if (name == "." || name == "..") return "must not be '.' or '..'";
  for (char c : name) {
    if (c == '/') return "must not contain '/' (it is used in file names)";
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7F) return "must not contain control characters";
  }
  return std::nullopt;
}

class SuiteReader {
 public:
  SuiteReader(Walker& walker, Suite& suite) : w_(walker), suite_(suite) {}

  void read(const YAML::Node& root, std::optional<SourceLocation> content) {
    if (!root.IsMap()) {
      if (!content) {
        w_.fail_at({1, 1}, "the suite file is empty; it needs 'version: 1' and 'tests'");
      }
      // A document of only `~` or `null`: no node to point at.
      if (root.IsNull()) {
        w_.fail_at(*content, "the suite must be a map with keys such as 'version' and 'tests'");
      }
      w_.fail(root, "the suite must be a map with keys such as 'version' and 'tests', not " +
                        sd::describe(root));
    }
    const std::vector<Field> fields = w_.fields(root, kTopKeys, "the suite");
    const Field* version = find(fields, "version");
    if (version == nullptr) w_.fail(root, "missing required key 'version' (add 'version: 1')");
    if (w_.text(*version, "1") != "1") w_.fail_value(*version, "1");
    if (find(fields, "tests") == nullptr) {
      w_.fail(root, "missing required key 'tests' (the list of test commands)");
    }
    for (const Field& field : fields) {
      if (field.key == "name") {
        suite_.name = w_.text(field, "text");
        if (suite_.name.empty()) w_.fail(field.value, "'name' must not be empty");
      } else if (field.key == "workers") {
        read_workers(field);
      } else if (field.key == "env") {
        suite_.env = w_.env(field, kSuiteEnv);
      } else if (field.key == "setup") {
        suite_.setup = w_.commands(field, kGlobalSetup);
      } else if (field.key == "teardown") {
        suite_.teardown = w_.commands(field, kGlobalTeardown);
      } else if (field.key == "shard") {
        read_shard(field);
      } else if (field.key == "tests") {
        read_tests(field);
      }
    }
  }

 private:
  void read_workers(const Field& field) {
    constexpr std::string_view kExpect = "a positive whole number or \"auto\"";
    const std::string text = w_.text(field, kExpect);
    if (text == "auto") {
      suite_.workers_auto = true;
      return;
    }
    const auto count = sd::parse_count(text);
    if (!count || *count == 0) w_.fail_value(field, kExpect);
    suite_.workers = *count;
  }

  void read_shard(const Field& shard) {
    if (!shard.value.IsMap()) {
      w_.fail_value(shard, "a map with 'env', 'resources', 'setup', 'teardown'");
    }
    for (const Field& field : w_.fields(shard.value, kShardKeys, "'shard'")) {
      if (field.key == "env") {
        suite_.shard.env = w_.env(field, kShardEnv);
      } else if (field.key == "setup") {
        suite_.shard.setup = w_.commands(field, kShardSetup);
      } else if (field.key == "teardown") {
        suite_.shard.teardown = w_.commands(field, kShardTeardown);
      } else if (field.key == "resources") {
        if (!field.value.IsSequence()) w_.fail_value(field, "a list of resources");
        for (const YAML::Node& item : w_.items(field.value)) {
          suite_.shard.resources.push_back(sd::read_resource(w_, item, suite_.dir));
        }
      }
    }
  }

  void read_tests(const Field& tests) {
    if (!tests.value.IsSequence()) w_.fail_value(tests, "a non-empty list");
    const std::vector<YAML::Node> items = w_.items(tests.value);
    if (items.empty()) w_.fail(tests.value, "'tests' must be a non-empty list");
    std::unordered_map<std::string, int> first_line;
    for (const YAML::Node& item : items) {
      Entry entry = read_entry(item);
      auto [seen, inserted] = first_line.emplace(entry.name, name_location_.line);
      if (!inserted) {
        w_.fail_at(name_location_, "duplicate test name " + sd::quote_for_message(entry.name) +
                                       " (first defined at line " + std::to_string(seen->second) +
                                       ")");
      }
      suite_.tests.push_back(std::move(entry));
    }
  }

  Entry read_entry(const YAML::Node& node) {
    if (!node.IsMap()) {
      w_.fail(node, "each item of 'tests' must be a map with 'name' and 'command', not " +
                        sd::describe(node));
    }
    const std::vector<Field> fields = w_.fields(node, kEntryKeys, "test entry");
    Entry entry;
    const Field* name = find(fields, "name");
    if (name == nullptr) w_.fail(node, "a test entry needs a 'name'");
    entry.name = w_.text(*name, "text");
    if (auto reason = bad_name_reason(entry.name)) {
      w_.fail(name->value, "test name " + sd::quote_for_message(entry.name) + " " + *reason);
    }
    entry.where = w_.where(node);
    name_location_ = w_.where(name->value);
    entry.cwd = suite_.dir;

    const Field* command = find(fields, "command");
    if (command == nullptr) {
      w_.fail(node, "test " + sd::quote_for_message(entry.name) + " needs a 'command'");
    }
    const Field* discover = find(fields, "discover");
    if (discover != nullptr) {
      if (discover->value.IsNull()) w_.fail_value(*discover, "a string or a list of words");
      entry.discover = w_.command(discover->value, "'discover'", kDiscover);
    }
    const Field* files = find(fields, "files");
    if (files != nullptr) {
      if (discover != nullptr)
        w_.fail(files->key_node,
                "'files' and 'discover' cannot both be given: the test ids come from one of them");
      entry.files = read_patterns(*files);
    }
    const bool has_ids = discover != nullptr || files != nullptr;
    if (command->value.IsNull()) w_.fail_value(*command, "a string or a list of words");
    const FieldRule command_rule{
        has_ids ? sd::kAllPlaceholders : sd::kAllPlaceholders & ~(sd::kTests | sd::kTestsFile),
        "a test's 'command'", !has_ids};
    entry.command = w_.command(command->value, "'command'", command_rule);
    if (has_ids && !entry.command.mentions("tests") && !entry.command.mentions("tests_file")) {
      w_.fail(
          command->value,
          std::string("'command' must contain '{tests}' or '{tests_file}' when the entry has '") +
              (discover ? "discover" : "files") + "' (the test ids go there)");
    }

    for (const Field& field : fields) {
      if (field.key == "timeout") {
        constexpr std::string_view kExpect =
            "a duration like 30s, 10m, 1h30m, or a number of seconds";
        const auto timeout = parse_duration(w_.text(field, kExpect));
        if (!timeout) w_.fail_value(field, kExpect);
        if (timeout->count() == 0) w_.fail(field.value, "'timeout' must be more than 0");
        entry.timeout = *timeout;
      } else if (field.key == "retries") {
        constexpr std::string_view kExpect = "a whole number, 0 or more";
        const auto retries = sd::parse_count(w_.text(field, kExpect));
        if (!retries) w_.fail_value(field, kExpect);
        entry.retries = *retries;
      } else if (field.key == "discover_inputs") {
        entry.discover_inputs = read_patterns(field);
        if (discover == nullptr)
          w_.fail(field.key_node, "'discover_inputs' needs a 'discover' command in the same entry");
      } else if (field.key == "group") {
        entry.group = read_group(field);
        if (!has_ids)
          w_.fail(field.key_node, "'group' needs 'discover' or 'files' in the same entry");
      } else if (field.key == "env") {
        entry.env = w_.env(field, kTestEnv);
      } else if (field.key == "cwd") {
        entry.cwd = read_cwd(field);
      }
    }
    return entry;
  }

  std::vector<std::string> read_patterns(const Field& field) {
    constexpr std::string_view kExpect = "a list of file patterns like tests/**/*.py";
    if (!field.value.IsSequence() || field.value.size() == 0) w_.fail_value(field, kExpect);
    std::vector<std::string> patterns;
    for (const YAML::Node& item : field.value) {
      if (!item.IsScalar() || item.Scalar().empty())
        w_.fail(item, "each of '" + field.key + "' must be a non-empty file pattern");
      patterns.push_back(item.Scalar());
    }
    return patterns;
  }

  // A regex whose first capture names a test id's group; checked here so
  // that a bad one is a suite error with its line, not a failure mid-run.
  std::string read_group(const Field& field) {
    constexpr std::string_view kExpect = "a regular expression with one capture group";
    std::string pattern = w_.text(field, kExpect);
    try {
      std::regex re(pattern);
      if (re.mark_count() < 1)
        w_.fail(field.value,
                "'group' needs a capture group, e.g. '^([^:]+)::' (the group is "
                "what the first one matches)");
    } catch (const std::regex_error& e) {
      w_.fail(field.value, std::string("'group' is not a valid regular expression: ") + e.what());
    }
    return pattern;
  }

  std::filesystem::path read_cwd(const Field& field) {
    return sd::existing_folder(w_, field, suite_.dir);
  }

  Walker& w_;
  Suite& suite_;
  SourceLocation name_location_;
};

}  // namespace

Suite parse_suite(const std::string& text, const std::filesystem::path& file) {
  const std::string shown = file.string();
  sd::prescan(text, shown);
  sd::check_yaml_syntax(text, shown);

  Suite suite;
  std::error_code ec;
  std::filesystem::path absolute = std::filesystem::absolute(file, ec);
  if (ec) absolute = file;
  suite.file = absolute.lexically_normal();
  suite.dir = sd::normal_dir(suite.file.parent_path());
  suite.name = file.stem().string();

  try {
    // YAML::LoadAll loops forever on some bad input (yaml-cpp PR #1319), so
    // load one document; the prescan has refused a second one already.
    const YAML::Node root = YAML::Load(text);
    Walker walker(shown, text);
    SuiteReader(walker, suite).read(root, sd::first_content(text));
  } catch (const YAML::Exception& e) {
    const bool known = !e.mark.is_null() && e.mark.line >= 0;
    throw SuiteError(shown, known ? e.mark.line + 1 : 0, known ? e.mark.column + 1 : 0, e.msg);
  }
  return suite;
}

Suite load_suite(const std::filesystem::path& file) {
  const std::string shown = file.string();
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    throw SuiteError(shown, 0, 0, std::string("cannot read suite file: ") + std::strerror(errno));
  }
  std::error_code ec;
  if (std::filesystem::is_directory(file, ec)) {
    throw SuiteError(shown, 0, 0, "cannot read suite file: it is a directory");
  }
  // Read in chunks and stop just past the limit: a huge file costs no more
  // memory than an acceptable one.
  std::string text;
  std::array<char, 64 * 1024> chunk;
  while (text.size() <= sd::kMaxFileBytes) {
    in.read(chunk.data(), static_cast<std::streamsize>(chunk.size()));
    text.append(chunk.data(), static_cast<size_t>(in.gcount()));
    if (!in) break;
  }
  if (in.bad()) {
    throw SuiteError(shown, 0, 0, std::string("cannot read suite file: ") + std::strerror(errno));
  }
  if (text.size() > sd::kMaxFileBytes) {
    std::uintmax_t size = std::filesystem::file_size(file, ec);
    if (ec) size = text.size();
    throw SuiteError(shown, 0, 0, sd::too_large_message(size));
  }
  return parse_suite(text, file);
}

}  // namespace shardrun
