#pragma once
// The timing history (DESIGN §4): per entry and test id a smoothed duration
// and a sample count, and per entry the start-up cost of one process.
// Stored as JSON (nlohmann-json only here), written atomically.

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace shardrun {

struct TimingSample {
  double seconds = 0;  ///< smoothed (exponential moving average)
  int samples = 0;
};

class Timings {
 public:
  /// Reads `path`. A missing file gives empty timings; a corrupt or
  /// unreadable one gives empty timings and a warning in `warning`.
  static Timings load(const std::filesystem::path& path, std::string* warning);

  /// Writes atomically (temporary file + rename). Throws Error on failure.
  void save(const std::filesystem::path& path) const;

  /// Adds one observation of a test's duration (seconds >= 0).
  void record_test(const std::string& entry, const std::string& test, double seconds);
  /// Adds one observation of an entry's whole-unit time for a unit that ran
  /// `tests` test ids in `wall` seconds and whose testcases summed to
  /// `test_seconds`: the difference is the per-process start-up cost.
  void record_unit(const std::string& entry, double wall, double test_seconds);

  std::optional<TimingSample> test(const std::string& entry, const std::string& test) const;
  /// Smoothed start-up cost of one process of this entry, if known.
  std::optional<double> startup(const std::string& entry) const;
  /// Median of the known test durations of an entry, if any.
  std::optional<double> median(const std::string& entry) const;
  /// Estimated seconds for a test: known value, else the entry's median,
  /// else `fallback`.
  double estimate(const std::string& entry, const std::string& test, double fallback) const;

  bool empty() const { return entries_.empty(); }

 private:
  struct EntryTimings {
    std::map<std::string, TimingSample> tests;
    TimingSample startup;
  };
  std::map<std::string, EntryTimings> entries_;
};

}  // namespace shardrun
