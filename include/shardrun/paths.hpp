#pragma once
// Paths as text (util): what glob matching and test-file matching share.

#include <string_view>
#include <vector>

namespace shardrun {

/// "a//b/./c/" -> {"a", "b", "c"}: the parts between slashes, without empty
/// parts and ".". The views point into `path`.
std::vector<std::string_view> split_path(std::string_view path);

}  // namespace shardrun
