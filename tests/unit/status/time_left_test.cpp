// The time-left estimate: the predicted seconds of the units not finished,
// scaled by how the finished ones fared against their predictions, less what
// the running ones have run, spread over the shards, and never less than the
// longest unit left.
#include "shardrun/time_left.hpp"

#include <catch2/catch.hpp>

using namespace shardrun;

TEST_CASE("time left: unknown while no unit has a prediction") {
  TimeLeft t;
  CHECK(t.remaining(0) < 0);
  t.planned(0, 0);
  t.planned(1, 0);
  CHECK(t.remaining(5) < 0);
}

TEST_CASE("time left: before anything ends, the predictions spread over the shards") {
  TimeLeft t;
  t.set_shards(2);
  for (std::size_t id = 0; id < 4; ++id) t.planned(id, 10);
  CHECK(t.pace() == 1.0);
  CHECK(t.remaining(0) == Approx(20));
}

TEST_CASE("time left: never less than the longest unit left, which no shard can share") {
  TimeLeft t;
  t.set_shards(4);
  t.planned(0, 100);
  for (std::size_t id = 1; id < 4; ++id) t.planned(id, 1);
  CHECK(t.remaining(0) == Approx(100));  // not 103 / 4
}

TEST_CASE("time left: a running unit counts what it has left") {
  TimeLeft t;
  t.set_shards(1);
  t.planned(0, 10);
  t.planned(1, 10);
  t.started(0, 10, 2);
  CHECK(t.remaining(6) == Approx(6 + 10));
  // Past its prediction: taken to end any moment, never a negative time.
  CHECK(t.remaining(30) == Approx(10));
}

TEST_CASE("time left: predictions are scaled by how the finished units fared") {
  TimeLeft t;
  t.set_shards(1);
  t.planned(0, 10);
  t.planned(1, 30);
  t.planned(2, 20);
  t.started(0, 10, 0);
  t.finished(0, 20, /*ran=*/true);  // took twice its prediction
  CHECK(t.pace() == Approx(2));
  CHECK(t.remaining(20) == Approx((30 + 20) * 2));
  t.started(1, 30, 20);
  t.finished(1, 30, true);  // 20 + 30 s taken for 10 + 30 s predicted
  CHECK(t.pace() == Approx(50.0 / 40.0));
  CHECK(t.remaining(50) == Approx(20 * 50.0 / 40.0));
}

TEST_CASE("time left: the units left decide, not the mean time of those that ended") {
  // The planner puts long units first: after a 60 s unit, the mean unit time
  // would predict 60 s for each short unit left.
  TimeLeft t;
  t.set_shards(1);
  t.planned(0, 60);
  for (std::size_t id = 1; id <= 3; ++id) t.planned(id, 2);
  t.started(0, 60, 0);
  t.finished(0, 60, true);
  CHECK(t.remaining(60) == Approx(6));
}

TEST_CASE("time left: units that never ran, or were split, leave without scaling the rest") {
  TimeLeft t;
  t.set_shards(1);
  t.planned(0, 50);
  t.planned(1, 40);
  t.planned(2, 10);
  t.finished(0, 0, /*ran=*/false);  // not run
  t.started(1, 40, 0);
  t.finished(1, 0.01, /*ran=*/false);  // split: its halves run instead
  CHECK(t.pace() == 1.0);
  CHECK(t.remaining(1) == Approx(10));
  // Finishing a unit twice, or one never heard of, changes nothing.
  t.finished(1, 100, true);
  t.finished(99, 100, true);
  CHECK(t.pace() == 1.0);
}

TEST_CASE("time left: a unit first heard of when it starts (a retry) counts") {
  TimeLeft t;
  t.set_shards(2);
  t.planned(0, 4);
  t.started(7, 12, 0);
  CHECK(t.remaining(2) == Approx(10));  // max((4 + 10) / 2, 10)
}

TEST_CASE("time left: nothing left is zero, and no shards count as one") {
  TimeLeft t;
  t.set_shards(0);
  t.planned(0, 8);
  CHECK(t.remaining(0) == Approx(8));
  t.started(0, 8, 0);
  t.finished(0, 8, true);
  CHECK(t.remaining(8) == 0);
}
