#pragma once
// A CommandRunner without processes. A spec's argv says what the fake child
// does: {"fake", SECONDS, EXIT_CODE}; anything else runs for 0 s and exits 0.
// wait() jumps the fake clock to the earliest end, so tests are exact and fast.

#include <map>
#include <string>
#include <vector>

#include "shardrun/command_runner.hpp"

namespace shardrun::testing {

class FakeClock final : public TimeSource {
 public:
  TimePoint now() const override { return now_; }
  void set(TimePoint t) { now_ = t; }
  double seconds() const { return std::chrono::duration<double>(now_ - TimePoint{}).count(); }

 private:
  TimePoint now_{};
};

inline ProcessSpec fake_spec(double seconds, int code = 0, std::string name = "") {
  ProcessSpec spec;
  spec.argv = {"fake", std::to_string(seconds), std::to_string(code), name};
  return spec;
}

class FakeRunner final : public CommandRunner {
 public:
  explicit FakeRunner(FakeClock& clock) : clock_(clock) {}

  struct Started {
    std::uint64_t id;
    ProcessSpec spec;
    TimePoint at;
  };
  std::vector<Started> started;  ///< every start, in order
  std::size_t max_running = 0;   ///< most children alive at once

  std::uint64_t start(const ProcessSpec& spec) override {
    std::uint64_t id = ++next_id_;
    Child child;
    child.started = clock_.now();
    double seconds = 0;
    int code = 0;
    if (spec.argv.size() >= 3 && spec.argv[0] == "fake") {
      seconds = std::stod(spec.argv[1]);
      code = std::stoi(spec.argv[2]);
    }
    child.ends = child.started + std::chrono::duration_cast<Clock::duration>(
                                     std::chrono::duration<double>(seconds));
    child.status.code = code;
    if (spec.timeout && child.ends - child.started > *spec.timeout) {
      child.ends = child.started + *spec.timeout;
      child.status.kind = ExitStatus::Kind::kSignaled;
      child.status.signal = 15;
      child.status.timed_out = true;
    }
    children_[id] = child;
    started.push_back({id, spec, clock_.now()});
    max_running = std::max(max_running, children_.size());
    return id;
  }

  std::optional<Completion> wait(Millis max_wait) override {
    if (children_.empty()) {
      clock_.set(clock_.now() + max_wait);
      return std::nullopt;
    }
    auto first = children_.begin();
    for (auto it = children_.begin(); it != children_.end(); ++it)
      if (it->second.ends < first->second.ends) first = it;
    // Honour max_wait so that callers get their ticks and interrupt polls.
    if (first->second.ends > clock_.now() + max_wait) {
      clock_.set(clock_.now() + max_wait);
      return std::nullopt;
    }
    clock_.set(std::max(clock_.now(), first->second.ends));
    Completion done{first->first, first->second.status, first->second.started, clock_.now(), {}};
    children_.erase(first);
    return done;
  }

  void stop(std::uint64_t id, bool immediate) override {
    auto it = children_.find(id);
    if (it == children_.end()) return;
    it->second.status = ExitStatus{};
    it->second.status.kind = ExitStatus::Kind::kSignaled;
    it->second.status.signal = immediate ? 9 : 15;
    it->second.status.interrupted = true;
    it->second.ends = std::min(it->second.ends, clock_.now());
  }

  void stop_all(bool immediate) override {
    for (auto& [id, child] : children_) stop(id, immediate);
  }

  std::size_t running() const override { return children_.size(); }

 private:
  struct Child {
    TimePoint started;
    TimePoint ends;
    ExitStatus status;
  };
  FakeClock& clock_;
  std::uint64_t next_id_ = 0;
  std::map<std::uint64_t, Child> children_;
};

}  // namespace shardrun::testing
