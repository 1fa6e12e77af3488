#pragma once
// A real redis-server for the queue's tests: on a free loopback port, no
// persistence, stopped by its own pid when the object goes.

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "shardrun/queue.hpp"

extern char** environ;

namespace shardrun::testing {

class RedisServer {
 public:
  /// Starts redis-server; with a password, `--requirepass` it.
  explicit RedisServer(std::optional<std::string> password = std::nullopt)
      : port_(free_port()), password_(std::move(password)) {
    std::vector<std::string> args = {
        "redis-server", "--bind", "127.0.0.1",   "--port", std::to_string(port_), "--save", "",
        "--appendonly", "no",     "--daemonize", "no",     "--loglevel",          "warning"};
    if (password_) {
      args.push_back("--requirepass");
      args.push_back(*password_);
    }
    std::vector<char*> argv;
    for (std::string& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    // Its log (start-up banner, warnings) would bury Catch2's output.
    posix_spawn_file_actions_t actions;
    ::posix_spawn_file_actions_init(&actions);
    ::posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    int failed = ::posix_spawnp(&pid_, "redis-server", &actions, nullptr, argv.data(), environ);
    ::posix_spawn_file_actions_destroy(&actions);
    if (failed != 0)
      throw std::runtime_error("cannot start redis-server (scripts/install-deps.sh installs it)");
    try {
      wait_until_ready();
    } catch (...) {
      stop();
      throw;
    }
  }
  ~RedisServer() { stop(); }
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  int port() const { return port_; }
  /// A queue URL on this server.
  QueueUrl url(const std::string& run_id = "run-1", const std::string& user = "") const {
    return parse_queue_url("redis://" + (user.empty() ? "" : user + "@") +
                           "127.0.0.1:" + std::to_string(port_) + "/" + run_id);
  }

 private:
  static int free_port() {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof addr;
    if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &length) != 0)
      throw std::runtime_error("cannot find a free port");
    ::close(fd);
    return ntohs(addr.sin_port);
  }

  void stop() {
    ::kill(pid_, SIGTERM);
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }

  void wait_until_ready() {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
      try {
        RedisConnection connection(url(), password_, std::chrono::milliseconds(500));
        if (connection.command({"PING"}).str == "PONG") return;
      } catch (const QueueError&) {
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    throw std::runtime_error("redis-server did not answer PING within 10 s");
  }

  int port_;
  std::optional<std::string> password_;
  pid_t pid_ = 0;
};

}  // namespace shardrun::testing
