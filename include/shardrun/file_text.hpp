#pragma once
// Reading a whole file (util): what state files, ledgers and logs share.

#include <filesystem>
#include <string>

namespace shardrun {

/// The bytes of `path`, or "" when it cannot be opened or read: for files
/// whose absence is an answer (a ledger not written yet, a log gone).
std::string read_file_or_empty(const std::filesystem::path& path);

}  // namespace shardrun
