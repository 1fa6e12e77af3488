// The part of the frameworks module that is not one runner's: the JUnit
// question every adapter answers alike, and which adapter an entry gets.
#include <algorithm>

#include "shardrun/frameworks.hpp"

namespace shardrun::frameworks {

bool Framework::writes_junit(const Entry& entry) const {
  if (entry.command.mentions("junit")) return true;
  return std::any_of(entry.env.begin(), entry.env.end(),
                     [](const auto& kv) { return kv.second.find("{junit}") != std::string::npos; });
}

bool Framework::found_no_tests(const Entry& /*entry*/, int /*exit_code*/,
                               std::size_t /*testcases*/) const {
  return false;
}

const Framework& framework_for(const Entry& /*entry*/) {
  // Nothing in a suite names its runner yet, and shardrun has applied
  // pytest's rules to every entry: they tell a node id ("::") and a test
  // file from a plain id by its form, and a plain id is matched by name as
  // the generic adapter would. Choosing by the command or a `framework:`
  // key would change what some suites get (a `cat ids.txt` entry of node
  // ids, a plan file's ids), so the choice, when there is one, goes here.
  return pytest();
}

}  // namespace shardrun::frameworks
