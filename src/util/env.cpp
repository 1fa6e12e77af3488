#include "shardrun/env.hpp"

extern char** environ;

namespace shardrun {

void set_env(EnvList& env, const std::string& name, const std::string& value) {
  for (auto& [n, v] : env) {
    if (n == name) {
      v = value;
      return;
    }
  }
  env.emplace_back(name, value);
}

std::optional<std::string> get_env(const EnvList& env, std::string_view name) {
  for (const auto& [n, v] : env)
    if (n == name) return v;
  return std::nullopt;
}

std::vector<std::string> to_environ(const EnvList& env) {
  std::vector<std::string> out;
  out.reserve(env.size());
  for (const auto& [n, v] : env) out.push_back(n + "=" + v);
  return out;
}

EnvList current_environment() {
  EnvList env;
  for (char** e = environ; e && *e; ++e) {
    std::string_view entry(*e);
    auto eq = entry.find('=');
    if (eq == std::string_view::npos || eq == 0) continue;
    env.emplace_back(std::string(entry.substr(0, eq)), std::string(entry.substr(eq + 1)));
  }
  return env;
}

}  // namespace shardrun
