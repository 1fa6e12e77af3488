#include "discovery_cache.hpp"

#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>

#include "shardrun/atomic_file.hpp"
#include "shardrun/discovery.hpp"
#include "shardrun/error.hpp"

namespace shardrun {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// Manifests of larger trees would cost more to check than discovery saves;
// such entries are not cached (README: set discover_inputs to narrow them).
constexpr std::size_t kMaxFiles = 100000;
constexpr int kFormat = 1;

// Folders no test runner reads its tests from: version control, caches,
// shardrun's own, virtual environments.
bool skipped_folder(const std::string& name) {
  static const char* const kSkip[] = {
      ".git", ".hg",  ".svn",  ".shardrun",   "__pycache__",   "node_modules",
      ".tox", ".nox", ".venv", ".mypy_cache", ".pytest_cache", ".ruff_cache"};
  return std::any_of(std::begin(kSkip), std::end(kSkip), [&](const char* s) { return name == s; });
}

// Without `discover_inputs`: the files a test runner reads to find tests,
// by ending: source code and configuration. Not logs, reports or data that
// runs write beside the tests (those would make every run a miss); a
// discovery that reads such files names them in `discover_inputs`.
bool source_or_config(const std::string& name) {
  static const char* const kEndings[] = {
      ".py",   ".pyi", ".pyx",   ".cfg", ".ini", ".toml", ".yaml", ".yml",     "package.json",
      ".js",   ".mjs", ".cjs",   ".ts",  ".tsx", ".jsx",  ".rb",   ".go",      ".rs",
      ".java", ".kt",  ".scala", ".cs",  ".php", ".ex",   ".exs",  ".feature", ".lua",
      ".sh",   ".pl",  ".t",     ".c",   ".cc",  ".cpp",  ".h",    ".hpp"};
  return std::any_of(std::begin(kEndings), std::end(kEndings), [&](const char* e) {
    std::size_t n = std::strlen(e);
    return name.size() > n && name.compare(name.size() - n, n, e) == 0;
  });
}

// The command, cwd and env: a change of any of them changes what discover
// prints. Not the whole environment: CI sets per-job variables that would
// defeat the cache.
std::string key_of(const Suite& suite, const Entry& entry) {
  std::uint64_t h = fnv1a(entry.discover->display());
  h = fnv1a(entry.cwd.string() + '\0', h);
  for (const auto& [name, value] : suite.env) h = fnv1a(name + '=' + value + '\0', h);
  for (const auto& [name, value] : entry.env) h = fnv1a(name + '=' + value + '\0', h);
  for (const std::string& pattern : entry.discover_inputs) h = fnv1a(pattern + '\0', h);
  return fmt::format("{}:{:016x}", kFormat, h);
}

// A fast content hash (8 bytes a step); collisions only cost a stale cache
// when a file changed without changing its size, so 64 bits do.
std::uint64_t hash_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return 0;
  std::uint64_t h = 0x9E3779B97F4A7C15ull;
  std::vector<char> buffer(1 << 16);
  while (in.read(buffer.data(), static_cast<std::streamsize>(buffer.size())) || in.gcount() > 0) {
    std::size_t n = static_cast<std::size_t>(in.gcount());
    std::size_t i = 0;
    for (; i + 8 <= n; i += 8) {
      std::uint64_t word;
      std::memcpy(&word, buffer.data() + i, 8);
      h = (h ^ word) * 0x100000001b3ull;
      h ^= h >> 29;
    }
    for (; i < n; ++i) h = (h ^ static_cast<unsigned char>(buffer[i])) * 0x100000001b3ull;
  }
  return h | 1;  // never 0, which means "not hashed"
}

bool same_stat(const FileStamp& a, const FileStamp& b) {
  return a.size == b.size && a.mtime_ns == b.mtime_ns;
}

std::optional<std::pair<Manifest, std::vector<std::string>>> read_cache(const fs::path& file) {
  std::ifstream in(file);
  if (!in) return std::nullopt;
  try {
    json j = json::parse(in);
    Manifest m;
    m.key = j.at("key").get<std::string>();
    for (const json& f : j.at("files"))
      m.files.push_back(FileStamp{f.at(0).get<std::string>(), f.at(1).get<std::uint64_t>(),
                                  f.at(2).get<std::int64_t>(), f.at(3).get<std::uint64_t>()});
    return std::pair{std::move(m), j.at("ids").get<std::vector<std::string>>()};
  } catch (const json::exception&) {
    return std::nullopt;  // a damaged cache is a miss
  }
}

void write_cache(const fs::path& file, const Manifest& m, const std::vector<std::string>& ids) {
  json files = json::array();
  for (const FileStamp& f : m.files) files.push_back({f.path, f.size, f.mtime_ns, f.content});
  std::error_code ec;
  fs::create_directories(file.parent_path(), ec);
  try {
    write_file_atomically(file,
                          json{{"key", m.key}, {"files", std::move(files)}, {"ids", ids}}.dump(
                              0, ' ', false, json::error_handler_t::replace));
  } catch (const Error&) {
    // the cache is an optimisation: never fail the run for it
  }
}

}  // namespace

std::optional<Manifest> DiscoveryCache::stamp(const Suite& suite, const Entry& entry,
                                              const std::vector<fs::path>& skip) {
  Manifest m;
  m.key = key_of(suite, entry);
  std::error_code ec;
  fs::recursive_directory_iterator it(entry.cwd, fs::directory_options::skip_permission_denied, ec);
  for (; !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    const fs::path& path = it->path();
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) continue;  // gone meanwhile
    const bool own = std::find(skip.begin(), skip.end(), path) != skip.end();
    if (S_ISDIR(st.st_mode)) {
      if (own || skipped_folder(path.filename().string())) it.disable_recursion_pending();
      continue;
    }
    if (own) continue;
    if (!S_ISREG(st.st_mode) && !S_ISLNK(st.st_mode)) continue;
    std::string rel = path.lexically_relative(entry.cwd).generic_string();
    if (entry.discover_inputs.empty()
            ? !source_or_config(path.filename().string())
            : std::none_of(entry.discover_inputs.begin(), entry.discover_inputs.end(),
                           [&](const std::string& p) { return glob_match(p, rel); }))
      continue;
    if (S_ISLNK(st.st_mode) && ::stat(path.c_str(), &st) != 0) continue;  // dangling
    if (m.files.size() >= kMaxFiles) return std::nullopt;
    m.files.push_back(FileStamp{
        std::move(rel), static_cast<std::uint64_t>(st.st_size),
        static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec, 0});
  }
  if (ec) return std::nullopt;  // cannot tell what changed: no cache
  std::sort(m.files.begin(), m.files.end(),
            [](const FileStamp& a, const FileStamp& b) { return a.path < b.path; });
  return m;
}

void DiscoveryCache::hash_contents(const Entry& entry, Manifest& manifest) {
  for (FileStamp& f : manifest.files) {
    if (f.content != 0) continue;
    fs::path path = entry.cwd / f.path;
    f.content = hash_file(path);
    // Changed since it was stamped: which content discovery saw is not
    // known, so only an unchanged stat may hit.
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0 || static_cast<std::uint64_t>(st.st_size) != f.size ||
        static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec !=
            f.mtime_ns)
      f.content = 0;
  }
}

fs::path DiscoveryCache::file_of(const Entry& entry) const {
  return dir_ / (entry.name + ".json");
}

std::optional<std::vector<std::string>> DiscoveryCache::lookup(const Entry& entry,
                                                               const Manifest& now) const {
  auto cached = read_cache(file_of(entry));
  if (!cached) return std::nullopt;
  auto& [stored, ids] = *cached;
  if (stored.key != now.key || stored.files.size() != now.files.size()) return std::nullopt;
  bool restamped = false;
  for (std::size_t i = 0; i < now.files.size(); ++i) {
    const FileStamp& was = stored.files[i];
    const FileStamp& is = now.files[i];
    if (was.path != is.path || was.size != is.size) return std::nullopt;
    if (same_stat(was, is)) continue;
    // Touched (a fresh checkout sets every time): the same content is a hit.
    if (was.content == 0 || hash_file(entry.cwd / is.path) != was.content) return std::nullopt;
    stored.files[i].mtime_ns = is.mtime_ns;
    restamped = true;
  }
  if (ids.empty()) return std::nullopt;
  if (restamped) write_cache(file_of(entry), stored, ids);
  return std::move(ids);
}

void DiscoveryCache::store(const Entry& entry, const Manifest& manifest,
                           const std::vector<std::string>& ids) const {
  if (ids.empty()) return;
  write_cache(file_of(entry), manifest, ids);
}

}  // namespace shardrun
