#pragma once
// Finding the program a ProcessSpec names, before the fork. Boost.Process 1.74
// skips the first PATH entry and looks in the parent's PATH, not the child's,
// so the runner resolves argv[0] itself and hands Boost an absolute path.

#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

namespace shardrun::runner_detail {

/// The value of PATH in `env` ("NAME=VALUE" entries, the last one wins), else
/// the parent's PATH, else the system default (confstr _CS_PATH).
std::string search_path_of(const std::vector<std::string>& env);

/// Where execve should find `program` for a child that will run in `cwd`
/// with environment `env`, following execvp: a name with a '/' is taken as
/// is (relative to `cwd`) and left to execve to check; a bare name is looked
/// up in search_path_of(env), where empty and relative entries count from
/// `cwd`. An empty `cwd` means the parent's working directory. The result is
/// absolute. For a bare name that is not found, returns an empty path and sets
/// `error` to ENOENT, or to EACCES when only non-executable files were found.
std::filesystem::path find_program(const std::string& program, const std::vector<std::string>& env,
                                   const std::filesystem::path& cwd, std::error_code& error);

}  // namespace shardrun::runner_detail
