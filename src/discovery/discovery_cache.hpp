#pragma once
// The discovery cache (DESIGN §4; README "Discovery cache"), after ccache's
// direct mode: an entry's discover output is kept with a manifest of the
// files that could change it — the source and configuration files under the
// entry's cwd (or the files its `discover_inputs` match) with their size,
// modification time and a hash of their content. A later run takes the ids from the cache, without
// running discover, when the command, cwd and env are the same and every file is unchanged: the
// same set of paths, each with the same size and either the same modification time or, failing
// that, the same content. A test file added, removed or edited is a miss, and discovery runs.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "shardrun/suite.hpp"

namespace shardrun {

/// One file of a manifest.
struct FileStamp {
  std::string path;  ///< relative to the entry's cwd, '/'-separated
  std::uint64_t size = 0;
  std::int64_t mtime_ns = 0;
  std::uint64_t content = 0;  ///< hash; 0 until hashed
};

/// What discovery depended on when it ran.
struct Manifest {
  std::string key;               ///< the command, cwd and env
  std::vector<FileStamp> files;  ///< sorted by path
};

class DiscoveryCache {
 public:
  explicit DiscoveryCache(std::filesystem::path dir) : dir_(std::move(dir)) {}

  /// The files of the entry's tree as they are now (stat only), or nullopt
  /// when the tree cannot be read or is too large to stamp (no caching).
  /// `skip`: shardrun's own files and folders (runs, history), absolute.
  static std::optional<Manifest> stamp(const Suite& suite, const Entry& entry,
                                       const std::vector<std::filesystem::path>& skip);
  /// Fills in the content hashes (slow part: done while discovery runs).
  static void hash_contents(const Entry& entry, Manifest& manifest);

  /// The stored ids when `now` matches the stored manifest. A match by
  /// content after a change of modification times rewrites the manifest,
  /// so that the next lookup is by stat alone.
  std::optional<std::vector<std::string>> lookup(const Entry& entry, const Manifest& now) const;
  /// Stores `ids` with `manifest` (content hashed). Failures are ignored:
  /// the cache only saves time.
  void store(const Entry& entry, const Manifest& manifest,
             const std::vector<std::string>& ids) const;

 private:
  std::filesystem::path file_of(const Entry& entry) const;
  std::filesystem::path dir_;
};

}  // namespace shardrun
