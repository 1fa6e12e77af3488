#include "shardrun/child_ledger.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <set>
#include <sstream>
#include <string_view>

#include <fmt/format.h>

#include "shardrun/atomic_file.hpp"
#include "shardrun/error.hpp"
#include "shardrun/file_text.hpp"

namespace shardrun::runner_detail {

namespace fs = std::filesystem;

namespace {

std::string boot_id() {
  std::string id = read_file_or_empty("/proc/sys/kernel/random/boot_id");
  while (!id.empty() && (id.back() == '\n' || id.back() == ' ')) id.pop_back();
  return id.empty() ? "-" : id;
}

// A run id is printed into a one-line, space-separated file: it must be one
// word. Run ids made by run_suite are "YYYYMMDD-HHMMSS-PID".
bool is_word(const std::string& text) {
  if (text.empty()) return false;
  for (char c : text)
    if (c == ' ' || c == '\n' || c == '\t' || c == '\0') return false;
  return true;
}

}  // namespace

std::string LedgerOwner::to_text() const {
  return fmt::format("{} {} {} {}\n", pid, start_ticks, boot_id, run_id);
}

std::optional<LedgerOwner> LedgerOwner::parse(const std::string& text) {
  // The trailing newline is written last: without it the file is incomplete.
  if (text.empty() || text.back() != '\n') return std::nullopt;
  std::istringstream in(text);
  LedgerOwner owner;
  std::string extra;
  if (!(in >> owner.pid >> owner.start_ticks >> owner.boot_id >> owner.run_id)) return std::nullopt;
  if (in >> extra || owner.pid <= 0) return std::nullopt;
  return owner;
}

std::optional<unsigned long long> process_start_ticks(pid_t pid) {
  std::string stat = read_file_or_empty(fs::path("/proc") / std::to_string(pid) / "stat");
  // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so
  // count fields from the last ')'. Field 3 (state) is the first after it.
  std::size_t paren = stat.rfind(')');
  if (paren == std::string::npos) return std::nullopt;
  std::istringstream rest(stat.substr(paren + 1));
  std::string field;
  for (int i = 3; i < 22; ++i)
    if (!(rest >> field)) return std::nullopt;
  unsigned long long ticks = 0;
  if (!(rest >> ticks)) return std::nullopt;
  return ticks;
}

LedgerOwner current_owner(const std::string& run_id) {
  LedgerOwner owner;
  owner.pid = ::getpid();
  owner.start_ticks = process_start_ticks(owner.pid).value_or(0);
  owner.boot_id = boot_id();
  owner.run_id = run_id;
  return owner;
}

bool owner_alive(const LedgerOwner& owner) {
  if (owner.boot_id != boot_id()) return false;  // every process of that boot is gone
  std::optional<unsigned long long> ticks = process_start_ticks(owner.pid);
  return ticks && *ticks == owner.start_ticks;
}

fs::path ledger_dir(const fs::path& run_dir) {
  return run_dir / "children";
}

std::vector<pid_t> recorded_groups(const fs::path& ledger_dir) {
  std::string text = read_file_or_empty(ledger_dir / "groups");
  std::set<pid_t> live;
  std::size_t start = 0;
  for (std::size_t end; (end = text.find('\n', start)) != std::string::npos; start = end + 1) {
    std::string_view line(text.data() + start, end - start);
    if (line.size() < 2 || line.size() > 10 || (line[0] != '+' && line[0] != '-')) continue;
    if (line.find_first_not_of("0123456789", 1) != std::string_view::npos) continue;
    pid_t pgid = static_cast<pid_t>(std::stol(std::string(line.substr(1))));
    if (pgid <= 1) continue;  // never init, never "every process" (-1) or "my group" (0)
    if (line[0] == '+') {
      live.insert(pgid);
    } else {
      live.erase(pgid);
    }
  }
  return {live.begin(), live.end()};
}

ChildLedger::ChildLedger(const fs::path& run_dir, const std::string& run_id) {
  if (run_dir.empty() || !is_word(run_id)) return;
  fs::path dir = ledger_dir(run_dir);
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return;
  // The groups file first: a cleaner that finds an owner always finds it.
  // The owner is written beside and renamed into place, so a cleaner never
  // reads half an owner (it would skip the run rather than guess).
  UniqueFd fd(::open((dir / "groups").c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
  if (fd.get() == -1) return;
  try {
    write_file_atomically(dir / "owner", current_owner(run_id).to_text());
  } catch (const Error&) {
    return;
  }
  dir_ = std::move(dir);
  fd_ = std::move(fd);
}

ChildLedger::~ChildLedger() {
  if (!enabled()) return;
  fd_.reset();
  std::error_code ec;
  fs::remove_all(dir_, ec);
}

void ChildLedger::add(pid_t pgid) {
  append('+', pgid);
}

void ChildLedger::remove(pid_t pgid) {
  append('-', pgid);
}

// One write of a few bytes to an O_APPEND file: a reader sees the whole line
// or none of it (a half-written one has no newline and is skipped).
void ChildLedger::append(char sign, pid_t pgid) {
  if (!enabled()) return;
  char line[16];
  auto result = fmt::format_to_n(line, sizeof line, "{}{}\n", sign, pgid);
  [[maybe_unused]] ssize_t written = ::write(fd_.get(), line, result.size);
}

}  // namespace shardrun::runner_detail
