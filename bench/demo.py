#!/usr/bin/env python3
"""Times `switchyard demo` (issue 4: under 20 s on a machine with nothing but the binary).

usage: bench/demo.py [RUNS]     (run from the repository root; builds --release)

Each run is the release binary's `demo` with its evidence in a temporary folder; prints the
wall time of the whole command (lab up, live switchover, reports, lab down) and the run's
own recovery time from summary.json.
"""

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

RUNS = int(sys.argv[1]) if len(sys.argv) > 1 else 5
target = os.environ.get("CARGO_TARGET_DIR", "target")
subprocess.run(["cargo", "build", "--release", "--quiet"], check=True)
exe = os.path.join(target, "release", "switchyard")

walls = []
with tempfile.TemporaryDirectory() as out:
    for i in range(RUNS):
        t0 = time.monotonic()
        p = subprocess.run(
            [exe, "-q", "--no-progress", "demo", "--evidence-dir", out],
            capture_output=True,
            text=True,
        )
        wall = time.monotonic() - t0
        if p.returncode != 0:
            sys.exit(f"demo failed with {p.returncode}:\n{p.stdout}\n{p.stderr}")
        report = next(l for l in p.stdout.splitlines() if l.startswith("report: "))
        summary = os.path.join(os.path.dirname(report[len("report: "):]), "summary.json")
        achieved = json.load(open(summary))["rto"]["achieved_s"]
        walls.append(wall)
        print(f"run {i + 1}: {wall:.2f} s wall, recovered in {achieved:.2f} s")
print(f"wall s: min {min(walls):.2f}  median {statistics.median(walls):.2f}  max {max(walls):.2f}")
