#!/usr/bin/env bash
# Runs every benchmark in scripts/bench/ one after another (never at the
# same time: each would measure the others) and prints their tables.
#
#   scripts/bench/run-all.sh             # SHARDRUN_BIN=build/shardrun
#   SHARDRUN_BIN=build-bench/shardrun REPEATS=3 scripts/bench/run-all.sh
#
# A missed target is reported in the tables, not as a failure; the exit
# status is non-zero only when a benchmark could not run.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
need_shardrun
export SHARDRUN_BIN

failed=()
for bench in overhead merge balance; do
  echo
  start=$SECONDS
  if "$BENCH_DIR/$bench.sh"; then
    echo "-- $bench.sh: $((SECONDS - start)) s"
  else
    echo "-- $bench.sh FAILED (exit $?) after $((SECONDS - start)) s"
    failed+=("$bench")
  fi
done
if ((${#failed[@]})); then
  echo "benchmarks that could not run: ${failed[*]}" >&2
  exit 1
fi
