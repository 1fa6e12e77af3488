#pragma once
// The model (header only, beside unit.hpp): what a shard did outside its
// units, as the scheduler reports it and run.json records it, so that the
// status module reads these events without linking the scheduler.

#include <cstddef>
#include <string>

#include "shardrun/process.hpp"

namespace shardrun {

/// A step in a shard's life outside its units, for the run's timeline:
/// resources made and released, setup and teardown begun and ended.
struct ShardEvent {
  enum class Kind {
    kResourceStart,     ///< making resource `resource` began
    kResourceEnd,       ///< it is ready (kOk), failed, or was given up (kInterrupted)
    kServiceDied,       ///< a ready service exited on its own (`error` says how)
    kResourceReleased,  ///< released (after its service stopped); `error` if that failed
    kSetupStart,        ///< the shard's setup commands (`commands` of them) begin
    kSetupEnd,          ///< all ran (kOk), one failed, or the shard gave up (kInterrupted)
    kTeardownStart,     ///< the shard's teardown commands begin (also when there are none)
    kTeardownEnd,       ///< all ran; kFailed if one failed, kInterrupted if cut short
  };
  enum class Outcome { kOk, kFailed, kInterrupted };
  Kind kind = Kind::kResourceStart;
  int shard = 0;
  std::size_t resource = 0;  ///< resource kinds: its index
  std::string name;          ///< resource kinds: "service 'app'"
  std::size_t commands = 0;  ///< kSetupStart, kTeardownStart: how many commands
  Outcome outcome = Outcome::kOk;
  std::string error;  ///< why, for anything but kOk (and kServiceDied, kResourceReleased)
  TimePoint when;     ///< the scheduler's clock
};

}  // namespace shardrun
