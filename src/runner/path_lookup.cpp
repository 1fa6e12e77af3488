// execvp's search, done in the parent with the child's PATH and cwd (see
// path_lookup.hpp for why Boost's own lookup is not used).

#include "shardrun/path_lookup.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <string_view>

namespace shardrun::runner_detail {

namespace {

namespace fs = std::filesystem;

// The directory relative names count from: the child's cwd, made absolute
// against the parent's (which is what the child's chdir will do too).
fs::path base_directory(const fs::path& cwd) {
  std::error_code ignored;
  if (cwd.empty()) return fs::current_path(ignored);
  if (cwd.is_absolute()) return cwd;
  return fs::absolute(cwd, ignored);
}

std::string system_default_path() {
  std::size_t size = ::confstr(_CS_PATH, nullptr, 0);
  if (size == 0) return "/usr/bin:/bin";
  std::string value(size, '\0');
  ::confstr(_CS_PATH, value.data(), size);
  value.resize(size - 1);  // confstr counts the terminating NUL
  return value;
}

}  // namespace

std::string search_path_of(const std::vector<std::string>& env) {
  constexpr std::string_view kPrefix = "PATH=";
  const std::string* found = nullptr;
  for (const std::string& entry : env) {
    if (entry.compare(0, kPrefix.size(), kPrefix) == 0) found = &entry;
  }
  if (found != nullptr) return found->substr(kPrefix.size());
  if (const char* parent = std::getenv("PATH")) return parent;
  return system_default_path();
}

fs::path find_program(const std::string& program, const std::vector<std::string>& env,
                      const fs::path& cwd, std::error_code& error) {
  error.clear();
  if (program.empty()) {
    error = std::error_code(ENOENT, std::system_category());
    return {};
  }
  if (program.find('/') != std::string::npos) {
    fs::path path(program);
    return path.is_absolute() ? path : base_directory(cwd) / path;
  }

  const std::string search = search_path_of(env);
  bool found_unusable = false;
  std::size_t begin = 0;
  while (true) {
    std::size_t end = search.find(':', begin);
    std::string_view entry(search.data() + begin,
                           (end == std::string::npos ? search.size() : end) - begin);
    // An empty entry means the current directory, as in execvp.
    fs::path dir = entry.empty() ? fs::path(".") : fs::path(entry);
    if (dir.is_relative()) dir = (base_directory(cwd) / dir).lexically_normal();
    fs::path candidate = dir / program;

    struct stat st {};
    if (::stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode)) {
      if (::access(candidate.c_str(), X_OK) == 0) return candidate;
      found_unusable = true;
    }
    if (end == std::string::npos) break;
    begin = end + 1;
  }
  error = std::error_code(found_unusable ? EACCES : ENOENT, std::system_category());
  return {};
}

}  // namespace shardrun::runner_detail
