#!/usr/bin/env python3
"""Benchmark: what the RPO canary and the safety invariant cost the PostgreSQL drill.

Stands the lab of lab/postgres/ up once and runs live switchovers with
runbooks/postgres.toml as committed (a canary on db writing every second, the invariant
"never two writable primaries" checked after the prechecks, after every stop and start
step and at the end) and with a copy without them, alternately and in both directions
(up.sh re-seeds the old primary between drills), ROUNDS times each. Prints each drill's
recovery times and the median per variant. As root, on Debian (installs postgresql and
nginx when missing).

usage: bench/postgres_safety.py [ROUNDS]     (from the repository root; builds --release)
"""
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile

ROUNDS = int(sys.argv[1]) if len(sys.argv) > 1 else 5
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def without_safety(text, inventory):
    """The runbook without its canary, rpo and invariants, naming `inventory`."""
    text = re.sub(r"\n\[\[invariants\]\]\n(?:[^\[\n][^\n]*\n|\n(?!\[))*", "\n", text)
    text = re.sub(r"\n\[services\.db\.canary\]\n(?:[^\[\n][^\n]*\n)*", "\n", text)
    text = re.sub(r'\nrpo = "[^"]*"[^\n]*', "", text)
    assert "[services.db.canary]" not in text and "{{canary.seq}}" not in text
    assert "[[invariants]]" not in text
    return text.replace('inventory = ["../lab/postgres/inventory.toml"]', f'inventory = ["{inventory}"]')


def drill(exe, lab, runbook, to, evidence, env):
    out = subprocess.run([exe, "-q", "--no-progress", "--inventory", f"{lab}/inventory.toml", "run", runbook,
                          "--to", to, "--live", "--yes", "--evidence-dir", evidence],
                         cwd=ROOT, env=env, capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"{runbook} --to {to}: exit {out.returncode}\n{out.stdout}{out.stderr}")
    folder = max((os.path.join(evidence, d) for d in os.listdir(evidence)), key=os.path.getmtime)
    s = json.load(open(os.path.join(folder, "summary.json")))
    svc = {v["name"]: v["recovered_s"] for v in s["services"]}
    return s["rto"]["achieved_s"], svc["db"], svc["lb"]


def main():
    subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
    exe = os.path.join(ROOT, "target/release/switchyard")
    with tempfile.TemporaryDirectory(prefix="switchyard-pg-bench-", dir="/tmp") as lab, \
            tempfile.TemporaryDirectory() as work:
        os.chmod(lab, 0o755)
        env = dict(os.environ, SWITCHYARD_LOCK_DIR=os.path.join(work, "locks"))
        up = lambda: subprocess.run([os.path.join(ROOT, "lab/postgres/up.sh"), lab, "127.30.99"], check=True,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            up()
            plain = os.path.join(work, "postgres-plain.toml")
            with open(os.path.join(ROOT, "runbooks/postgres.toml")) as f:
                text = f.read()
            with open(plain, "w") as f:
                f.write(without_safety(text, f"{lab}/inventory.toml"))
            variants = [("with canary + invariant", "runbooks/postgres.toml"), ("without", plain)]
            results = {name: [] for name, _ in variants}
            to = "b"
            print(f"{'variant':<26} {'to':<3} {'runbook s':>10} {'db s':>8} {'lb s':>8}")
            for r in range(ROUNDS):
                order = variants if r % 2 == 0 else variants[::-1]
                for name, runbook in order:
                    evidence = os.path.join(work, f"evidence-{r}-{len(results[name])}-{to}")
                    os.makedirs(evidence)
                    t = drill(exe, lab, runbook, to, evidence, env)
                    results[name].append(t)
                    print(f"{name:<26} {to:<3} {t[0]:>10.3f} {t[1]:>8.3f} {t[2]:>8.3f}", flush=True)
                    up()
                    to = "a" if to == "b" else "b"
            print()
            print(f"{'median of ' + str(ROUNDS):<26} {'':<3} {'runbook s':>10} {'db s':>8} {'lb s':>8}")
            for name, _ in variants:
                cols = list(zip(*results[name]))
                print(f"{name:<26} {'':<3} " + " ".join(f"{statistics.median(c):>{w}.3f}"
                                                         for c, w in zip(cols, (10, 8, 8))))
        finally:
            subprocess.run([os.path.join(ROOT, "lab/postgres/down.sh"), lab],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


if __name__ == "__main__":
    main()
