#include "shardrun/timings.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <system_error>

#include "shardrun/atomic_file.hpp"
#include "shardrun/error.hpp"

namespace shardrun {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// The file layout:
//   {"format": 1,
//    "entries": {"<entry>": {"startup": {"seconds": S, "samples": n},
//                            "error": {"seconds": E, "samples": n},
//                            "groups": {"<group>": {"seconds": S, "samples": n}},
//                            "tests": {"<test id>": {"seconds": S, "samples": n}}}}}
// "startup" is absent until a unit of the entry has been recorded; "error"
// (a ratio, stored in the sample's "seconds") and "groups" until a run
// measured them. Files without them (older shardruns) read as before.
constexpr int kFormat = 1;

// Weight of a new observation. 0.5 follows a real change in a test's duration
// within a few runs while one noisy run moves the estimate only halfway.
constexpr double kAlpha = 0.5;

void add_sample(TimingSample& sample, double seconds) {
  if (sample.samples <= 0) {
    sample.seconds = seconds;  // the first observation is taken as is
    sample.samples = 1;
    return;
  }
  sample.seconds += kAlpha * (seconds - sample.seconds);
  if (sample.samples < INT_MAX) ++sample.samples;
}

// JUnit times can be missing, negative or garbage; a broken observation must
// not poison the history, so non-finite values are dropped and negative ones
// count as zero.
std::optional<double> sane_seconds(double seconds) {
  if (!std::isfinite(seconds)) return std::nullopt;
  return std::max(0.0, seconds);
}

// Thrown inside load() only, turned into the warning.
struct ShapeError {
  std::string what;
};

TimingSample read_sample(const json& value, const std::string& where) {
  if (!value.is_object()) throw ShapeError{where + " is not an object"};
  auto seconds = value.find("seconds");
  auto samples = value.find("samples");
  if (seconds == value.end() || !seconds->is_number())
    throw ShapeError{where + " has no number \"seconds\""};
  if (samples == value.end() || !samples->is_number_integer())
    throw ShapeError{where + " has no integer \"samples\""};
  double s = seconds->get<double>();
  if (!std::isfinite(s) || s < 0) throw ShapeError{where + " has a negative \"seconds\""};
  // Read wide: a huge count in a hand-edited file is still a valid history.
  long long n = samples->is_number_unsigned() ? static_cast<long long>(std::min<unsigned long long>(
                                                    samples->get<unsigned long long>(), INT_MAX))
                                              : samples->get<long long>();
  if (n < 1) throw ShapeError{where + " has \"samples\" below 1"};
  TimingSample sample;
  sample.seconds = s;
  sample.samples = static_cast<int>(std::min<long long>(n, INT_MAX));
  return sample;
}

json write_sample(const TimingSample& sample) {
  return json{{"seconds", sample.seconds}, {"samples", sample.samples}};
}

// "tests" and "groups": objects of samples keyed by id.
void read_samples(const json& entry, const char* key, const std::string& where,
                  std::map<std::string, TimingSample>& out) {
  auto found = entry.find(key);
  if (found == entry.end()) return;
  if (!found->is_object()) throw ShapeError{where + " \"" + key + "\" is not an object"};
  for (const auto& [id, sample] : found->items())
    out[id] = read_sample(sample, where + " " + key + " \"" + id + "\"");
}

json write_samples(const std::map<std::string, TimingSample>& samples) {
  json out = json::object();
  for (const auto& [id, sample] : samples) out[id] = write_sample(sample);
  return out;
}

std::optional<double> median_of(const std::map<std::string, TimingSample>& samples) {
  if (samples.empty()) return std::nullopt;
  std::vector<double> values;
  values.reserve(samples.size());
  for (const auto& [id, sample] : samples) values.push_back(sample.seconds);
  std::size_t mid = values.size() / 2;
  std::nth_element(values.begin(), values.begin() + mid, values.end());
  double upper = values[mid];
  if (values.size() % 2 == 1) return upper;
  double lower = *std::max_element(values.begin(), values.begin() + mid);
  return (lower + upper) / 2;
}

}  // namespace

Timings Timings::load(const fs::path& path, std::string* warning) {
  auto warn = [&](const std::string& text) {
    if (warning) *warning = "timings file " + path.string() + ": " + text + "; ignoring it";
    return Timings{};
  };
  if (warning) warning->clear();

  std::error_code ec;
  fs::file_status status = fs::status(path, ec);
  // A first run has no history yet: that is normal, not worth a warning.
  if (status.type() == fs::file_type::not_found) return Timings{};
  if (ec) return warn("cannot read it (" + ec.message() + ")");
  if (!fs::is_regular_file(status)) return warn("not a regular file");

  std::ifstream in(path, std::ios::binary);
  if (!in) return warn("cannot open it");
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) return warn("cannot read it");

  json doc = json::parse(buffer.str(), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return warn("not valid JSON");
  try {
    if (!doc.is_object()) throw ShapeError{"not a JSON object"};
    auto format = doc.find("format");
    if (format == doc.end() || !format->is_number_integer())
      throw ShapeError{"no \"format\" number"};
    if (format->get<long long>() != kFormat)
      throw ShapeError{"unknown format " + format->dump() + " (this shardrun reads format " +
                       std::to_string(kFormat) + ")"};
    auto entries = doc.find("entries");
    if (entries == doc.end() || !entries->is_object()) throw ShapeError{"no \"entries\" object"};

    Timings result;
    for (const auto& [name, value] : entries->items()) {
      std::string where = "entry \"" + name + "\"";
      if (!value.is_object()) throw ShapeError{where + " is not an object"};
      EntryTimings& entry = result.entries_[name];
      if (auto startup = value.find("startup"); startup != value.end())
        entry.startup = read_sample(*startup, where + " startup");
      if (auto error = value.find("error"); error != value.end())
        entry.error = read_sample(*error, where + " error");
      read_samples(value, "tests", where, entry.tests);
      read_samples(value, "groups", where, entry.groups);
    }
    return result;
  } catch (const ShapeError& e) {
    return warn(e.what);
  } catch (const json::exception& e) {
    return warn(std::string("unexpected shape (") + e.what() + ")");
  }
}

void Timings::save(const fs::path& path) const {
  json entries = json::object();
  for (const auto& [name, entry] : entries_) {
    json value = json::object();
    if (entry.startup.samples > 0) value["startup"] = write_sample(entry.startup);
    if (entry.error.samples > 0) value["error"] = write_sample(entry.error);
    value["tests"] = write_samples(entry.tests);
    if (!entry.groups.empty()) value["groups"] = write_samples(entry.groups);
    entries[name] = std::move(value);
  }
  json doc = json{{"format", kFormat}, {"entries", std::move(entries)}};
  // Test ids come from other programs' output and need not be UTF-8; a
  // replaced byte only costs that test its history, a throw would cost all.
  std::string text = doc.dump(2, ' ', false, json::error_handler_t::replace) + "\n";

  std::error_code ec;
  fs::path dir = path.parent_path();
  if (!dir.empty()) {
    fs::create_directories(dir, ec);
    if (ec) throw Error("cannot create directory " + dir.string() + ": " + ec.message());
  }
  write_file_atomically(path, text);
}

void Timings::record_test(const std::string& entry, const std::string& test, double seconds) {
  std::optional<double> s = sane_seconds(seconds);
  if (!s) return;
  add_sample(entries_[entry].tests[test], *s);
}

void Timings::record_unit(const std::string& entry, double wall, double test_seconds) {
  std::optional<double> w = sane_seconds(wall);
  std::optional<double> t = sane_seconds(test_seconds);
  if (!w || !t) return;
  // Test frameworks round and omit fixture time, so the tests can add up to
  // more than the wall time; a start-up cost is never negative.
  add_sample(entries_[entry].startup, std::max(0.0, *w - *t));
}

void Timings::record_startup(const std::string& entry, double seconds) {
  if (std::optional<double> s = sane_seconds(seconds)) add_sample(entries_[entry].startup, *s);
}

void Timings::record_group(const std::string& entry, const std::string& group, double seconds) {
  if (std::optional<double> s = sane_seconds(seconds))
    add_sample(entries_[entry].groups[group], *s);
}

void Timings::record_error(const std::string& entry, double relative) {
  if (std::optional<double> s = sane_seconds(relative)) add_sample(entries_[entry].error, *s);
}

std::optional<TimingSample> Timings::test(const std::string& entry, const std::string& test) const {
  auto e = entries_.find(entry);
  if (e == entries_.end()) return std::nullopt;
  auto t = e->second.tests.find(test);
  if (t == e->second.tests.end()) return std::nullopt;
  return t->second;
}

std::optional<double> Timings::startup(const std::string& entry) const {
  auto e = entries_.find(entry);
  if (e == entries_.end() || e->second.startup.samples <= 0) return std::nullopt;
  return e->second.startup.seconds;
}

std::optional<double> Timings::median(const std::string& entry) const {
  auto e = entries_.find(entry);
  if (e == entries_.end()) return std::nullopt;
  return median_of(e->second.tests);
}

std::optional<double> Timings::group(const std::string& entry, const std::string& group) const {
  auto e = entries_.find(entry);
  if (e == entries_.end()) return std::nullopt;
  auto g = e->second.groups.find(group);
  if (g == e->second.groups.end()) return std::nullopt;
  return g->second.seconds;
}

std::optional<double> Timings::group_median(const std::string& entry) const {
  auto e = entries_.find(entry);
  if (e == entries_.end()) return std::nullopt;
  return median_of(e->second.groups);
}

std::optional<TimingSample> Timings::error(const std::string& entry) const {
  auto e = entries_.find(entry);
  if (e == entries_.end() || e->second.error.samples <= 0) return std::nullopt;
  return e->second.error;
}

double Timings::estimate(const std::string& entry, const std::string& test, double fallback) const {
  if (std::optional<TimingSample> known = this->test(entry, test)) return known->seconds;
  if (std::optional<double> m = median(entry)) return *m;
  return fallback;
}

}  // namespace shardrun
