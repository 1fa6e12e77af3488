#pragma once
// Environments as ordered NAME=VALUE pairs (util): what a suite's `env`
// layers are, what a child is given.

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace shardrun {

/// Ordered NAME=VALUE pairs; later pairs win over earlier ones with the same name.
using EnvList = std::vector<std::pair<std::string, std::string>>;

/// Sets NAME=VALUE in an EnvList, replacing an earlier NAME.
void set_env(EnvList& env, const std::string& name, const std::string& value);
/// The value of NAME, or nullopt.
std::optional<std::string> get_env(const EnvList& env, std::string_view name);
/// "NAME=VALUE" strings for ProcessSpec::env.
std::vector<std::string> to_environ(const EnvList& env);
/// The current process environment.
EnvList current_environment();

}  // namespace shardrun
