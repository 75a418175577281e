#!/usr/bin/env python3
"""Benchmark: the engine's own overhead on a chain of 50 dependent services, each with one
no-op local step (`local = "true"`). Every step waits for the one before it, so the run's
wall time is the sum of the step durations plus what the engine itself spends between
them (scheduling, events, journal writes with fsync, summary). Overhead = run duration
(summary.json finished_at - started_at) - sum of step durations.

Two runbooks, run alternately so that both see the same machine: the chain as it is, and
the chain with a `[[notify]]` webhook told of every service's recovery (52 messages a
run) that points at a receiver which accepts connections and never answers. Every run is
live, so the answer channel (`switchyard answer`'s socket) is open in both.

usage: bench/engine_overhead.py [RUNS] [EXE]
  (run from the repository root; builds --release unless EXE, a switchyard binary to
  measure instead — an older build, say — is given)
"""
import datetime
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile

RUNS = int(sys.argv[1]) if len(sys.argv) > 1 else 20
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SERVICES = 50


def ts(s):
    return datetime.datetime.fromisoformat(s.replace("Z", "+00:00"))


def chain(path, notify):
    with open(path, "w") as f:
        f.write('[runbook]\nname = "chain"\nrto = "1h"\ninventory = ["../inventory/site.toml"]\n')
        if notify:
            f.write(f'\n[[notify]]\nwebhook = "http://{notify}/hook"\n'
                    'events = ["run_started", "service_recovered", "step_failed", "rto_at_risk", "run_finished"]\n')
        for i in range(SERVICES):
            dep = f'"s{i - 1}"' if i else ""
            f.write(f'\n[services.s{i}]\ndepends_on = [{dep}]\n[[services.s{i}.start]]\nlocal = "true"\n')


def measure(exe, d, runbook):
    out = subprocess.run([exe, "--no-progress", "run", runbook, "--to", "b", "--live", "--yes"],
                         cwd=d, capture_output=True, text=True, check=True)
    run_dir = out.stdout.rsplit("evidence in ", 1)[1].strip()
    with open(os.path.join(d, run_dir, "summary.json")) as f:
        s = json.load(f)
    with open(os.path.join(d, run_dir, "journal.jsonl")) as f:
        failed = sum(1 for line in f if '"event":"notified"' in line and '"ok":false' in line)
    total = (ts(s["finished_at"]) - ts(s["started_at"])).total_seconds() * 1000
    steps = sum(x["duration_s"] for x in s["steps"]) * 1000
    return total, total - steps, failed


def main():
    if len(sys.argv) > 2:
        exe = os.path.abspath(sys.argv[2])
    else:
        subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
        exe = os.path.join(ROOT, "target/release/switchyard")
    # Accepts connections into its backlog and never reads or answers.
    hanging = socket.socket()
    hanging.bind(("127.0.0.1", 0))
    hanging.listen(1024)
    addr = "127.0.0.1:%d" % hanging.getsockname()[1]
    with tempfile.TemporaryDirectory() as d:
        os.makedirs(f"{d}/runbooks")
        os.makedirs(f"{d}/inventory")
        with open(f"{d}/inventory/site.toml", "w") as f:
            f.write('[halls.a]\n[halls.b]\n[hosts.here]\ntransport = "local"\nhall = "a"\n')
        chain(f"{d}/runbooks/chain.toml", None)
        chain(f"{d}/runbooks/chain-notify.toml", addr)
        results = {"chain": ([], []), "chain-notify": ([], [])}
        undelivered = []
        for _ in range(RUNS):
            for name in results:
                total, overhead, failed = measure(exe, d, f"runbooks/{name}.toml")
                results[name][0].append(total)
                results[name][1].append(overhead)
                if name == "chain-notify":
                    undelivered.append(failed)
        print(f"chain of {SERVICES} services, one `local = \"true\"` step each; {RUNS} runs of each, alternating")
        for name, (totals, overheads) in results.items():
            print(f"{name:13} run duration ms:    min {min(totals):7.1f}  median {statistics.median(totals):7.1f}")
            print(f"{name:13} engine overhead ms: min {min(overheads):7.1f}  median {statistics.median(overheads):7.1f}"
                  f"  ({statistics.median(overheads) / SERVICES:.2f} ms per step)")
        print(f"chain-notify: messages journaled as not delivered per run (of 52): "
              f"min {min(undelivered)}, max {max(undelivered)}")


if __name__ == "__main__":
    main()
