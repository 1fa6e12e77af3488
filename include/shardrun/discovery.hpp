#pragma once
// Test-id discovery (DESIGN §2 "test id", §4): the planner's view of each
// entry, from its `files` globs, its discover command (run through the
// CommandRunner, its output kept in the discovery cache) and the limits of
// this machine's command lines. What a runner's discover output and JUnit
// mean is the frameworks module's (frameworks.hpp).

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "shardrun/command_runner.hpp"
#include "shardrun/interrupts.hpp"
#include "shardrun/job_builder.hpp"
#include "shardrun/plan.hpp"
#include "shardrun/suite.hpp"

namespace shardrun {

/// Shell-style matching of a '/'-separated relative path: `*`, `?` and
/// `[...]` within one segment, `**` for any number of segments.
bool glob_match(std::string_view pattern, std::string_view path);

/// 64-bit FNV-1a, for cache keys (not security).
std::uint64_t fnv1a(std::string_view data, std::uint64_t seed = 0xcbf29ce484222325ULL);

/// Runs every entry's discover command (concurrently) and returns the
/// planner's view of all entries; entries with `files` get the matching
/// files as ids, without a process. A failing discover command is a
/// SuiteError (exit 2) that shows its output. An entry whose inputs are
/// unchanged since an earlier run takes its ids from the discovery cache in
/// `cache_dir` instead (discovery_cache.hpp); `own_paths` (absolute,
/// normal) are shardrun's own files and folders, which never count as
/// inputs. Interrupted: throws DiscoveryInterrupted
/// (discovery_interrupted.hpp).
std::vector<PlanEntry> discover_entries(const Suite& suite, const JobBuilder& jobs,
                                        CommandRunner& runner, const InterruptSource& interrupts,
                                        const std::string& shown_file,
                                        const std::filesystem::path& cache_dir,
                                        const std::vector<std::filesystem::path>& own_paths);

/// The files under the entry's cwd that its `files` patterns match,
/// relative to cwd, sorted.
std::vector<std::string> list_files(const Entry& entry);

/// Sets each discovered entry's id_bytes and byte_limit (plan.hpp) from
/// its command's form and the limits of this machine (ARG_MAX, measured
/// now; 128 KiB for one `sh -c` script), so that the planner never makes a
/// unit whose command cannot start.
void fit_command_lines(const Suite& suite, std::vector<PlanEntry>& entries);

}  // namespace shardrun
