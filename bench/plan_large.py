#!/usr/bin/env python3
"""Benchmark: load, validate and plan a generated runbook of 5,000 services over 10,000
hosts with the release binary; reports wall time (min and median of N runs) and peak
memory (max RSS) per command. Then the same for hostile inputs (megabytes of nesting,
binary garbage), which must be rejected quickly.

usage: bench/plan_large.py [RUNS]     (run from the repository root; builds --release)
"""
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

RUNS = int(sys.argv[1]) if len(sys.argv) > 1 else 10
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def measure(cmd, cwd, expect=0):
    """Wall seconds and peak RSS (MiB) of one run of cmd."""
    start = time.perf_counter()
    pid = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(pid.pid, 0)
    elapsed = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != expect:
        sys.exit(f"{' '.join(cmd)}: exit code {os.waitstatus_to_exitcode(status)}, expected {expect}")
    return elapsed, usage.ru_maxrss / 1024


def main():
    subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
    exe = os.path.join(ROOT, "target/release/switchyard")
    with tempfile.TemporaryDirectory() as d:
        subprocess.run([sys.executable, os.path.join(ROOT, "bench/gen_large.py"), d, "5000", "10000"], check=True)
        size = os.path.getsize(os.path.join(d, "runbooks/large.toml")) + os.path.getsize(os.path.join(d, "inventory/site.toml"))
        print(f"input: 5000 services x 4 steps, 10000 hosts, {size / 1e6:.1f} MB of TOML; {RUNS} runs each")
        print(f"{'command':<52} {'min ms':>8} {'median ms':>10} {'max RSS MiB':>12}")
        for args in (["validate", "runbooks/large.toml"],
                     ["plan", "runbooks/large.toml", "--to", "b", "--format", "text"],
                     ["plan", "runbooks/large.toml", "--to", "b", "--format", "json"]):
            results = [measure([exe] + args, d) for _ in range(RUNS)]
            times = [t * 1000 for t, _ in results]
            rss = max(r for _, r in results)
            print(f"{'switchyard ' + ' '.join(args):<52} {min(times):>8.1f} {statistics.median(times):>10.1f} {rss:>12.1f}")
        hostile = {
            "deep-array.toml (1 MB of [[[...)": "a = " + "[" * 500_000 + "]" * 500_000,
            "deep-table.toml (1.2 MB of {b={b=...)": "a = " + "{b=" * 200_000 + "1" + "}" * 200_000,
            "deep-key.toml (600 kB dotted key)": "[" + "a." * 300_000 + "b]",
            "garbage.toml (4 MB of random bytes)": os.urandom(4_000_000),
        }
        print(f"hostile inputs (exit code 2 expected):")
        for name, content in hostile.items():
            path = os.path.join(d, "runbooks", name.split()[0])
            with open(path, "wb") as f:
                f.write(content if isinstance(content, bytes) else content.encode())
            results = [measure([exe, "validate", path], d, expect=2) for _ in range(RUNS)]
            times = [t * 1000 for t, _ in results]
            rss = max(r for _, r in results)
            print(f"{'validate ' + name:<52} {min(times):>8.1f} {statistics.median(times):>10.1f} {rss:>12.1f}")


if __name__ == "__main__":
    main()
