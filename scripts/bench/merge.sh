#!/usr/bin/env bash
# Merging JUnit XML: 20 pytest-like files with 400,000 testcases in all (1%
# failing with multi-line output; raw ESC and \x01 bytes in the text, as
# pytest writes captured terminal output), merged by `shardrun merge` and by
# junitparser, junit-report-merger (jrm) and junit-merge.
#
#   scripts/bench/merge.sh               # SHARDRUN_BIN=build/shardrun, REPEATS=3
#
# Targets: >= 100 x faster than junit-report-merger, >= 10 x faster than
# junit-merge, shardrun's peak RSS < 64 MB, and flat memory: 40 such files
# (twice the testcases) need no more peak RSS than 20.
#
# The npm tools are installed once into scripts/bench/.node/ (ignored by git)
# with `npm install`; nothing else is downloaded. A peer that fails or takes
# longer than PEER_LIMIT seconds (default 120) is shown as such in the table.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

FILES="${FILES:-20}"
CASES="${CASES:-400000}"
PEER_LIMIT="${PEER_LIMIT:-120}"
# A peer is run again only while its runs stay short: three 2-minute runs
# of a slow peer would not change its ratio, only the script's run time.
PEER_REPEAT_UNDER=20
NODE_DIR="$BENCH_DIR/.node"

need_shardrun
command -v xmllint >/dev/null || die "xmllint not found (Debian package libxml2-utils)"

install_npm_peers() {
  if [[ -x "$NODE_DIR/node_modules/.bin/jrm" && -x "$NODE_DIR/node_modules/.bin/junit-merge" ]]; then
    return 0
  fi
  if ! command -v npm >/dev/null; then
    echo "bench: npm not found; the junit-report-merger and junit-merge rows are skipped" >&2
    return 1
  fi
  mkdir -p "$NODE_DIR"
  printf '*\n' >"$NODE_DIR/.gitignore"
  echo "bench: installing junit-report-merger and junit-merge into $NODE_DIR" >&2
  if ! npm install --prefix "$NODE_DIR" --no-audit --no-fund --loglevel=error \
    junit-report-merger@9 junit-merge@2 >&2; then
    echo "bench: npm install failed; the npm rows are skipped" >&2
    return 1
  fi
}
HAVE_NPM=0
install_npm_peers && HAVE_NPM=1
HAVE_JUNITPARSER=0
"$PY" -c 'import junitparser' 2>/dev/null && HAVE_JUNITPARSER=1

make_tmp T

# gen DIR NFILES CASES_PER_FILE SEED: pytest-like JUnit files. Each file is
# one <testsuites><testsuite name="pytest"> with its cases on their own
# lines; every 100th case fails with a multi-line traceback and captured
# output holding raw ESC colour codes and \x01 bytes (not valid XML 1.0).
gen() {
  "$PY" - "$@" <<'PYEOF'
import os, sys
out, nfiles, per, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
os.makedirs(out, exist_ok=True)
for f in range(nfiles):
    mod = f"tests.test_module_{seed}_{f:03d}"
    parts = []
    failures = 0
    total = 0.0
    for i in range(per):
        t = 0.001 + (i * 7919 % 1000) / 100000
        total += t
        cls = f"{mod}.TestGroup{i // 250}"
        name = f"test_case[{i}-param_{i * 31 % 97}]"
        if i % 100 == 42:
            failures += 1
            parts.append(
                f'<testcase classname="{cls}" name="{name}" file="tests/test_module_{f:03d}.py" '
                f'line="{i}" time="{t:.3f}"><failure message="AssertionError: assert {i} == {i + 1}">'
                f"self = &lt;{cls} object at 0x7f00{i:08x}&gt;\n\n"
                f"    def {name.split('[')[0]}(self):\n"
                f"&gt;       assert compute({i}) == {i + 1}\n"
                f"E       AssertionError: assert {i} == {i + 1}\n"
                f"E        +  where {i} = compute({i})\n\n"
                f"tests/test_module_{f:03d}.py:{i}: AssertionError</failure>"
                f"<system-out>\x1b[32mINFO\x1b[0m starting case {i}\n"
                f"\x1b[31mERROR\x1b[0m got {i}\x01 expected {i + 1}\n"
                f"progress \x1b[1m50%\x1b[0m\r100%\n</system-out></testcase>\n"
            )
        elif i % 1000 == 7:
            parts.append(
                f'<testcase classname="{cls}" name="{name}" file="tests/test_module_{f:03d}.py" '
                f'line="{i}" time="{t:.3f}"><system-out>\x1b[33mwarn\x1b[0m\x01 slow fixture\n'
                f"</system-out></testcase>\n"
            )
        else:
            parts.append(
                f'<testcase classname="{cls}" name="{name}" file="tests/test_module_{f:03d}.py" '
                f'line="{i}" time="{t:.3f}" />\n'
            )
    head = (
        '<?xml version="1.0" encoding="utf-8"?>'
        f'<testsuites><testsuite name="pytest" errors="0" failures="{failures}" skipped="0" '
        f'tests="{per}" time="{total:.3f}" timestamp="2024-05-01T12:{f % 60:02d}:00.000000" '
        f'hostname="ci-runner-{f}">\n'
    )
    with open(os.path.join(out, f"junit-{seed}-{f:03d}.xml"), "w", encoding="utf-8") as fh:
        fh.write(head)
        fh.write("".join(parts))
        fh.write("</testsuite></testsuites>\n")
PYEOF
}

PER=$((CASES / FILES))
echo "== merge: $FILES JUnit files, $CASES testcases ($PER per file), $REPEATS rounds =="
machine_line
gen "$T/in" "$FILES" "$PER" 1
# The flatness check: as many files again, same size, other test names.
gen "$T/in2" "$FILES" "$PER" 2
INPUTS=("$T"/in/*.xml)
# junitparser (xml.etree) rejects the raw control bytes, as XML 1.0 says it
# must; to still have a time for it, it also merges a copy without them.
mkdir -p "$T/clean"
for f in "${INPUTS[@]}"; do tr -d '\001\033' <"$f" >"$T/clean/${f##*/}"; done
CLEAN=("$T"/clean/*.xml)
INPUTS40=("$T"/in/*.xml "$T"/in2/*.xml)
echo "inputs: $(du -sh "$T/in" | cut -f1) in $FILES files" \
  "($(grep -c '<failure' "${INPUTS[@]}" | awk -F: '{ s += $2 } END { print s }') failing)"

TOOLS=(shardrun)
((HAVE_JUNITPARSER)) && TOOLS+=(junitparser junitparser-clean)
((HAVE_NPM)) && TOOLS+=(jrm junit-merge)
declare -A LABEL=([shardrun]="shardrun merge" [shardrun40]="shardrun merge, 40 files"
  [junitparser]="junitparser merge" [junitparser-clean]="junitparser, no ctrl bytes" [jrm]="junit-report-merger" [junit-merge]="junit-merge")
declare -A SKIP=()

run_tool() { # TOOL ROUND
  local tool="$1" r="$2" out="$T/out.$1.xml" m="$T/m.$1.$2" limit="$PEER_LIMIT"
  rm -f "$out"
  local log="$T/log.$tool"
  case "$tool" in
    shardrun)
      MEASURE_LOG="$log" measure "$limit" "$m" "$SHARDRUN_BIN" merge -o "$out" "${INPUTS[@]}"
      ;;
    shardrun40)
      MEASURE_LOG="$log" measure "$limit" "$m" "$SHARDRUN_BIN" merge -o "$out" "${INPUTS40[@]}"
      ;;
    junitparser)
      MEASURE_LOG="$log" measure "$limit" "$m" "$PY" -m junitparser merge "${INPUTS[@]}" "$out"
      ;;
    junitparser-clean)
      MEASURE_LOG="$log" measure "$limit" "$m" "$PY" -m junitparser merge "${CLEAN[@]}" "$out"
      ;;
    jrm)
      MEASURE_LOG="$log" measure "$limit" "$m" "$NODE_DIR/node_modules/.bin/jrm" "$out" \
        "${INPUTS[@]}"
      ;;
    junit-merge)
      MEASURE_LOG="$log" measure "$limit" "$m" "$NODE_DIR/node_modules/.bin/junit-merge" \
        -o "$out" "${INPUTS[@]}"
      ;;
  esac
  local status wall
  read -r status wall _ _ <"$m"
  if [[ "$status" == ok && ! -s "$out" ]]; then
    status="no output"
    echo "no-output $wall - -" >"$m"
  fi
  echo "  round $r: $tool $status ${wall}s" >&2
  if [[ "$status" != ok ]]; then
    if [[ "$tool" == shardrun* ]]; then
      tail -n 20 "$log" >&2 || true
      die "shardrun merge failed ($status)"
    fi
    SKIP[$tool]=1 # a crash or timeout is not retried
  elif [[ "$tool" != shardrun* ]] && awk -v w="$wall" -v l="$PEER_REPEAT_UNDER" 'BEGIN { exit !(w > l) }'; then
    SKIP[$tool]=1
  fi
}

for ((r = 1; r <= REPEATS; r++)); do
  while read -r tool; do
    [[ -n "${SKIP[$tool]:-}" ]] && continue
    run_tool "$tool" "$r"
  done < <(rotate "$((r - 1))" "${TOOLS[@]}" shardrun40)
done

# summarize TOOL: sets S_STATUS S_WALL (median) S_BEST S_RSS (median KB) S_N
summarize() {
  local tool="$1" r walls=() rsss=() status wall cpu rss
  S_STATUS=ok
  for ((r = 1; r <= REPEATS; r++)); do
    [[ -f "$T/m.$tool.$r" ]] || continue
    read -r status wall cpu rss <"$T/m.$tool.$r"
    if [[ "$status" != ok ]]; then
      S_STATUS="$status"
      [[ "$status" == timeout ]] && S_STATUS="timeout>${PEER_LIMIT}s"
      continue
    fi
    walls+=("$wall") rsss+=("$rss")
  done
  S_N=${#walls[@]}
  if ((S_N == 0)); then
    S_WALL=- S_BEST=- S_RSS=-
  else
    S_WALL=$(median "${walls[@]}") S_BEST=$(best "${walls[@]}") S_RSS=$(median "${rsss[@]}")
  fi
}

# check TOOL: "well-formed"/"NOT well-formed" and the testcase count.
check_output() {
  local out="$T/out.$1.xml"
  if [[ ! -s "$out" ]]; then
    C_XML="no output" C_CASES=-
    return
  fi
  if xmllint --noout --huge "$out" 2>"$T/xmllint.$1"; then C_XML=ok; else C_XML="NOT well-formed"; fi
  C_CASES=$(grep -o '<testcase[ />]' "$out" | wc -l)
}

echo
printf '%-26s %9s %9s %3s %10s %13s %16s %9s\n' tool "median s" "best s" n "x shardrun" "peak RSS MiB" "xmllint" testcases
declare -A WALL RSS STATUS XML NCASES
for tool in "${TOOLS[@]}" shardrun40; do
  summarize "$tool"
  check_output "$tool"
  WALL[$tool]=$S_WALL RSS[$tool]=$S_RSS STATUS[$tool]=$S_STATUS XML[$tool]=$C_XML
  NCASES[$tool]=$C_CASES
  shown_wall="$S_WALL"
  [[ "$S_STATUS" != ok && "$S_N" == 0 ]] && shown_wall="$S_STATUS"
  printf '%-26s %9s %9s %3s %10s %13s %16s %9s\n' "${LABEL[$tool]}" "$shown_wall" "$S_BEST" "$S_N" \
    "$(ratio "$S_WALL" "${WALL[shardrun]}")" "$(if [[ "$S_RSS" == - ]]; then echo -; else mib "$S_RSS"; fi)" \
    "$C_XML" "$C_CASES"
done
echo "(x shardrun = median / shardrun's median; n = completed runs; RSS = largest single process)"
for tool in "${TOOLS[@]}"; do
  if [[ "${XML[$tool]}" == "NOT well-formed" ]]; then
    echo "  $tool's output: $(head -n 1 "$T/xmllint.$tool" | sed "s|$T/||")"
  fi
  if [[ "${STATUS[$tool]}" != ok ]]; then
    echo "  $tool: ${STATUS[$tool]}: $(grep -v '^\s*$' "$T/log.$tool" 2>/dev/null | tail -n 2 |
      cut -c1-150 | tr '\n' ' ')"
  fi
done

echo
target_speed() { # TOOL FACTOR
  local tool="$1" factor="$2" st="${STATUS[$1]:-}"
  if [[ -z "$st" ]]; then
    printf '%-44s not measured (tool not installed)\n' "target >= $factor x faster than ${LABEL[$tool]}:"
  elif [[ "${WALL[$tool]}" == - ]]; then
    # No completed run: the limit is a lower bound on its time.
    local lb
    lb=$(ratio "$PEER_LIMIT" "${WALL[shardrun]}")
    printf '%-44s %s: > %s x  %s\n' "target >= $factor x faster than ${LABEL[$tool]}:" "$st" "$lb" \
      "$(if [[ "$st" == timeout* ]]; then verdict "$lb >= $factor"; else echo "n/a (peer failed)"; fi)"
  else
    local x
    x=$(ratio "${WALL[$tool]}" "${WALL[shardrun]}")
    printf '%-44s %s x  %s\n' "target >= $factor x faster than ${LABEL[$tool]}:" "$x" "$(verdict "$x >= $factor")"
  fi
}
if ((HAVE_NPM)); then
  target_speed jrm 100
  target_speed junit-merge 10
fi
r20=${RSS[shardrun]} r40=${RSS[shardrun40]}
printf '%-44s %s MiB  %s\n' "target shardrun peak RSS < 64 MB:" "$(mib "$r20")" \
  "$(verdict "$r20 * 1024 < 64 * 1000 * 1000")"
printf '%-44s %s MiB (20 files) vs %s MiB (40 files): %s x  %s\n' "target flat memory (40 files <= 20 files):" \
  "$(mib "$r20")" "$(mib "$r40")" "$(ratio "$r40" "$r20")" "$(verdict "$r40 <= $r20 * 1.05")"
echo "    (within 5%: allocator and page-cache noise)"
printf '%-44s %s  %s\n' "shardrun's output has $CASES testcases:" "${NCASES[shardrun]}" \
  "$(verdict "${NCASES[shardrun]} == $CASES")"
printf '%-44s %s  %s\n' "shardrun's 40-file output has $((2 * CASES)):" "${NCASES[shardrun40]}" \
  "$(verdict "${NCASES[shardrun40]} == 2 * $CASES")"
