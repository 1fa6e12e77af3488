// The Walker: locations, errors, the visit budget, map keys (unknown,
// duplicate, did-you-mean), scalar text, env maps and placeholder checks.

#include <algorithm>
#include <cctype>

#include "shardrun/error.hpp"
#include "shardrun/placeholders.hpp"
#include "suite_internal.hpp"

namespace shardrun::suite_detail {

namespace {

// Optimal string alignment distance (Levenshtein plus swapping two
// neighbours, the commonest typo), ignoring case.
size_t edit_distance(std::string_view a, std::string_view b) {
  auto lower = [](char c) {
    return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  };
  const size_t n = a.size();
  const size_t m = b.size();
  std::vector<std::vector<size_t>> d(n + 1, std::vector<size_t>(m + 1));
  for (size_t i = 0; i <= n; ++i) d[i][0] = i;
  for (size_t j = 0; j <= m; ++j) d[0][j] = j;
  for (size_t i = 1; i <= n; ++i) {
    for (size_t j = 1; j <= m; ++j) {
      const size_t cost = lower(a[i - 1]) == lower(b[j - 1]) ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && lower(a[i - 1]) == lower(b[j - 2]) &&
          lower(a[i - 2]) == lower(b[j - 1])) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[n][m];
}

std::string join(std::span<const std::string_view> words) {
  std::string out;
  for (std::string_view word : words) {
    if (!out.empty()) out += ", ";
    out += word;
  }
  return out;
}

std::string unknown_key_message(std::string_view key, std::span<const std::string_view> allowed,
                                std::string_view context) {
  std::string message = "unknown key " + quote_for_message(key) + " in " + std::string(context);
  if (key == "<<") return message + " (YAML merge keys are not supported; repeat the keys)";
  const std::string hint = did_you_mean(key, allowed);
  if (!hint.empty()) return message + hint;
  return message + " (allowed: " + join(allowed) + ")";
}

bool is_env_name(std::string_view name) {
  if (name.empty() || std::isdigit(static_cast<unsigned char>(name.front()))) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
}

struct Known {
  std::string_view name;
  PlaceholderBit bit;
};
constexpr Known kKnown[] = {
    {"shard", kShard}, {"shards", kShards},  {"tests", kTests}, {"tests_file", kTestsFile},
    {"junit", kJunit}, {"run_dir", kRunDir}, {"tmp", kTmp},     {"env.NAME", kEnvVar}};

unsigned bit_of(std::string_view name) {
  if (name.starts_with("env.")) return kEnvVar;
  for (const Known& known : kKnown) {
    if (known.name == name) return known.bit;
  }
  return 0;
}

std::string allowed_list(unsigned allowed) {
  std::string out;
  for (const Known& known : kKnown) {
    if ((allowed & known.bit) == 0) continue;
    if (!out.empty()) out += ", ";
    out += "{" + std::string(known.name) + "}";
  }
  return out;
}

}  // namespace

std::string describe(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Scalar:
      return quote_for_message(node.Scalar());
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Map:
      return "a map";
    default:
      return "nothing";
  }
}

std::string did_you_mean(std::string_view word, std::span<const std::string_view> known) {
  // Two edits catch most typos; for short words one, or everything matches.
  const size_t limit = word.size() <= 3 ? 1 : 2;
  std::string_view best;
  size_t best_distance = limit + 1;
  for (std::string_view candidate : known) {
    // The distance is at least the difference in length; skipping early
    // also keeps a huge unknown word from costing a huge table.
    const size_t longer = std::max(word.size(), candidate.size());
    const size_t shorter = std::min(word.size(), candidate.size());
    if (longer - shorter > limit) continue;
    const size_t distance = edit_distance(word, candidate);
    if (distance < best_distance) {
      best = candidate;
      best_distance = distance;
    }
  }
  if (best.empty()) return "";
  return " (did you mean '" + std::string(best) + "'?)";
}

SourceLocation Walker::where(const YAML::Node& node) const {
  const YAML::Mark mark = node.Mark();
  if (mark.line < 0 || mark.column < 0) return {};
  return {mark.line + 1, mark.column + 1};
}

void Walker::fail(const YAML::Node& node, const std::string& message) const {
  fail_at(where(node), message);
}

void Walker::fail_at(SourceLocation at, const std::string& message) const {
  throw SuiteError(file_, at.line, at.column, message);
}

void Walker::fail_value(const Field& field, std::string_view expectation) const {
  if (!field.value.IsDefined() || field.value.IsNull()) {
    fail(field.key_node,
         "'" + field.key + "' has no value; it must be " + std::string(expectation));
  }
  fail(field.value, "'" + field.key + "' must be " + std::string(expectation) + ", not " +
                        describe(field.value));
}

void Walker::count(const YAML::Node& node) {
  ++nodes_;
  if (node.IsScalar()) scalar_bytes_ += node.Scalar().size();
  if (nodes_ > kMaxNodes || scalar_bytes_ > kMaxScalarBytes) {
    fail(node, "the suite is too big (more than " + std::to_string(kMaxNodes) + " values or " +
                   std::to_string(kMaxScalarBytes / (1024 * 1024)) +
                   " MiB of text, counting each use of an alias (*name))");
  }
}

std::vector<Field> Walker::fields(const YAML::Node& map, std::span<const std::string_view> allowed,
                                  std::string_view context) {
  count(map);
  std::vector<Field> out;
  std::unordered_map<std::string, int> first_line;
  for (auto it = map.begin(); it != map.end(); ++it) {
    const YAML::Node key = it->first;
    const YAML::Node value = it->second;
    count(key);
    count(value);
    if (!key.IsScalar()) {
      fail(key, "a key must be a plain name, not " + describe(key));
    }
    std::string name = key.Scalar();
    if (!allowed.empty() && std::find(allowed.begin(), allowed.end(), name) == allowed.end()) {
      fail(key, unknown_key_message(name, allowed, context));
    }
    auto [seen, inserted] = first_line.emplace(name, where(key).line);
    if (!inserted) {
      fail(key, "duplicate key " + quote_for_message(name) + " (first defined at line " +
                    std::to_string(seen->second) + ")");
    }
    out.push_back({std::move(name), key, value});
  }
  return out;
}

std::vector<YAML::Node> Walker::items(const YAML::Node& sequence) {
  count(sequence);
  std::vector<YAML::Node> out;
  for (auto it = sequence.begin(); it != sequence.end(); ++it) {
    count(*it);
    out.push_back(*it);
  }
  return out;
}

std::string Walker::text(const Field& field, std::string_view expectation) const {
  if (!field.value.IsScalar()) fail_value(field, expectation);
  return field.value.Scalar();
}

SourceLocation Walker::location_in(const YAML::Node& node, std::string_view value,
                                   size_t offset) const {
  const SourceLocation start = where(node);
  const YAML::Mark mark = node.Mark();
  if (start.line == 0 || mark.pos < 0 || value.find('\n') != std::string_view::npos) {
    return start;
  }
  const auto blank = [](char c) { return c == ' ' || c == '\t'; };
  size_t pos = static_cast<size_t>(mark.pos);
  // A node's mark may sit on its anchor (&a) or tag (!t); step over them.
  while (pos < source_.size() && (source_[pos] == '&' || source_[pos] == '!')) {
    while (pos < source_.size() && !blank(source_[pos]) && source_[pos] != '\n') ++pos;
    while (pos < source_.size() && blank(source_[pos])) ++pos;
  }
  if (pos < source_.size() && (source_[pos] == '"' || source_[pos] == '\'')) ++pos;
  // Only trust the arithmetic when the value is written verbatim there
  // (no escapes, no folding); otherwise point at the scalar's start.
  if (pos > source_.size() || source_.substr(pos, value.size()) != value) return start;
  return {start.line,
          start.column + static_cast<int>(pos - static_cast<size_t>(mark.pos) + offset)};
}

void Walker::check_placeholders(const YAML::Node& node, std::string_view text,
                                const FieldRule& rule) const {
  for (const PlaceholderRef& ref : find_placeholders(text)) {
    const SourceLocation at = location_in(node, text, ref.offset);
    if (ref.name.empty()) {
      fail_at(at, unterminated_placeholder_message(text.substr(ref.offset)));
    }
    if (!is_known_placeholder(ref.name)) fail_at(at, unknown_placeholder_message(ref.name));
    if ((rule.allowed & bit_of(ref.name)) != 0) continue;
    if ((ref.name == "tests" || ref.name == "tests_file") && rule.tests_need_discover) {
      fail_at(at, "'{" + ref.name +
                      "}' needs a 'discover' command or 'files' (the test ids come from one of "
                      "them)");
    }
    const std::string allowed = allowed_list(rule.allowed);
    fail_at(at, "placeholder '{" + ref.name + "}' cannot be used in " + std::string(rule.where) +
                    (allowed.empty() ? std::string(" (none can)")
                                     : " (allowed there: " + allowed + ")"));
  }
}

EnvList Walker::env(const Field& field, const FieldRule& rule) {
  if (!field.value.IsMap()) fail_value(field, "a map of NAME: value");
  EnvList out;
  for (const Field& var : fields(field.value, {}, "'env'")) {
    if (!is_env_name(var.key)) {
      fail(var.key_node, quote_for_message(var.key) +
                             " is not a valid variable name (letters, digits and '_', not "
                             "starting with a digit)");
    }
    if (var.value.IsNull()) {
      fail(var.key_node, "'" + var.key + "' in 'env' has no value (write " + var.key +
                             ": \"\" for an empty one)");
    }
    std::string value = text(var, "text, a number or a boolean");
    check_placeholders(var.value, value, rule);
    out.emplace_back(var.key, std::move(value));
  }
  return out;
}

}  // namespace shardrun::suite_detail
