// How many test ids fit on one unit's command line (issue 13, part 1):
// Linux refuses to start a program whose single argument is over
// MAX_ARG_STRLEN (32 pages: a `sh -c` script holds 128 KiB) or whose argv
// and environment together pass ARG_MAX (a quarter of the stack limit,
// measured here at start-up). The planner cuts units to fit.
#include <unistd.h>

#include <algorithm>

#include "shardrun/discovery.hpp"
#include "shardrun/placeholders.hpp"

extern char** environ;

namespace shardrun {

namespace {

constexpr std::size_t kMaxArgStrlen = 32 * 4096;
// Room for what a unit's command gains beyond its ids: {junit} and other
// placeholders expanded to paths, and the variables shardrun and the
// shard's resources add to the environment.
constexpr std::size_t kMargin = 16 * 1024;

std::size_t environment_bytes() {
  std::size_t bytes = 0;
  for (char** e = environ; e && *e; ++e)
    bytes += std::char_traits<char>::length(*e) + 1 + sizeof(char*);
  return bytes;
}

std::size_t env_bytes(const EnvList& env) {
  std::size_t bytes = 0;
  for (const auto& [name, value] : env) bytes += name.size() + value.size() + 2 + sizeof(char*);
  return bytes;
}

}  // namespace

void fit_command_lines(const Suite& suite, std::vector<PlanEntry>& entries) {
  long arg_max = ::sysconf(_SC_ARG_MAX);
  std::size_t all_args = arg_max > 0 ? static_cast<std::size_t>(arg_max) : 128 * 1024;
  std::size_t env = environment_bytes() + env_bytes(suite.env) + env_bytes(suite.shard.env);
  for (const Entry& e : suite.tests) env += env_bytes(e.env);
  for (PlanEntry& p : entries) {
    if (!p.discovered || p.ids.empty()) continue;
    const CommandSpec& command = suite.tests.at(p.entry).command;
    // Ids read from {tests_file} are not on the command line at all.
    if (!command.mentions("tests")) continue;
    std::size_t fixed = 0;
    if (command.shell) {
      fixed = command.script.size();
    } else {
      for (const std::string& word : command.argv) fixed += word.size() + 1 + sizeof(char*);
    }
    // A script is one argument; argv words share ARG_MAX with the environment.
    std::size_t room = command.shell ? kMaxArgStrlen : all_args - std::min(all_args, env);
    room = room > fixed + kMargin ? room - fixed - kMargin : 4096;
    p.byte_limit = room;
    p.id_bytes.clear();
    p.id_bytes.reserve(p.ids.size());
    for (const std::string& id : p.ids)
      p.id_bytes.push_back(command.shell ? shell_quote(id).size() + 1
                                         : id.size() + 1 + sizeof(char*));
  }
}

}  // namespace shardrun
