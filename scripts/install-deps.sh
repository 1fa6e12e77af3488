#!/usr/bin/env bash
# Installs exactly the Debian packages shardrun needs to build, test and demo.
# Idempotent: quiet and quick when everything is already there.
set -euo pipefail

packages=(
  # build
  build-essential cmake pkg-config clang clang-format git
  libboost-dev libboost-filesystem-dev
  libyaml-cpp-dev libfyaml-dev libpugixml-dev libfmt-dev catch2 libcli11-dev
  nlohmann-json3-dev libpq-dev libhiredis-dev
  # tests and tools the tests drive
  libxml2-utils procps util-linux python3 python3-pytest python3-pytest-xdist
  python3-psycopg2 python3-selenium python3-junitparser
  postgresql chromium chromium-driver parallel
  # the shared queue's tests start their own Redis
  redis-server
  # packaging (scripts/test-package.sh): cpack's dpkg-shlibdeps needs dpkg-dev
  # and file; the man page is checked with man and groff, the completions
  # with bash and a real zsh
  dpkg-dev file man-db groff-base zsh
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
((${#missing[@]} == 0)) && exit 0

echo "install-deps: installing ${missing[*]}" >&2
if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
