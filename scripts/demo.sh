#!/usr/bin/env bash
# Installs what is missing, builds, and runs the demo suite (configs/demo.yaml):
# a PostgreSQL suite and a Selenium suite, each shard with its own schema, web
# app and chromedriver, against a throwaway PostgreSQL server that this script
# starts and removes.
#
# It runs the suite twice: on one shard (the baseline; this also teaches the
# timing history what each test, test file and process start costs), then on
# `--workers auto` (one shard per CPU) with that history, and prints both wall
# times, the speed-up, the merged report's totals and the run's timeline.
#   WORKERS=8 scripts/demo.sh      # another width for the second run
#   BASELINE=0 scripts/demo.sh     # skip the one-shard run
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh build >/dev/null

eval "$(scripts/pg-sandbox.sh start)"
trap 'scripts/pg-sandbox.sh stop >/dev/null 2>&1 || true' EXIT

report=${DEMO_REPORT:-build/demo-junit.xml}
runs=build/demo-runs
timings=build/demo-timings.json
workers=${WORKERS:-auto}

# run_demo WORKERS REPORT: runs the suite; sets CODE, MS (wall) and RUN_DIR.
run_demo() {
  local out
  out=$(mktemp)
  local t0
  t0=$(date +%s%N)
  set +e
  build/shardrun --junit "$2" --runs-dir "$runs" --timings "$timings" --workers "$1" \
    configs/demo.yaml 2>&1 | tee "$out"
  CODE=${PIPESTATUS[0]}
  set -e
  MS=$((($(date +%s%N) - t0) / 1000000))
  RUN_DIR=$(sed -n 's/.*  run: \(.*\)$/\1/p' "$out" | tail -n 1)
  rm -f "$out"
}
seconds() { printf '%d.%d' $(($1 / 1000)) $(($1 % 1000 / 100)); }

if [[ "${BASELINE:-1}" != 0 ]]; then
  echo "== the baseline: the same suite on one shard"
  run_demo 1 "$report.one-shard.xml"
  one_ms=$MS
  echo
fi
echo "== the demo: --workers $workers"
run_demo "$workers" "$report"
code=$CODE
shards=$(/usr/bin/python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); s = d.get("shards")
print(s if isinstance(s, int) else len(s))' "$RUN_DIR/run.json" 2>/dev/null || true)

echo
echo "merged report: $report  (exit $code)"
/usr/bin/python3 - "$report" <<'PY'
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
print(f"  {root.get('tests')} tests, {root.get('failures')} failures, {root.get('errors')} errors, "
      f"{root.get('skipped')} skipped in {len(root.findall('testsuite'))} suites")
PY
if [[ -n "${one_ms:-}" ]]; then
  speedup=$(awk -v a="$one_ms" -v b="$MS" 'BEGIN { printf "%.2f", a / b }')
  echo "wall time: $(seconds "$MS") s on ${shards:-$workers} shards against $(seconds "$one_ms") s on one shard:" \
    "${speedup}x faster"
else
  echo "wall time: $(seconds "$MS") s on ${shards:-$workers} shards"
fi
if [[ -n "$RUN_DIR" && -f "$RUN_DIR/timeline.html" ]]; then
  echo "timeline: open $RUN_DIR/timeline.html"
fi
exit "$code"
