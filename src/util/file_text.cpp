#include "shardrun/file_text.hpp"

#include <fstream>
#include <sstream>

namespace shardrun {

std::string read_file_or_empty(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return {};
  return text.str();
}

}  // namespace shardrun
