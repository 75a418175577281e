#!/usr/bin/env python3
"""Writes a large generated site for the site planning benchmark.

usage: gen_site.py DIR [RUNBOOKS] [SERVICES] [HOSTS] [SEED] [--shared]

DIR/sites/large.toml: a site over DIR/runbooks/*.toml, RUNBOOKS runbooks `rb000`, ...
of SERVICES services each (the services of bench/gen_large.py: a precheck, a stop, a
start and a verify step, depending on about three earlier services of the same
runbook). Each runbook requires about three earlier runbooks, chosen at random (so the
`requires` are acyclic), and has a tier from 0 to 9 that grows with its position.

HOSTS hosts in all, half in hall a and half in hall b, spread evenly over the runbooks:
by default each runbook has an inventory file of its own (DIR/inventory/rbNNN.toml);
with --shared every runbook names the one DIR/inventory/site.toml that holds them all,
as a site whose runbooks share the site's inventory does. Deterministic for a SEED.
"""
import random
import sys
from pathlib import Path

from gen_large import HALLS, SSH, header, host, random_dag, service


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    shared = "--shared" in sys.argv[1:]
    out = Path(args[0])
    runbooks = int(args[1]) if len(args) > 1 else 200
    services = int(args[2]) if len(args) > 2 else 25
    hosts = int(args[3]) if len(args) > 3 else 10000
    rng = random.Random(int(args[4]) if len(args) > 4 else 1)
    for folder in ("inventory", "runbooks", "sites"):
        (out / folder).mkdir(parents=True, exist_ok=True)

    # Hosts per runbook and hall; service k of a runbook runs on the hosts tagged
    # `rNNNsK` (about one per hall with the defaults).
    per_hall = hosts // runbooks // 2
    everything = [HALLS, SSH]
    for r in range(runbooks):
        inv = [] if shared else [HALLS, SSH]
        for hall, net in (("a", 10), ("b", 20)):
            for i in range(per_hall):
                n = r * per_hall + i
                inv.append(host(f"r{r:03}{hall}{i}", hall,
                                f"10.{net + n // 62500}.{n // 250 % 250}.{n % 250 + 1}",
                                [f"r{r:03}s{i % services}", f"rack{n % 40}"]))
        if shared:
            everything.extend(inv)
        else:
            (out / f"inventory/rb{r:03}.toml").write_text("".join(inv))
    if shared:
        (out / "inventory/site.toml").write_text("".join(everything))

    site = ['[site]\nname = "large"\ntitle = "Generated benchmark site"\nrto = "30d"\n'
            'runbooks = ["../runbooks/*.toml"]\nmax_parallel = 64\n']
    for r, required in enumerate(random_dag(rng, runbooks, 3)):
        inventory = "../inventory/site.toml" if shared else f"../inventory/rb{r:03}.toml"
        rb = [header(f"rb{r:03}", f"Generated runbook {r}", "7d", inventory)]
        for s, deps in enumerate(random_dag(rng, services, 3)):
            rb.append(service(s, deps, f"r{r:03}s{s}"))
        (out / f"runbooks/rb{r:03}.toml").write_text("".join(rb))
        names = ", ".join(f'"rb{q:03}"' for q in required)
        site.append(f"\n[systems.rb{r:03}]\ntier = {r * 10 // runbooks}\nrequires = [{names}]\n")
    (out / "sites/large.toml").write_text("".join(site))


if __name__ == "__main__":
    main()
