#pragma once
// Test-id discovery (DESIGN §2 "test id", §4): an entry's `discover`
// command prints one id per line. Pure parsing here; running the commands
// is the app's job (through the CommandRunner).

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "shardrun/junit.hpp"

namespace shardrun {

/// The ids in a discover command's output. Rules, in order:
///  - lines are trimmed of surrounding white space (and a trailing '\r');
///  - blank lines are skipped, and so is everything after a blank line that
///    follows at least one id (pytest prints its summary after one);
///  - lines that look like a runner's summary are skipped: "N tests
///    collected", "no tests ran", "=== ... ===" rules, "warnings summary";
///  - duplicates are dropped (first one kept).
std::vector<std::string> parse_test_ids(std::string_view output);

/// Maps pytest-style JUnit testcases back to the ids that were run:
/// id "pkg/test_a.py::TestX::test_y[1]" matches classname
/// "pkg.test_a.TestX" with name "test_y[1]"; an id that is exactly a
/// testcase name also matches. Returns one duration per id (seconds), or -1
/// for ids with no matching testcase.
std::vector<double> match_case_times(const std::vector<std::string>& ids,
                                     const std::vector<junit::CaseSummary>& cases);

/// For each testcase, the index in `ids` of the test id it reports (-1:
/// none). A pytest node id ("a/test_x.py::T::t") has one testcase, matched
/// as by match_case_times; an id without "::" that names a test file
/// ("a/test_x.py", from `files` or a discover command that prints files)
/// has every testcase whose classname is that file's module path
/// ("a.test_x", "a.test_x.T"), also when pytest wrote the classname
/// relative to another rootdir ("test_x.T", "proj.a.test_x").
std::vector<long> id_of_cases(const std::vector<std::string>& ids,
                              const std::vector<junit::CaseSummary>& cases);

/// Shell-style matching of a '/'-separated relative path: `*`, `?` and
/// `[...]` within one segment, `**` for any number of segments.
bool glob_match(std::string_view pattern, std::string_view path);

/// 64-bit FNV-1a, for cache keys (not security).
std::uint64_t fnv1a(std::string_view data, std::uint64_t seed = 0xcbf29ce484222325ULL);

}  // namespace shardrun
