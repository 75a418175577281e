#!/usr/bin/env python3
"""Writes a large generated project for the planning benchmark.

usage: gen_large.py DIR [SERVICES] [HOSTS] [SEED]

DIR/inventory/site.toml: HOSTS hosts, half in hall a and half in hall b, each tagged
with the service it belongs to, plus groups. DIR/runbooks/large.toml: SERVICES services,
each with a precheck, a stop, a start and a verify step, depending on about three
earlier services chosen at random (a random DAG). Deterministic for a given SEED.
"""
import random
import sys
from pathlib import Path


def main():
    out = Path(sys.argv[1])
    services = int(sys.argv[2]) if len(sys.argv) > 2 else 5000
    hosts = int(sys.argv[3]) if len(sys.argv) > 3 else 10000
    rng = random.Random(int(sys.argv[4]) if len(sys.argv) > 4 else 1)
    (out / "inventory").mkdir(parents=True, exist_ok=True)
    (out / "runbooks").mkdir(parents=True, exist_ok=True)

    inv = ['[halls.a]\ndescription = "north"\n[halls.b]\ndescription = "south"\n',
           '[ssh]\nuser = "drill"\nconnect_timeout = "5s"\n']
    per_hall = hosts // 2
    for hall, net in (("a", 10), ("b", 20)):
        for i in range(per_hall):
            svc = i % services
            inv.append(
                f'[hosts.h{hall}{i}]\naddress = "10.{net}.{i // 250}.{i % 250 + 1}"\n'
                f'hall = "{hall}"\ntags = ["s{svc}", "rack{i % 40}"]\n'
            )
    inv.append("[groups]\n")
    for g in range(50):
        inv.append(f'g{g} = ["tag:rack{g % 40}"]\n')
    (out / "inventory/site.toml").write_text("".join(inv))

    rb = ['[runbook]\nname = "large"\ntitle = "Generated benchmark runbook"\nrto = "30d"\n'
          'inventory = ["../inventory/site.toml"]\nmax_parallel = 64\non_failure = "abort"\n\n'
          '[vars]\nport = "8080"\n\n[secrets]\ntoken = { env = "TOKEN" }\n']
    for s in range(services):
        deps = sorted(set(rng.sample(range(s), min(3, s)))) if s else []
        dep_list = ", ".join(f'"s{d}"' for d in deps)
        rb.append(
            f'\n[services.s{s}]\nrto = "1d"\nhosts = ["tag:s{s}"]\ndepends_on = [{dep_list}]\n'
            f'[[services.s{s}.precheck]]\nname = "ready"\nrun = "test -d /srv/s{s}"\n'
            f'[[services.s{s}.stop]]\nname = "stop"\nrun = "systemctl stop s{s}"\ntimeout = "60s"\n'
            f'[[services.s{s}.start]]\nname = "start"\nrun = "systemctl start s{s} --token {{{{secrets.token}}}}"\n'
            f'timeout = "2m"\nretries = 1\n'
            f'[[services.s{s}.verify]]\nname = "health"\nhttp = "http://{{{{host.address}}}}:{{{{vars.port}}}}/s{s}"\n'
            f'within = "1m"\ninterval = "5s"\n'
        )
    (out / "runbooks/large.toml").write_text("".join(rb))


if __name__ == "__main__":
    main()
