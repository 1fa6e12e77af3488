// The shared queue as the scheduler's UnitSource. One thread owns the Redis
// connection and does every round trip: heartbeats, lease checks,
// completions and reservations. The scheduler's calls only exchange state
// with it under a mutex (accept() waits for its answer, boundedly).
#include "shardrun/redis_source.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <random>
#include <utility>

namespace shardrun {

namespace {

using SteadyClock = std::chrono::steady_clock;

// How often the thread looks for work when nobody wakes it: a shard that was
// told "not yet" asks again at the scheduler's poll interval anyway.
constexpr std::chrono::milliseconds kIdleWait{100};
constexpr std::chrono::milliseconds kRetryWait{250};

}  // namespace

std::string make_node_name() {
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0) std::snprintf(host, sizeof host, "node");
  std::random_device random;
  return fmt::format("{}-{}-{:04x}", host, ::getpid(), random() & 0xffffu);
}

RedisSource::RedisSource(RedisSourceOptions options, RedisSourceHooks hooks)
    : options_(std::move(options)), hooks_(std::move(hooks)) {
  // Connected here, so that a wrong URL or password fails the run before it starts.
  auto connection = std::make_unique<RedisConnection>(options_.url, options_.password);
  {
    RedisQueue queue(*connection, options_.url, options_.queue);
    RedisQueue::Counts counts = queue.counts();
    queued_ = counts.queued;
    queue_done_ = counts.published && counts.queued == 0 && counts.leased == 0;
  }
  thread_ = std::thread([this, c = std::move(connection)]() mutable {
    connection_ = std::move(c);
    loop();
  });
}

RedisSource::~RedisSource() {
  if (thread_.joinable()) close();
}

void RedisSource::note(std::string text) {
  std::lock_guard lock(mutex_);
  notes_.push_back(std::move(text));
}

std::vector<std::string> RedisSource::take_notes() {
  std::lock_guard lock(mutex_);
  return std::exchange(notes_, {});
}

void RedisSource::loop() {
  std::unique_ptr<RedisQueue> queue;
  SteadyClock::time_point last_ok = SteadyClock::now();
  SteadyClock::time_point last_heartbeat = last_ok;
  bool cut_off = false;
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      wake_.wait_for(lock, kIdleWait, [this] { return poked_ || stopping_; });
      poked_ = false;
      if (stopping_ && completions_.empty() && releases_.empty()) break;
    }
    try {
      if (!connection_)
        connection_ = std::make_unique<RedisConnection>(options_.url, options_.password);
      if (!queue) queue = std::make_unique<RedisQueue>(*connection_, options_.url, options_.queue);
      round(*queue, last_heartbeat);
      last_ok = SteadyClock::now();
      if (cut_off) note("queue: reachable again");
      cut_off = false;
    } catch (const Error& e) {
      queue.reset();
      connection_.reset();
      if (SteadyClock::now() - last_ok > options_.lease) {
        std::lock_guard lock(mutex_);
        unreachable_ = true;
        problems_.push_back(fmt::format(
            "queue unreachable for longer than --queue-lease ({} ms): {}; no further unit taken",
            options_.lease.count(), e.what()));
        answered_.notify_all();
        break;
      }
      if (!cut_off) note(fmt::format("queue: {}; retrying for up to the lease", e.what()));
      cut_off = true;
      std::this_thread::sleep_for(kRetryWait);
    }
  }
  std::lock_guard lock(mutex_);
  answered_.notify_all();
}

void RedisSource::round(RedisQueue& queue, SteadyClock::time_point& last_heartbeat) {
  SteadyClock::time_point now = SteadyClock::now();
  bool holding = false;
  std::vector<std::pair<std::size_t, std::int64_t>> checks;
  {
    std::lock_guard lock(mutex_);
    holding = !tokens_.empty();
    for (const auto& [id, check] : checks_)
      if (!check.answer) checks.emplace_back(id, check.token);
  }
  if (holding && now - last_heartbeat >= options_.lease / 3) {
    queue.heartbeat(options_.node, options_.lease);
    last_heartbeat = now;
  }
  for (const auto& [id, token] : checks) {
    bool holds = queue.holds(id, token);
    std::lock_guard lock(mutex_);
    if (auto it = checks_.find(id); it != checks_.end()) it->second.answer = holds;
    answered_.notify_all();
  }
  send_releases(queue);
  for (;;) {
    Completion c;
    {
      std::lock_guard lock(mutex_);
      if (completions_.empty()) break;
      c = completions_.front();
    }
    RedisQueue::Completion done = queue.complete(c.id, c.token, c.result, c.new_units);
    std::lock_guard lock(mutex_);
    completions_.pop_front();
    tokens_.erase(c.id);
    if (!done.accepted) {
      refused_ = true;
      problems_.push_back(fmt::format(
          "queue: the result of unit {} was refused (its lease had expired and another node "
          "holds it); this node takes no more units",
          c.id));
    }
  }
  bool want = false;
  {
    std::lock_guard lock(mutex_);
    want = want_unit_ && ready_.empty() && !refused_ && !stopping_ && !draining_;
  }
  if (want) reserve_one(queue);
}

void RedisSource::send_releases(RedisQueue& queue) {
  for (;;) {
    std::pair<std::size_t, std::int64_t> r;
    {
      std::lock_guard lock(mutex_);
      if (releases_.empty()) return;
      r = releases_.front();
    }
    bool released = queue.release(r.first, r.second);
    std::lock_guard lock(mutex_);
    releases_.pop_front();
    if (released) notes_.push_back(fmt::format("queue: unit {} given back to the queue", r.first));
  }
}

std::vector<Unit> RedisSource::release_ready() {
  std::vector<Unit> rest;
  for (Unit& unit : ready_) {
    if (auto token = tokens_.find(unit.id); token != tokens_.end() && !unreachable_) {
      releases_.emplace_back(unit.id, token->second);
      tokens_.erase(token);
    }
    rest.push_back(std::move(unit));
  }
  ready_.clear();
  if (!releases_.empty()) {
    poked_ = true;
    wake_.notify_one();
  }
  return rest;
}

void RedisSource::reserve_one(RedisQueue& queue) {
  RedisQueue::Reservation r = queue.reserve(options_.node, options_.lease);
  std::size_t queued = queue.counts().queued;
  std::unique_lock lock(mutex_);
  queued_ = queued;
  if (r.answer == RedisQueue::Reservation::Answer::kDone) {
    queue_done_ = true;
    want_unit_ = false;
    return;
  }
  if (r.answer == RedisQueue::Reservation::Answer::kNotYet) return;
  const RedisQueue::Lease& lease = *r.lease;
  lock.unlock();
  std::variant<Unit, std::string> checked = hooks_.validate(lease.unit);
  if (auto* why = std::get_if<std::string>(&checked)) {
    // Never run: completed at once with an error result that says why.
    queue.complete(lease.unit.id, lease.token, hooks_.refusal(lease.unit, *why), {});
    note(fmt::format("queue: unit {} refused: {}", lease.unit.id, *why));
    return;
  }
  Unit unit = std::get<Unit>(std::move(checked));
  unit.id = lease.unit.id;
  if (lease.requeues > 0) {
    // In the label, so that run.json and the status lines name the lost node.
    unit.label += fmt::format(" (lost by {})", lease.lost_by);
    note(fmt::format("queue: unit {} runs again: its lease expired {} time{}, last on {}", unit.id,
                     lease.requeues, lease.requeues == 1 ? "" : "s", lease.lost_by));
  }
  lock.lock();
  tokens_[unit.id] = lease.token;
  want_unit_ = false;
  if (draining_ || stopping_) {  // drained while reserving: straight back
    releases_.emplace_back(unit.id, lease.token);
    tokens_.erase(unit.id);
    return;
  }
  ready_.push_back(std::move(unit));
}

UnitSource::Take RedisSource::take(int /*shard*/) {
  std::lock_guard lock(mutex_);
  if (refused_ || unreachable_ || stopping_ || draining_) return Take{Answer::kDone, std::nullopt};
  if (!ready_.empty()) {
    Take take{Answer::kUnit, std::move(ready_.front())};
    ready_.pop_front();
    ++running_;
    return take;
  }
  if (queue_done_ && running_ == 0 && completions_.empty())
    return Take{Answer::kDone, std::nullopt};
  // A new request wakes the thread; while one is pending (the queue said
  // "not yet"), the thread asks again at its idle interval, not at every
  // take: the scheduler asks every 20 ms while a shard waits.
  if (!want_unit_) {
    want_unit_ = true;
    poked_ = true;
    wake_.notify_one();
  }
  return Take{Answer::kNotYet, std::nullopt};
}

std::size_t RedisSource::waiting() const {
  std::lock_guard lock(mutex_);
  if (refused_ || unreachable_) return 0;
  if (queue_done_) return ready_.size();
  // At least one: a ready shard that asks keeps this node in the run while
  // other nodes' units may still come back (lost leases, retries).
  return std::max<std::size_t>(1, queued_ + ready_.size());
}

bool RedisSource::accept(int /*shard*/, const Unit& unit) {
  std::unique_lock lock(mutex_);
  auto token = tokens_.find(unit.id);
  if (token == tokens_.end() || unreachable_) return true;
  checks_[unit.id] = Check{unit.id, token->second, std::nullopt};
  poked_ = true;
  wake_.notify_one();
  bool answered = answered_.wait_for(lock, options_.check_wait, [&] {
    return checks_[unit.id].answer.has_value() || unreachable_;
  });
  std::optional<bool> holds = checks_[unit.id].answer;
  checks_.erase(unit.id);
  if (!answered || !holds) {
    notes_.push_back(
        fmt::format("queue: no answer about unit {}'s lease within {} ms; its completion decides",
                    unit.id, options_.check_wait.count()));
    return true;
  }
  if (*holds) return true;
  refused_ = true;
  tokens_.erase(unit.id);
  if (running_ > 0) --running_;
  problems_.push_back(fmt::format(
      "queue: unit {} ({}) finished after its lease expired; another node runs it and its "
      "result here is discarded; this node takes no more units",
      unit.id, unit.label));
  return false;
}

void RedisSource::finished(int /*shard*/, const Unit& unit, const UnitVerdict& verdict) {
  if (hooks_.interrupted && hooks_.interrupted(unit)) {
    // Not this node's result to give: the unit goes back to the queue at
    // once (release, no requeue counted) for another node to run.
    std::lock_guard lock(mutex_);
    if (running_ > 0) --running_;
    if (auto token = tokens_.find(unit.id); token != tokens_.end()) {
      if (!unreachable_) releases_.emplace_back(unit.id, token->second);
      tokens_.erase(token);
      poked_ = true;
      wake_.notify_one();
    }
    return;
  }
  Completion c;
  c.id = unit.id;
  c.result = hooks_.result_of(unit);
  for (const Unit& u : verdict.requeue)
    c.new_units.push_back(
        QueueUnit{0, u.predicted_seconds, hooks_.entry_name(u), u.tests, u.attempt});
  std::lock_guard lock(mutex_);
  failed_tests_ += verdict.failed_tests;
  if (running_ > 0) --running_;
  auto token = tokens_.find(unit.id);
  if (token == tokens_.end()) return;
  c.token = token->second;
  if (!c.new_units.empty()) queue_done_ = false;
  completions_.push_back(std::move(c));
  poked_ = true;
  wake_.notify_one();
}

bool RedisSource::budget_spent() const {
  std::lock_guard lock(mutex_);
  return options_.max_failures > 0 && failed_tests_ >= options_.max_failures;
}

std::vector<Unit> RedisSource::drain() {
  std::lock_guard lock(mutex_);
  // Reserved but never started: given back to the queue at once (release,
  // no requeue counted). Unreachable: their leases expire instead.
  draining_ = true;
  std::vector<Unit> rest = release_ready();
  if (unreachable_) {  // reported by the app as "queue unreachable", not the scheduler's reason
    cut_off_ = std::move(rest);
    return {};
  }
  return rest;
}

std::vector<Unit> RedisSource::unreachable_left() {
  std::lock_guard lock(mutex_);
  return std::exchange(cut_off_, {});
}

std::vector<std::string> RedisSource::close() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    release_ready();  // reserved after the scheduler's last take: back to the queue
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
  std::lock_guard lock(mutex_);
  if (!completions_.empty() && !unreachable_)
    problems_.push_back(fmt::format("queue: {} result(s) could not be sent", completions_.size()));
  return problems_;
}

}  // namespace shardrun
