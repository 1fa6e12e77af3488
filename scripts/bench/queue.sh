#!/usr/bin/env bash
# The shared queue on Redis (issue 11) against the static split, on one
# machine: a skewed suite of sleeps (a few long tests, many short ones) on
# 3 local nodes x 2 shards, run three ways, alternately, REPEATS rounds:
#   queue   3 x `shardrun --queue redis://127.0.0.1:PORT/RUN_ID --queue-nodes 3
#           -j 2` started together (a fresh RUN_ID each round), then
#           `shardrun report`;
#   queue1  the same without --queue-nodes: the planning node makes units for
#           its own 2 shards only (what every queue run did before the option);
#   static  3 x `shardrun --shard-index I --shard-count 3 -j 2`, then
#           `shardrun merge`.
# Every node starts from the same timing history (learned by LEARN_RUNS runs
# of the suite on 6 shards first), so every way plans from known durations.
# As in real suites, a test's time varies from run to run: each sleep is its
# nominal time x a factor in [1 - JITTER, 1 + JITTER] (default 0.3) drawn
# per test from the round number, so the ways of one round sleep exactly
# the same times and the history knows the means only. JITTER=0: every test
# takes its nominal time, and the history predicts it exactly.
# Then the added cost per unit of the queue: UNITS units of `true` on one
# node x 2 shards with --queue against the same run without it.
#
#   scripts/bench/queue.sh               # SHARDRUN_BIN=build/shardrun, REPEATS=3
#   SCALE=0.5 REPEATS=1 scripts/bench/queue.sh    # quicker: half the sleeps
#   JITTER=0 scripts/bench/queue.sh      # sleeps exactly as the history says
#
# Targets (issue 11): the queue's makespan <= 1.1 x its lower bound, and
# below the static split's. The makespan is the whole run's: last unit end
# minus first unit start over the 3 nodes' run.json (each node's times are
# put on one clock by the moment the script started it); the lower bound is
# max(sum of unit times / 6, longest unit). The tests sleep, so 6 shards on
# a 2-core machine are not CPU-bound. redis-server comes from
# scripts/install-deps.sh; it is started on a free loopback port with
# --save '' --appendonly no and stopped by its pid.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

NODES=3
JOBS=2
SHARDS=$((NODES * JOBS))
SCALE="${SCALE:-1}"
JITTER="${JITTER:-0.3}"
LEARN_RUNS="${LEARN_RUNS:-2}"
UNITS="${UNITS:-300}"
LIMIT=300

need_shardrun
command -v redis-server >/dev/null ||
  die "redis-server not found (Debian package redis-server; scripts/install-deps.sh installs it)"

make_tmp T
REDIS_PID=""
stop_redis() {
  if [[ -n "$REDIS_PID" ]]; then
    kill "$REDIS_PID" 2>/dev/null || true
    wait "$REDIS_PID" 2>/dev/null || true
    REDIS_PID=""
  fi
}
trap 'stop_redis; bench_cleanup' EXIT

# -- the skewed suite: test ids and their sleeps (seconds x SCALE) ----------
# 3 x 10 s, 6 x 5 s, 24 x 2 s, 80 x 0.4 s: 140 s of work, 23.3 s per shard.
SUITE_DIR="$T/skewed"
mkdir -p "$SUITE_DIR"
{
  for spec in "3 10 slow" "6 5 mid" "24 2 short" "80 0.4 tiny"; do
    read -r count secs tier <<<"$spec"
    for ((i = 0; i < count; i++)); do
      printf '%s_%02d %s\n' "$tier" "$i" "$(awk -v s="$secs" -v k="$SCALE" 'BEGIN { printf "%.3f", s * k }')"
    done
  done
} >"$SUITE_DIR/durations.txt"
cat >"$SUITE_DIR/list.py" <<'PYEOF'
"""Prints the skewed suite's test ids (from durations.txt)."""
for line in open("durations.txt"):
    print(line.split()[0])
PYEOF
cat >"$SUITE_DIR/run.py" <<'PYEOF'
"""Runs the given test ids: each sleeps its time from durations.txt times
1 +- $BENCH_JITTER (a factor drawn from $BENCH_SEED and the id) and passes.
Writes the JUnit report to argv[1]."""
import hashlib
import os
import sys
import time

secs = dict(line.split() for line in open("durations.txt"))
jitter = float(os.environ.get("BENCH_JITTER", "0"))
seed = os.environ.get("BENCH_SEED", "")
cases = []
for test in sys.argv[2:]:
    u = int(hashlib.sha256(f"{seed}/{test}".encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
    t0 = time.perf_counter()
    time.sleep(float(secs[test]) * (1 + jitter * (2 * u - 1)))
    cases.append(f'<testcase classname="skewed" name="{test}" time="{time.perf_counter() - t0:.3f}"/>')
with open(sys.argv[1], "w") as out:
    out.write('<?xml version="1.0"?>\n<testsuite name="skewed">' + "".join(cases) + "</testsuite>\n")
PYEOF
cat >"$SUITE_DIR/suite.yaml" <<EOF
version: 1
name: skewed
tests:
  - name: skewed
    discover: $PY list.py
    command: $PY run.py {junit} {tests}
    timeout: 5m
EOF
SUITE="$SUITE_DIR/suite.yaml"
export BENCH_JITTER="$JITTER"
TESTS=$(wc -l <"$SUITE_DIR/durations.txt")
read -r WORK LONGEST < <(awk '{ s += $2; if ($2 > m) m = $2 } END { printf "%.1f %.1f\n", s, m }' \
  "$SUITE_DIR/durations.txt")
IDEAL=$(awk -v s="$WORK" -v m="$LONGEST" -v n="$SHARDS" 'BEGIN { x = s / n; if (m > x) x = m; printf "%.1f", x }')

# -- redis-server on a free loopback port ----------------------------------
PORT=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
redis-server --bind 127.0.0.1 --port "$PORT" --save '' --appendonly no --daemonize no \
  --dir "$T" >"$T/redis.log" 2>&1 &
REDIS_PID=$!
for ((i = 0; i < 100; i++)); do
  if "$PY" -c 'import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 0.2)' \
    "$PORT" 2>/dev/null; then
    break
  fi
  sleep 0.05
done
kill -0 "$REDIS_PID" 2>/dev/null || die "redis-server did not start: $(tail -n 5 "$T/redis.log")"
REDIS_VERSION=$(redis-server --version | sed -n 's/.*v=\([^ ]*\).*/\1/p')
URL_BASE="redis://127.0.0.1:$PORT"

elapsed() { # FROM TO: seconds between two $EPOCHREALTIME values
  awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'
}

# -- the timing history every node starts from ------------------------------
for ((k = 1; k <= LEARN_RUNS; k++)); do
  BENCH_SEED="learn-$k" "$SHARDRUN_BIN" -j "$SHARDS" --runs-dir "$T/learn.$k" --junit "$T/learn.$k.xml" \
    --timings "$T/history/timings.json" "$SUITE" >"$T/learn.$k.log" 2>&1 ||
    { tail -n 20 "$T/learn.$k.log" >&2; die "the learning run $k failed"; }
done
[[ -f "$T/history/timings.json" ]] || die "no timing history after the learning runs"

# node_dirs DIR: a fresh directory per node, each with the same history.
node_dirs() {
  local i
  for ((i = 1; i <= NODES; i++)); do
    mkdir -p "$1/n$i/history"
    cp "$T/history/timings.json" "$1/n$i/history/timings.json"
  done
}

# start_node DIR I ARGS...: a node in the background, its start time in
# DIR/nI/t0 (the run.json times are from the node's own start).
NODE_PIDS=()
start_node() {
  local d="$1/n$2"
  shift 2
  (
    printf '%s\n' "$EPOCHREALTIME" >"$d/t0"
    exec timeout -k 5 "$LIMIT" "$SHARDRUN_BIN" "$@" --runs-dir "$d/runs" --junit "$d/junit.xml" \
      --timings "$d/history/timings.json" "$SUITE" >"$d/log" 2>&1
  ) &
  NODE_PIDS+=($!)
}

# wait_nodes DIR: waits for every node; dies naming the first that failed.
wait_nodes() {
  local i rc failed=0
  for ((i = 0; i < ${#NODE_PIDS[@]}; i++)); do
    rc=0
    wait "${NODE_PIDS[$i]}" || rc=$?
    if ((rc != 0)); then
      echo "bench: node $((i + 1)) exited $rc:" >&2
      tail -n 20 "$1/n$((i + 1))/log" >&2
      failed=1
    fi
  done
  NODE_PIDS=()
  ((failed == 0)) || die "a node failed in $1"
}

# stats DIR: "makespan sum longest lower_bound ratio units cases node_ends"
# from the nodes' run.json and the merged report DIR/all.xml.
stats() {
  "$PY" - "$1" "$NODES" "$SHARDS" "$TESTS" <<'PYEOF'
import glob, json, sys, xml.etree.ElementTree as ET
d, nodes, shards, tests = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
starts, ends, walls, node_ends = [], [], [], []
for i in range(1, nodes + 1):
    t0 = float(open(f"{d}/n{i}/t0").read())
    runs = glob.glob(f"{d}/n{i}/runs/*/run.json")
    assert len(runs) == 1, runs
    units = [u for u in json.load(open(runs[0]))["units"] if u["shard"] >= 0 and u["end"] is not None]
    starts += [t0 + u["start"] for u in units]
    ends += [t0 + u["end"] for u in units]
    walls += [u["end"] - u["start"] for u in units]
    node_ends.append(max((t0 + u["end"] for u in units), default=None))
first = min(starts)
makespan = max(ends) - first
lb = max(sum(walls) / shards, max(walls))
names = [tc.get("name") for tc in ET.parse(f"{d}/all.xml").getroot().iter("testcase")]
cases = len(names) if len(set(names)) == len(names) == tests else f"BAD:{len(names)}/{len(set(names))}"
ends_txt = ",".join("-" if e is None else f"{e - first:.1f}" for e in node_ends)
print(f"{makespan:.2f} {sum(walls):.1f} {max(walls):.2f} {lb:.2f} {makespan / lb:.3f} {len(walls)} {cases} {ends_txt}")
PYEOF
}

run_way() { # WAY ROUND
  local way="$1" r="$2" d="$T/$1.$2" i t0 t1 url
  export BENCH_SEED="round-$r"
  node_dirs "$d"
  url="$URL_BASE/bench-$$-$way-$r"
  t0=$EPOCHREALTIME
  for ((i = 1; i <= NODES; i++)); do
    if [[ "$way" == queue ]]; then
      start_node "$d" "$i" --queue "$url" --queue-nodes "$NODES" -j "$JOBS"
    elif [[ "$way" == queue1 ]]; then
      start_node "$d" "$i" --queue "$url" -j "$JOBS"
    else
      start_node "$d" "$i" --shard-index "$((i - 1))" --shard-count "$NODES" -j "$JOBS"
    fi
  done
  wait_nodes "$d"
  if [[ "$way" == queue* ]]; then
    timeout -k 5 "$LIMIT" "$SHARDRUN_BIN" report --queue "$url" --junit "$d/all.xml" \
      >"$d/report.log" 2>&1 || { tail -n 20 "$d/report.log" >&2; die "shardrun report failed"; }
  else
    "$SHARDRUN_BIN" merge -o "$d/all.xml" "$d"/n*/junit.xml >"$d/merge.log" 2>&1 ||
      { tail -n 20 "$d/merge.log" >&2; die "shardrun merge failed"; }
  fi
  t1=$EPOCHREALTIME
  local x
  x=$(stats "$d") || die "could not read the $way run of round $r"
  echo "$(elapsed "$t0" "$t1") $x" >"$T/x.$way.$r"
  local wall mk lb ratio units cases ends
  read -r wall mk _ _ lb ratio units cases ends <"$T/x.$way.$r"
  echo "  round $r: $way ${wall}s wall, makespan ${mk}s, lower bound ${lb}s (${ratio}), $units units," \
    "$cases testcases, node ends at ${ends}s" >&2
}

echo "== queue: a skewed suite on $NODES local nodes x $JOBS shards, shared queue against" \
  "static split, $REPEATS rounds =="
machine_line
echo "redis-server $REDIS_VERSION on 127.0.0.1:$PORT; suite: $TESTS sleep tests, ${WORK} s of work," \
  "longest ${LONGEST} s (SCALE=$SCALE), each x 1 +- $JITTER per round; history from $LEARN_RUNS" \
  "run(s) on $SHARDS shards"

for ((r = 1; r <= REPEATS; r++)); do
  while read -r way; do run_way "$way" "$r"; done < <(rotate "$((r - 1))" queue queue1 static)
done

# med WAY FIELD: the median of field FIELD (1-based) of the rounds' x files.
med() {
  local r xs=()
  for ((r = 1; r <= REPEATS; r++)); do xs+=("$(awk -v f="$2" '{ print $f }' "$T/x.$1.$r")"); done
  median "${xs[@]}"
}

echo
printf '%-36s %8s %11s %14s %14s %11s %6s\n' way "wall s" "makespan s" "lower bound s" \
  "makespan / LB" "/ ideal" units
for way in queue queue1 static; do
  case "$way" in
    queue) label="shared queue, --queue-nodes 3" ;;
    queue1) label="shared queue, no --queue-nodes" ;;
    static) label="static split, --shard-count 3" ;;
  esac
  printf '%-36s %8s %11s %14s %14s %11s %6s\n' "$label" "$(med "$way" 1)" "$(med "$way" 2)" \
    "$(med "$way" 5)" "$(med "$way" 6)" "$(ratio "$(med "$way" 2)" "$IDEAL")" "$(med "$way" 7)"
done
QM=$(med queue 2)
SM=$(med static 2)
QR=$(med queue 6)
echo "(medians of $REPEATS rounds; wall = the 3 nodes started together to the end of report/merge;"
echo " makespan = first unit start to last unit end over the 3 nodes; lower bound ="
echo " max(sum of unit times / $SHARDS, longest unit); ideal = max(${WORK} s / $SHARDS, ${LONGEST} s)"
echo " = ${IDEAL} s, a perfect test-level schedule of the nominal times)"
echo "shared queue makespan / static split makespan: $(ratio "$QM" "$SM")" \
  "(per round: $(for ((r = 1; r <= REPEATS; r++)); do
    printf '%s ' "$(ratio "$(awk '{ print $2 }' "$T/x.queue.$r")" "$(awk '{ print $2 }' "$T/x.static.$r")")"
  done)| without --queue-nodes: $(ratio "$(med queue1 2)" "$SM"))"

# -- the added cost per unit of the queue -----------------------------------
{
  echo "version: 1"
  echo "name: overhead"
  echo "tests:"
  for ((i = 1; i <= UNITS; i++)); do
    echo "  - name: t$i"
    echo '    command: ["true"]'
  done
} >"$T/true.yaml"
run_true() { # KIND ROUND
  local kind="$1" r="$2" args=()
  [[ "$kind" == queue ]] && args=(--queue "$URL_BASE/overhead-$$-$r")
  MEASURE_LOG="$T/true.$kind.$r.log" measure "$LIMIT" "$T/m.true.$kind.$r" "$SHARDRUN_BIN" \
    "${args[@]}" -j "$JOBS" --runs-dir "$T/true.$kind.$r" --junit "$T/true.$kind.$r.xml" \
    --timings "$T/true.$kind.$r.timings.json" "$T/true.yaml"
  local status wall
  read -r status wall _ _ <"$T/m.true.$kind.$r"
  [[ "$status" == ok ]] || { tail -n 20 "$T/true.$kind.$r.log" >&2; die "$kind run of \`true\` failed ($status)"; }
  echo "  round $r: $UNITS x true, $kind ${wall}s" >&2
}
for ((r = 1; r <= REPEATS; r++)); do
  while read -r kind; do run_true "$kind" "$r"; done < <(rotate "$((r - 1))" local queue)
done
wall_of() { # KIND: the median wall
  local r xs=() wall
  for ((r = 1; r <= REPEATS; r++)); do
    read -r _ wall _ _ <"$T/m.true.$1.$r"
    xs+=("$wall")
  done
  median "${xs[@]}"
}
WL=$(wall_of local)
WQ=$(wall_of queue)
PER=$(awk -v q="$WQ" -v l="$WL" -v n="$UNITS" 'BEGIN { printf "%.2f", 1000 * (q - l) / n }')
echo
echo "queue cost: $UNITS units of \`true\`, 1 node x $JOBS shards: local queue ${WL}s, --queue ${WQ}s" \
  "(medians of $REPEATS): ${PER} ms added per unit"

echo
echo "target: queue makespan / lower bound <= 1.1:   $QR  $(verdict "$QR <= 1.1")"
echo "target: queue makespan < static makespan:      ${QM}s vs ${SM}s  $(verdict "$QM < $SM")"
