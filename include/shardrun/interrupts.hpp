#pragma once
// How main() tells a run about SIGINT/SIGTERM, so that the modules that wait
// on children (discovery, the run) can stop them without knowing signals.

#include <functional>

namespace shardrun {

/// How main() tells the run about SIGINT/SIGTERM: the number received so
/// far, and the last one's signal number.
struct InterruptSource {
  std::function<int()> count = [] { return 0; };
  std::function<int()> last_signal = [] { return 0; };
};

}  // namespace shardrun
