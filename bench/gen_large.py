#!/usr/bin/env python3
"""Writes a large generated project for the planning benchmark.

usage: gen_large.py DIR [SERVICES] [HOSTS] [SEED]

DIR/inventory/site.toml: HOSTS hosts, half in hall a and half in hall b, each tagged
with the service it belongs to, plus groups. DIR/runbooks/large.toml: SERVICES services,
each with a precheck, a stop, a start and a verify step, depending on about three
earlier services chosen at random (a random DAG). Deterministic for a given SEED.

bench/gen_site.py builds a site of many such runbooks from the same pieces.
"""
import random
import sys
from pathlib import Path

HALLS = '[halls.a]\ndescription = "north"\n[halls.b]\ndescription = "south"\n'
SSH = '[ssh]\nuser = "drill"\nconnect_timeout = "5s"\n'


def host(name, hall, address, tags):
    """One `[hosts.NAME]` table."""
    tag_list = ", ".join(f'"{t}"' for t in tags)
    return f'[hosts.{name}]\naddress = "{address}"\nhall = "{hall}"\ntags = [{tag_list}]\n'


def header(name, title, rto, inventory):
    """A `[runbook]` table with the variable and the secret the services use."""
    return (f'[runbook]\nname = "{name}"\ntitle = "{title}"\nrto = "{rto}"\n'
            f'inventory = ["{inventory}"]\nmax_parallel = 64\non_failure = "abort"\n\n'
            '[vars]\nport = "8080"\n\n[secrets]\ntoken = { env = "TOKEN" }\n')


def service(s, deps, tag):
    """Service `s{s}` on the hosts tagged `tag`, depending on services `s{d}` for d in
    deps: a precheck, a stop, a start using the secret, and an HTTP verify per host."""
    dep_list = ", ".join(f'"s{d}"' for d in deps)
    return (
        f'\n[services.s{s}]\nrto = "1d"\nhosts = ["tag:{tag}"]\ndepends_on = [{dep_list}]\n'
        f'[[services.s{s}.precheck]]\nname = "ready"\nrun = "test -d /srv/s{s}"\n'
        f'[[services.s{s}.stop]]\nname = "stop"\nrun = "systemctl stop s{s}"\ntimeout = "60s"\n'
        f'[[services.s{s}.start]]\nname = "start"\nrun = "systemctl start s{s} --token {{{{secrets.token}}}}"\n'
        f'timeout = "2m"\nretries = 1\n'
        f'[[services.s{s}.verify]]\nname = "health"\nhttp = "http://{{{{host.address}}}}:{{{{vars.port}}}}/s{s}"\n'
        f'within = "1m"\ninterval = "5s"\n'
    )


def random_dag(rng, count, per):
    """For each of `count` items, about `per` earlier ones, sorted."""
    return [sorted(set(rng.sample(range(i), min(per, i)))) if i else [] for i in range(count)]


def main():
    out = Path(sys.argv[1])
    services = int(sys.argv[2]) if len(sys.argv) > 2 else 5000
    hosts = int(sys.argv[3]) if len(sys.argv) > 3 else 10000
    rng = random.Random(int(sys.argv[4]) if len(sys.argv) > 4 else 1)
    (out / "inventory").mkdir(parents=True, exist_ok=True)
    (out / "runbooks").mkdir(parents=True, exist_ok=True)

    inv = [HALLS, SSH]
    per_hall = hosts // 2
    for hall, net in (("a", 10), ("b", 20)):
        for i in range(per_hall):
            inv.append(host(f"h{hall}{i}", hall, f"10.{net}.{i // 250}.{i % 250 + 1}",
                            [f"s{i % services}", f"rack{i % 40}"]))
    inv.append("[groups]\n")
    for g in range(50):
        inv.append(f'g{g} = ["tag:rack{g % 40}"]\n')
    (out / "inventory/site.toml").write_text("".join(inv))

    rb = [header("large", "Generated benchmark runbook", "30d", "../inventory/site.toml")]
    for s, deps in enumerate(random_dag(rng, services, 3)):
        rb.append(service(s, deps, f"s{s}"))
    (out / "runbooks/large.toml").write_text("".join(rb))


if __name__ == "__main__":
    main()
