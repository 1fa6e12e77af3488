#!/usr/bin/env bash
# Builds the libFuzzer targets with clang into build-fuzz/ and runs each one
# for SECONDS (default 60) on a scratch copy of its seed corpus, so the
# repository's tests/fuzz/corpus/ is never modified.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]     TARGET: fuzz_suite, fuzz_junit
#
# Exits non-zero when a target finds something (crash, sanitizer report,
# uncaught exception, violated invariant, timeout or out-of-memory); the
# input that triggered it is kept in the scratch folder printed at the end.
# Environment: FUZZ_WORK (scratch folder, default: a new mktemp -d),
# FUZZ_JOBS (build parallelism, default 2), FUZZ_ARGS (extra libFuzzer flags).
set -uo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(fuzz_suite fuzz_junit)
case $seconds in
  '' | *[!0-9]*) echo "usage: $0 [SECONDS] [TARGET...]" >&2; exit 2 ;;
esac

build=build-fuzz
echo "== build ($build, clang, ASan+UBSan+libFuzzer)"
CC=clang CXX=clang++ cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DSHARDRUN_FUZZ=ON -DSHARDRUN_TESTS=OFF >/dev/null || exit 2
cmake --build "$build" --target "${targets[@]}" -j"${FUZZ_JOBS:-2}" || exit 2

work=${FUZZ_WORK:-$(mktemp -d "${TMPDIR:-/tmp}/shardrun-fuzz.XXXXXX")}
mkdir -p "$work"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

status=0
for target in "${targets[@]}"; do
  corpus="$work/$target/corpus"
  artifacts="$work/$target/artifacts/"
  mkdir -p "$corpus" "$artifacts"
  cp -n tests/fuzz/corpus/"$target"/* "$corpus"/ 2>/dev/null || true
  dict=()
  [ -f "tests/fuzz/$target.dict" ] && dict=(-dict="tests/fuzz/$target.dict")
  echo "== $target: ${seconds}s, corpus $corpus"
  # shellcheck disable=SC2086 # FUZZ_ARGS is a list of flags
  "$build/$target" "$corpus" "${dict[@]}" -max_total_time="$seconds" -rss_limit_mb=2048 \
    -timeout=10 -print_final_stats=1 -artifact_prefix="$artifacts" ${FUZZ_ARGS:-} \
    2>&1 | tee "$work/$target/log.txt"
  rc=${PIPESTATUS[0]}
  # With -fork=1 -ignore_crashes=1 libFuzzer exits 0 after a finding: the
  # artifacts tell.
  if [ "$rc" -ne 0 ] || [ -n "$(ls -A "$artifacts")" ]; then
    echo "== $target: FINDING (exit $rc); inputs in $artifacts:" >&2
    ls -l "$artifacts" >&2
    status=1
  else
    echo "== $target: nothing found"
  fi
done
echo "== scratch folder: $work"
exit $status
