#!/usr/bin/env python3
"""Benchmark: load, validate and plan a generated site of 200 runbooks of 25 services
each (5,000 services, 20,000 steps, about 3 `requires` per runbook) over 10,000 hosts
with the release binary; reports wall time (min and median of N runs) and peak memory
(max RSS) per command. Twice: with an inventory file per runbook (200 files of 50 hosts),
and with one inventory of all 10,000 hosts that every runbook names.

usage: bench/site_large.py [RUNS]     (run from the repository root; builds --release)
"""
import os
import statistics
import subprocess
import sys
import tempfile

from plan_large import measure

RUNS = int(sys.argv[1]) if len(sys.argv) > 1 else 10
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def size(folder):
    return sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(folder) for f in fs)


def main():
    subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
    exe = os.path.join(ROOT, "target/release/switchyard")
    print(f"{'inventory':<12} {'command':<52} {'min ms':>8} {'median ms':>10} {'max RSS MiB':>12}")
    for variant, extra in (("per runbook", []), ("shared", ["--shared"])):
        with tempfile.TemporaryDirectory() as d:
            subprocess.run([sys.executable, os.path.join(ROOT, "bench/gen_site.py"), d, "200", "25", "10000", "1"] + extra,
                           check=True)
            print(f"input ({variant}): 200 runbooks x 25 services x 4 steps, 10000 hosts, "
                  f"{size(d) / 1e6:.1f} MB of TOML; {RUNS} runs each")
            for args in (["validate", "sites/large.toml"],
                         ["plan", "sites/large.toml", "--to", "b", "--format", "text"],
                         ["plan", "sites/large.toml", "--to", "b", "--format", "json"],
                         ["plan", "sites/large.toml", "--to", "b", "--format", "dot"]):
                results = [measure([exe] + args, d) for _ in range(RUNS)]
                times = [t * 1000 for t, _ in results]
                rss = max(r for _, r in results)
                print(f"{variant:<12} {'switchyard ' + ' '.join(args):<52} {min(times):>8.1f} "
                      f"{statistics.median(times):>10.1f} {rss:>12.1f}", flush=True)


if __name__ == "__main__":
    main()
