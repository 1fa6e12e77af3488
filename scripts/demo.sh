#!/usr/bin/env bash
# Installs what is missing, builds, and runs the demo suite (configs/demo.yaml)
# on 4 shards: per-shard environments, parallel pytest runs, one merged report.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh build >/dev/null
report=${DEMO_REPORT:-build/demo-junit.xml}
set +e
build/shardrun --junit "$report" --runs-dir build/demo-runs --timings build/demo-timings.json \
  --workers "${WORKERS:-4}" configs/demo.yaml
code=$?
set -e
echo
echo "merged report: $report"
/usr/bin/python3 - "$report" <<'PY'
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
print(f"  {root.get('tests')} tests, {root.get('failures')} failures, {root.get('errors')} errors, "
      f"{root.get('skipped')} skipped in {len(root.findall('testsuite'))} suites")
for s in root.findall("testsuite"):
    print(f"  - {s.get('name')}: {s.get('tests')} tests, {s.get('time')}s")
PY
exit $code
