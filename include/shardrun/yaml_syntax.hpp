#pragma once
// The suite module's strict syntax check of a suite file's text (libfyaml),
// before yaml-cpp reads it. load_suite (suite.hpp) calls it; it is public so
// that its tests can run it on the YAML test suite's cases alone.

#include <string>
#include <string_view>

namespace shardrun {

/// Rejects text that is not valid YAML 1.2 (libfyaml's parser decides),
/// with SuiteError "invalid YAML: ..." at the 1-based line and column
/// (counted in characters) of the first error. Runs after prescan, which
/// it relies on (libfyaml 0.7.12 hangs on some text that is not UTF-8), and
/// before yaml-cpp, which accepts much that is not YAML. Duplicate keys are
/// valid here; the Walker refuses them. Also refuses, though valid, a tab
/// after ':' in text with an explicit key ('? '): libfyaml 0.7.12 crashes
/// on some of those.
void check_yaml_syntax(std::string_view text, const std::string& file);

}  // namespace shardrun
