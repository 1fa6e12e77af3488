#pragma once
// Replacing a file so that a reader (or a crash) never sees half of it
// (util): the one way shardrun writes its state files (timings.json,
// run.json, plan files, the discovery cache, a run's owner file).

#include <filesystem>
#include <string_view>

namespace shardrun {

/// Replaces `path` with `content`: a temporary file beside it (the same file
/// system, so the rename is atomic; named with the pid, so two runs writing
/// the same path do not share it), written, fsynced and closed, renamed
/// over `path`, and the folder fsynced so that the rename survives a crash.
/// The folder must exist. On failure the temporary file is removed, `path`
/// is left as it was, and Error is thrown naming the file and the reason.
void write_file_atomically(const std::filesystem::path& path, std::string_view content);

}  // namespace shardrun
