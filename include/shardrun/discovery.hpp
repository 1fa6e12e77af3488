#pragma once
// Helpers of test-id discovery (DESIGN §2 "test id", §4): matching `files`
// and `discover_inputs` patterns, and the discovery cache's hash. What a
// runner's discover output and JUnit mean is the frameworks module's
// (frameworks.hpp); running the commands is the app's (through the
// CommandRunner).

#include <cstdint>
#include <string>
#include <string_view>

namespace shardrun {

/// Shell-style matching of a '/'-separated relative path: `*`, `?` and
/// `[...]` within one segment, `**` for any number of segments.
bool glob_match(std::string_view pattern, std::string_view path);

/// 64-bit FNV-1a, for cache keys (not security).
std::uint64_t fnv1a(std::string_view data, std::uint64_t seed = 0xcbf29ce484222325ULL);

}  // namespace shardrun
