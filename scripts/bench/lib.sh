# shellcheck shell=bash
# Helpers shared by the benchmarks in scripts/bench/ (sourced, not run).
#
# Every benchmark runs shardrun and its peer tools alternately, several
# rounds, and prints the median (and best) wall time of each with ratios:
# the machine is shared, so one run of each would measure the neighbours.

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$BENCH_DIR/../.." && pwd)"
PY=/usr/bin/python3
SHARDRUN_BIN="${SHARDRUN_BIN:-$ROOT/build/shardrun}"
REPEATS="${REPEATS:-3}"

die() {
  echo "bench: $*" >&2
  exit 1
}

# need_shardrun: the binary must exist; benchmarks mean a Release build.
need_shardrun() {
  if [[ ! -x "$SHARDRUN_BIN" ]]; then
    cat >&2 <<EOF
bench: no shardrun binary at $SHARDRUN_BIN
Build a Release binary first, e.g.
  cmake -S $ROOT -B $ROOT/build -DCMAKE_BUILD_TYPE=Release -DSHARDRUN_TESTS=OFF
  cmake --build $ROOT/build --target shardrun -j2
or point SHARDRUN_BIN at one (SHARDRUN_BIN=$ROOT/build-bench/shardrun $0).
EOF
    exit 1
  fi
  SHARDRUN_BIN="$(cd "$(dirname "$SHARDRUN_BIN")" && pwd)/$(basename "$SHARDRUN_BIN")"
  local cache
  cache="$(dirname "$SHARDRUN_BIN")/CMakeCache.txt"
  if [[ -f "$cache" ]] && ! grep -q '^CMAKE_BUILD_TYPE:STRING=Release' "$cache"; then
    echo "bench: warning: $SHARDRUN_BIN is not a Release build; timings will be pessimistic" >&2
  fi
}

# make_tmp VAR: a temp dir removed when the script exits, whatever happens.
BENCH_TMPDIRS=()
bench_cleanup() {
  local d
  for d in "${BENCH_TMPDIRS[@]}"; do rm -rf "$d"; done
}
trap bench_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
make_tmp() {
  local d
  d="$(mktemp -d "${TMPDIR:-/tmp}/shardrun-bench.XXXXXX")"
  BENCH_TMPDIRS+=("$d")
  printf -v "$1" '%s' "$d"
}

# measure LIMIT_S OUT_FILE CMD...: run CMD (stdin from $MEASURE_STDIN or
# /dev/null, stdout+stderr to $MEASURE_LOG or /dev/null) and write one line
# "STATUS WALL_S CPU_S MAXRSS_KB" to OUT_FILE, where STATUS is "ok",
# "exit=N" or "timeout" (after LIMIT_S seconds). CPU is user+sys of the
# command and all its children; MAXRSS is the largest single process in the
# tree (for a supervisor spawning `true`, that is the supervisor). Never fails.
measure() {
  local limit="$1" out="$2"
  shift 2
  local raw="$out.raw" rc=0 wall=- user=0 sys=0 cpu=- rss=-
  if [[ -x /usr/bin/time ]]; then
    /usr/bin/time -f '%e %U %S %M' -o "$raw" timeout -k 5 "$limit" "$@" \
      <"${MEASURE_STDIN:-/dev/null}" >"${MEASURE_LOG:-/dev/null}" 2>&1 || rc=$?
    # GNU time prepends "Command exited with non-zero status N" lines.
    read -r wall user sys rss < <(tail -n 1 "$raw" 2>/dev/null) || true
    cpu="$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.2f", u + s }')"
  else
    # Fallback without the `time` package: getrusage(RUSAGE_CHILDREN).
    cat >"$raw.py" <<'PYEOF'
import resource, subprocess, sys, time
t0 = time.perf_counter()
rc = subprocess.call(sys.argv[2:])
wall = time.perf_counter() - t0
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
with open(sys.argv[1], "w") as f:
    f.write(f"{wall:.2f} {ru.ru_utime + ru.ru_stime:.2f} {ru.ru_maxrss}\n")
sys.exit(rc)
PYEOF
    "$PY" "$raw.py" "$raw" timeout -k 5 "$limit" "$@" \
      <"${MEASURE_STDIN:-/dev/null}" >"${MEASURE_LOG:-/dev/null}" 2>&1 || rc=$?
    rm -f "$raw.py"
    read -r wall cpu rss <"$raw" || true
  fi
  local status=ok
  if ((rc == 124 || rc == 137)); then
    status=timeout
  elif ((rc != 0)); then
    status="exit=$rc"
  fi
  echo "$status $wall $cpu $rss" >"$out"
  rm -f "$raw"
}

# run_dir_in DIR: the (only) run directory shardrun made under --runs-dir DIR.
run_dir_in() {
  local dirs=("$1"/*/)
  [[ -d "${dirs[0]}" ]] || die "no run directory under $1"
  echo "${dirs[0]%/}"
}

# median N...: the median of the numbers (the lower middle one for an even
# count, so it is always a measured value).
median() {
  printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'
}

# best N...: the smallest number.
best() {
  printf '%s\n' "$@" | sort -g | head -n 1
}

# ratio A B: A / B with two decimals ("-" when either is missing or B is 0).
ratio() {
  awk -v a="$1" -v b="$2" 'BEGIN {
    if (a == "" || b == "" || a == "-" || b == "-" || b + 0 == 0) { print "-"; exit }
    printf "%.2f", a / b }'
}

# mib KB: kilobytes as MiB with one decimal.
mib() {
  awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'
}

# verdict OK_EXPR: "PASS" or "MISS" from an awk boolean expression.
verdict() {
  if awk "BEGIN { exit !($1) }"; then echo PASS; else echo MISS; fi
}

# rotate ROUND ITEM...: the items rotated left by ROUND, so that no tool
# always runs first (a cold page cache or a neighbour's burst would
# otherwise always hit the same tool).
rotate() {
  local r="$1"
  shift
  local n=$# i
  local items=("$@")
  for ((i = 0; i < n; i++)); do printf '%s\n' "${items[$(((i + r) % n))]}"; done
}

machine_line() {
  echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)," \
    "$(awk '/MemTotal/ { printf "%.1f GiB RAM", $2 / 1048576 }' /proc/meminfo)"
  echo "shardrun: $SHARDRUN_BIN ($("$SHARDRUN_BIN" --version 2>/dev/null || echo '?'))"
}
