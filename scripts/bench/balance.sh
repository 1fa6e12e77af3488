#!/usr/bin/env bash
# Load balance on a real pytest suite: fixtures/pytest-skewed (200 tests of
# 10 ms to 3 s, a conftest that takes ~2 s to import) on 4 and 8 workers.
# shardrun cold (no timing history: it batches by count) and warm (a second
# run with the history of the first: it batches by predicted time) against
# pytest-xdist (`pytest -n N`, default --dist load) and, where the installed
# xdist has it, `--dist worksteal`.
#
#   scripts/bench/balance.sh             # SHARDRUN_BIN=build/shardrun, REPEATS=3
#   WORKER_COUNTS="4" REPEATS=1 scripts/bench/balance.sh    # quicker
#
# Targets: warm shardrun <= 0.9 x pytest-xdist's wall time, and makespan /
# lower bound <= 1.05 (run.json's balance.ratio). The machine may have fewer
# cores than workers: the tests sleep, so oversubscription costs little,
# but the 2 s conftest imports of 8 processes compete for the CPUs.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

WORKER_COUNTS="${WORKER_COUNTS:-4 8}"
LIMIT=240
SOURCE_FIXTURE="$ROOT/fixtures/pytest-skewed"

need_shardrun
[[ -f "$SOURCE_FIXTURE/suite.yaml" ]] || die "no fixture at $SOURCE_FIXTURE"
"$PY" -c 'import pytest, xdist' 2>/dev/null ||
  die "pytest-xdist not found (Debian packages python3-pytest python3-pytest-xdist)"
# No __pycache__ for any tool: every run compiles the same, as a fresh CI checkout.
export PYTHONDONTWRITEBYTECODE=1

make_tmp T
# Every tool runs in a copy of the fixture: `shardrun plan` has no
# --runs-dir and would leave a run directory (its discovery log) beside the
# suite in the repository.
FIXTURE="$T/pytest-skewed"
mkdir -p "$FIXTURE"
cp "$SOURCE_FIXTURE"/*.py "$SOURCE_FIXTURE"/suite.yaml "$FIXTURE/"
SUITE="$FIXTURE/suite.yaml"
XDIST_VERSION="$("$PY" -c 'import xdist; print(xdist.__version__)')"
HAVE_WORKSTEAL=0
# Asked outside the fixture: its conftest would add 2 s to --help.
if (cd "$T" && "$PY" -m pytest --help 2>/dev/null | grep -q worksteal); then HAVE_WORKSTEAL=1; fi

# json_get FILE EXPR: a value from a JSON file (EXPR indexes `j`).
json_get() {
  "$PY" -c 'import json, sys; j = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}

# ideal_makespan RUN_DIR N: what a perfect test-level scheduler with one
# pytest process per shard could reach: max(sum of test times / N, longest
# test) plus one process start-up (the smallest unit wall time minus its
# tests' times: interpreter, plugins, the 2 s conftest). A lower bound on
# any tool's makespan for this suite, unlike run.json's, which is per unit.
ideal_makespan() {
  "$PY" - "$1" "$2" <<'PYEOF'
import json, sys, xml.etree.ElementTree as ET
run_dir, n = sys.argv[1], int(sys.argv[2])
run = json.load(open(f"{run_dir}/run.json"))
report = ET.parse(run["report"]).getroot()
per_unit, times = {}, []
for suite in report.iter("testsuite"):
    props = {p.get("name"): p.get("value") for p in suite.iter("property")}
    unit = props.get("shardrun.unit")
    for case in suite.iter("testcase"):
        t = float(case.get("time") or 0)
        times.append(t)
        per_unit[unit] = per_unit.get(unit, 0.0) + t
# The report's shardrun.unit property holds the unit's label.
walls = {u["label"]: u["end"] - u["start"] for u in run["units"] if u.get("end") is not None}
startups = [walls[k] - per_unit[k] for k in per_unit if k in walls]
startup = min(startups) if startups else 0.0
print(f"{max(sum(times) / n, max(times, default=0)) + max(startup, 0):.1f}")
PYEOF
}

# run_shardrun N ROUND: a cold and a warm run with one fresh timings file.
run_shardrun() {
  local n="$1" r="$2" phase
  local timings="$T/timings.$n.$r.json"
  for phase in cold warm; do
    local key="shardrun-$phase.$n.$r"
    "$SHARDRUN_BIN" plan --json -j "$n" --timings "$timings" "$SUITE" >"$T/plan.$key.json" \
      2>"$T/plan.$key.err" || { cat "$T/plan.$key.err" >&2; die "shardrun plan failed"; }
    MEASURE_LOG="$T/log.$key" measure "$LIMIT" "$T/m.$key" "$SHARDRUN_BIN" -j "$n" \
      --runs-dir "$T/runs.$key" --junit "$T/junit.$key.xml" --timings "$timings" "$SUITE"
    local status wall
    read -r status wall _ _ <"$T/m.$key"
    if [[ "$status" != ok ]]; then
      tail -n 30 "$T/log.$key" >&2
      die "shardrun failed ($status) at $n workers, $phase, round $r"
    fi
    local run_dir
    run_dir="$(run_dir_in "$T/runs.$key")"
    {
      json_get "$run_dir/run.json" 'round(j["balance"]["ratio"], 3)'
      json_get "$run_dir/run.json" 'round(j["balance"]["makespan"], 1)'
      json_get "$T/plan.$key.json" 'round(j["ratio"], 3)'
      json_get "$run_dir/run.json" 'len(j["units"])'
      ideal_makespan "$run_dir" "$n"
      json_get "$run_dir/run.json" 'j["totals"]["tests"]'
    } | tr '\n' ' ' >"$T/x.$key"
    echo "  round $r, $n workers: shardrun $phase ${wall}s ($(cat "$T/x.$key"))" >&2
  done
}

# run_xdist N ROUND MODE: pytest -n N in the fixture (MODE load or worksteal).
run_xdist() {
  local n="$1" r="$2" mode="$3" key="xdist-$3.$1.$2"
  local args=(-m pytest -q -n "$n" -p no:cacheprovider)
  [[ "$mode" == worksteal ]] && args+=(--dist worksteal)
  (cd "$FIXTURE" && MEASURE_LOG="$T/log.$key" measure "$LIMIT" "$T/m.$key" "$PY" "${args[@]}")
  local status wall
  read -r status wall _ _ <"$T/m.$key"
  [[ "$status" == ok ]] || echo "bench: pytest -n $n ($mode) failed ($status)" >&2
  echo "  round $r, $n workers: xdist $mode ${wall}s $(tail -n 1 "$T/log.$key")" >&2
}

echo "== balance: fixtures/pytest-skewed, workers: $WORKER_COUNTS, $REPEATS rounds =="
machine_line
echo "pytest $("$PY" -c 'import pytest; print(pytest.__version__)'), pytest-xdist $XDIST_VERSION" \
  "($(if ((HAVE_WORKSTEAL)); then echo "has"; else echo "no"; fi) --dist worksteal)"

KINDS=(shardrun xdist-load)
((HAVE_WORKSTEAL)) && KINDS+=(xdist-worksteal)
for n in $WORKER_COUNTS; do
  for ((r = 1; r <= REPEATS; r++)); do
    while read -r kind; do
      case "$kind" in
        shardrun) run_shardrun "$n" "$r" ;;
        xdist-*) run_xdist "$n" "$r" "${kind#xdist-}" ;;
      esac
    done < <(rotate "$((r - 1))" "${KINDS[@]}")
  done
done

# col KEY_PREFIX FIELD: the median of field FIELD (1-based) of x.KEY.* files.
col() {
  local prefix="$1" field="$2" r xs=()
  for ((r = 1; r <= REPEATS; r++)); do
    xs+=("$(awk -v f="$field" '{ print $f }' "$T/x.$prefix.$r")")
  done
  median "${xs[@]}"
}
wall_med() { # KEY_PREFIX
  local r xs=() status wall
  for ((r = 1; r <= REPEATS; r++)); do
    read -r status wall _ _ <"$T/m.$1.$r"
    [[ "$status" == ok ]] && xs+=("$wall")
  done
  if ((${#xs[@]})); then median "${xs[@]}"; else echo -; fi
}

echo
printf '%-3s %-22s %9s %9s %6s %10s %11s %11s %8s\n' N tool "median s" "x xdist" units \
  "makespan s" "ratio run" "ratio plan" "ideal s"
declare -A W
for n in $WORKER_COUNTS; do
  x="$(wall_med "xdist-load.$n")"
  W[xdist.$n]=$x
  for phase in cold warm; do
    key="shardrun-$phase.$n"
    W[$phase.$n]=$(wall_med "$key")
    printf '%-3s %-22s %9s %9s %6s %10s %11s %11s %8s\n' "$n" "shardrun $phase" "${W[$phase.$n]}" \
      "$(ratio "${W[$phase.$n]}" "$x")" "$(col "$key" 4)" "$(col "$key" 2)" "$(col "$key" 1)" \
      "$(col "$key" 3)" "$(col "$key" 5)"
  done
  printf '%-3s %-22s %9s %9s\n' "$n" "pytest -n $n (load)" "$x" "$(ratio "$x" "$x")"
  if ((HAVE_WORKSTEAL)); then
    y="$(wall_med "xdist-worksteal.$n")"
    printf '%-3s %-22s %9s %9s\n' "$n" "pytest --dist worksteal" "$y" "$(ratio "$y" "$x")"
  else
    printf '%-3s %-22s %9s\n' "$n" "pytest --dist worksteal" "n/a: xdist $XDIST_VERSION (needs >= 3.2)"
  fi
done
echo "(medians of $REPEATS rounds; wall = whole command, shardrun's includes test discovery, a"
echo " ~2 s pytest --collect-only; makespan = first unit start to last unit end; ratio run ="
echo " run.json balance.ratio, makespan / max(sum of units / N, longest unit); ratio plan ="
echo " \`shardrun plan --json\` ratio before the run; ideal = max(sum of test times / N, longest"
echo " test) + one pytest start-up: what any tool with one process per shard could reach)"

echo
for n in $WORKER_COUNTS; do
  rw=$(ratio "${W[warm.$n]}" "${W[xdist.$n]}")
  printf '%-52s %s x  %s\n' "target $n workers: warm shardrun <= 0.9 x pytest-xdist:" "$rw" \
    "$(verdict "$rw <= 0.9")"
  for phase in cold warm; do
    b=$(col "shardrun-$phase.$n" 1)
    printf '%-52s %s  %s\n' "target $n workers: $phase makespan / lower bound <= 1.05:" "$b" \
      "$(verdict "$b <= 1.05")"
  done
done
if (($(nproc) < 8)); then
  echo "note: $(nproc) cores: 8 workers oversubscribe the CPUs (the tests sleep; the imports do not)."
fi
