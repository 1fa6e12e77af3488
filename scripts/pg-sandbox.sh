#!/usr/bin/env bash
# A throwaway PostgreSQL cluster (15 on Debian 12) for tests and the demo.
#
#   eval "$(scripts/pg-sandbox.sh start [DIR])"   # start; exports PG* and SHARDRUN_PG_SANDBOX
#   scripts/pg-sandbox.sh env [DIR]                # print the export lines of a running sandbox
#   scripts/pg-sandbox.sh stop [DIR]               # stop it and remove DIR
#
# DIR defaults to a fresh `mktemp -d` for start and to $SHARDRUN_PG_SANDBOX
# for env/stop. The cluster lives in DIR/data, logs to DIR/server.log, listens
# on 127.0.0.1 only (no unix socket, so it never meets the system cluster) on
# a free port, trusts every local connection and trades durability for speed
# (fsync off): never put data you want to keep in it. Run as root, the server
# runs as the `postgres` system user, which then owns DIR.
#
# Only the export lines go to stdout; progress and errors go to stderr.
# Exit status: 0 done (also: start on a running sandbox, stop on a stopped or
# missing one), 1 failure, 2 usage error.
set -euo pipefail

# PG_BIN wins; else PG_VERSION (e.g. 15); else the newest server installed.
if [ -z "${PG_BIN:-}" ]; then
  if [ -z "${PG_VERSION:-}" ]; then
    PG_VERSION=$(find /usr/lib/postgresql -mindepth 1 -maxdepth 1 -printf '%f\n' 2>/dev/null |
      sort -n | tail -n 1 || true)
    PG_VERSION=${PG_VERSION:-15}
  fi
  PG_BIN=/usr/lib/postgresql/$PG_VERSION/bin
fi
MARKER=.shardrun-pg-sandbox  # only folders carrying it are ever removed

say() { echo "pg-sandbox: $*" >&2; }
die() { say "error: $*"; exit 1; }
usage() {
  echo "usage: $0 start|stop|env [DIR]" >&2
  exit 2
}

# as_owner CMD...: runs CMD as the server's user (postgres when we are root).
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    # cd first: postgres may not be allowed into the caller's cwd (e.g. /root)
    (cd / && runuser -u postgres -- "$@")
  else
    "$@"
  fi
}

check_binaries() {
  local b
  for b in initdb pg_ctl pg_isready; do
    [ -x "$PG_BIN/$b" ] || die "$PG_BIN/$b not found; install the Debian package postgresql (scripts/install-deps.sh) or set PG_BIN"
  done
  if [ "$(id -u)" -eq 0 ]; then
    id -u postgres >/dev/null 2>&1 || die "running as root but there is no 'postgres' user to run the server as"
    command -v runuser >/dev/null || die "runuser not found (package util-linux)"
  fi
}

# free_port: a TCP port nobody listens on right now (the kernel's pick).
free_port() {
  if command -v python3 >/dev/null; then
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
  else
    local p
    while :; do
      p=$((20000 + RANDOM % 40000))
      (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
    done
  fi
}

port_of() {  # port_of DIR
  [ -f "$1/port" ] || die "$1 has no port file: not a sandbox made by $0"
  cat "$1/port"
}

print_env() {  # print_env DIR
  local dir port
  dir=$(cd "$1" && pwd)
  port=$(port_of "$dir")
  printf 'export PGHOST=127.0.0.1 PGPORT=%s PGUSER=postgres PGDATABASE=postgres SHARDRUN_PG_SANDBOX=%q\n' \
    "$port" "$dir"
  # a caller's PGOPTIONS/PGPASSWORD/PGSERVICE would otherwise leak into every client
  echo "unset PGOPTIONS PGPASSWORD PGSERVICE PGSSLMODE DATABASE_URL"
}

is_running() {  # is_running DIR
  local pid state
  [ -f "$1/data/postmaster.pid" ] || return 1
  pid=$(head -n 1 "$1/data/postmaster.pid" 2>/dev/null) || return 1
  # A crashed postmaster may linger as a zombie when nothing reaps orphans
  # (containers): kill -0, and so pg_ctl status, would still say "running".
  state=$(ps -o stat= -p "$pid" 2>/dev/null) || return 1
  [[ $state != Z* ]] && as_owner "$PG_BIN/pg_ctl" status -D "$1/data" >/dev/null 2>&1
}

wait_ready() {  # wait_ready PORT LOG: until the server accepts connections (30 s)
  local i
  for ((i = 0; i < 300; i++)); do
    if "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$1" -U postgres -d postgres; then
      return 0
    fi
    sleep 0.1
  done
  tail -n 20 "$2" >&2 || true
  die "server on 127.0.0.1:$1 did not accept connections within 30 s (log: $2)"
}

cleanup_failed_start() {  # cleanup_failed_start DIR
  [ $? -eq 0 ] && return
  as_owner "$PG_BIN/pg_ctl" stop -m immediate -D "$1/data" >/dev/null 2>&1 || true
  rm -rf -- "$1"
}

cmd_start() {
  local dir=${1:-} port attempt log
  check_binaries
  if [ -z "$dir" ]; then
    dir=$(mktemp -d "${TMPDIR:-/tmp}/pg-sandbox.XXXXXX")
    # a folder we made is removed again if the start fails
    # shellcheck disable=SC2064  # $dir is expanded now on purpose: it is local
    trap "cleanup_failed_start '$dir'" EXIT
  else
    mkdir -p "$dir"
  fi
  dir=$(cd "$dir" && pwd)
  log=$dir/server.log

  if [ -f "$dir/$MARKER" ] && is_running "$dir"; then
    say "already running in $dir"
    wait_ready "$(port_of "$dir")" "$log"
    print_env "$dir"
    return
  fi
  if [ ! -f "$dir/$MARKER" ] && [ -n "$(ls -A "$dir")" ]; then
    die "$dir is not empty and is not a sandbox; give an empty or new folder"
  fi
  touch "$dir/$MARKER"
  if [ "$(id -u)" -eq 0 ]; then
    chown -R postgres: "$dir"
    chmod 700 "$dir"
    as_owner test -w "$dir" ||
      die "user postgres cannot write to $dir (a parent folder is not searchable?); use a folder under /tmp"
  fi

  if [ ! -f "$dir/data/PG_VERSION" ]; then
    say "initdb in $dir/data"
    # -E UTF8 with the C locale: fast, and the same on every machine
    as_owner "$PG_BIN/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --no-locale \
      --no-sync >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; die "initdb failed"; }
  fi

  # A postmaster that crashed leaves its pid file; the server itself would
  # refuse to start while that pid lingers as a zombie.
  if [ -f "$dir/data/postmaster.pid" ] && ! is_running "$dir"; then
    say "removing the stale postmaster.pid of a crashed server"
    rm -f "$dir/data/postmaster.pid"
  fi

  # The port is chosen late and may be taken by someone else in between:
  # a few attempts with fresh ports make that race harmless.
  for attempt in 1 2 3 4 5; do
    port=$(free_port)
    cat >"$dir/sandbox.conf" <<EOF
# written by pg-sandbox.sh: loopback only, fast and not durable
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = ''
max_connections = 200
shared_buffers = 32MB
fsync = off
synchronous_commit = off
full_page_writes = off
wal_level = minimal
max_wal_senders = 0
checkpoint_timeout = 1h
max_wal_size = 1GB
autovacuum = off
logging_collector = off
log_min_messages = warning
log_min_error_statement = panic
EOF
    # relative to data/, so the folder's name needs no quoting
    grep -q "^include_if_exists = '../sandbox.conf'" "$dir/data/postgresql.conf" ||
      echo "include_if_exists = '../sandbox.conf'" | as_owner tee -a "$dir/data/postgresql.conf" >/dev/null
    echo "$port" >"$dir/port"
    # PGPORT/PGDATA from the caller would be read by the server: start it clean
    if as_owner env -u PGPORT -u PGDATA -u PGHOST "$PG_BIN/pg_ctl" start -w -t 30 -D "$dir/data" \
      -l "$log" >/dev/null 2>&1; then
      wait_ready "$port" "$log"
      say "running on 127.0.0.1:$port in $dir"
      print_env "$dir"
      trap - EXIT
      return
    fi
    if grep -q "could not bind\|Address already in use" "$log" 2>/dev/null; then
      say "port $port was taken, trying another (attempt $attempt)"
      continue
    fi
    tail -n 20 "$log" >&2 || true
    die "pg_ctl start failed (log: $log)"
  done
  die "could not find a free port after 5 attempts"
}

resolve_dir() {  # resolve_dir [DIR]: DIR or $SHARDRUN_PG_SANDBOX
  local dir=${1:-${SHARDRUN_PG_SANDBOX:-}}
  [ -n "$dir" ] || die "no sandbox folder: give DIR or set SHARDRUN_PG_SANDBOX"
  echo "$dir"
}

cmd_env() {
  local dir
  dir=$(resolve_dir "${1:-}")
  [ -f "$dir/$MARKER" ] || die "$dir is not a sandbox"
  is_running "$dir" || die "the sandbox in $dir is not running"
  print_env "$dir"
}

cmd_stop() {
  local dir
  dir=$(resolve_dir "${1:-}")
  if [ ! -e "$dir" ]; then
    say "$dir does not exist: nothing to stop"
    return
  fi
  [ -f "$dir/$MARKER" ] || die "$dir is not a sandbox made by $0; not touching it"
  if is_running "$dir"; then
    as_owner "$PG_BIN/pg_ctl" stop -m immediate -w -t 30 -D "$dir/data" >/dev/null ||
      die "pg_ctl stop failed for $dir/data"
    say "stopped the server in $dir"
  fi
  rm -rf -- "$dir"
}

if [ $# -lt 1 ] || [ $# -gt 2 ]; then usage; fi
case $1 in
  start) cmd_start "${2:-}" ;;
  stop) cmd_stop "${2:-}" ;;
  env) cmd_env "${2:-}" ;;
  *) usage ;;
esac
