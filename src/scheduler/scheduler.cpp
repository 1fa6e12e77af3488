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

Scheduler::Scheduler(CommandRunner& runner, const TimeSource& clock, ShardResources& resources,
                     CommandFactory& commands, SchedulerListener& listener,
                     SchedulerOptions options)
    : runner_(runner),
      clock_(clock),
      resources_(resources),
      commands_(commands),
      listener_(listener),
      options_(std::move(options)) {}

SchedulerResult Scheduler::run(std::deque<Unit> queue) {
  LocalQueue source(std::move(queue), options_.max_failures);
  return run(source);
}

SchedulerResult Scheduler::run(UnitSource& source) {
  source_ = &source;
  shards_.assign(std::max(1, options_.shards), ShardState{});
  result_ = SchedulerResult{};
  result_.started = clock_.now();

  check_interrupts();
  advance_all();
  // A resource being made in-process (a connection) has no child to wait
  // for, nor has a shard whose source has no unit for it yet.
  while (runner_.running() > 0 || any_waiting_ready() || any_waiting_work()) {
    check_interrupts();
    // A resource on its way up is probed often: start-up time is paid per shard.
    // So is a source that had no unit yet for a free shard: a shared queue
    // fetches one in the background, and every poll interval spent before the
    // shard asks again is idle time paid per unit (scripts/bench/queue.sh).
    Millis wait = any_waiting_ready() || any_waiting_work()
                      ? std::min(options_.poll_interval, Millis(20))
                      : options_.poll_interval;
    std::optional<Completion> done = runner_.wait(wait);
    if (!done) {
      listener_.on_tick(clock_.now());
      advance_all();
      continue;
    }
    on_completion(*done);
    advance_all();
  }

  std::string reason = result_.interrupted           ? "interrupted before it started"
                       : result_.stopped_by_failures ? "not run: --max-failures reached"
                                                     : "not run: no shard could be prepared";
  for (const Unit& unit : source.drain()) listener_.on_unit_not_run(unit, reason);
  source_ = nullptr;

  result_.ended = clock_.now();
  for (const ShardState& shard : shards_) result_.shards.push_back(shard.report);
  return result_;
}

bool Scheduler::accepting_units() const {
  return !result_.interrupted && !result_.stopped_by_failures;
}

std::size_t Scheduler::shards_claiming() const {
  // A shard being prepared will take a unit once ready: count it as a claim
  // so that no more shards are prepared than there are units for.
  return std::count_if(shards_.begin(), shards_.end(), [](const ShardState& s) {
    return s.phase == Phase::kResources || s.phase == Phase::kSetup;
  });
}

bool Scheduler::any_waiting_work() const {
  return std::any_of(shards_.begin(), shards_.end(),
                     [](const ShardState& s) { return s.waiting_work; });
}

bool Scheduler::any_waiting_ready() const {
  return std::any_of(shards_.begin(), shards_.end(),
                     [](const ShardState& s) { return s.waiting_ready; });
}

void Scheduler::advance_all() {
  for (int shard = 0; shard < static_cast<int>(shards_.size()); ++shard) advance(shard);
}

void Scheduler::advance(int shard) {
  ShardState& s = shards_[shard];
  for (;;) {
    if (s.child) return;  // a command of this shard is running: wait for it
    switch (s.phase) {
      case Phase::kIdle:
        if (!accepting_units() || source_->waiting() <= shards_claiming()) return;
        s.services.assign(resources_.resource_count(), std::nullopt);
        s.phase = Phase::kResources;
        continue;
      case Phase::kResources:
        if (!accepting_units()) {
          begin_teardown(shard);
          continue;
        }
        if (!advance_resources(shard)) return;  // a resource is not ready yet
        continue;
      case Phase::kSetup:
        if (!accepting_units() || s.broken) {
          begin_teardown(shard);
          continue;
        }
        if (s.next_step < s.steps.size()) {
          start_step(shard);
          return;
        }
        end_setup(shard, ShardEvent::Outcome::kOk);
        s.report.prepared = true;
        s.phase = Phase::kReady;
        continue;
      case Phase::kReady: {
        s.waiting_work = false;
        if (!accepting_units() || s.broken) {
          begin_teardown(shard);
          continue;
        }
        UnitSource::Take take = source_->take(shard);
        if (take.answer == UnitSource::Answer::kNotYet) {
          // Stay ready: retries and crash-isolation halves of units still
          // running (or another machine's units) should run in parallel.
          s.waiting_work = true;
          return;
        }
        if (take.answer == UnitSource::Answer::kDone || !take.unit) {
          begin_teardown(shard);
          continue;
        }
        s.unit = std::move(take.unit);
        s.child = runner_.start(commands_.unit(shard, *s.unit));
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
        emit(shard, ShardEvent::Kind::kTeardownEnd, 0,
             s.teardown_cut             ? ShardEvent::Outcome::kInterrupted
             : s.teardown_error.empty() ? ShardEvent::Outcome::kOk
                                        : ShardEvent::Outcome::kFailed,
             s.teardown_error);
        s.phase = Phase::kRelease;
        continue;
      case Phase::kRelease:
        if (!advance_release(shard)) return;  // a service is stopping
        s.phase = Phase::kDone;
        return;
      case Phase::kDone:
        return;
    }
  }
}

bool Scheduler::advance_resources(int shard) {
  ShardState& s = shards_[shard];
  auto fail = [&](std::size_t index, const std::string& why) {
    s.report.problem = true;
    emit(shard, ShardEvent::Kind::kResourceEnd, index, ShardEvent::Outcome::kFailed, why);
    listener_.on_shard_problem(shard, fmt::format("{}: {}", resources_.resource_name(index), why));
    begin_teardown(shard);
  };
  if (s.waiting_ready) {
    std::size_t index = s.acquired - 1;
    ReadyCheck check = resources_.check_ready(shard, index, s.resource_started, clock_.now());
    if (check.state == ReadyCheck::State::kWaiting) return false;
    s.waiting_ready = false;
    if (check.state == ReadyCheck::State::kFailed) {
      fail(index, check.error);
      return true;
    }
    emit(shard, ShardEvent::Kind::kResourceEnd, index);
  }
  while (s.acquired < resources_.resource_count()) {
    std::size_t index = s.acquired;
    emit(shard, ShardEvent::Kind::kResourceStart, index);
    ResourceStart start = resources_.acquire_resource(shard, index);
    if (start.error) {
      fail(index, *start.error);
      return true;
    }
    s.acquired += 1;
    if (start.service) {
      Service service;
      service.log = start.service->log;
      service.child = runner_.start(*start.service);
      s.services[index] = service;
      s.waiting_ready = true;
      s.resource_started = clock_.now();
      return true;  // probed on the next pass
    }
    if (start.pending) {
      s.waiting_ready = true;
      s.resource_started = clock_.now();
      return true;
    }
    emit(shard, ShardEvent::Kind::kResourceEnd, index);
  }
  s.setup_started = true;
  s.steps = commands_.shard_setup(shard);
  s.next_step = 0;
  s.phase = Phase::kSetup;
  s.setup_open = true;
  ShardEvent event;
  event.kind = ShardEvent::Kind::kSetupStart;
  event.shard = shard;
  event.commands = s.steps.size();
  event.when = clock_.now();
  listener_.on_shard_event(event);
  return true;
}

bool Scheduler::advance_release(int shard) {
  ShardState& s = shards_[shard];
  while (s.acquired > 0) {
    std::size_t index = s.acquired - 1;
    std::optional<Service>& service = s.services[index];
    if (service && service->running) {
      if (!service->stopping) {
        service->stopping = true;
        runner_.stop(service->child, false);
      }
      return false;
    }
    s.acquired -= 1;
    std::optional<std::string> problem = resources_.release_resource(shard, index);
    emit(shard, ShardEvent::Kind::kResourceReleased, index, ShardEvent::Outcome::kOk,
         problem.value_or(""));
    if (problem) {
      s.report.problem = true;
      listener_.on_shard_problem(shard,
                                 fmt::format("{}: {}", resources_.resource_name(index), *problem));
    }
  }
  return true;
}

void Scheduler::begin_teardown(int shard) {
  ShardState& s = shards_[shard];
  // Whatever was under way is given up: say why on its span.
  std::string why = s.broken                      ? *s.broken
                    : result_.interrupted         ? std::string("interrupted")
                    : result_.stopped_by_failures ? std::string("--max-failures reached")
                                                  : std::string();
  if (s.waiting_ready)
    emit(shard, ShardEvent::Kind::kResourceEnd, s.acquired - 1, ShardEvent::Outcome::kInterrupted,
         why);
  if (s.setup_open) end_setup(shard, ShardEvent::Outcome::kInterrupted, why);
  s.waiting_ready = false;
  s.steps = s.setup_started ? commands_.shard_teardown(shard) : std::vector<ProcessSpec>{};
  s.next_step = 0;
  s.phase = Phase::kTeardown;
  s.teardown_error.clear();
  s.teardown_cut = false;
  ShardEvent event;
  event.kind = ShardEvent::Kind::kTeardownStart;
  event.shard = shard;
  event.commands = s.steps.size();
  event.when = clock_.now();
  listener_.on_shard_event(event);
}

void Scheduler::emit(int shard, ShardEvent::Kind kind, std::size_t resource,
                     ShardEvent::Outcome outcome, std::string error) {
  ShardEvent event;
  event.kind = kind;
  event.shard = shard;
  event.resource = resource;
  if (kind == ShardEvent::Kind::kResourceStart || kind == ShardEvent::Kind::kResourceEnd ||
      kind == ShardEvent::Kind::kServiceDied || kind == ShardEvent::Kind::kResourceReleased)
    event.name = resources_.resource_name(resource);
  event.outcome = outcome;
  event.error = std::move(error);
  event.when = clock_.now();
  listener_.on_shard_event(event);
}

void Scheduler::end_setup(int shard, ShardEvent::Outcome outcome, std::string error) {
  shards_[shard].setup_open = false;
  emit(shard, ShardEvent::Kind::kSetupEnd, 0, outcome, std::move(error));
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

void Scheduler::on_service_exit(int shard, std::size_t index, const Completion& done) {
  ShardState& s = shards_[shard];
  Service& service = *s.services[index];
  service.running = false;
  // Stopped by us, or by a second Ctrl-C: nothing to report.
  if (service.stopping || (result_.interrupted && done.status.interrupted)) return;
  if (s.phase == Phase::kTeardown || s.phase == Phase::kRelease || s.phase == Phase::kDone) return;

  std::string name = resources_.resource_name(index);
  s.report.problem = true;
  if (s.phase == Phase::kResources && s.waiting_ready && index + 1 == s.acquired) {
    std::string why = fmt::format("exited before it was ready ({}); see its log {}",
                                  done.status.describe(), service.log.string());
    s.waiting_ready = false;
    emit(shard, ShardEvent::Kind::kResourceEnd, index, ShardEvent::Outcome::kFailed, why);
    listener_.on_shard_problem(shard, fmt::format("{}: {}", name, why));
    begin_teardown(shard);
    return;
  }
  s.broken = fmt::format("{} of shard {} exited ({}); see its log {}", name, shard,
                         done.status.describe(), service.log.string());
  emit(shard, ShardEvent::Kind::kServiceDied, index, ShardEvent::Outcome::kFailed, *s.broken);
  listener_.on_shard_problem(shard, *s.broken + "; the shard takes no more units");
  if (s.phase == Phase::kResources) {
    begin_teardown(shard);
  } else if (s.child) {
    runner_.stop(*s.child, false);  // the unit or setup step cannot go on without it
  }
}

void Scheduler::setup_failed(int shard, const Completion& done) {
  ShardState& s = shards_[shard];
  s.report.problem = true;
  std::string what =
      fmt::format("shard setup command {} of {} failed ({}): see its log {}", s.next_step + 1,
                  s.steps.size(), done.status.describe(), s.steps[s.next_step].log.string());
  end_setup(
      shard,
      done.status.interrupted ? ShardEvent::Outcome::kInterrupted : ShardEvent::Outcome::kFailed,
      what);
  listener_.on_shard_problem(shard, what);
  begin_teardown(shard);
}

void Scheduler::on_completion(const Completion& done) {
  int shard = shard_of(done.id);
  if (shard < 0) {
    for (std::size_t i = 0; i < shards_.size(); ++i) {
      for (std::size_t r = 0; r < shards_[i].services.size(); ++r) {
        const std::optional<Service>& service = shards_[i].services[r];
        if (service && service->running && service->child == done.id) {
          on_service_exit(static_cast<int>(i), r, done);
          return;
        }
      }
    }
    return;  // not ours (cannot happen with one scheduler per runner)
  }
  ShardState& s = shards_[shard];
  s.child.reset();
  switch (s.phase) {
    case Phase::kSetup:
      if (s.broken) {
        begin_teardown(shard);  // already reported: its service died
        return;
      }
      if (!done.status.success()) {
        setup_failed(shard, done);
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
      if (!source_->accept(shard, unit)) {
        listener_.on_unit_rejected(shard, unit, done);
        return;
      }
      UnitVerdict verdict;
      if (s.broken && done.status.interrupted) {
        Completion stopped = done;
        stopped.stopped_because = *s.broken;
        verdict = listener_.on_unit_end(shard, unit, stopped);
      } else {
        verdict = listener_.on_unit_end(shard, unit, done);
      }
      source_->finished(shard, unit, verdict);
      if (source_->budget_spent() && !result_.stopped_by_failures) {
        result_.stopped_by_failures = true;
        stop_units(false);
      }
      return;
    }
    case Phase::kTeardown:
      if (!done.status.success()) {
        s.report.problem = true;
        std::string what = fmt::format(
            "shard teardown command {} of {} failed ({}): see its log {}", s.next_step + 1,
            s.steps.size(), done.status.describe(), s.steps[s.next_step].log.string());
        if (s.teardown_error.empty()) s.teardown_error = what;
        if (done.status.interrupted) s.teardown_cut = true;
        listener_.on_shard_problem(shard, what);
      }
      ++s.next_step;  // teardown goes on after a failure: every step gets its chance
      return;
    case Phase::kIdle:
    case Phase::kResources:
    case Phase::kReady:
    case Phase::kRelease:
    case Phase::kDone:
      return;
  }
}

void Scheduler::stop_units(bool immediate) {
  // Units and setup steps are stopped; teardown steps are left to finish,
  // since teardown always runs. Services are stopped at release.
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
