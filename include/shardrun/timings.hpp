#pragma once
// The timing history (DESIGN §4), the planner's cost model as learned from
// earlier runs: per entry the start-up cost of one process and how far the
// plan's predictions were off; per group (a test file) its load cost, paid
// by every unit that holds any of its tests; per test id its duration.
// Each value is smoothed with a sample count. Stored as JSON
// (nlohmann-json), written atomically (atomic_file.hpp).

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
  /// Adds observations of the cost model's parts as plan.hpp's
  /// attribute_unit() split a unit's time: one process's start-up, and
  /// the load cost of a group (importing and collecting a test file).
  void record_startup(const std::string& entry, double seconds);
  void record_group(const std::string& entry, const std::string& group, double seconds);
  /// Adds one run's relative prediction error of an entry's units (0.2 =
  /// off by 20 % on average).
  void record_error(const std::string& entry, double relative);

  std::optional<TimingSample> test(const std::string& entry, const std::string& test) const;
  /// Smoothed start-up cost of one process of this entry, if known.
  std::optional<double> startup(const std::string& entry) const;
  /// Median of the known test durations of an entry, if any.
  std::optional<double> median(const std::string& entry) const;
  /// Smoothed load cost of a group of an entry, if known.
  std::optional<double> group(const std::string& entry, const std::string& group) const;
  /// Median of the known group load costs of an entry, if any.
  std::optional<double> group_median(const std::string& entry) const;
  /// The entry's smoothed relative prediction error and how many runs
  /// measured it, if any did.
  std::optional<TimingSample> error(const std::string& entry) const;
  /// Estimated seconds for a test: known value, else the entry's median,
  /// else `fallback`.
  double estimate(const std::string& entry, const std::string& test, double fallback) const;

  bool empty() const { return entries_.empty(); }

 private:
  struct EntryTimings {
    std::map<std::string, TimingSample> tests;
    std::map<std::string, TimingSample> groups;
    TimingSample startup;
    TimingSample error;
  };
  std::map<std::string, EntryTimings> entries_;
};

}  // namespace shardrun
