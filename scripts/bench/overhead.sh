#!/usr/bin/env bash
# Per-unit overhead: 2000 units that do nothing (`command: ["true"]`, argv,
# no shell) on 8 workers, against xargs and GNU parallel starting the same
# 2000 `true` processes 8 at a time.
#
#   scripts/bench/overhead.sh            # SHARDRUN_BIN=build/shardrun, REPEATS=5
#
# Targets: shardrun <= 1.3 x xargs, and >= 3 x faster than GNU parallel.
# The comparison favours xargs: shardrun also gives every unit its own log
# file and process group, records every unit in run.json and the timings
# file, and writes a merged JUnit report of 2000 testcases; xargs writes
# nothing at all. GNU parallel buffers each job's output in temp files.
set -euo pipefail
REPEATS="${REPEATS:-5}"
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

UNITS="${UNITS:-2000}"
WORKERS="${WORKERS:-8}"
LIMIT=120

need_shardrun
command -v xargs >/dev/null || die "xargs not found (Debian package findutils)"
HAVE_PARALLEL=1
if ! parallel --version 2>/dev/null | grep -q 'GNU parallel'; then
  echo "bench: GNU parallel not found (Debian package parallel); its row is skipped" >&2
  HAVE_PARALLEL=0
fi

make_tmp T
# A second place for shardrun's run directory on tmpfs, when there is one:
# the difference between the two shardrun rows estimates the file system's
# cost of creating 2000 log files (ext4 inode allocation), not shardrun's.
SHM=""
if [[ -d /dev/shm && -w /dev/shm ]]; then
  SHM="$(mktemp -d /dev/shm/shardrun-bench.XXXXXX)"
  BENCH_TMPDIRS+=("$SHM")
fi
{
  echo "version: 1"
  echo "name: overhead"
  echo "tests:"
  for ((i = 1; i <= UNITS; i++)); do
    echo "  - name: t$i"
    echo '    command: ["true"]'
  done
} >"$T/suite.yaml"
seq "$UNITS" >"$T/seq.txt"
# Keep GNU parallel's citation notice and home-dir state out of the run.
export PARALLEL_HOME="$T/parallel-home"
mkdir -p "$PARALLEL_HOME"
touch "$PARALLEL_HOME/will-cite"

run_tool() { # TOOL ROUND
  local tool="$1" r="$2" out="$T/m.$1.$2"
  case "$tool" in
    shardrun | shardrun-tmpfs)
      # A fresh run directory each round, deleted only at the end: deleting
      # 2000 files just before a run slows ext4's inode allocation for it.
      local base="$T"
      [[ "$tool" == shardrun-tmpfs ]] && base="$SHM"
      MEASURE_LOG="$T/shardrun.log" measure "$LIMIT" "$out" \
        "$SHARDRUN_BIN" --workers "$WORKERS" --runs-dir "$base/runs.$r" \
        --junit "$base/junit.$r.xml" --timings "$base/timings.$r.json" "$T/suite.yaml"
      ;;
    xargs)
      MEASURE_STDIN="$T/seq.txt" measure "$LIMIT" "$out" xargs -P"$WORKERS" -n1 true
      ;;
    parallel)
      MEASURE_STDIN="$T/seq.txt" measure "$LIMIT" "$out" parallel -j"$WORKERS" true
      ;;
  esac
  read -r status wall cpu rss <"$out"
  if [[ "$status" != ok ]]; then
    if [[ "$tool" == shardrun* ]]; then
      tail -n 20 "$T/shardrun.log" >&2 || true
      die "shardrun failed ($status) in round $r"
    fi
    echo "bench: $tool failed ($status) in round $r" >&2
  fi
  echo "  round $r: $tool ${wall}s" >&2
}

TOOLS=(shardrun xargs)
[[ -n "$SHM" ]] && TOOLS+=(shardrun-tmpfs)
((HAVE_PARALLEL)) && TOOLS+=(parallel)

echo "== overhead: $UNITS units of \`true\` on $WORKERS workers, $REPEATS rounds =="
machine_line
for ((r = 1; r <= REPEATS; r++)); do
  while read -r tool; do run_tool "$tool" "$r"; done < <(rotate "$((r - 1))" "${TOOLS[@]}")
done

# Check shardrun's last run did what it claims: 2000 logs, 2000 testcases.
run_dir="$(run_dir_in "$T/runs.$REPEATS")"
logs=$(find "$run_dir/logs" -type f | wc -l)
cases=$(grep -o '<testcase ' "$T/junit.$REPEATS.xml" | wc -l)

declare -A MED BEST CPU RSS STATUS
for tool in "${TOOLS[@]}"; do
  walls=() cpus=() rsss=() st=ok
  for ((r = 1; r <= REPEATS; r++)); do
    read -r status wall cpu rss <"$T/m.$tool.$r"
    [[ "$status" == ok ]] || st="$status"
    walls+=("$wall") cpus+=("$cpu") rsss+=("$rss")
  done
  MED[$tool]=$(median "${walls[@]}")
  BEST[$tool]=$(best "${walls[@]}")
  CPU[$tool]=$(median "${cpus[@]}")
  RSS[$tool]=$(median "${rsss[@]}")
  STATUS[$tool]=$st
done

echo
printf '%-15s %9s %9s %12s %11s %14s %8s\n' tool "median s" "best s" "x xargs" "CPU s(med)" "peak RSS MiB" status
for tool in "${TOOLS[@]}"; do
  printf '%-15s %9s %9s %12s %11s %14s %8s\n' "$tool" "${MED[$tool]}" "${BEST[$tool]}" \
    "$(ratio "${MED[$tool]}" "${MED[xargs]}")" "${CPU[$tool]}" "$(mib "${RSS[$tool]}")" \
    "${STATUS[$tool]}"
done
echo "(x xargs = median / xargs' median; CPU = user+sys of the tool and the $UNITS \`true\` children; RSS = largest single process)"
echo "shardrun's last run: $logs unit logs, $cases testcases in the merged report, run.json, timings"

echo
# Per-round ratios pair runs made seconds apart, so they drift less with
# the neighbours' load than the ratio of medians does.
round_ratios() { # A B: "r1 r2 ... | median"
  local a="$1" b="$2" r xs=() wa wb
  for ((r = 1; r <= REPEATS; r++)); do
    read -r _ wa _ _ <"$T/m.$a.$r"
    read -r _ wb _ _ <"$T/m.$b.$r"
    xs+=("$(ratio "$wa" "$wb")")
  done
  echo "${xs[*]} | median $(median "${xs[@]}")"
}
r_x=$(ratio "${MED[shardrun]}" "${MED[xargs]}")
echo "target shardrun <= 1.3 x xargs:      $r_x x (ratio of medians)  $(verdict "$r_x <= 1.3")"
echo "    per round: $(round_ratios shardrun xargs);  best-of-$REPEATS:" \
  "$(ratio "${BEST[shardrun]}" "${BEST[xargs]}") x"
if ((HAVE_PARALLEL)); then
  r_p=$(ratio "${MED[parallel]}" "${MED[shardrun]}")
  echo "target >= 3 x faster than parallel:  $r_p x (ratio of medians)  $(verdict "$r_p >= 3")"
  echo "    per round: $(round_ratios parallel shardrun);  best-of-$REPEATS:" \
    "$(ratio "${BEST[parallel]}" "${BEST[shardrun]}") x"
fi
echo "shardrun per unit: $(awk -v w="${MED[shardrun]}" -v n="$UNITS" 'BEGIN { printf "%.2f ms wall", 1000 * w / n }'),"\
  "$(awk -v c="${CPU[shardrun]}" -v x="${CPU[xargs]}" -v n="$UNITS" \
    'BEGIN { printf "%.2f ms CPU beyond xargs", 1000 * (c - x) / n }')"
if [[ -n "$SHM" ]]; then
  echo "shardrun-tmpfs: the same run with --runs-dir, --junit and --timings on /dev/shm:" \
    "$(ratio "${MED[shardrun-tmpfs]}" "${MED[xargs]}") x xargs," \
    "$(ratio "${MED[parallel]:-}" "${MED[shardrun-tmpfs]}") x faster than parallel;"
  echo "      its difference from the shardrun row estimates what creating the 2000 log files" \
    "costs on $(df -T "$T" | awk 'NR == 2 { print $2 }') (compare best and median: noise is large)."
fi
echo "note: shardrun writes one log per unit, run.json, the timings file and a merged JUnit"
echo "      report of $UNITS testcases; xargs writes nothing, so this is an upper bound on overhead."
