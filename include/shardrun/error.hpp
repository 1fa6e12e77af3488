#pragma once
// The one error model of shardrun: code throws one of these exceptions and only
// main() prints "shardrun: error: ..." and turns it into an exit status.

#include <stdexcept>
#include <string>

namespace shardrun {

/// Exit statuses, DESIGN §7.
enum class ExitCode : int {
  kOk = 0,
  kTestsFailed = 1,
  kUsage = 2,  // usage or suite error; nothing was run
  kInfra = 3,  // setup, teardown, a resource or the report failed
  kInterrupted = 130,
  kTerminated = 143,
};

/// Base of every error shardrun reports; what() is the whole message.
class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message, ExitCode code = ExitCode::kInfra)
      : std::runtime_error(message), code_(code) {}
  ExitCode code() const { return code_; }

 private:
  ExitCode code_;
};

/// Bad command line (exit 2).
class UsageError : public Error {
 public:
  explicit UsageError(const std::string& message) : Error(message, ExitCode::kUsage) {}
};

/// A problem in a suite file (exit 2). what() is "FILE:LINE:COL: error: MESSAGE";
/// line and column are 1-based, 0 when unknown.
class SuiteError : public Error {
 public:
  SuiteError(const std::string& file, int line, int column, const std::string& message);
  const std::string& file() const { return file_; }
  int line() const { return line_; }
  int column() const { return column_; }
  /// The message without the location prefix.
  const std::string& detail() const { return detail_; }

 private:
  std::string file_;
  int line_;
  int column_;
  std::string detail_;
};

}  // namespace shardrun
