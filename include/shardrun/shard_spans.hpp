#pragma once
// The scheduler's shard events (resources, setup, teardown begun and ended)
// as spans per shard for run.json and the timeline.

#include <map>
#include <utility>
#include <vector>

#include "shardrun/shard_event.hpp"
#include "shardrun/status.hpp"

namespace shardrun {

class ShardSpanBook {
 public:
  /// Adds `event`, which happened `at` seconds after the run started.
  void add(const ShardEvent& event, double at);
  /// By shard index; shards that had no event have no spans.
  const std::vector<std::vector<ShardSpan>>& spans() const { return spans_; }

 private:
  ShardSpan* open(int shard, const char* kind);
  std::vector<std::vector<ShardSpan>> spans_;
  // (shard, resource index) -> the index of its latest span in spans_[shard]
  std::map<std::pair<int, std::size_t>, std::size_t> resources_;
};

}  // namespace shardrun
