#!/usr/bin/env bash
# Configures and builds shardrun into build/ (or the folder given), with any
# extra CMake arguments after it:  scripts/build.sh build-asan -DSHARDRUN_SANITIZE=ON
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-build}
shift || true
cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
cmake --build "$dir" -j"$(nproc)"
