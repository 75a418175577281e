#!/usr/bin/env python3
"""Benchmark (issue 3): SSH fan-out of a 3-step runbook over N hosts, switchyard against
OpenSSH's client in a parallel shell loop and against Ansible, side by side in one run.

For each N it starts N real OpenSSH sshd (one per loopback address 127.243.X.Y, port 22,
each with its own ed25519 host key; one shared client key, one known_hosts listing every
host) and one HTTP server on 127.0.0.1 answering 200 "ok", then times the same job done
by each tool, every time from a cold start (no open connection, no control master):

  step 1  `true` on every host        } a barrier between steps: a step starts when the
  step 2  `sleep 0.1` on every host   } one before has finished on every host
  step 3  one HTTP GET of http://127.0.0.1:PORT/health (once, not per host)

  switchyard  `switchyard --no-progress run RUNBOOK --to b --live --yes`: N ssh hosts in
              hall b (user root, identity_file, known_hosts, connect_timeout 10s,
              max_sessions 1) and one local host in hall a; one service with 3 start
              steps (`run = "true"`, `run = "sleep 0.1"`, `http = ...`), max_parallel 200
              (N when N is larger: every host at once, as `xargs -P N` does).
  site        the same job as a site (`switchyard run SITE ...`): one runbook per 25 hosts
              (40 runbooks at N = 1000), independent of each other, each with the three
              steps (so one HTTP request per runbook); the site's max_parallel as above.
  openssh     one shell job: `xargs -P N` of `ssh ... true` (each first ssh becomes the
              host's ControlMaster, ControlPersist=60, KexAlgorithms=curve25519-sha256, the
              key exchange libssh2 negotiates), then `xargs -P N` of `ssh ... 'sleep 0.1'`
              over the same masters, then one `curl -fsS`. Masters are set up inside the
              timed job and closed (`ssh -O exit`) after it.
  ansible     ansible-core from PyPI in a throwaway virtualenv; `ansible-playbook` with
              forks = N, pipelining, ssh_args ControlMaster=auto ControlPersist=60s (and the
              same KexAlgorithms and known_hosts), gathering explicit, strategy linear (a
              barrier per task): `command: "true"`, `command: sleep 0.1`, and `uri` with
              run_once and delegate_to localhost. Its masters are closed after it.

Reported per tool: wall seconds; "peak RSS", the largest resident size of the tool's own
process (wait4's ru_maxrss); "tool CPU", the CPU seconds of the tool's own process
tree (getrusage(RUSAGE_CHILDREN) deltas; this script is a child subreaper, so background
ControlMasters are reaped and counted too); and "machine CPU", the busy time of all cores
from /proc/stat over the run, which also counts the servers' side (sshd, the remote login
shell and what it runs). Each run is checked: exit status 0, exactly one login and two
commands per host (from sshd's logs), exactly one HTTP request. The median of RUNS
repetitions is reported (the order of the tools rotates between repetitions). A warning is
printed when the machine is busy with something else just before a run.

All traffic stays on 127.0.0.0/8. Every tool run has a time limit; anything still
running at the end is killed.

usage: bench/ssh_fanout.py [--ns 10,50,100] [--runs 3] [--tools switchyard,site,openssh,ansible]
                           [--exe PATH] [--venv DIR] [--plain-shell] [--json FILE]

--exe      the switchyard binary (default: `cargo build --release`, then
           $CARGO_TARGET_DIR/release/switchyard or target/release/switchyard)
--venv     a virtualenv to reuse for Ansible (default: a new one in the temp dir)
--plain-shell  give every SSH session an empty HOME (sshd `SetEnv HOME=...`), so the login
           shell does not read root's ~/.bashrc: shows what the remote shell's startup costs

Needs root (sshd on port 22 of 127.x addresses), /usr/sbin/sshd, ssh, and curl
(installed with apt-get when missing).
"""
import argparse
import ctypes
import http.server
import json
import os
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SSHD = "/usr/sbin/sshd"
NET = "127.243"  # tests/e2e/sshd.rs uses 127.20-219.*.*: no clash with a test run
SITE_GROUP = 25  # hosts per runbook of the `site` variant
TOOL_TIMEOUT = 600  # seconds, per tool run
CLK_TCK = os.sysconf("SC_CLK_TCK")
KEX = "curve25519-sha256"
RUNNING = set()  # process groups of tool runs in progress, killed if this script stops


def log(msg):
    print(msg, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- processes

def proc_table():
    """pid -> (ppid, comm) for every process, from /proc."""
    table = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        comm = stat[stat.find("(") + 1:stat.rfind(")")]
        rest = stat[stat.rfind(")") + 2:].split()
        table[int(name)] = (int(rest[1]), comm)
    return table


def descendants(pids, table=None):
    table = table or proc_table()
    found, todo = [], list(pids)
    while todo:
        p = todo.pop()
        kids = [c for c, (pp, _) in table.items() if pp == p]
        found.extend(kids)
        todo.extend(kids)
    return found


def kill_quietly(pid, sig=signal.SIGKILL):
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def machine_busy():
    """Busy seconds of all cores so far (user, nice, system, irq, softirq)."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return (v[0] + v[1] + v[2] + v[5] + v[6]) / CLK_TCK


def children_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


# ---------------------------------------------------------------- hosts

def keygen(path, comment="ssh-fanout"):
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", path],
                   check=True, stdin=subprocess.DEVNULL)
    with open(path + ".pub") as f:
        return " ".join(f.read().split()[:2])


def address(i):
    return f"{NET}.{i // 250}.{i % 250 + 2}"


def listening(addr, port=22):
    try:
        with socket.create_connection((addr, port), timeout=0.2):
            return True
    except OSError:
        return False


class Hosts:
    """N sshd on 127.243.X.Y:22, each with its own host key."""

    def __init__(self, work, n, client_pub, plain_shell):
        self.dir = os.path.join(work, f"hosts-{n}")
        os.makedirs(self.dir)
        self.addresses = [address(i) for i in range(n)]
        busy = [a for a in self.addresses if listening(a)]
        if busy:
            raise SystemExit(f"something already listens on {busy[0]}:22")
        self.known_hosts = os.path.join(self.dir, "known_hosts")
        keys = os.path.join(self.dir, "authorized_keys")
        with open(keys, "w") as f:
            f.write(client_pub + "\n")
        empty_home = os.path.join(self.dir, "home")
        os.makedirs(empty_home)
        self.procs, self.logs, lines = [], [], []
        os.makedirs("/run/sshd", exist_ok=True)
        for i, addr in enumerate(self.addresses):
            d = os.path.join(self.dir, f"h{i}")
            os.makedirs(d)
            pub = keygen(os.path.join(d, "host_ed25519"))
            lines.append(f"{addr} {pub}\n")
            config = (f"ListenAddress {addr}:22\nPidFile none\nUsePAM no\nStrictModes no\n"
                      f"AuthorizedKeysFile {keys}\nPubkeyAuthentication yes\n"
                      "PasswordAuthentication no\nKbdInteractiveAuthentication no\n"
                      "PermitRootLogin prohibit-password\nMaxStartups 200\nMaxSessions 10\n"
                      f"LogLevel VERBOSE\nHostKey {d}/host_ed25519\n")
            if plain_shell:
                config += f"SetEnv HOME={empty_home}\n"
            with open(f"{d}/sshd_config", "w") as f:
                f.write(config)
            self.logs.append(f"{d}/sshd.log")
            self.procs.append(subprocess.Popen(
                [SSHD, "-D", "-e", "-f", f"{d}/sshd_config", "-E", f"{d}/sshd.log"],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        with open(self.known_hosts, "w") as f:
            f.writelines(lines)
        until = time.monotonic() + 30
        for p, addr in zip(self.procs, self.addresses):
            while not listening(addr):
                if p.poll() is not None or time.monotonic() > until:
                    raise SystemExit(f"sshd on {addr} did not start: {open(self.logs[0]).read()}")
                time.sleep(0.02)

    def pids(self):
        return {p.pid for p in self.procs}

    def sessions(self):
        """Processes serving connections (everything below the listeners)."""
        return descendants(self.pids())

    def counts(self):
        """Per host: (logins, sessions started) so far, from sshd's logs."""
        n = []
        for path in self.logs:
            with open(path, errors="replace") as f:
                text = f.read()
            n.append((text.count("Accepted publickey for root"),
                      text.count("Starting session: command")))
        return n

    def wait_idle(self, limit=20):
        until = time.monotonic() + limit
        while self.sessions():
            if time.monotonic() > until:
                log(f"  warning: {len(self.sessions())} sshd session processes still alive; "
                    "killing them")
                for pid in self.sessions():
                    kill_quietly(pid)
                time.sleep(0.5)
                return
            time.sleep(0.05)

    def stop(self):
        for pid in self.sessions():
            kill_quietly(pid)
        for p in self.procs:
            p.kill()
        for p in self.procs:
            p.wait()


# ---------------------------------------------------------------- HTTP

class Health(http.server.BaseHTTPRequestHandler):
    hits = 0
    lock = threading.Lock()

    def do_GET(self):
        with Health.lock:
            Health.hits += 1
        body = b"ok"
        self.send_response(200 if self.path == "/health" else 404)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


# ---------------------------------------------------------------- the three tools

def write(path, text):
    with open(path, "w") as f:
        f.write(text)
    return path


class Setup:
    def __init__(self, work, n, hosts, key, url, exe, venv):
        self.work, self.n, self.hosts, self.key, self.url = work, n, hosts, key, url
        self.exe, self.venv = exe, venv
        self.d = os.path.join(work, f"jobs-{n}")
        os.makedirs(self.d)
        self.hosts_file = write(f"{self.d}/hosts.txt",
                                "".join(a + "\n" for a in hosts.addresses))
        self.switchyard_files()
        self.openssh_files()
        self.ansible_files()

    # switchyard ---------------------------------------------------------
    def switchyard_files(self):
        inv = ['[halls.a]\n[halls.b]\n\n[ssh]\nuser = "root"\n',
               f'identity_file = "{self.key}"\nknown_hosts = "{self.hosts.known_hosts}"\n',
               'host_key_checking = "strict"\nconnect_timeout = "10s"\nmax_sessions = 1\n\n',
               '[hosts.here]\ntransport = "local"\nhall = "a"\ntags = ["t"]\n']
        groups = max(1, self.n // SITE_GROUP)
        inv[-1] = inv[-1].replace('tags = ["t"]', 'tags = ["t"' + "".join(
            f', "g{g}"' for g in range(groups)) + ']')
        for i, addr in enumerate(self.hosts.addresses):
            inv.append(f'\n[hosts.h{i}]\naddress = "{addr}"\nhall = "b"\n'
                       f'tags = ["t", "g{min(i // SITE_GROUP, groups - 1)}"]\n')
        write(f"{self.d}/inventory.toml", "".join(inv))
        self.site_files(groups)
        self.runbook = write(f"{self.d}/fanout.toml", self.switchyard_runbook(
            "fanout", "inventory.toml", "t", f"max_parallel = {max(200, self.n)}\n"))

    def switchyard_runbook(self, name, inventory, tag, extra=""):
        """The benchmark's runbook: the three steps on the hosts tagged `tag`."""
        return f"""[runbook]
name = "{name}"
rto = "1h"
inventory = ["{inventory}"]
{extra}on_failure = "abort"

[services.app]
hosts = ["tag:{tag}"]

[[services.app.start]]
name = "true"
run = "true"

[[services.app.start]]
name = "sleep"
run = "sleep 0.1"

[[services.app.start]]
name = "health"
http = "{self.url}"
"""

    def site_files(self, groups):
        """The same job as a site: one runbook per SITE_GROUP hosts, independent of each
        other, each with the three steps (so one HTTP request per runbook)."""
        os.makedirs(f"{self.d}/site", exist_ok=True)
        for g in range(groups):
            write(f"{self.d}/site/g{g}.toml",
                  self.switchyard_runbook(f"g{g}", "../inventory.toml", f"g{g}"))
        self.site_groups = groups
        self.site = write(f"{self.d}/fanout-site.toml", f"""[site]
name = "fanout"
rto = "1h"
runbooks = ["site/*.toml"]
max_parallel = {max(200, self.n)}
""")

    def switchyard_cmd(self, evidence, target=None):
        return [self.exe, "--no-progress", "run", target or self.runbook, "--to", "b", "--live",
                "--yes", "--evidence-dir", evidence]

    # openssh ------------------------------------------------------------
    def openssh_files(self):
        self.cm_dir = os.path.join(self.d, "cm")
        os.makedirs(self.cm_dir)
        self.ssh_opts = ["-F", "/dev/null", "-o", "ControlMaster=auto",
                         "-o", f"ControlPath={self.cm_dir}/%h", "-o", "ControlPersist=60",
                         "-o", f"KexAlgorithms={KEX}", "-o", "BatchMode=yes",
                         "-o", f"UserKnownHostsFile={self.hosts.known_hosts}",
                         "-o", "StrictHostKeyChecking=yes", "-o", "ConnectTimeout=10",
                         "-i", self.key, "-l", "root"]
        ssh = "ssh " + " ".join(self.ssh_opts)
        n = self.n
        self.openssh_job = write(f"{self.d}/openssh.sh", f"""#!/bin/sh
set -e
xargs -P {n} -I{{}} {ssh} {{}} true < {self.hosts_file}
echo "mark true $(date +%s.%N)"
xargs -P {n} -I{{}} {ssh} {{}} 'sleep 0.1' < {self.hosts_file}
echo "mark sleep $(date +%s.%N)"
curl -fsS -o /dev/null {self.url}
echo "mark health $(date +%s.%N)"
""")

    def openssh_cmd(self):
        return ["sh", self.openssh_job]

    def openssh_close(self):
        procs = [subprocess.Popen(["ssh", *self.ssh_opts, "-O", "exit", a],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                 for a in self.hosts.addresses]
        for p in procs:
            p.wait()

    # ansible ------------------------------------------------------------
    def ansible_files(self):
        self.acp = os.path.join(self.d, "acp")
        os.makedirs(self.acp)
        inv = ["[targets]\n"] + [a + "\n" for a in self.hosts.addresses]
        inv.append("\n[targets:vars]\nansible_user=root\n"
                   f"ansible_ssh_private_key_file={self.key}\n"
                   "ansible_python_interpreter=/usr/bin/python3\n")
        write(f"{self.d}/inventory.ini", "".join(inv))
        self.ansible_cfg = write(f"{self.d}/ansible.cfg", f"""[defaults]
inventory = {self.d}/inventory.ini
forks = {self.n}
gathering = explicit
host_key_checking = True
interpreter_python = /usr/bin/python3
retry_files_enabled = False
local_tmp = {self.d}/ansible-tmp
nocolor = True

[ssh_connection]
pipelining = True
ssh_args = -F /dev/null -o ControlMaster=auto -o ControlPersist=60s -o KexAlgorithms={KEX} -o UserKnownHostsFile={self.hosts.known_hosts} -o StrictHostKeyChecking=yes
control_path_dir = {self.acp}
""")
        self.playbook = write(f"{self.d}/playbook.yml", f"""- hosts: targets
  gather_facts: false
  strategy: linear
  tasks:
    - name: "true"
      command: "true"
    - name: sleep
      command: sleep 0.1
    - name: health
      uri:
        url: "{self.url}"
      run_once: true
      delegate_to: localhost
""")

    def ansible_cmd(self):
        return [os.path.join(self.venv, "bin", "ansible-playbook"), self.playbook]

    def ansible_env(self):
        env = dict(os.environ)
        env.update(ANSIBLE_CONFIG=self.ansible_cfg, ANSIBLE_NOCOWS="1", ANSIBLE_FORCE_COLOR="0")
        return env

    def ansible_close(self):
        procs = [subprocess.Popen(["ssh", "-F", "/dev/null", "-o",
                                   f"ControlPath={os.path.join(self.acp, s)}", "-O", "exit", "x"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                 for s in os.listdir(self.acp)]
        for p in procs:
            p.wait()


# ---------------------------------------------------------------- one timed run

def orphans(known):
    """Processes reparented to this script (it is a child subreaper): detached ssh masters."""
    me = os.getpid()
    return [pid for pid, (pp, _) in proc_table().items() if pp == me and pid not in known]


def reap(pids, limit=10):
    """wait4 each orphan; returns their CPU seconds. Kills those that do not end in time."""
    cpu, until = 0.0, time.monotonic() + limit
    for pid in pids:
        while True:
            try:
                done, _, ru = os.wait4(pid, os.WNOHANG)
            except ChildProcessError:
                break
            if done:
                cpu += ru.ru_utime + ru.ru_stime
                break
            if time.monotonic() > until:
                kill_quietly(pid)
                until = time.monotonic() + 2
            time.sleep(0.02)
    return cpu


def timed(tool, setup, hosts, known, out_dir, rep):
    hosts.wait_idle()
    leftovers = orphans(known)
    if leftovers:
        for pid in leftovers:
            kill_quietly(pid)
        reap(leftovers)
    # Something else busy on the machine (a build, a test run) makes the figures worthless.
    b0 = machine_busy()
    time.sleep(0.5)
    background = (machine_busy() - b0) / 0.5 / os.cpu_count()
    counts0, hits0 = hosts.counts(), Health.hits
    evidence = os.path.join(out_dir, f"evidence-{tool}-{rep}")
    env = None
    if tool == "switchyard":
        cmd = setup.switchyard_cmd(evidence)
    elif tool == "site":
        cmd = setup.switchyard_cmd(evidence, setup.site)
    elif tool == "openssh":
        cmd = setup.openssh_cmd()
    else:
        cmd, env = setup.ansible_cmd(), setup.ansible_env()
    out_path = os.path.join(out_dir, f"{tool}-{setup.n}-{rep}.log")
    with open(out_path, "w") as out:
        cpu0, busy0, t0, epoch0 = children_cpu(), machine_busy(), time.monotonic(), time.time()
        p = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                             env=env, cwd=setup.d, start_new_session=True)
        RUNNING.add(p.pid)
        rc, rss_mb = wait_with_rusage(p)
        RUNNING.discard(p.pid)
        wall = time.monotonic() - t0
        cpu1, busy1 = children_cpu(), machine_busy()
    # Background ControlMasters the job left (their CPU belongs to the tool): close, reap.
    masters = orphans(known)
    if tool == "openssh":
        setup.openssh_close()
    elif tool == "ansible":
        setup.ansible_close()
    master_cpu = reap(masters)
    counts = [(b[0] - a[0], b[1] - a[1]) for a, b in zip(counts0, hosts.counts())]
    logins = [c[0] for c in counts]
    sessions = [c[1] for c in counts]
    hits = Health.hits - hits0
    problems = []
    if rc != 0:
        problems.append(f"exit status {rc} (see {out_path})")
    if logins != [1] * len(logins):
        problems.append(f"logins per host: min {min(logins)}, max {max(logins)}, "
                        f"total {sum(logins)}")
    if sessions != [2] * len(sessions):
        problems.append(f"commands per host: min {min(sessions)}, max {max(sessions)}, "
                        f"total {sum(sessions)}")
    if hits != (setup.site_groups if tool == "site" else 1):
        problems.append(f"{hits} HTTP requests")
    if background > 0.2:
        log(f"  warning: the machine was {background:.0%} busy before this run: "
            "something else is running")
    steps = None
    if tool in ("switchyard", "site") and rc == 0:
        steps = switchyard_steps(evidence)
    elif tool == "openssh" and rc == 0:
        with open(out_path) as f:
            marks = (line.split() for line in f)
            steps = {w[1]: float(w[2]) - epoch0 for w in marks if w[:1] == ["mark"]}
    return dict(tool=tool, n=setup.n, rep=rep, wall=wall, cpu=cpu1 - cpu0 + master_cpu, rss=rss_mb,
                machine_cpu=busy1 - busy0, background=background, logins=sum(logins),
                sessions=sum(sessions), masters=len(masters), ok=not problems,
                problems=problems, steps=steps)


def wait_with_rusage(p):
    """Waits for the tool (killing it past TOOL_TIMEOUT); returns its exit status and the
    peak resident memory, in MB, of its own process (wait4's ru_maxrss: the largest of the
    process and the children it waited for)."""
    deadline = time.monotonic() + TOOL_TIMEOUT
    while True:
        pid, status, ru = os.wait4(p.pid, os.WNOHANG)
        if pid:
            p.returncode = os.waitstatus_to_exitcode(status)
            return p.returncode, ru.ru_maxrss / 1024
        if time.monotonic() > deadline:
            os.killpg(p.pid, signal.SIGKILL)
            _, _, ru = os.wait4(p.pid, 0)
            p.returncode = -9
            return "timeout", ru.ru_maxrss / 1024
        time.sleep(0.001)


def switchyard_steps(evidence):
    """Per step: (first start, last end) seconds from the run's start, and the slowest host."""
    import datetime
    runs = os.listdir(evidence)
    with open(os.path.join(evidence, runs[0], "summary.json")) as f:
        s = json.load(f)
    t = lambda x: datetime.datetime.fromisoformat(x.replace("Z", "+00:00")).timestamp()
    origin = t(s["started_at"])
    # A site's summary has each runbook's steps in its entry.
    steps = s.get("steps") or [st for rb in s.get("runbooks", []) for st in rb["steps"]]
    by = {}
    for st in steps:
        by.setdefault(st["name"], []).append(st)
    res = {}
    for name, sts in by.items():
        res[name] = dict(first_start=min(t(x["started_at"]) for x in sts) - origin,
                         last_start=max(t(x["started_at"]) for x in sts) - origin,
                         last_end=max(t(x["finished_at"]) for x in sts) - origin,
                         slowest=max(x["duration_s"] for x in sts),
                         median=statistics.median(x["duration_s"] for x in sts),
                         statuses=sorted({x["status"] for x in sts}))
    res["run"] = t(s["finished_at"]) - origin
    return res


# ---------------------------------------------------------------- main

def find_exe(arg):
    if arg:
        return os.path.abspath(arg)
    log("building switchyard (cargo build --release) ...")
    subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
    target = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
    return os.path.join(target, "release", "switchyard")


def make_venv(path):
    if not os.path.exists(os.path.join(path, "bin", "ansible-playbook")):
        log(f"installing ansible-core into a virtualenv at {path} ...")
        subprocess.run([sys.executable, "-m", "venv", path], check=True)
        subprocess.run([os.path.join(path, "bin", "pip"), "install", "-q", "ansible-core"],
                       check=True)
    v = subprocess.run([os.path.join(path, "bin", "ansible-playbook"), "--version"],
                       capture_output=True, text=True, check=True).stdout.splitlines()[0]
    return v


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--ns", default="10,50,100")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--tools", default="switchyard,openssh,ansible")
    ap.add_argument("--exe")
    ap.add_argument("--venv")
    ap.add_argument("--plain-shell", action="store_true")
    ap.add_argument("--json")
    args = ap.parse_args()
    ns = [int(x) for x in args.ns.split(",")]
    tools = args.tools.split(",")
    if os.geteuid() != 0:
        raise SystemExit("needs root: sshd listens on port 22 of 127.x addresses")
    if not shutil.which("curl") and "openssh" in tools:
        subprocess.run(["apt-get", "install", "-y", "-q", "curl"], check=True)
    # Detached ControlMasters get reparented here, so their CPU can be counted and they
    # can be reaped: PR_SET_CHILD_SUBREAPER.
    ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)

    exe = find_exe(args.exe) if {"switchyard", "site"} & set(tools) else None
    work = tempfile.mkdtemp(prefix="syfan-", dir="/tmp")  # short: ControlPath sockets
    hosts = server = None
    results = []
    try:
        ansible_version = None
        venv = args.venv or os.path.join(work, "venv")
        if "ansible" in tools:
            ansible_version = make_venv(venv)
        client_key = os.path.join(work, "id_ed25519")
        client_pub = keygen(client_key, "ssh-fanout-client")
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Health)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        url = f"http://127.0.0.1:{server.server_address[1]}/health"
        ssh_version = subprocess.run(["ssh", "-V"], capture_output=True, text=True).stderr.strip()
        log(f"machine: {os.cpu_count()} CPUs; {ssh_version}"
            + (f"; {ansible_version}" if ansible_version else "")
            + ("; plain shell (empty HOME)" if args.plain_shell else ""))
        for n in ns:
            log(f"N = {n}: starting {n} sshd ...")
            hosts = Hosts(work, n, client_pub, args.plain_shell)
            known = hosts.pids()
            setup = Setup(work, n, hosts, client_key, url, exe, venv)
            for rep in range(args.runs):
                order = tools[rep % len(tools):] + tools[:rep % len(tools)]
                for tool in order:
                    r = timed(tool, setup, hosts, known, setup.d, rep)
                    results.append(r)
                    status = "ok" if r["ok"] else "FAILED: " + "; ".join(r["problems"])
                    log(f"  N={n:<4} {tool:<10} run {rep + 1}: {r['wall']:7.2f} s wall, "
                        f"{r['cpu']:6.2f} s tool CPU, {r['rss']:5.0f} MB peak RSS, "
                        f"{r['machine_cpu']:6.2f} s machine CPU, "
                        f"{r['logins']} logins, {r['sessions']} commands  {status}")
                    if r["steps"] and tool == "openssh":
                        log("      steps end at: "
                            + ", ".join(f"{k} {v:.2f} s" for k, v in r["steps"].items()))
                    elif r["steps"]:
                        st = r["steps"]
                        log("      " + "; ".join(
                            f"{k}: {v['first_start']:.2f}-{v['last_end']:.2f} s (last start "
                            f"{v['last_start']:.2f}, host median "
                            f"{v['median']:.2f}, max {v['slowest']:.2f})"
                            for k, v in st.items() if k != "run"))
            hosts.stop()
            hosts = None
    finally:
        for pgid in RUNNING:
            try:
                os.killpg(pgid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if hosts:
            hosts.stop()
        if server:
            server.shutdown()
        left = orphans(set())
        for pid in left:
            kill_quietly(pid)
        reap(left, 2)
        # SYFAN_KEEP=1 keeps the runs' logs and evidence (with RUST_LOG, switchyard's
        # own log) for a look afterwards.
        if os.environ.get("SYFAN_KEEP"):
            log(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)

    report(results, ns, tools)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)
    if not all(r["ok"] for r in results):
        sys.exit(1)


def report(results, ns, tools):
    med = {}
    print("\n| N | tool | wall s | tool CPU s | peak RSS MB | machine CPU s | wall ÷ switchyard | runs ok |")
    print("|---:|---|---:|---:|---:|---:|---:|---|")
    for n in ns:
        for tool in tools:
            rs = [r for r in results if r["n"] == n and r["tool"] == tool]
            m = {k: statistics.median(r[k] for r in rs) for k in ("wall", "cpu", "rss", "machine_cpu")}
            med[n, tool] = m
        for tool in tools:
            m = med[n, tool]
            rs = [r for r in results if r["n"] == n and r["tool"] == tool]
            base = med.get((n, "switchyard"))
            ratio = f"{m['wall'] / base['wall']:.2f}" if base else "-"
            print(f"| {n} | {tool} | {m['wall']:.2f} | {m['cpu']:.2f} | {m['rss']:.0f} | {m['machine_cpu']:.2f} "
                  f"| {ratio} | {sum(r['ok'] for r in rs)}/{len(rs)} |")
    if "switchyard" in tools:
        print()
        for n in ns:
            if n < 50:
                continue
            sy = med[n, "switchyard"]["wall"]
            if "openssh" in tools:
                o = med[n, "openssh"]["wall"]
                print(f"N={n}: switchyard no slower than OpenSSH+xargs: {'met' if sy <= o else 'MISSED'} "
                      f"({sy:.2f} s vs {o:.2f} s)")
            if "ansible" in tools:
                a = med[n, "ansible"]["wall"]
                print(f"N={n}: switchyard >= 15x faster than Ansible: {'met' if a / sy >= 15 else 'MISSED'} "
                      f"({a / sy:.1f}x)")


if __name__ == "__main__":
    main()
