#!/usr/bin/env bash
# The ThreadSanitizer stage of scripts/test.sh: builds shardrun and the unit
# tests of the runner (its io thread) and the scheduler with -fsanitize=thread
# into the folder given (default build-tsan), runs those unit tests and the
# integration tests that drive the runner hardest (signals, timeouts, killed
# process trees, descriptor exhaustion), and fails on any ThreadSanitizer
# report, including one from a shardrun whose exit status a test ignores.
#   scripts/test-tsan.sh [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-build-tsan}
PY=/usr/bin/python3  # Debian's, with python3-pytest & co.
start=$SECONDS

echo "== build (TSan)"
cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSHARDRUN_TSAN=ON >/dev/null
cmake --build "$dir" -j"$(nproc)" --target shardrun test_runner test_scheduler
built=$SECONDS

# Every report goes to a file of its own (report.PID), so none is lost in a
# test's captured output.
logs="$PWD/$dir/tsan-reports"
rm -rf "$logs"
mkdir -p "$logs"
export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:log_path=$logs/report"

status=0
echo "== unit tests (TSan)"
(cd "$dir" && ctest --output-on-failure -R '^unit_(runner|scheduler)$') || status=1
echo "== integration tests (TSan)"
SHARDRUN_BIN="$PWD/$dir/shardrun" "$PY" -m pytest -q -p no:cacheprovider \
  tests/integration/test_reliability.py || status=1

if compgen -G "$logs/report.*" >/dev/null; then
  echo "== ThreadSanitizer reports"
  cat "$logs"/report.*
  status=1
fi
echo "== TSan stage: build $((built - start))s, tests $((SECONDS - built))s"
exit "$status"
