"""How long `flask instruments check` takes to start, and what its start-up imports.

Run from the repo root:

    .venv/bin/python tests/bench/bench_check_startup.py [--runs 7] [--root DIR]

Runs `python -m flask --app wsgi instruments check` --runs times, each in a
fresh interpreter as a person at a terminal runs it, and prints the best and
median CPU time (user + system: what the command costs, which a busy shared
machine disturbs less than the wall clock) and wall time. Then, from one run of
`python -X importtime`, the packages whose imports cost most while the app is
created, so that what is slow can be seen by name. Target (issue 14): well
under a second. --root runs another checkout's code (say, main's before a
change) with this interpreter, to compare the two on the same machine.
Asserts nothing.
"""

import argparse
import os
import re
import resource
import statistics
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
COMMAND = [sys.executable, "-m", "flask", "--app", "wsgi", "instruments", "check"]
ENV = {**os.environ, "PEERREVIEW_SECRET_KEY": "bench"}


def run_once(root: Path) -> tuple[float, float]:
    """Return (CPU seconds, wall seconds) of one run of the command."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    result = subprocess.run(COMMAND, cwd=root, env=ENV, capture_output=True, text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode != 0:
        sys.exit(result.stdout + result.stderr)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return cpu, wall


def import_costs(root: Path, top: int) -> list[tuple[str, float]]:
    """Return the packages costing most import time (ms, self time summed)."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", *COMMAND[1:]],
        cwd=root,
        env=ENV,
        capture_output=True,
        text=True,
    )
    costs: Counter[str] = Counter()
    for line in result.stderr.splitlines():
        match = re.match(r"import time:\s+(\d+) \|\s+\d+ \| \s*(\S+)", line)
        if match:
            costs[match.group(2).split(".")[0]] += int(match.group(1)) / 1000
    return costs.most_common(top)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--top", type=int, default=12)
    parser.add_argument("--root", type=Path, default=ROOT)
    args = parser.parse_args()
    run_once(args.root)  # warm the file cache and the bytecode
    runs = [run_once(args.root) for _ in range(args.runs)]
    cpu = sorted(r[0] for r in runs)
    wall = sorted(r[1] for r in runs)
    print(f"flask instruments check in {args.root}, {args.runs} runs:")
    print(f"  CPU  best {cpu[0]:.2f} s, median {statistics.median(cpu):.2f} s")
    print(f"  wall best {wall[0]:.2f} s, median {statistics.median(wall):.2f} s")
    print("import time by package (one run, ms of its own imports):")
    for name, ms in import_costs(args.root, args.top):
        print(f"  {ms:8.1f}  {name}")


if __name__ == "__main__":
    main()
