#!/usr/bin/env bash
# lab/postgres/down.sh — tear the PostgreSQL switchover lab down.
#
#   lab/postgres/down.sh [LAB_DIR]            (as root; default /tmp/switchyard-pg-lab)
#
# Stops what lab/postgres/up.sh started in LAB_DIR — both PostgreSQL servers
# (pg_ctl stop -m immediate, as postgres), nginx (by its pid file) and the three sshds
# (by their pid files, with any session they still serve) — waits until every one of
# those processes is gone, and removes LAB_DIR. It only ever signals processes named by
# the lab's own pid files and their children, never by name.
#
# Idempotent: a server that is not running is skipped, a missing LAB_DIR is fine. Refuses
# a directory that does not look like a lab (no lab.env), so a wrong argument cannot
# remove anything else.
set -euo pipefail

LAB=${1:-/tmp/switchyard-pg-lab}

log() { printf 'down.sh: %s\n' "$*" >&2; }

[ "$(id -u)" -eq 0 ] || {
    echo "down.sh: error: run as root" >&2
    exit 1
}
[ -e "$LAB" ] || exit 0
if [ ! -f "$LAB/lab.env" ]; then
    # up.sh writes lab.env first of all; without it this is not (or no longer) a lab.
    if [ -z "$(ls -A "$LAB")" ]; then
        rmdir "$LAB"
        exit 0
    fi
    echo "down.sh: error: $LAB has no lab.env: not a lab made by up.sh; not removing it" >&2
    exit 1
fi
PG_BIN=$(sed -n 's/^PG_BIN=//p' "$LAB/lab.env")

pids=() # every process we signalled, to wait for

# Each PostgreSQL server: `immediate` because the lab's data goes with the directory; a
# stopped (switched-away) server has no postmaster.pid and is skipped.
for data in "$LAB"/pg/*/data; do
    [ -f "$data/postmaster.pid" ] || continue
    pid=$(head -n1 "$data/postmaster.pid")
    if kill -0 "$pid" 2>/dev/null; then
        log "stopping PostgreSQL in $data"
        runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$data" -m immediate -w -t 60 stop >/dev/null ||
            kill -KILL "$pid" 2>/dev/null || true
        pids+=("$pid")
    fi
done

# nginx: fast shutdown (TERM), not `quit`, which would wait for open client connections.
pidfile=$LAB/nginx/run/nginx.pid
if [ -s "$pidfile" ] && kill -0 "$(head -n1 "$pidfile")" 2>/dev/null; then
    pid=$(head -n1 "$pidfile")
    log "stopping nginx ($pid)"
    kill -TERM "$pid" 2>/dev/null || true
    pids+=("$pid")
fi

# The sshds: the listener first, then the processes serving connections, which outlive it.
for pidfile in "$LAB"/ssh/*/sshd.pid; do
    [ -s "$pidfile" ] || continue
    pid=$(head -n1 "$pidfile")
    kill -0 "$pid" 2>/dev/null || continue
    log "stopping sshd ($pid) of $(basename "$(dirname "$pidfile")")"
    children=$(pgrep -P "$pid" || true)
    kill -TERM "$pid" 2>/dev/null || true
    pids+=("$pid")
    for child in $children; do
        kill -TERM "$child" 2>/dev/null || true
        pids+=("$child")
    done
done

# Wait for all of them (10 s), then insist.
for _ in $(seq 100); do
    left=()
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && left+=("$pid"); done
    [ ${#left[@]} -eq 0 ] && break
    sleep 0.1
done
for pid in "${left[@]}"; do
    log "process $pid did not stop; killing it"
    kill -KILL "$pid" 2>/dev/null || true
done

rm -rf "$LAB"
log "removed $LAB"
