#!/usr/bin/env python3
"""Benchmark: the engine's own overhead on a chain of 50 dependent services, each with one
no-op local step (`local = "true"`). Every step waits for the one before it, so the run's
wall time is the sum of the step durations plus what the engine itself spends between
them (scheduling, events, journal writes with fsync, summary). Overhead = run duration
(summary.json finished_at - started_at) - sum of step durations.

usage: bench/engine_overhead.py [RUNS] [EXE]
  (run from the repository root; builds --release unless EXE, a switchyard binary to
  measure instead — an older build, say — is given)
"""
import datetime
import json
import os
import statistics
import subprocess
import sys
import tempfile

RUNS = int(sys.argv[1]) if len(sys.argv) > 1 else 20
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SERVICES = 50


def ts(s):
    return datetime.datetime.fromisoformat(s.replace("Z", "+00:00"))


def main():
    if len(sys.argv) > 2:
        exe = os.path.abspath(sys.argv[2])
    else:
        subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
        exe = os.path.join(ROOT, "target/release/switchyard")
    with tempfile.TemporaryDirectory() as d:
        os.makedirs(f"{d}/runbooks")
        os.makedirs(f"{d}/inventory")
        with open(f"{d}/inventory/site.toml", "w") as f:
            f.write('[halls.a]\n[halls.b]\n[hosts.here]\ntransport = "local"\nhall = "a"\n')
        with open(f"{d}/runbooks/chain.toml", "w") as f:
            f.write('[runbook]\nname = "chain"\nrto = "1h"\ninventory = ["../inventory/site.toml"]\n')
            for i in range(SERVICES):
                dep = f'"s{i - 1}"' if i else ""
                f.write(f'\n[services.s{i}]\ndepends_on = [{dep}]\n[[services.s{i}.start]]\nlocal = "true"\n')
        overheads, totals = [], []
        for _ in range(RUNS):
            out = subprocess.run([exe, "--no-progress", "run", "runbooks/chain.toml", "--to", "b", "--live", "--yes"],
                                 cwd=d, capture_output=True, text=True, check=True)
            run_dir = out.stdout.rsplit("evidence in ", 1)[1].strip()
            with open(os.path.join(d, run_dir, "summary.json")) as f:
                s = json.load(f)
            total = (ts(s["finished_at"]) - ts(s["started_at"])).total_seconds() * 1000
            steps = sum(x["duration_s"] for x in s["steps"]) * 1000
            totals.append(total)
            overheads.append(total - steps)
        print(f"chain of {SERVICES} services, one `local = \"true\"` step each; {RUNS} runs")
        print(f"run duration ms:     min {min(totals):7.1f}  median {statistics.median(totals):7.1f}")
        print(f"engine overhead ms:  min {min(overheads):7.1f}  median {statistics.median(overheads):7.1f}"
              f"  ({statistics.median(overheads) / SERVICES:.2f} ms per step)")


if __name__ == "__main__":
    main()
