#pragma once
// The wiring of a run: suite -> job builder -> scheduler over the real
// runner -> report, run.json and summary. No logic of its own beyond order.

#include "shardrun/cli.hpp"
#include "shardrun/interrupts.hpp"

namespace shardrun {

/// Runs a suite (Options::Command::kRun) and returns the exit status
/// (DESIGN §7). Throws SuiteError/UsageError before anything ran.
int run_suite(const Options& options, const InterruptSource& interrupts);

/// `shardrun merge`: returns the exit status.
int run_merge(const Options& options);

/// `shardrun report --queue URL`: waits for the shared run to end and writes
/// its merged report; returns the whole run's exit status.
int run_report(const Options& options);

/// `shardrun timeline`: writes the page, prints its path, returns the exit status.
int run_timeline(const Options& options);

}  // namespace shardrun
