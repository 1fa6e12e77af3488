// shardrun's entry point: parse the command line, install the signal
// handlers (which only count), run, and turn errors into exit statuses. The
// only place that prints "shardrun: error: ...".
#include <fmt/format.h>

#include <csignal>
#include <cstdio>
#include <exception>

#include "shardrun/app.hpp"
#include "shardrun/error.hpp"

namespace {

volatile std::sig_atomic_t g_interrupts = 0;
volatile std::sig_atomic_t g_last_signal = 0;

extern "C" void on_signal(int signal) {
  g_interrupts = g_interrupts + 1;
  g_last_signal = signal;
}

void install_signal_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGHUP, &sa, nullptr);  // a closed terminal: stop cleanly, like SIGTERM
  // A closed stdout (shardrun | head) must not kill the run before teardown.
  signal(SIGPIPE, SIG_IGN);
}

}  // namespace

int main(int argc, char** argv) {
  using namespace shardrun;
  try {
    CommandLine cl = parse_command_line(argc, argv);
    if (cl.print_and_exit) {
      std::fputs(cl.print_and_exit->c_str(), stdout);
      return 0;
    }
    if (cl.options.command == Options::Command::kMerge) return run_merge(cl.options);
    if (cl.options.command == Options::Command::kTimeline) return run_timeline(cl.options);
    if (cl.options.command == Options::Command::kReport) return run_report(cl.options);
    install_signal_handlers();  // also for `plan`: discovery runs commands
    InterruptSource interrupts;
    interrupts.count = [] { return static_cast<int>(g_interrupts); };
    interrupts.last_signal = [] { return static_cast<int>(g_last_signal); };
    return run_suite(cl.options, interrupts);
  } catch (const SuiteError& e) {
    fmt::print(stderr, "{}\n", e.what());
    return static_cast<int>(e.code());
  } catch (const Error& e) {
    fmt::print(stderr, "shardrun: error: {}\n", e.what());
    return static_cast<int>(e.code());
  } catch (const std::exception& e) {
    fmt::print(stderr, "shardrun: error: {}\n", e.what());
    return static_cast<int>(ExitCode::kInfra);
  }
}
