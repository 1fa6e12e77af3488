// Reads one item of `shard.resources` (DESIGN §5) with the checks of its
// type: which keys it takes, which are required, which values are allowed.
// What a resource does at run time lives in the resources module.

#include <array>
#include <string>

#include "suite_internal.hpp"

namespace shardrun {

namespace sd = suite_detail;

namespace {

using sd::Field;
using sd::FieldRule;
using sd::Walker;

constexpr std::array<std::string_view, 3> kTypes = {"port", "postgres", "service"};
constexpr std::array<std::string_view, 2> kPortKeys = {"type", "name"};
constexpr std::array<std::string_view, 5> kPostgresKeys = {"type", "mode", "prefix", "url",
                                                           "template"};
constexpr std::array<std::string_view, 6> kServiceKeys = {"type",  "name", "command",
                                                          "ready", "cwd",  "timeout"};
constexpr std::array<std::string_view, 3> kReadyKeys = {"tcp", "http", "log"};
constexpr FieldRule kResourceField{sd::kShardPlaceholders, "'shard.resources'"};

bool is_env_name(std::string_view name) {
  if (name.empty() || (name[0] >= '0' && name[0] <= '9')) return false;
  for (char c : name) {
    bool ok =
        (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
    if (!ok) return false;
  }
  return true;
}

bool is_service_name(std::string_view name) {
  if (name.empty() || name == "." || name == "..") return false;
  for (char c : name) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == '-';
    if (!ok) return false;
  }
  return true;
}

const Field* find(const std::vector<Field>& fields, std::string_view key) {
  for (const Field& field : fields)
    if (field.key == key) return &field;
  return nullptr;
}

class ResourceReader {
 public:
  ResourceReader(Walker& w, const std::filesystem::path& dir) : w_(w), dir_(dir) {}

  ResourceSpec read(const YAML::Node& node) {
    if (!node.IsMap()) {
      w_.fail(node, "each resource must be a map with a 'type', not " + sd::describe(node));
    }
    // The type decides which keys are allowed, so find it first.
    const std::vector<Field> all = w_.fields(node, {}, "a resource");
    const Field* type = find(all, "type");
    if (type == nullptr) w_.fail(node, "a resource needs a 'type' (port, postgres or service)");
    const std::string value = w_.text(*type, "port, postgres or service");
    ResourceSpec spec;
    spec.where = w_.where(node);
    if (value == "port") {
      spec.type = ResourceSpec::Type::kPort;
      read_port(node, spec);
    } else if (value == "postgres") {
      spec.type = ResourceSpec::Type::kPostgres;
      read_postgres(node, spec);
    } else if (value == "service") {
      spec.type = ResourceSpec::Type::kService;
      read_service(node, spec);
    } else {
      std::string hint = sd::did_you_mean(value, kTypes);
      if (hint.empty()) hint = " (known: port, postgres, service)";
      w_.fail(type->value, "unknown resource type " + sd::quote_for_message(value) + hint);
    }
    return spec;
  }

 private:
  std::string scalar(const Field& field) {
    std::string text = w_.text(field, "a single value (text or a number)");
    w_.check_placeholders(field.value, text, kResourceField);
    return text;
  }

  void read_port(const YAML::Node& node, ResourceSpec& spec) {
    const std::vector<Field> fields = w_.fields(node, kPortKeys, "a 'port' resource");
    const Field* name = find(fields, "name");
    if (name == nullptr) {
      w_.fail(node, "a 'port' resource needs a 'name': the variable that receives the port");
    }
    spec.name = w_.text(*name, "a variable name");
    if (!is_env_name(spec.name)) {
      w_.fail(name->value, "'name' must be a variable name (letters, digits, '_'), not " +
                               sd::quote_for_message(spec.name));
    }
  }

  void read_postgres(const YAML::Node& node, ResourceSpec& spec) {
    const std::vector<Field> fields = w_.fields(node, kPostgresKeys, "a 'postgres' resource");
    const Field* template_field = nullptr;
    for (const Field& field : fields) {
      if (field.key == "mode") {
        std::string mode = w_.text(field, "'schema' or 'database'");
        if (mode != "schema" && mode != "database") w_.fail_value(field, "'schema' or 'database'");
        spec.database_mode = mode == "database";
      } else if (field.key == "prefix") {
        spec.prefix = scalar(field);
        if (spec.prefix.empty()) w_.fail(field.value, "'prefix' must not be empty");
      } else if (field.key == "url") {
        spec.url = scalar(field);
      } else if (field.key == "template") {
        template_field = &field;
        spec.template_db = scalar(field);
        if (spec.template_db.empty()) w_.fail(field.value, "'template' must not be empty");
      }
    }
    if (template_field != nullptr && !spec.database_mode) {
      w_.fail(template_field->key_node, "'template' needs 'mode: database'");
    }
  }

  void read_service(const YAML::Node& node, ResourceSpec& spec) {
    const std::vector<Field> fields = w_.fields(node, kServiceKeys, "a 'service' resource");
    const Field* name = find(fields, "name");
    if (name == nullptr) w_.fail(node, "a 'service' resource needs a 'name' (it names its log)");
    spec.name = w_.text(*name, "text");
    if (!is_service_name(spec.name)) {
      w_.fail(name->value,
              "service name " + sd::quote_for_message(spec.name) +
                  " may hold only letters, digits, '_', '.' and '-' (it names a file)");
    }
    const Field* command = find(fields, "command");
    if (command == nullptr) w_.fail(node, "service '" + spec.name + "' needs a 'command'");
    if (command->value.IsNull()) w_.fail_value(*command, "a string or a list of words");
    spec.command = w_.command(command->value, "'command'", kResourceField);
    spec.cwd = dir_;
    for (const Field& field : fields) {
      if (field.key == "ready") {
        read_ready(field, spec.ready);
      } else if (field.key == "cwd") {
        spec.cwd = sd::existing_folder(w_, field, dir_);
      } else if (field.key == "timeout") {
        constexpr std::string_view kExpect = "a duration like 30s, 2m, or a number of seconds";
        const auto timeout = parse_duration(w_.text(field, kExpect));
        if (!timeout) w_.fail_value(field, kExpect);
        if (timeout->count() == 0) w_.fail(field.value, "'timeout' must be more than 0");
        spec.timeout = *timeout;
      }
    }
  }

  void read_ready(const Field& ready, ReadyProbe& probe) {
    constexpr std::string_view kExpect = "a map with one of 'tcp', 'http' or 'log'";
    if (!ready.value.IsMap()) w_.fail_value(ready, kExpect);
    const std::vector<Field> fields = w_.fields(ready.value, kReadyKeys, "'ready'");
    if (fields.size() != 1)
      w_.fail(ready.value, "'ready' needs exactly one of 'tcp', 'http' or 'log'");
    const Field& field = fields.front();
    probe.target = scalar(field);
    if (probe.target.empty()) w_.fail_value(field, "a non-empty value");
    if (field.key == "tcp") {
      probe.kind = ReadyProbe::Kind::kTcp;
      if (probe.target.rfind(':') == std::string::npos)
        w_.fail(field.value, "'tcp' must be HOST:PORT, e.g. 127.0.0.1:{env.APP_PORT}");
    } else if (field.key == "http") {
      probe.kind = ReadyProbe::Kind::kHttp;
      if (probe.target.rfind("http://", 0) != 0)
        w_.fail(field.value, "'http' must be an http:// URL (https is not supported)");
    } else {
      probe.kind = ReadyProbe::Kind::kLog;
    }
  }

  Walker& w_;
  const std::filesystem::path& dir_;
};

}  // namespace

namespace suite_detail {

ResourceSpec read_resource(Walker& walker, const YAML::Node& node,
                           const std::filesystem::path& suite_dir) {
  return ResourceReader(walker, suite_dir).read(node);
}

std::filesystem::path normal_dir(const std::filesystem::path& path) {
  std::filesystem::path out = path.lexically_normal();
  // "a/b/." normalises to "a/b/"; drop the trailing separator.
  if (!out.has_filename() && out.has_relative_path()) out = out.parent_path();
  return out;
}

std::filesystem::path existing_folder(Walker& walker, const Field& field,
                                      const std::filesystem::path& base) {
  const std::string text = walker.text(field, "a folder path");
  if (text.empty()) {
    walker.fail(field.value,
                "'" + field.key + "' must not be empty (use '.' for the suite's folder)");
  }
  const std::filesystem::path dir = normal_dir(base / text);
  std::error_code ec;
  const auto status = std::filesystem::status(dir, ec);
  if (!std::filesystem::exists(status)) {
    walker.fail(field.value, "'" + field.key + "' folder does not exist: " + dir.string());
  }
  if (!std::filesystem::is_directory(status)) {
    walker.fail(field.value, "'" + field.key + "' is not a folder: " + dir.string());
  }
  return dir;
}

}  // namespace suite_detail

std::string ResourceSpec::display() const {
  switch (type) {
    case Type::kPort:
      return "port " + name;
    case Type::kPostgres:
      return std::string("postgres ") + (database_mode ? "database " : "schema ") + prefix;
    case Type::kService:
      return "service '" + name + "'";
  }
  return "resource";
}

}  // namespace shardrun
