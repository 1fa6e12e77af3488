#include "shardrun/scheduler.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>

namespace shardrun {

namespace {
double seconds_between(TimePoint a, TimePoint b) {
  return std::chrono::duration<double>(b - a).count();
}
}  // namespace

Scheduler::Scheduler(CommandRunner& runner, const TimeSource& clock, JobSource& jobs,
                     SchedulerListener& listener, SchedulerOptions options)
    : runner_(runner),
      clock_(clock),
      jobs_(jobs),
      listener_(listener),
      options_(std::move(options)) {}

SchedulerResult Scheduler::run(std::deque<Unit> queue) {
  queue_ = std::move(queue);
  shards_.assign(std::max(1, options_.shards), ShardState{});
  result_ = SchedulerResult{};
  result_.started = clock_.now();

  check_interrupts();
  advance_all();
  while (runner_.running() > 0) {
    check_interrupts();
    std::optional<Completion> done = runner_.wait(options_.poll_interval);
    if (!done) {
      listener_.on_tick(clock_.now());
      continue;
    }
    on_completion(*done);
    advance_all();
  }

  std::string reason = result_.interrupted           ? "interrupted before it started"
                       : result_.stopped_by_failures ? "not run: --max-failures reached"
                                                     : "not run: no shard could be prepared";
  for (const Unit& unit : queue_) listener_.on_unit_not_run(unit, reason);
  queue_.clear();

  result_.ended = clock_.now();
  for (const ShardState& shard : shards_) result_.shards.push_back(shard.report);
  return result_;
}

bool Scheduler::accepting_units() const {
  return !result_.interrupted && !result_.stopped_by_failures;
}

std::size_t Scheduler::shards_claiming() const {
  // A shard in setup will take a unit once ready: count it as a claim so
  // that no more shards are prepared than there are units for.
  return std::count_if(shards_.begin(), shards_.end(),
                       [](const ShardState& s) { return s.phase == Phase::kSetup; });
}

void Scheduler::advance_all() {
  for (int shard = 0; shard < static_cast<int>(shards_.size()); ++shard) advance(shard);
}

void Scheduler::advance(int shard) {
  ShardState& s = shards_[shard];
  for (;;) {
    if (s.child) return;  // a command of this shard is running: wait for it
    switch (s.phase) {
      case Phase::kIdle: {
        if (!accepting_units() || queue_.size() <= shards_claiming()) return;
        s.resources_prepared = true;
        if (std::optional<std::string> problem = jobs_.prepare_shard(shard)) {
          s.report.problem = true;
          listener_.on_shard_problem(shard, *problem);
          begin_teardown(shard);
          continue;
        }
        s.setup_started = true;
        s.steps = jobs_.shard_setup(shard);
        s.next_step = 0;
        s.phase = Phase::kSetup;
        continue;
      }
      case Phase::kSetup:
        if (!accepting_units()) {
          begin_teardown(shard);
          continue;
        }
        if (s.next_step < s.steps.size()) {
          start_step(shard);
          return;
        }
        s.report.prepared = true;
        s.phase = Phase::kReady;
        continue;
      case Phase::kReady: {
        if (!accepting_units() || queue_.empty()) {
          begin_teardown(shard);
          continue;
        }
        s.unit = std::move(queue_.front());
        queue_.pop_front();
        s.child = runner_.start(jobs_.unit(shard, *s.unit));
        s.phase = Phase::kUnit;
        listener_.on_unit_start(shard, *s.unit, clock_.now());
        return;
      }
      case Phase::kUnit:
        return;
      case Phase::kTeardown:
        if (s.next_step < s.steps.size()) {
          start_step(shard);
          return;
        }
        if (s.resources_prepared) {
          s.resources_prepared = false;
          if (std::optional<std::string> problem = jobs_.release_shard(shard)) {
            s.report.problem = true;
            listener_.on_shard_problem(shard, *problem);
          }
        }
        s.phase = Phase::kDone;
        return;
      case Phase::kDone:
        return;
    }
  }
}

void Scheduler::begin_teardown(int shard) {
  ShardState& s = shards_[shard];
  s.steps = s.setup_started ? jobs_.shard_teardown(shard) : std::vector<ProcessSpec>{};
  s.next_step = 0;
  s.phase = Phase::kTeardown;
}

void Scheduler::start_step(int shard) {
  ShardState& s = shards_[shard];
  s.child = runner_.start(s.steps[s.next_step]);
}

int Scheduler::shard_of(std::uint64_t child) const {
  for (std::size_t i = 0; i < shards_.size(); ++i)
    if (shards_[i].child == child) return static_cast<int>(i);
  return -1;
}

void Scheduler::on_completion(const Completion& done) {
  int shard = shard_of(done.id);
  if (shard < 0) return;  // not ours (cannot happen with one scheduler per runner)
  ShardState& s = shards_[shard];
  s.child.reset();
  switch (s.phase) {
    case Phase::kSetup:
      if (!done.status.success()) {
        s.report.problem = true;
        listener_.on_shard_problem(
            shard,
            fmt::format("shard setup command {} of {} failed ({}): see its log {}", s.next_step + 1,
                        s.steps.size(), done.status.describe(), s.steps[s.next_step].log.string()));
        begin_teardown(shard);
        return;
      }
      ++s.next_step;
      return;
    case Phase::kUnit: {
      Unit unit = std::move(*s.unit);
      s.unit.reset();
      s.phase = Phase::kReady;
      s.report.units += 1;
      s.report.busy_seconds += seconds_between(done.started, done.ended);
      UnitVerdict verdict = listener_.on_unit_end(shard, unit, done);
      failed_tests_ += verdict.failed_tests;
      for (Unit& retry : verdict.requeue) queue_.push_back(std::move(retry));
      if (options_.max_failures > 0 && failed_tests_ >= options_.max_failures &&
          !result_.stopped_by_failures) {
        result_.stopped_by_failures = true;
        stop_units(false);
      }
      return;
    }
    case Phase::kTeardown:
      if (!done.status.success()) {
        s.report.problem = true;
        listener_.on_shard_problem(
            shard, fmt::format("shard teardown command {} of {} failed ({}): see its log {}",
                               s.next_step + 1, s.steps.size(), done.status.describe(),
                               s.steps[s.next_step].log.string()));
      }
      ++s.next_step;  // teardown goes on after a failure: every step gets its chance
      return;
    case Phase::kIdle:
    case Phase::kReady:
    case Phase::kDone:
      return;
  }
}

void Scheduler::stop_units(bool immediate) {
  // Units and setup steps are stopped; teardown steps are left to finish,
  // since teardown always runs.
  for (ShardState& s : shards_)
    if (s.child && (s.phase == Phase::kUnit || s.phase == Phase::kSetup))
      runner_.stop(*s.child, immediate);
}

void Scheduler::check_interrupts() {
  int seen = options_.interrupts();
  if (seen <= interrupts_seen_) return;
  bool first = interrupts_seen_ == 0;
  interrupts_seen_ = seen;
  result_.interrupted = true;
  if (first && seen == 1) {
    stop_units(false);
  } else {
    // A second request skips the grace period everywhere, teardown included.
    runner_.stop_all(true);
  }
}

std::vector<std::string> run_sequence(CommandRunner& runner, const std::vector<ProcessSpec>& steps,
                                      bool stop_on_failure,
                                      const std::function<int()>& interrupts) {
  // Setup (stop_on_failure) gives way to the first interrupt; teardown must
  // always run, so only a second interrupt cuts it short, and at once.
  std::vector<std::string> failures;
  int seen = interrupts();
  for (std::size_t i = 0; i < steps.size(); ++i) {
    if (stop_on_failure && interrupts() > 0) {
      failures.push_back("interrupted");
      break;
    }
    std::uint64_t id = runner.start(steps[i]);
    std::optional<Completion> done;
    while (!(done = runner.wait(Millis(100)))) {
      int now = interrupts();
      if (now > seen) {
        seen = now;
        if (stop_on_failure)
          runner.stop(id, now > 1);
        else if (now > 1)
          runner.stop(id, true);
      }
    }
    if (!done->status.success()) {
      std::string what = steps[i].argv.empty() ? std::string("?") : steps[i].argv.back();
      failures.push_back(fmt::format("'{}' failed ({}); log: {}", what, done->status.describe(),
                                     steps[i].log.string()));
      if (stop_on_failure) break;
    }
  }
  return failures;
}

}  // namespace shardrun
