#!/usr/bin/env python3
"""Check a switchyard run folder without switchyard.

An auditor need not trust the tool that wrote the evidence: this script, Python 3's
standard library only and short enough to read in ten minutes, makes the checks of
`switchyard verify-evidence` that need no report rendering:

- journal.jsonl: every line's hash chain (SHA-256 of the previous line's hash followed by
  the line up to `,"hash":…`, closed with `}`), `seq` counting from 1, `prev` linking each
  line to the one before, and the last event `run_finished` (only `notified` results may follow it);
- every file of inputs/ and output/ against the SHA-256 the journal recorded for it
  (`run_started.inputs`, `step_finished.files`; the last event naming a file counts), and
  no file there that the journal does not name;
- summary.json pins the journal's length and last hash;
- manifest.txt, when the folder is signed: every line against the folder, no file left
  out, and its `journal-last-hash`. The signature itself is checked by OpenSSH:
  ssh-keygen -Y verify -f allowed_signers -I SIGNER -n switchyard-evidence \
      -s manifest.txt.sig < manifest.txt

Usage: verify-evidence.py RUN_DIR...   Exit 0 when every folder is intact, 1 otherwise.
"""

import hashlib
import json
import os
import sys

GENESIS = "0" * 64
HASHED = ("inputs", "output")


def sha256_file(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def read_journal(path, problems):
    """The journal's events, and its last hash; problems name the first broken line."""
    events, prev = [], GENESIS
    with open(path, "rb") as f:
        text = f.read().decode("utf-8")
    if text and not text.endswith("\n"):
        problems.append("journal.jsonl: the last line is incomplete")
        return events, prev
    for n, line in enumerate(text.splitlines(), start=1):
        content, sep, tail = line.rpartition(',"hash":"')
        if not sep or not tail.endswith('"}'):
            problems.append(f"journal.jsonl line {n}: no hash")
            return events, prev
        claimed, content = tail[:-2], content + "}"
        try:
            event = json.loads(content)
        except ValueError as e:
            problems.append(f"journal.jsonl line {n}: not JSON ({e})")
            return events, prev
        if event.get("prev") != prev:
            problems.append(f"journal.jsonl line {n}: `prev` is not the hash of the line before")
            return events, prev
        if event.get("seq") != n:
            problems.append(f"journal.jsonl line {n}: `seq` is not {n}")
            return events, prev
        actual = hashlib.sha256((prev + content).encode("utf-8")).hexdigest()
        if actual != claimed:
            problems.append(f"journal.jsonl line {n}: its content does not match its hash (edited)")
            return events, prev
        events.append(event)
        prev = actual
    return events, prev


def recorded_files(events):
    files = {}
    for event in events:
        if event.get("event") == "run_started":
            named = event.get("inputs") or []
        elif event.get("event") == "step_finished":
            named = event.get("files") or []
        else:
            continue
        for f in named:
            files[f["path"]] = f["sha256"]
    return files


def check_files(run, recorded, problems):
    present = set()
    for folder in HASHED:
        base = os.path.join(run, folder)
        if not os.path.isdir(base):
            continue
        for name in os.listdir(base):
            rel = f"{folder}/{name}"
            if not os.path.isfile(os.path.join(base, name)) or os.path.islink(os.path.join(base, name)):
                problems.append(f"{rel}: not a regular file")
                continue
            present.add(rel)
            if rel not in recorded:
                problems.append(f"{rel}: not recorded in the journal")
            elif sha256_file(os.path.join(run, rel)) != recorded[rel]:
                problems.append(f"{rel}: its SHA-256 is not the one the journal recorded")
    for rel in sorted(set(recorded) - present):
        problems.append(f"{rel}: missing (the journal recorded it)")


def check_summary(run, events, last_hash, problems):
    try:
        with open(os.path.join(run, "summary.json"), encoding="utf-8") as f:
            pin = json.load(f).get("journal", {})
    except (OSError, ValueError) as e:
        problems.append(f"summary.json: cannot be read ({e})")
        return
    if pin.get("events") != len(events) or pin.get("last_hash") != last_hash:
        problems.append("summary.json: does not pin this journal's length and last hash")


def check_manifest(run, last_hash, problems):
    path = os.path.join(run, "manifest.txt")
    if not os.path.exists(path):
        return "unsigned"
    listed = {}
    with open(path, encoding="utf-8") as f:
        for line in f.read().splitlines():
            digest, _, rel = line.partition("  ")
            if digest == "journal-last-hash":
                if rel != last_hash:
                    problems.append("manifest.txt: journal-last-hash is not the journal's")
            else:
                listed[rel] = digest
    present = set()
    for root, _, names in os.walk(run):
        for name in names:
            rel = os.path.relpath(os.path.join(root, name), run)
            if rel not in ("manifest.txt", "manifest.txt.sig"):
                present.add(rel)
    for rel in sorted(present - set(listed)):
        problems.append(f"{rel}: not in manifest.txt")
    for rel, digest in sorted(listed.items()):
        if rel not in present:
            problems.append(f"{rel}: in manifest.txt, missing from the folder")
        elif sha256_file(os.path.join(run, rel)) != digest:
            problems.append(f"{rel}: changed since manifest.txt was signed")
    return "manifest checked; check manifest.txt.sig with ssh-keygen -Y verify"


def verify(run):
    problems = []
    events, last_hash = read_journal(os.path.join(run, "journal.jsonl"), problems)
    if not problems:
        # The results of the run's last notifications may follow its end.
        run_events = [e for e in events if e.get("event") != "notified"]
        if not run_events or run_events[-1].get("event") != "run_finished":
            problems.append("journal.jsonl: does not end with run_finished (cut, or a run never finished)")
        check_files(run, recorded_files(events), problems)
        check_summary(run, events, last_hash, problems)
    signed = check_manifest(run, last_hash, problems)
    return problems, len(events), last_hash, signed


def main(runs):
    if not runs:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    bad = 0
    for run in runs:
        try:
            problems, n, last_hash, signed = verify(run)
        except OSError as e:
            problems, n, last_hash, signed = [str(e)], 0, "", ""
        if problems:
            bad += 1
            for p in problems:
                print(f"{run}: BROKEN — {p}")
        else:
            print(f"{run}: intact — {n} events, last hash {last_hash}, {signed}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
