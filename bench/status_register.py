#!/usr/bin/env python3
"""Benchmark: the drill register over a large evidence folder. A site of RUNBOOKS
runbooks (10 services of 4 local steps each) is drilled live once to hall b and once
back to a, and each runbook alone once each way; those run folders are then copied (as
a year of drills would add them) until the evidence folder holds FOLDERS run folders.
Then `status` (text, json, html, prometheus) over the whole site and `history` of one
runbook are timed with the release binary: wall time (min and median of RUNS runs) and
peak memory (max RSS). Every folder is verified as verify-evidence does, so this is
the cost of checking all of them.

usage: bench/status_register.py [FOLDERS] [RUNS] [RUNBOOKS]   (from the repository root)
"""
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

from plan_large import measure

FOLDERS = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
RUNS = int(sys.argv[2]) if len(sys.argv) > 2 else 5
RUNBOOKS = int(sys.argv[3]) if len(sys.argv) > 3 else 10
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

INVENTORY = """[halls.a]
[halls.b]
[hosts.node-a]
transport = "local"
hall = "a"
tags = ["node"]
[hosts.node-b]
transport = "local"
hall = "b"
tags = ["node"]
"""


def runbook(r):
    lines = [f'[runbook]\nname = "rb{r:02}"\nrto = "1h"\ninventory = ["../inventory/site.toml"]\ndrill_every = "90d"\n']
    for s in range(10):
        lines.append(f'[services.s{s}]\nhosts = ["tag:node"]\n')
        if s:
            lines.append(f'depends_on = ["s{s - 1}"]\n')
        for phase in ("precheck", "stop", "start", "verify"):
            lines.append(f'[[services.s{s}.{phase}]]\nrun = "echo {phase} s{s}"\n')
    return "".join(lines)


def drill(exe, cwd, target, to):
    subprocess.run([exe, "--no-progress", "--quiet", "run", target, "--to", to, "--live", "--yes"],
                   cwd=cwd, check=True, stdout=subprocess.DEVNULL)


def main():
    subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
    exe = os.path.join(ROOT, "target/release/switchyard")
    with tempfile.TemporaryDirectory() as d:
        for folder in ("inventory", "runbooks", "sites"):
            os.makedirs(os.path.join(d, folder))
        with open(os.path.join(d, "inventory/site.toml"), "w") as f:
            f.write(INVENTORY)
        for r in range(RUNBOOKS):
            with open(os.path.join(d, f"runbooks/rb{r:02}.toml"), "w") as f:
                f.write(runbook(r))
        with open(os.path.join(d, "sites/town.toml"), "w") as f:
            f.write('[site]\nname = "town"\nrto = "2h"\nrunbooks = ["../runbooks/*.toml"]\n')
        env = dict(os.environ, SWITCHYARD_LOCK_DIR=os.path.join(d, "locks"))
        os.environ.update(env)
        for to in ("b", "a"):
            drill(exe, d, "sites/town.toml", to)
            for r in range(RUNBOOKS):
                drill(exe, d, f"runbooks/rb{r:02}.toml", to)
        evidence = os.path.join(d, "evidence")
        originals = sorted(os.listdir(evidence))
        n = 0
        while len(os.listdir(evidence)) < FOLDERS:
            src = originals[n % len(originals)]
            shutil.copytree(os.path.join(evidence, src), os.path.join(evidence, f"{src}-copy{n}"))
            n += 1
        size = sum(os.path.getsize(os.path.join(p, f)) for p, _, fs in os.walk(evidence) for f in fs)
        print(f"evidence: {FOLDERS} run folders ({len(originals)} distinct: a site of {RUNBOOKS} runbooks x 10 services "
              f"and each runbook alone, both directions), {size / 1e6:.1f} MB; {RUNS} runs each")
        print(f"{'command':<58} {'min ms':>8} {'median ms':>10} {'max RSS MiB':>12}")
        for args in (["status", "sites/town.toml"],
                     ["status", "sites/town.toml", "--format", "json"],
                     ["status", "sites/town.toml", "--format", "html"],
                     ["status", "sites/town.toml", "--format", "prometheus"],
                     ["history", "rb00"]):
            results = [measure([exe] + args, d) for _ in range(RUNS)]
            times = [t * 1000 for t, _ in results]
            rss = max(r for _, r in results)
            print(f"{'switchyard ' + ' '.join(args):<58} {min(times):>8.1f} "
                  f"{statistics.median(times):>10.1f} {rss:>12.1f}", flush=True)


if __name__ == "__main__":
    main()
