#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test: the Catch2 unit
# tests and the integration tests (pytest driving build/shardrun), then the
# packaging of the release build (scripts/test-package.sh: cmake --install,
# cpack -G DEB, the unpacked package run), then the same tests again on an
# AddressSanitizer + UndefinedBehaviorSanitizer build, then the threaded parts
# on a ThreadSanitizer build (scripts/test-tsan.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
PY=/usr/bin/python3  # Debian's, with python3-pytest & co.

run_suite() {  # run_suite BUILD_DIR LABEL
  local dir=$1 label=$2
  echo "== unit tests ($label)"
  (cd "$dir" && ctest --output-on-failure)
  echo "== integration tests ($label)"
  # Two pytest workers (pytest-xdist): most tests wait on processes, sleeps
  # and timeouts, so this halves the wall time; each test uses its own
  # folders, ports range or lock folder, and PostgreSQL sandbox per worker.
  SHARDRUN_BIN="$PWD/$dir/shardrun" "$PY" -m pytest -q -p no:cacheprovider -n 2 tests/integration
}

echo "== build"
scripts/build.sh build
run_suite build release
echo "== package (release)"
scripts/test-package.sh build

echo "== build (ASan+UBSan)"
scripts/build.sh build-asan -DSHARDRUN_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
run_suite build-asan asan

echo "== ThreadSanitizer"
scripts/test-tsan.sh build-tsan
