#include "shardrun/scheduler.hpp"
#include "shardrun/unit_source.hpp"

#include <algorithm>

namespace shardrun {

LocalQueue::LocalQueue(std::deque<Unit> units, int max_failures)
    : queue_(std::move(units)), max_failures_(max_failures) {
  for (const Unit& unit : queue_)
    if (unit.id != Unit::kNoId) next_id_ = std::max(next_id_, unit.id + 1);
}

UnitSource::Take LocalQueue::take(int /*shard*/) {
  if (queue_.empty()) {
    // A running unit may yet be retried or isolated: those should run in
    // parallel on the shards that are ready now.
    return Take{running_ > 0 ? Answer::kNotYet : Answer::kDone, std::nullopt};
  }
  Take take{Answer::kUnit, std::move(queue_.front())};
  queue_.pop_front();
  ++running_;
  return take;
}

void LocalQueue::finished(int /*shard*/, const Unit& /*unit*/, const UnitVerdict& verdict) {
  if (running_ > 0) --running_;
  failed_tests_ += verdict.failed_tests;
  for (Unit unit : verdict.requeue) {
    if (unit.id == Unit::kNoId) {
      unit.id = next_id_++;
    } else {
      next_id_ = std::max(next_id_, unit.id + 1);
    }
    queue_.push_back(std::move(unit));
  }
}

bool LocalQueue::budget_spent() const {
  return max_failures_ > 0 && failed_tests_ >= max_failures_;
}

std::vector<Unit> LocalQueue::drain() {
  std::vector<Unit> rest(std::make_move_iterator(queue_.begin()),
                         std::make_move_iterator(queue_.end()));
  queue_.clear();
  return rest;
}

}  // namespace shardrun
