#pragma once
// The queue's Lua scripts (internal to the queue module). Each runs
// atomically on the server. KEYS are always the keys of kKeyNames, in
// that order; ARGV[1] is the ttl in seconds and ARGV[2] max_requeues, the
// rest is each script's own. The constants are the bodies (see the contracts on RedisQueue).

#include <array>
#include <string>
#include <string_view>

namespace shardrun::queue_scripts {

inline constexpr std::array<std::string_view, 13> kKeyNames = {
    "published", "queue",    "units", "predicted", "leases",  "owner",  "token",
    "tokens",    "requeues", "lost",  "results",   "next_id", "lost_by"};

extern const std::string_view kPublish;
extern const std::string_view kReserve;
extern const std::string_view kHeartbeat;
extern const std::string_view kComplete;
extern const std::string_view kRelease;

/// A script's body with the prelude every script shares (named keys, the
/// server's clock, the expiry, reclaiming expired leases) in front.
std::string with_prelude(std::string_view body);

}  // namespace shardrun::queue_scripts
