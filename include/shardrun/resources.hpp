#pragma once
// What a shard's resources are at run time (DESIGN §5): a TCP port reserved
// across processes, a PostgreSQL schema or database, and the probes that say
// a service is ready. No processes here: services are started by the
// scheduler through CommandRunner; this module only looks at them.

#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "shardrun/suite.hpp"

namespace shardrun {

/// A TCP port held for this process: an flock(2)ed file per port in a lock
/// folder shared by every shardrun on the host, plus a bind test so ports
/// used by other programs are skipped. Released when destroyed.
class PortLease {
 public:
  /// Reserves a free port in [first, last], starting at a pseudo-random
  /// place. Throws Error when none is free or the lock folder is unusable.
  static PortLease acquire(const std::filesystem::path& lock_dir, int first = 20000,
                           int last = 32000);
  PortLease(PortLease&& other) noexcept;
  PortLease& operator=(PortLease&& other) noexcept;
  PortLease(const PortLease&) = delete;
  PortLease& operator=(const PortLease&) = delete;
  ~PortLease();

  int port() const { return port_; }

 private:
  PortLease(int port, int fd) : port_(port), fd_(fd) {}
  int port_ = 0;
  int fd_ = -1;
};

/// Where port locks live: $SHARDRUN_LOCK_DIR, else /tmp/shardrun-locks.
std::filesystem::path default_lock_dir();

/// The ports handed out: $SHARDRUN_PORT_RANGE ("30000-30999"), else
/// 20000-32000 (below Linux's ephemeral range, so outgoing connections do
/// not take them). Throws Error for a malformed value.
std::pair<int, int> default_port_range();

/// A schema or database on a PostgreSQL server, made for one shard through
/// libpq. The connection stays open for the shard's life and holds an
/// advisory lock on the name, so two runs at once cannot share it.
class PostgresLease {
 public:
  struct Request {
    bool database_mode = false;
    std::string name;         ///< the schema or database to create
    std::string url;          ///< empty: connection settings from `env`
    std::string template_db;  ///< database mode
    EnvList env;              ///< the shard's environment: PG* variables
  };
  /// Starts connecting, without blocking. Throws Error for bad settings.
  static std::unique_ptr<PostgresLease> start(const Request& request);
  /// Advances the connection without blocking; once connected, drops a
  /// leftover of the same name and creates it, and returns true. Throws Error
  /// with the server's (or libpq's) message.
  bool poll();
  ~PostgresLease();

  /// The variables a client needs: PGHOST, PGPORT, PGUSER, DATABASE_URL, and
  /// PGOPTIONS (schema) or PGDATABASE (database).
  const EnvList& exports() const { return exports_; }
  /// Drops the schema or database (unless `keep`) and disconnects. Returns
  /// the server's error, or nullopt.
  std::optional<std::string> release(bool keep);

 private:
  struct Connection;
  PostgresLease() = default;
  void make_object();  // lock, drop a leftover, create, fill exports_
  std::unique_ptr<Connection> conn_;
  Request request_;
  EnvList exports_;
  bool wants_read_ = false;  // PQconnectPoll's last request
  bool ready_ = false;
};

/// "postgresql://user:pw@host:port/db?options=..." with each part
/// percent-encoded; a socket folder as host is encoded too.
std::string postgres_url(const std::string& host, const std::string& port, const std::string& user,
                         const std::string& password, const std::string& dbname,
                         const std::string& options);

/// The value for PGOPTIONS that sets search_path to exactly `schema`.
std::string search_path_option(const std::string& schema);

/// One look at whether a service is ready. Each call returns within about
/// half a second. `detail` says what was seen ("connection refused").
bool probe_ready(const ReadyProbe& probe, const std::filesystem::path& log, std::string* detail);

}  // namespace shardrun
