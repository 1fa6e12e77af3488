#!/usr/bin/python3
"""The best static split, known after the fact: a reference row for real.sh.

    split_run.py TIMINGS N JUNIT_PREFIX -- PYTEST_CMD... -- FILES...

Splits FILES into N bins by their times in shardrun's history TIMINGS (a
file's load cost plus its tests' time, as learned by a cold run and the warm
run of this round),
longest first into the least loaded bin, then runs PYTEST_CMD on each bin as
N processes at once (each with --junitxml=JUNIT_PREFIX-K.xml) and waits for
all. Exits with the largest exit status.

No scheduler that plans from a history can do much better than this split:
it is made from times measured up to this round, it starts one process
per worker and nothing else. What it takes shows what the machine allows.
"""
import json
import subprocess
import sys


def file_times(timings_path):
    with open(timings_path) as f:
        entries = json.load(f)["entries"]
    times = {}
    for entry in entries.values():
        for key in ("groups", "tests"):
            for group, stat in entry.get(key, {}).items():
                times[group] = times.get(group, 0.0) + stat["seconds"]
    return times


def split(files, times, n):
    bins = [[0.0, []] for _ in range(n)]
    for f in sorted(files, key=lambda f: -times.get(f, 0.0)):
        b = min(bins, key=lambda b: b[0])
        b[0] += times.get(f, 0.0)
        b[1].append(f)
    return [b for b in bins if b[1]]


def main(argv):
    timings, n, prefix = argv[1], int(argv[2]), argv[3]
    rest = argv[4:]
    if rest[:1] != ["--"] or "--" not in rest[1:]:
        sys.exit(__doc__)
    cut = rest.index("--", 1)
    command, files = rest[1:cut], rest[cut + 1:]
    bins = split(files, file_times(timings), n)
    procs = []
    for k, (predicted, chosen) in enumerate(bins):
        print(f"split_run: bin {k}: {len(chosen)} files, {predicted:.1f} s by the history",
              flush=True)
        procs.append(subprocess.Popen(command + chosen + [f"--junitxml={prefix}-{k}.xml"]))
    return max(p.wait() for p in procs)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
