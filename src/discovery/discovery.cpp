#include "shardrun/discovery.hpp"
#include "shardrun/paths.hpp"

#include <fnmatch.h>

#include <string>
#include <vector>

namespace shardrun {

namespace {

bool match_from(const std::vector<std::string_view>& pattern, std::size_t i,
                const std::vector<std::string_view>& path, std::size_t j) {
  if (i == pattern.size()) return j == path.size();
  if (pattern[i] == "**") {
    for (std::size_t k = j; k <= path.size(); ++k)
      if (match_from(pattern, i + 1, path, k)) return true;
    return false;
  }
  if (j == path.size()) return false;
  std::string p(pattern[i]), name(path[j]);
  return fnmatch(p.c_str(), name.c_str(), FNM_PERIOD) == 0 &&
         match_from(pattern, i + 1, path, j + 1);
}
}  // namespace

bool glob_match(std::string_view pattern, std::string_view path) {
  return match_from(split_path(pattern), 0, split_path(path), 0);
}

std::uint64_t fnv1a(std::string_view data, std::uint64_t seed) {
  std::uint64_t h = seed;
  for (unsigned char c : data) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return h;
}

}  // namespace shardrun
