#!/usr/bin/env bash
# The packaging stage of scripts/test.sh: from an already-built tree (default
# build/), builds the .deb with cpack and installs with cmake --install, both
# into a temporary folder, then checks what they hold and runs the unpacked
# binary on a small suite, its man page through man, and its completions
# through bash (and zsh when installed): tests/package/test_package.py.
#   scripts/test-package.sh [BUILD_DIR]
#
# A separate stage rather than part of tests/integration: it tests the
# build's packaging, not the binary's behaviour, so it runs once, for the
# release build (the ASan build is not what ships), and on its own: cpack
# strips the binary and runs dpkg-shlibdeps (~20 s), which would only compete
# with the integration tests' timing-sensitive runs under pytest -n 2.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-build}
PY=/usr/bin/python3  # Debian's, with python3-pytest
SHARDRUN_BUILD_DIR="$PWD/$dir" "$PY" -m pytest -q -p no:cacheprovider tests/package
