#pragma once
// What shardrun knows about a test runner (issue 10): how its discover
// command prints test ids, which JUnit testcase reports which id, and
// whether an entry's command writes JUnit. One adapter per runner, behind
// `Framework`; adding one (jest, go test, nextest) is a new file in
// src/frameworks/ and a line in framework_for(). Pure: no files, no processes.

#include <string>
#include <string_view>
#include <vector>

#include "shardrun/junit.hpp"
#include "shardrun/suite.hpp"

namespace shardrun::frameworks {

/// A test runner as shardrun sees it. Adapters are stateless singletons.
class Framework {
 public:
  virtual ~Framework() = default;

  /// "pytest", "generic": for messages and tests.
  virtual std::string_view name() const = 0;

  /// The test ids in a discover command's output, in order, without
  /// duplicates (the first one kept).
  virtual std::vector<std::string> parse_discover_output(std::string_view output) const = 0;

  /// For each testcase, the index in `ids` of the test id it reports (-1:
  /// none). Several testcases may report one id (a test file).
  virtual std::vector<long> id_of_cases(const std::vector<std::string>& ids,
                                        const std::vector<junit::CaseSummary>& cases) const = 0;

  /// For each test id, the index in `cases` of the one testcase that
  /// reports it (-1: none); a testcase reports one id at most (two ids, one
  /// testcase: the first id has it). What retries hold and release.
  virtual std::vector<long> case_of_ids(const std::vector<std::string>& ids,
                                        const std::vector<junit::CaseSummary>& cases) const = 0;

  /// Whether `ids` may be files under the entry's cwd (their sizes are
  /// then the planner's prior); a cheap look at the ids, not at the disk.
  virtual bool ids_may_be_files(const std::vector<std::string>& ids) const = 0;

  /// Whether the entry's command writes JUnit: it (or the entry's env)
  /// mentions the {junit} placeholder. The same for every runner so far.
  virtual bool writes_junit(const Entry& entry) const;

  /// Whether a unit of `entry` that exited with `exit_code` and reported
  /// `testcases` testcases found no test to run, and nothing else went
  /// wrong: a unit of test files that hold none, or whose tests the
  /// command's own selection (pytest -k) leaves out. Such a unit has not
  /// failed; shardrun made it, and the same files in one run of the whole
  /// suite would not fail it. No runner says this but pytest.
  virtual bool found_no_tests(const Entry& entry, int exit_code, std::size_t testcases) const;
};

/// pytest: `--collect-only -q` output (its summary skipped), node ids
/// ("a/test_x.py::T::t[1]") matched to junitxml's classname "a.test_x.T" and
/// name "t[1]", and test files ("a/test_x.py") to every testcase of their
/// module; exit status 5 ("no tests collected") with an empty report, from
/// a command that names pytest, is a unit that found no tests.
const Framework& pytest();

/// Any other runner: one id per line, an id is reported by the testcase
/// whose name is that id; nothing is translated.
const Framework& generic();

/// The adapter for an entry. Today every entry gets pytest's, as every
/// entry always has: pytest is told apart per id, by its form (a node id
/// holds "::", a test file ends in ".py"), and a plain id is matched by
/// name, as the generic adapter does. The generic adapter is for when a
/// suite names its runner.
const Framework& framework_for(const Entry& entry);

}  // namespace shardrun::frameworks
