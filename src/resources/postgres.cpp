// A schema or database per shard on a real PostgreSQL server, through libpq.
// Names are always quoted with PQescapeIdentifier, never pasted into SQL.
// The connection lives as long as the shard and holds an advisory lock on
// the name: a second run with the same names fails that shard instead of
// dropping the first run's schema under it, while a crashed run's lock died
// with its connection, so its leftovers are dropped and made afresh.

#include <libpq-fe.h>
#include <poll.h>

#include <map>
#include <memory>
#include <vector>

#include <fmt/format.h>

#include "shardrun/error.hpp"
#include "shardrun/resources.hpp"

namespace shardrun {

namespace {

constexpr std::size_t kMaxIdentifierBytes = 63;  // NAMEDATALEN - 1

std::string trimmed(const char* text) {
  std::string s = text ? text : "";
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

std::string percent_encode(const std::string& text) {
  std::string out;
  for (unsigned char c : text) {
    bool plain = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                 c == '-' || c == '_' || c == '.' || c == '~';
    if (plain) {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

std::optional<std::string> env_value(const EnvList& env, std::string_view name) {
  std::optional<std::string> found;
  for (const auto& [n, v] : env)
    if (n == name) found = v;
  return found;
}

// libpq's keywords from the shard's PG* variables, then from the URL (which
// wins). libpq would read the PG* variables of shardrun's own environment
// by itself; the shard's env may differ, so they are passed explicitly.
std::map<std::string, std::string> connection_settings(const PostgresLease::Request& request) {
  static const std::pair<const char*, const char*> kFromEnv[] = {
      {"PGHOST", "host"},         {"PGHOSTADDR", "hostaddr"},
      {"PGPORT", "port"},         {"PGUSER", "user"},
      {"PGPASSWORD", "password"}, {"PGDATABASE", "dbname"},
      {"PGSSLMODE", "sslmode"},   {"PGCONNECT_TIMEOUT", "connect_timeout"},
      {"PGPASSFILE", "passfile"}, {"PGSERVICE", "service"},
  };
  std::map<std::string, std::string> settings;
  settings["connect_timeout"] = "10";
  settings["application_name"] = "shardrun";
  for (const auto& [var, keyword] : kFromEnv)
    if (auto v = env_value(request.env, var)) settings[keyword] = *v;
  if (!request.url.empty()) {
    char* error = nullptr;
    PQconninfoOption* options = PQconninfoParse(request.url.c_str(), &error);
    if (options == nullptr) {
      std::string message = trimmed(error);
      PQfreemem(error);
      throw Error(fmt::format("bad url '{}': {}", request.url, message));
    }
    for (PQconninfoOption* o = options; o->keyword; ++o)
      if (o->val) settings[o->keyword] = o->val;
    PQconninfoFree(options);
  }
  // Database mode works from the maintenance database: CREATE DATABASE
  // refuses a template that anyone (us included) is connected to.
  if (request.database_mode) settings["dbname"] = "postgres";
  // Never let a PGOPTIONS of the environment (e.g. from an earlier
  // resource) change what our own session does.
  settings["options"] = "";
  return settings;
}

}  // namespace

struct PostgresLease::Connection {
  PGconn* conn = nullptr;
  ~Connection() {
    if (conn) PQfinish(conn);
  }

  std::string error() const { return trimmed(PQerrorMessage(conn)); }

  // Runs one statement; returns the server's message on failure.
  std::optional<std::string> exec(const std::string& sql) {
    PGresult* res = PQexec(conn, sql.c_str());
    std::optional<std::string> failure;
    ExecStatusType st = PQresultStatus(res);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
      failure = trimmed(res ? PQresultErrorMessage(res) : PQerrorMessage(conn));
    }
    PQclear(res);
    return failure;
  }

  // True when this session got the advisory lock on `key`.
  bool try_lock(const std::string& key, std::string* failure) {
    const char* params[] = {key.c_str()};
    PGresult* res = PQexecParams(conn, "SELECT pg_try_advisory_lock(hashtext($1))", 1, nullptr,
                                 params, nullptr, nullptr, 0);
    bool locked = false;
    if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1) {
      locked = std::string(PQgetvalue(res, 0, 0)) == "t";
    } else {
      *failure = trimmed(PQresultErrorMessage(res));
    }
    PQclear(res);
    return locked;
  }

  std::string quote(const std::string& name) {
    char* q = PQescapeIdentifier(conn, name.c_str(), name.size());
    if (q == nullptr) throw Error(fmt::format("cannot quote the name '{}': {}", name, error()));
    std::string out = q;
    PQfreemem(q);
    return out;
  }
};

std::string search_path_option(const std::string& schema) {
  // The value is a list of identifiers: quote it so case and commas stay;
  // then escape for libpq's option splitting, where space separates.
  std::string quoted = "\"";
  for (char c : schema) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
  quoted += '"';
  std::string out = "-c search_path=";
  for (char c : quoted) {
    if (c == ' ' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

std::string postgres_url(const std::string& host, const std::string& port, const std::string& user,
                         const std::string& password, const std::string& dbname,
                         const std::string& options) {
  std::string url = "postgresql://";
  if (!user.empty()) {
    url += percent_encode(user);
    if (!password.empty()) url.append(":").append(percent_encode(password));
    url += "@";
  }
  url += percent_encode(host);
  // append() rather than "x" + y: GCC 12 warns falsely (-Wrestrict) on the latter.
  if (!port.empty()) url.append(":").append(port);
  url.append("/").append(percent_encode(dbname));
  if (!options.empty()) url.append("?options=").append(percent_encode(options));
  return url;
}

std::unique_ptr<PostgresLease> PostgresLease::start(const Request& request) {
  if (request.name.size() > kMaxIdentifierBytes) {
    throw Error(
        fmt::format("the name '{}' is longer than PostgreSQL's {} bytes: use a shorter "
                    "'prefix'",
                    request.name, kMaxIdentifierBytes));
  }
  std::map<std::string, std::string> settings = connection_settings(request);
  std::vector<const char*> keys, values;
  for (const auto& [k, v] : settings) {
    keys.push_back(k.c_str());
    values.push_back(v.c_str());
  }
  keys.push_back(nullptr);
  values.push_back(nullptr);

  std::unique_ptr<PostgresLease> lease(new PostgresLease());
  lease->request_ = request;
  lease->conn_ = std::make_unique<Connection>();
  Connection& c = *lease->conn_;
  // Non-blocking: the scheduler keeps running the other shards while this
  // one connects (a server that never answers would otherwise stall it).
  c.conn = PQconnectStartParams(keys.data(), values.data(), 0);
  if (c.conn == nullptr || PQstatus(c.conn) == CONNECTION_BAD) {
    throw Error(
        fmt::format("cannot connect to PostgreSQL: {}", c.conn ? c.error() : "out of memory"));
  }
  return lease;
}

bool PostgresLease::poll() {
  if (ready_) return true;
  Connection& c = *conn_;
  // Call PQconnectPoll only once the socket is ready for what it asked.
  pollfd p{PQsocket(c.conn), static_cast<short>(wants_read_ ? POLLIN : POLLOUT), 0};
  if (p.fd >= 0 && ::poll(&p, 1, 0) == 0) return false;
  switch (PQconnectPoll(c.conn)) {
    case PGRES_POLLING_FAILED:
      throw Error(fmt::format("cannot connect to PostgreSQL: {}", c.error()));
    case PGRES_POLLING_READING:
      wants_read_ = true;
      return false;
    case PGRES_POLLING_WRITING:
      wants_read_ = false;
      return false;
    default:
      break;
  }
  if (PQstatus(c.conn) != CONNECTION_OK) return false;
  make_object();
  ready_ = true;
  return true;
}

void PostgresLease::make_object() {
  Connection& c = *conn_;
  const Request& request = request_;
  // NOTICEs ("drop cascades to ...") would go to shardrun's stderr.
  PQsetNoticeProcessor(
      c.conn, [](void*, const char*) {}, nullptr);
  std::string what = request.database_mode ? "database" : "schema";
  std::string failure;
  if (!c.try_lock("shardrun:" + what + ":" + request.name, &failure)) {
    if (!failure.empty()) throw Error(failure);
    throw Error(
        fmt::format("{} \"{}\" is in use by another shardrun run right now (it holds the "
                    "advisory lock); give this suite another 'prefix'",
                    what, request.name));
  }
  const std::string name = c.quote(request.name);
  if (request.database_mode) {
    const bool force = PQserverVersion(c.conn) >= 130000;
    if (auto e =
            c.exec(fmt::format("DROP DATABASE IF EXISTS {}{}", name, force ? " WITH (FORCE)" : "")))
      throw Error(fmt::format("dropping the leftover database {}: {}", name, *e));
    if (auto e = c.exec(
            fmt::format("CREATE DATABASE {} TEMPLATE {}", name, c.quote(request.template_db))))
      throw Error(*e);
  } else {
    if (auto e = c.exec(fmt::format("DROP SCHEMA IF EXISTS {} CASCADE", name)))
      throw Error(fmt::format("dropping the leftover schema {}: {}", name, *e));
    if (auto e = c.exec(fmt::format("CREATE SCHEMA {}", name))) throw Error(*e);
  }

  // What clients need to reach the same server: the settings libpq really used.
  const std::string host = trimmed(PQhost(c.conn));
  const std::string port = trimmed(PQport(c.conn));
  const std::string user = trimmed(PQuser(c.conn));
  const std::string password = trimmed(PQpass(c.conn));
  EnvList& out = exports_;
  out.emplace_back("PGHOST", host);
  out.emplace_back("PGPORT", port);
  out.emplace_back("PGUSER", user);
  if (!password.empty()) out.emplace_back("PGPASSWORD", password);
  if (request.database_mode) {
    out.emplace_back("PGDATABASE", request.name);
    out.emplace_back("SHARDRUN_PG_DATABASE", request.name);
    out.emplace_back("DATABASE_URL", postgres_url(host, port, user, password, request.name, ""));
  } else {
    const std::string dbname = trimmed(PQdb(c.conn));
    const std::string option = search_path_option(request.name);
    out.emplace_back("PGDATABASE", dbname);
    out.emplace_back("PGOPTIONS", option);
    out.emplace_back("SHARDRUN_PG_SCHEMA", request.name);
    out.emplace_back("DATABASE_URL", postgres_url(host, port, user, password, dbname, option));
  }
}

std::optional<std::string> PostgresLease::release(bool keep) {
  if (!conn_ || !ready_) {  // never connected, or failed before making anything
    conn_.reset();
    return std::nullopt;
  }
  std::optional<std::string> failure;
  if (!keep && PQstatus(conn_->conn) == CONNECTION_OK) {
    const std::string name = conn_->quote(request_.name);
    failure = request_.database_mode
                  ? conn_->exec(
                        fmt::format("DROP DATABASE IF EXISTS {}{}", name,
                                    PQserverVersion(conn_->conn) >= 130000 ? " WITH (FORCE)" : ""))
                  : conn_->exec(fmt::format("DROP SCHEMA IF EXISTS {} CASCADE", name));
  } else if (!keep) {
    failure = "the connection to PostgreSQL was lost: " + conn_->error();
  }
  conn_.reset();  // closing the session releases the advisory lock
  return failure;
}

PostgresLease::~PostgresLease() = default;

}  // namespace shardrun
