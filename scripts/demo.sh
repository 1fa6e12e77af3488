#!/usr/bin/env bash
# Installs what is missing, builds, and runs the demo suite (configs/demo.yaml):
# a PostgreSQL suite and a Selenium suite on 8 shards, each shard with its own
# schema, web app and chromedriver, against a throwaway PostgreSQL server that
# this script starts and removes. Prints the merged report's totals.
#   WORKERS=1 scripts/demo.sh     # the same suite on one shard, for comparison
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh build >/dev/null

eval "$(scripts/pg-sandbox.sh start)"
trap 'scripts/pg-sandbox.sh stop >/dev/null 2>&1 || true' EXIT

report=${DEMO_REPORT:-build/demo-junit.xml}
set +e
t0=$(date +%s%N)
build/shardrun --junit "$report" --runs-dir build/demo-runs --timings build/demo-timings.json \
  --workers "${WORKERS:-8}" configs/demo.yaml
code=$?
ms=$((($(date +%s%N) - t0) / 1000000))
set -e
echo
echo "merged report: $report  (wall time $((ms / 1000)).$((ms % 1000 / 100))s, exit $code)"
/usr/bin/python3 - "$report" <<'PY'
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
print(f"  {root.get('tests')} tests, {root.get('failures')} failures, {root.get('errors')} errors, "
      f"{root.get('skipped')} skipped in {len(root.findall('testsuite'))} suites")
PY
exit $code
