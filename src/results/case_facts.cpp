// The facts of a finished unit that its testcases give, for decide():
// matching testcases to test ids is the entry's framework's.
#include <algorithm>

#include "shardrun/frameworks.hpp"
#include "shardrun/results.hpp"
#include "shardrun/suite.hpp"

namespace shardrun::results {

void add_case_facts(Finished& f, const Entry& entry, const std::vector<junit::CaseSummary>& cases) {
  f.any_case_failed =
      std::any_of(cases.begin(), cases.end(), [](const auto& c) { return failing(c.outcome); });
  // The test ids that got no testcase (all of them without readable JUnit).
  f.missing.clear();
  if (!f.junit_ok) {
    f.missing = f.tests;
    return;
  }
  const frameworks::Framework& framework = frameworks::framework_for(entry);
  const ExitStatus& st = f.status;
  f.found_no_tests = st.kind == ExitStatus::Kind::kExited && !st.timed_out && !st.interrupted &&
                     framework.found_no_tests(entry, st.code, cases.size());
  std::vector<bool> reported(f.tests.size(), false);
  for (long owner : framework.id_of_cases(f.tests, cases))
    if (owner >= 0) reported[static_cast<std::size_t>(owner)] = true;
  for (std::size_t i = 0; i < f.tests.size(); ++i)
    if (!reported[i]) f.missing.push_back(f.tests[i]);
}

}  // namespace shardrun::results
