// Pure formatting helpers of the status module.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <fstream>

#include "shardrun/status.hpp"

namespace shardrun {

std::string format_seconds(double seconds) {
  if (!(seconds >= 0)) seconds = 0;
  if (std::round(seconds * 10) < 600) return fmt::format("{:.1f}s", seconds);
  auto whole = static_cast<long long>(std::llround(seconds));
  if (whole < 3600) return fmt::format("{}m{:02}s", whole / 60, whole % 60);
  return fmt::format("{}h{:02}m", whole / 3600, whole % 3600 / 60);
}

std::string elide_middle(const std::string& text, std::size_t width) {
  if (text.size() <= width) return text;
  if (width < 5) return text.substr(0, width);
  std::size_t keep = width - 3;
  std::size_t left = (keep + 1) / 2;
  std::size_t right = keep - left;
  return text.substr(0, left) + "..." + text.substr(text.size() - right);
}

static std::string clock_text(double seconds) {
  auto whole = static_cast<long long>(std::max(0.0, seconds));
  if (whole >= 3600)
    return fmt::format("{}:{:02}:{:02}", whole / 3600, whole % 3600 / 60, whole % 60);
  return fmt::format("{}:{:02}", whole / 60, whole % 60);
}

std::string format_progress(std::size_t done, std::size_t total, std::size_t running,
                            std::size_t failed, double elapsed, double remaining) {
  std::string line = fmt::format("[{}/{}] {} running, {} failed, {} elapsed", done, total, running,
                                 failed, clock_text(elapsed));
  if (remaining >= 0) line += fmt::format(", ~{} left", clock_text(remaining));
  return line;
}

std::string read_tail(const std::filesystem::path& file, std::size_t lines, std::size_t max_bytes) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return {};
  in.seekg(0, std::ios::end);
  std::streamoff size = in.tellg();
  std::streamoff from = std::max<std::streamoff>(0, size - static_cast<std::streamoff>(max_bytes));
  in.seekg(from);
  std::string data(static_cast<std::size_t>(size - from), '\0');
  in.read(data.data(), static_cast<std::streamsize>(data.size()));
  data.resize(static_cast<std::size_t>(in.gcount()));
  if (!data.empty() && data.back() == '\n') data.pop_back();
  if (lines == 0) return {};
  std::size_t pos = data.size();
  for (std::size_t count = 0; pos > 0;) {
    std::size_t newline = data.rfind('\n', pos - 1);
    if (newline == std::string::npos) {
      pos = 0;
    } else if (++count == lines) {
      pos = newline + 1;
      break;
    } else {
      pos = newline;
    }
  }
  return data.substr(pos);
}

Balance compute_balance(const std::vector<UnitRecord>& units, int shards) {
  Balance b;
  double first = 0, last = 0;
  bool any = false;
  for (const UnitRecord& u : units) {
    if (u.shard < 0) continue;
    double d = std::max(0.0, u.end - u.start);
    b.sum += d;
    b.longest = std::max(b.longest, d);
    first = any ? std::min(first, u.start) : u.start;
    last = any ? std::max(last, u.end) : u.end;
    any = true;
  }
  if (!any || shards <= 0) return b;
  b.makespan = last - first;
  b.lower_bound = std::max(b.sum / shards, b.longest);
  b.ratio = b.lower_bound > 0 ? b.makespan / b.lower_bound : 1.0;
  return b;
}

}  // namespace shardrun
