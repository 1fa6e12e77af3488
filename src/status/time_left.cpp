// The time-left estimate of the live line (time_left.hpp).
#include "shardrun/time_left.hpp"

#include <algorithm>

namespace shardrun {

void TimeLeft::set_shards(int shards) {
  shards_ = std::max(1, shards);
}

void TimeLeft::planned(std::size_t id, double predicted) {
  Unit& u = open_[id];
  u.predicted = std::max(0.0, predicted);
  if (u.predicted > 0) any_prediction_ = true;
}

void TimeLeft::started(std::size_t id, double predicted, double at) {
  auto it = open_.find(id);
  if (it == open_.end()) {
    planned(id, predicted);
    it = open_.find(id);
  }
  it->second.started = std::max(0.0, at);
}

void TimeLeft::finished(std::size_t id, double seconds, bool ran) {
  auto it = open_.find(id);
  if (it == open_.end()) return;
  // Only units with a prediction tell how the predictions fare.
  if (ran && it->second.predicted > 0) {
    predicted_done_ += it->second.predicted;
    actual_done_ += std::max(0.0, seconds);
  }
  open_.erase(it);
}

double TimeLeft::pace() const {
  // A ratio of sums, not a mean of ratios: a 0.1 s unit that took 1 s says
  // little about a 10-minute one.
  if (predicted_done_ <= 0) return 1.0;
  return actual_done_ / predicted_done_;
}

double TimeLeft::remaining(double now) const {
  if (!any_prediction_) return -1;
  const double pace = this->pace();
  double work = 0, longest = 0;
  for (const auto& [id, u] : open_) {
    double left = u.predicted * pace;
    // A unit past its prediction is taken to end any moment now.
    if (u.started >= 0) left = std::max(0.0, left - (now - u.started));
    work += left;
    longest = std::max(longest, left);
  }
  return std::max(work / shards_, longest);
}

}  // namespace shardrun
