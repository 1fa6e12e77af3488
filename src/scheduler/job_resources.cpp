// SuiteResources: a suite's shard resources (DESIGN §5): expands each resource's
// fields against the shard's environment so far, makes the port or the
// PostgreSQL object, or describes the service for the scheduler to start,
// and records what each exports for every later command of the shard.

#include <fmt/format.h>

#include "shardrun/error.hpp"
#include "shardrun/job_builder.hpp"

namespace shardrun {

namespace fs = std::filesystem;

SuiteResources::Held& SuiteResources::held(int shard, std::size_t index) {
  if (held_.size() <= static_cast<std::size_t>(shard)) held_.resize(shard + 1);
  std::vector<Held>& list = held_[shard];
  if (list.size() <= index) list.resize(index + 1);
  return list[index];
}

std::size_t SuiteResources::resource_count() const {
  return jobs_.suite().shard.resources.size();
}

std::string SuiteResources::resource_name(std::size_t index) const {
  return jobs_.suite().shard.resources.at(index).display();
}

fs::path SuiteResources::service_log(int shard, std::size_t index) const {
  return jobs_.context().run_dir / "logs" /
         fmt::format("shard-{}-service-{}.log", shard,
                     jobs_.suite().shard.resources.at(index).name);
}

ResourceStart SuiteResources::acquire_resource(int shard, std::size_t index) {
  const ResourceSpec& spec = jobs_.suite().shard.resources.at(index);
  ResourceStart start;
  if (index == 0) {
    std::error_code ec;
    fs::create_directories(jobs_.shard_tmp(shard), ec);
    if (ec) {
      start.error =
          fmt::format("cannot create {}: {}", jobs_.shard_tmp(shard).string(), ec.message());
      return start;
    }
  }
  // Earlier resources' variables are in the env; this one's are not yet.
  held(shard, index) = Held{};
  EnvList env = jobs_.shard_env(shard);
  PlaceholderValues values = jobs_.values_for(shard, env);
  auto expand = [&](const std::string& text) { return expand_placeholders(text, values, false); };
  try {
    Held& h = held(shard, index);
    switch (spec.type) {
      case ResourceSpec::Type::kPort: {
        auto [first, last] = default_port_range();
        h.port = PortLease::acquire(
            jobs_.context().lock_dir.empty() ? default_lock_dir() : jobs_.context().lock_dir, first,
            last);
        h.exports.emplace_back(spec.name, std::to_string(h.port->port()));
        break;
      }
      case ResourceSpec::Type::kPostgres: {
        PostgresLease::Request request;
        request.database_mode = spec.database_mode;
        request.name = fmt::format("{}_{}", expand(spec.prefix), shard);
        request.url = expand(spec.url);
        request.template_db = expand(spec.template_db);
        request.env = env;
        h.postgres = PostgresLease::start(request);
        start.pending = true;  // connected and made in check_ready
        break;
      }
      case ResourceSpec::Type::kService: {
        h.ready = spec.ready;
        h.ready.target = expand(spec.ready.target);
        start.service =
            jobs_.make_spec(*spec.command, env, values, spec.cwd, service_log(shard, index));
        break;
      }
    }
  } catch (const Error& e) {
    held(shard, index) = Held{};
    start.error = e.what();
  }
  return start;
}

ReadyCheck SuiteResources::check_ready(int shard, std::size_t index, TimePoint since,
                                       TimePoint now) {
  const ResourceSpec& spec = jobs_.suite().shard.resources.at(index);
  Held& h = held(shard, index);
  if (h.postgres) {
    try {
      if (h.postgres->poll()) {
        h.exports = h.postgres->exports();
        return {};
      }
    } catch (const Error& e) {
      return {ReadyCheck::State::kFailed, e.what()};
    }
    if (now - since < spec.timeout) return {ReadyCheck::State::kWaiting, ""};
    return {ReadyCheck::State::kFailed,
            fmt::format("cannot connect to PostgreSQL: no answer within {:g}s",
                        std::chrono::duration<double>(spec.timeout).count())};
  }
  const fs::path log = service_log(shard, index);
  // A log probe looks again only when the log has grown: a chatty service
  // is not re-read every 20 ms.
  if (h.ready.kind == ReadyProbe::Kind::kLog) {
    std::error_code ec;
    std::uintmax_t size = fs::file_size(log, ec);
    if (!ec && size == h.log_size_seen && now - since < spec.timeout)
      return {ReadyCheck::State::kWaiting, ""};
    if (!ec) h.log_size_seen = size;
  }
  std::string detail;
  if (probe_ready(h.ready, log, &detail)) return {};
  if (now - since < spec.timeout) return {ReadyCheck::State::kWaiting, ""};
  auto seconds = std::chrono::duration<double>(spec.timeout).count();
  return {ReadyCheck::State::kFailed,
          fmt::format("not ready after {:g}s ({}); see its log {}", seconds, detail, log.string())};
}

EnvList SuiteResources::exports(int shard) const {
  EnvList env;
  if (static_cast<std::size_t>(shard) < held_.size())
    for (const Held& h : held_[shard])
      for (const auto& [name, value] : h.exports) set_env(env, name, value);
  return env;
}

std::optional<std::string> SuiteResources::release_resource(int shard, std::size_t index) {
  Held& h = held(shard, index);
  std::optional<std::string> problem;
  if (h.postgres) {
    try {
      problem = h.postgres->release(jobs_.context().keep_resources);
    } catch (const Error& e) {
      problem = e.what();
    }
  }
  h = Held{};  // frees the port lock, closes the connection
  return problem;
}

}  // namespace shardrun
