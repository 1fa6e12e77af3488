// Commands: how a YAML node becomes a CommandSpec (a string runs under
// /bin/sh -c, a list is argv), and the CommandSpec queries.

#include <algorithm>

#include "shardrun/placeholders.hpp"
#include "shardrun/suite.hpp"
#include "suite_internal.hpp"

namespace shardrun {

namespace {

bool mentions_in(std::string_view text, std::string_view placeholder) {
  const auto refs = find_placeholders(text);
  return std::any_of(refs.begin(), refs.end(),
                     [&](const PlaceholderRef& ref) { return ref.name == placeholder; });
}

bool is_blank(std::string_view text) {
  return std::all_of(text.begin(), text.end(),
                     [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; });
}

}  // namespace

bool CommandSpec::mentions(std::string_view placeholder) const {
  if (shell) return mentions_in(script, placeholder);
  return std::any_of(argv.begin(), argv.end(),
                     [&](const std::string& word) { return mentions_in(word, placeholder); });
}

std::string CommandSpec::display() const {
  if (shell) return script;
  std::string out;
  for (const std::string& word : argv) {
    if (!out.empty()) out += ' ';
    out += word;
  }
  return out;
}

namespace suite_detail {

CommandSpec Walker::command(const YAML::Node& node, std::string_view what, const FieldRule& rule) {
  const std::string name(what);
  CommandSpec spec;
  spec.where = where(node);
  if (node.IsScalar()) {
    spec.shell = true;
    spec.script = node.Scalar();
    if (is_blank(spec.script)) fail(node, name + " must not be empty");
    check_placeholders(node, spec.script, rule);
    return spec;
  }
  if (!node.IsSequence()) {
    if (node.IsNull()) fail(node, name + " has no value; it must be a string or a list of words");
    fail(node, name + " must be a string or a list of words, not " + describe(node));
  }
  spec.shell = false;
  const std::vector<YAML::Node> words = items(node);
  if (words.empty()) fail(node, name + " must not be an empty list");
  for (const YAML::Node& word : words) {
    if (!word.IsScalar()) {
      fail(word, "each word of " + name + " must be text, not " + describe(word));
    }
    check_placeholders(word, word.Scalar(), rule);
    spec.argv.push_back(word.Scalar());
  }
  if (spec.argv.front().empty()) {
    fail(words.front(), "the program (first word) of " + name + " must not be empty");
  }
  return spec;
}

std::vector<CommandSpec> Walker::commands(const Field& field, const FieldRule& rule) {
  if (!field.value.IsSequence()) fail_value(field, "a list of commands");
  std::vector<CommandSpec> out;
  const std::string what = "an item of '" + field.key + "'";
  for (const YAML::Node& item : items(field.value)) {
    out.push_back(command(item, what, rule));
  }
  return out;
}

}  // namespace suite_detail

}  // namespace shardrun
