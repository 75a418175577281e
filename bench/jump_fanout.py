#!/usr/bin/env python3
"""Benchmark (issue 16): the SSH fan-out of bench/ssh_fanout.py (3 steps with a barrier
between them: `true` and `sleep 0.1` on every host, one HTTP GET) over N hosts reached
only through one jump host, switchyard against OpenSSH's ProxyJump (`ssh -J`), side by
side in one run.

It starts N real OpenSSH sshd for the hosts (127.243.X.Y:22, as ssh_fanout.py does) and
one more for the jump host (127.244.0.2:22), each with its own ed25519 host key, and
times, every time from a cold start (no open connection):

  switchyard  `switchyard --no-progress run RUNBOOK --to b --live --yes`: the inventory
              of ssh_fanout.py with `jump = "jump"` on hall b and the jump host in it: one
              connection to the jump host, a direct-tcpip channel of it per host.
  openssh     one shell job: `ssh jump true` (the jump's ControlMaster, ControlPersist=60),
              then `xargs -P N` of `ssh HOST true` with `ProxyJump jump` (its `ssh -W`
              goes over the jump's master; each host's first ssh becomes that host's
              ControlMaster), then `xargs -P N` of `ssh HOST 'sleep 0.1'` over the hosts'
              masters, then one `curl -fsS`. Options in an ssh_config (`-F`), since
              ProxyJump's inner ssh takes only that; masters are closed after the job.

Each run is checked as in ssh_fanout.py (exit status 0, one login and two commands per
host, one HTTP request) and, besides, exactly one login on the jump host. Reported per
tool: wall seconds, the tool's own CPU (with its ControlMasters), peak RSS, and the busy
time of all cores (which counts the sshd of the hosts and the jump too). The median of
RUNS repetitions; the tools' order rotates between repetitions.

usage: bench/jump_fanout.py [--ns 100] [--runs 3] [--tools switchyard,openssh] [--exe PATH]
                            [--plain-shell] [--json FILE]

Needs root (sshd on port 22 of 127.x addresses), /usr/sbin/sshd, ssh and curl.
"""
import argparse
import ctypes
import http.server
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ssh_fanout as fan  # noqa: E402

JUMP_NET = "127.244"  # the jump host's address: apart from the hosts' 127.243.*


class JumpSetup(fan.Setup):
    """ssh_fanout's jobs, with every host behind `jump`."""

    def __init__(self, work, n, hosts, jump, key, url, exe):
        self.jump = jump
        self.jump_address = jump.addresses[0]
        super().__init__(work, n, hosts, key, url, exe, venv=None)

    def switchyard_files(self):
        super().switchyard_files()
        path = f"{self.d}/inventory.toml"
        with open(path) as f:
            inv = f.read()
        inv = inv.replace("[halls.b]\n", '[halls.b]\njump = "jump"\n', 1)
        inv += (f'\n[hosts.jump]\naddress = "{self.jump_address}"\nhall = "b"\n'
                f'known_hosts = "{self.jump.known_hosts}"\n')
        fan.write(path, inv)

    def openssh_files(self):
        self.cm_dir = os.path.join(self.d, "cm")
        os.makedirs(self.cm_dir)
        known = fan.write(f"{self.d}/known_hosts_all",
                          open(self.hosts.known_hosts).read() + open(self.jump.known_hosts).read())
        self.ssh_config = fan.write(f"{self.d}/ssh_config", f"""Host jump
  HostName {self.jump_address}
Host {fan.NET}.*
  ProxyJump jump
Host *
  User root
  IdentityFile {self.key}
  UserKnownHostsFile {known}
  StrictHostKeyChecking yes
  BatchMode yes
  KexAlgorithms {fan.KEX}
  ConnectTimeout 10
  ControlMaster auto
  ControlPath {self.cm_dir}/%h
  ControlPersist 60
""")
        ssh = f"ssh -F {self.ssh_config}"
        n = self.n
        self.openssh_job = fan.write(f"{self.d}/openssh.sh", f"""#!/bin/sh
set -e
{ssh} jump true
echo "mark jump $(date +%s.%N)"
xargs -P {n} -I{{}} {ssh} {{}} true < {self.hosts_file}
echo "mark true $(date +%s.%N)"
xargs -P {n} -I{{}} {ssh} {{}} 'sleep 0.1' < {self.hosts_file}
echo "mark sleep $(date +%s.%N)"
curl -fsS -o /dev/null {self.url}
echo "mark health $(date +%s.%N)"
""")

    def openssh_close(self):
        procs = [subprocess.Popen(["ssh", "-F", "/dev/null", "-o",
                                   f"ControlPath={os.path.join(self.cm_dir, s)}", "-O", "exit",
                                   "x"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                 for s in os.listdir(self.cm_dir)]
        for p in procs:
            p.wait()

    def ansible_files(self):
        pass


def jump_hosts(work, client_pub, plain_shell):
    """One sshd for the jump host, on 127.244.0.2 (ssh_fanout.Hosts with another net)."""
    net, fan.NET = fan.NET, JUMP_NET
    try:
        return fan.Hosts(os.path.join(work, "jump"), 1, client_pub, plain_shell)
    finally:
        fan.NET = net


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--ns", default="100")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--tools", default="switchyard,openssh")
    ap.add_argument("--exe")
    ap.add_argument("--plain-shell", action="store_true")
    ap.add_argument("--json")
    args = ap.parse_args()
    ns = [int(x) for x in args.ns.split(",")]
    tools = args.tools.split(",")
    if os.geteuid() != 0:
        raise SystemExit("needs root: sshd listens on port 22 of 127.x addresses")
    ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
    exe = fan.find_exe(args.exe) if "switchyard" in tools else None
    work = tempfile.mkdtemp(prefix="syjump-", dir="/tmp")  # short: ControlPath sockets
    os.makedirs(os.path.join(work, "jump"))
    hosts = jump = server = None
    results = []
    try:
        client_key = os.path.join(work, "id_ed25519")
        client_pub = fan.keygen(client_key, "jump-fanout-client")
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), fan.Health)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        url = f"http://127.0.0.1:{server.server_address[1]}/health"
        ssh_version = subprocess.run(["ssh", "-V"], capture_output=True, text=True).stderr.strip()
        fan.log(f"machine: {os.cpu_count()} CPUs; {ssh_version}"
                + ("; plain shell (empty HOME)" if args.plain_shell else ""))
        jump = jump_hosts(work, client_pub, args.plain_shell)
        for n in ns:
            fan.log(f"N = {n}: starting {n} sshd behind the jump host {jump.addresses[0]} ...")
            hosts = fan.Hosts(work, n, client_pub, args.plain_shell)
            known = hosts.pids() | jump.pids()
            setup = JumpSetup(work, n, hosts, jump, client_key, url, exe)
            for rep in range(args.runs):
                order = tools[rep % len(tools):] + tools[:rep % len(tools)]
                for tool in order:
                    jump.wait_idle()
                    before = jump.counts()[0][0]
                    r = fan.timed(tool, setup, hosts, known, setup.d, rep)
                    jump.wait_idle()
                    r["jump_logins"] = jump.counts()[0][0] - before
                    if r["jump_logins"] != 1:
                        r["problems"].append(f"{r['jump_logins']} logins on the jump host")
                        r["ok"] = False
                    results.append(r)
                    status = "ok" if r["ok"] else "FAILED: " + "; ".join(r["problems"])
                    fan.log(f"  N={n:<4} {tool:<10} run {rep + 1}: {r['wall']:7.2f} s wall, "
                            f"{r['cpu']:6.2f} s tool CPU, {r['rss']:5.0f} MB peak RSS, "
                            f"{r['machine_cpu']:6.2f} s machine CPU, {r['logins']} logins "
                            f"(+{r['jump_logins']} on the jump), {r['sessions']} commands  "
                            f"{status}")
                    if r["steps"] and tool == "openssh":
                        fan.log("      steps end at: "
                                + ", ".join(f"{k} {v:.2f} s" for k, v in r["steps"].items()))
                    elif r["steps"]:
                        fan.log("      " + "; ".join(
                            f"{k}: {v['first_start']:.2f}-{v['last_end']:.2f} s"
                            for k, v in r["steps"].items() if k != "run"))
            hosts.stop()
            hosts = None
    finally:
        for pgid in fan.RUNNING:
            fan.kill_quietly(-pgid)
        for h in (hosts, jump):
            if h:
                h.stop()
        if server:
            server.shutdown()
        left = fan.orphans(set())
        for pid in left:
            fan.kill_quietly(pid)
        fan.reap(left, 2)
        if os.environ.get("SYFAN_KEEP"):
            fan.log(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    report(results, ns, tools)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)
    if not all(r["ok"] for r in results):
        sys.exit(1)


def report(results, ns, tools):
    print("\n| N | tool | wall s | tool CPU s | peak RSS MB | machine CPU s | wall ÷ switchyard | runs ok |")
    print("|---:|---|---:|---:|---:|---:|---:|---|")
    for n in ns:
        med = {}
        for tool in tools:
            rs = [r for r in results if r["n"] == n and r["tool"] == tool]
            med[tool] = {k: statistics.median(r[k] for r in rs)
                         for k in ("wall", "cpu", "rss", "machine_cpu")}
        for tool in tools:
            m, rs = med[tool], [r for r in results if r["n"] == n and r["tool"] == tool]
            base = med.get("switchyard")
            ratio = f"{m['wall'] / base['wall']:.2f}" if base else "-"
            print(f"| {n} | {tool} | {m['wall']:.2f} | {m['cpu']:.2f} | {m['rss']:.0f} "
                  f"| {m['machine_cpu']:.2f} | {ratio} | {sum(r['ok'] for r in rs)}/{len(rs)} |")
        if "switchyard" in med and "openssh" in med:
            sy, o = med["switchyard"]["wall"], med["openssh"]["wall"]
            print(f"\nN={n}: switchyard no slower than OpenSSH ProxyJump: "
                  f"{'met' if sy <= o else 'MISSED'} ({sy:.2f} s vs {o:.2f} s)")


if __name__ == "__main__":
    main()
