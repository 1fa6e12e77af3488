#include "shardrun/error.hpp"

#include <fmt/format.h>

namespace shardrun {

namespace {
std::string locate(const std::string& file, int line, int column, const std::string& message) {
  if (line <= 0) return fmt::format("{}: error: {}", file, message);
  if (column <= 0) return fmt::format("{}:{}: error: {}", file, line, message);
  return fmt::format("{}:{}:{}: error: {}", file, line, column, message);
}
}  // namespace

SuiteError::SuiteError(const std::string& file, int line, int column, const std::string& message)
    : Error(locate(file, line, column, message), ExitCode::kUsage),
      file_(file),
      line_(line),
      column_(column),
      detail_(message) {}

}  // namespace shardrun
