#!/usr/bin/env bash
# lab/postgres/up.sh — stand up the PostgreSQL switchover lab on this one machine.
#
#   lab/postgres/up.sh [LAB_DIR] [NET]        (as root; Debian or a Debian-like system)
#
#   LAB_DIR  where everything lives (default /tmp/switchyard-pg-lab)
#   NET      the first three octets of the lab's loopback addresses (default 127.30.0)
#
# Three "hosts", each on a loopback address of its own with its own sshd (port 2222):
#
#   pg-a  NET.1    hall a   PostgreSQL primary, port 5432
#   pg-b  NET.2    hall b   PostgreSQL streaming replica of pg-a, port 5432
#   lb    NET.10   both     nginx: TCP :5432 -> the primary, HTTP :8080/primary -> its name
#                           (in the inventory as lb-a and lb-b, see below)
#
# and LAB_DIR/inventory.toml for switchyard. With the defaults that file is the same as
# lab/postgres/inventory.toml, which runbooks/postgres.toml names, so after this script
#
#   switchyard run runbooks/postgres.toml --to b            # dry run
#   switchyard run runbooks/postgres.toml --to b --live     # the drill
#
# just work; with another LAB_DIR or NET add `--inventory LAB_DIR/inventory.toml`.
#
# What it installs: Debian's postgresql, nginx, libnginx-mod-stream (nginx's TCP proxy is
# a dynamic module in Debian, loaded with load_module), openssh-server/-client, when
# missing. A temporary /usr/sbin/policy-rc.d (only when none exists) keeps the packages'
# own services from starting. It never touches the system's PostgreSQL clusters
# (/etc/postgresql, /var/lib/postgresql), /etc/nginx or the system sshd: every server
# here runs from LAB_DIR with its own configuration, pid file, socket and log.
#
# Why port 2222 for sshd and 8080 for HTTP: a system sshd or nginx listening on 0.0.0.0
# would hold :22 / :80 on every loopback address. PostgreSQL keeps 5432: the system's
# cluster listens on localhost (127.0.0.1) only.
#
# Idempotent: run it again and it starts what is not running and leaves the rest as it
# is (configuration files are rewritten with the same content). It also repairs the lab
# after a drill: the PostgreSQL server that is no longer the primary (stopped by the
# switchover) is re-seeded from the new primary with pg_basebackup as its streaming
# replica, and nginx is pointed at the primary. So after `--to b`, running this script
# again makes the failback `--to a` possible — as in real life, where the old primary
# must be rebuilt as a replica (pg_basebackup or pg_rewind) before a failback.
#
# How the hosts look to the runbook: each sshd gives its sessions (root) an environment as
# a managed host would have it — HOME (an empty directory of that host, so root's
# ~/.bashrc is not read), PATH, and on the PostgreSQL hosts PGDATA, PGHOST (the socket
# directory), PGPORT and PGUSER=postgres, so `psql -Atc ...` and
# `runuser -u postgres -- pg_ctl promote` need no paths; on lb, `nginx` is a wrapper with
# the lab's -p/-c/-e and NGINX_CONF is the directory with the per-hall include files.
#
# Why the inventory names the load balancer twice, lb-a (hall a) and lb-b (hall b), both
# at NET.10: every inventory host belongs to exactly one hall (SPEC §2), and switchyard's
# validate requires a host in each hall for every step that runs on hosts — even with
# `on = "both"` — because a runbook switches both ways. The lab has one nginx serving both
# halls, so each hall reaches it under its own name, and the runbook's lb steps run on
# the target hall's name with the default `on`: lb-b for --to b, lb-a for the failback.
# (A site with one load balancer per hall would list two machines the same way.)
#
# Authentication: trust, on the lab addresses and 127.0.0.1 only (a connection to a
# 127.x.y.z address leaves from 127.0.0.1). It is a lab; no password is involved.
#
# lab/postgres/down.sh LAB_DIR stops everything and removes LAB_DIR.
set -euo pipefail

LAB=${1:-/tmp/switchyard-pg-lab}
NET=${2:-127.30.0}
SSH_PORT=2222
PG_PORT=5432
LB_HTTP_PORT=8080
DB=drill

log() { printf 'up.sh: %s\n' "$*" >&2; }
die() {
    printf 'up.sh: error: %s\n' "$*" >&2
    exit 1
}

[ "$(id -u)" -eq 0 ] || die "run as root (sshd, pg_ctl as postgres and nginx need it)"
[[ $NET =~ ^127\.[0-9]{1,3}\.[0-9]{1,3}$ ]] || die "NET must look like 127.30.0, got '$NET'"
case $LAB in
/*) ;;
*) LAB=$PWD/$LAB ;;
esac
case $LAB in
*[!A-Za-z0-9_./-]*) die "LAB_DIR may only hold A-Za-z0-9_./- (it goes into config files): '$LAB'" ;;
esac

declare -A ADDR=([pg-a]=$NET.1 [pg-b]=$NET.2 [lb]=$NET.10)
declare -A HALL=([pg-a]=a [pg-b]=b [lb]="a and b")
PG_HOSTS=(pg-a pg-b)
HOSTS=(pg-a pg-b lb)

# ---------------------------------------------------------------------------------------
# Packages
# ---------------------------------------------------------------------------------------
install_packages() {
    local missing=()
    command -v /usr/sbin/sshd >/dev/null || missing+=(openssh-server)
    command -v ssh-keygen >/dev/null || missing+=(openssh-client)
    ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
    command -v psql >/dev/null || missing+=(postgresql-client)
    [ -x /usr/sbin/nginx ] || missing+=(nginx)
    if [ -x /usr/sbin/nginx ] && ! /usr/sbin/nginx -V 2>&1 | grep -qE -- '--with-stream( |$)' &&
        [ ! -e /usr/lib/nginx/modules/ngx_stream_module.so ]; then
        missing+=(libnginx-mod-stream)
    fi
    [ -x /usr/sbin/nginx ] || missing+=(libnginx-mod-stream)
    [ ${#missing[@]} -eq 0 ] && return
    log "installing ${missing[*]}"
    local policy=""
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        # exit 101 = "action forbidden": the packages' postinst scripts start no service.
        policy=/usr/sbin/policy-rc.d
        printf '#!/bin/sh\nexit 101\n' >"$policy"
        chmod 755 "$policy"
        trap 'rm -f /usr/sbin/policy-rc.d' EXIT
    fi
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-get install -y -qq -o DPkg::Lock::Timeout=300 --no-install-recommends "${missing[@]}" >/dev/null; then
        apt-get update -qq >/dev/null
        apt-get install -y -qq -o DPkg::Lock::Timeout=300 --no-install-recommends "${missing[@]}" >/dev/null
    fi
    if [ -n "$policy" ]; then
        rm -f "$policy"
        trap - EXIT
    fi
}
install_packages

PG_BIN=$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -n1) # the newest version
[ -x "$PG_BIN/initdb" ] || die "no PostgreSQL server binaries under /usr/lib/postgresql"
as_postgres() { runuser -u postgres -- "$@"; }

# ---------------------------------------------------------------------------------------
# The lab directory
# ---------------------------------------------------------------------------------------
mkdir -p "$LAB"
chmod 755 "$LAB"
if [ -f "$LAB/lab.env" ]; then
    old_net=$(sed -n 's/^NET=//p' "$LAB/lab.env")
    [ "$old_net" = "$NET" ] || die "$LAB was made with NET=$old_net; run down.sh first or pass $old_net"
fi
# The postgres user must reach its data directories below LAB_DIR.
as_postgres test -x "$LAB" || die "the postgres user cannot enter $LAB (a parent directory is not world-searchable)"
cat >"$LAB/lab.env" <<EOF
# written by lab/postgres/up.sh; read by down.sh
NET=$NET
PG_BIN=$PG_BIN
EOF

# ---------------------------------------------------------------------------------------
# SSH: a client key, one sshd per host, known_hosts
# ---------------------------------------------------------------------------------------
mkdir -p "$LAB/ssh" /run/sshd
chmod 700 "$LAB/ssh"
[ -f "$LAB/ssh/id_ed25519" ] ||
    ssh-keygen -q -t ed25519 -N '' -C switchyard-pg-lab -f "$LAB/ssh/id_ed25519"
cp "$LAB/ssh/id_ed25519.pub" "$LAB/ssh/authorized_keys"

alive() { # PIDFILE: a process with that pid is running
    [ -s "$1" ] && kill -0 "$(head -n1 "$1")" 2>/dev/null
}

# SESSION_ENV of a host: what its sshd sets for every session (sshd_config SetEnv).
host_env() {
    local host=$1 home=$LAB/hosts/$1/home
    local path=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
    case $host in
    pg-*)
        echo "HOME=$home PATH=$PG_BIN:$path PGDATA=$LAB/pg/$host/data" \
            "PGHOST=$LAB/pg/$host/run PGPORT=$PG_PORT PGUSER=postgres"
        ;;
    lb) echo "HOME=$home PATH=$LAB/hosts/lb/bin:$path NGINX_CONF=$LAB/nginx" ;;
    esac
}

: >"$LAB/ssh/known_hosts.new"
for host in "${HOSTS[@]}"; do
    d=$LAB/ssh/$host
    mkdir -p "$d" "$LAB/hosts/$host/home"
    [ -f "$d/host_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -C "$host" -f "$d/host_ed25519"
    cat >"$d/sshd_config" <<EOF
# sshd of lab host $host (hall ${HALL[$host]}), written by lab/postgres/up.sh
ListenAddress ${ADDR[$host]}:$SSH_PORT
HostKey $d/host_ed25519
PidFile $d/sshd.pid
AuthorizedKeysFile $LAB/ssh/authorized_keys
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
MaxStartups 100
MaxSessions 16
LogLevel VERBOSE
SetEnv $(host_env "$host")
EOF
    echo "[${ADDR[$host]}]:$SSH_PORT $(cut -d' ' -f1-2 "$d/host_ed25519.pub")" >>"$LAB/ssh/known_hosts.new"
    if alive "$d/sshd.pid"; then
        kill -HUP "$(head -n1 "$d/sshd.pid")" # re-read the configuration
    else
        /usr/sbin/sshd -t -f "$d/sshd_config" || die "sshd_config of $host is invalid"
        /usr/sbin/sshd -f "$d/sshd_config" -E "$d/sshd.log" </dev/null >/dev/null 2>&1
    fi
done
mv "$LAB/ssh/known_hosts.new" "$LAB/ssh/known_hosts"

# ---------------------------------------------------------------------------------------
# PostgreSQL
# ---------------------------------------------------------------------------------------
pg_dir() { echo "$LAB/pg/$1"; }
pg_running() { as_postgres "$PG_BIN/pg_ctl" -D "$(pg_dir "$1")/data" status >/dev/null 2>&1; }
is_standby() { [ -f "$(pg_dir "$1")/data/standby.signal" ]; }
has_data() { [ -s "$(pg_dir "$1")/data/PG_VERSION" ]; }
psql_on() { # HOST ARGS...: psql over the host's socket
    local host=$1
    shift
    PGHOST=$(pg_dir "$host")/run PGPORT=$PG_PORT as_postgres psql -XAtq -v ON_ERROR_STOP=1 "$@"
}

# The settings of this host, included from postgresql.conf. pg_basebackup copies the file
# with the data directory, so a new replica gets it rewritten.
write_host_conf() {
    local host=$1 d
    d=$(pg_dir "$host")
    cat >"$d/data/switchyard-lab.conf" <<EOF
# lab host $host (hall ${HALL[$host]}), written by lab/postgres/up.sh
listen_addresses = '${ADDR[$host]}'
port = $PG_PORT
unix_socket_directories = '$d/run'
cluster_name = '$host'
wal_level = replica
max_wal_senders = 5
wal_keep_size = '256MB'
hot_standby = on
shared_buffers = '32MB'
max_connections = 30
EOF
    chown postgres:postgres "$d/data/switchyard-lab.conf"
    grep -q "^include = 'switchyard-lab.conf'" "$d/data/postgresql.conf" ||
        echo "include = 'switchyard-lab.conf'" >>"$d/data/postgresql.conf"
    cat >"$d/data/pg_hba.conf" <<EOF
# lab host $host, written by lab/postgres/up.sh: trust on the lab's addresses only
local all         all                   trust
local replication all                   trust
host  all         all   $NET.0/24       trust
host  replication all   $NET.0/24       trust
host  all         all   127.0.0.1/32    trust
host  replication all   127.0.0.1/32    trust
EOF
    chown postgres:postgres "$d/data/pg_hba.conf"
}

pg_start() {
    local host=$1 d
    d=$(pg_dir "$host")
    pg_running "$host" && return
    log "starting PostgreSQL on $host (${ADDR[$host]}:$PG_PORT)"
    as_postgres "$PG_BIN/pg_ctl" -D "$d/data" -l "$d/postgres.log" -w -t 120 start \
        </dev/null >/dev/null || die "PostgreSQL on $host did not start; see $d/postgres.log"
}

pg_layout() {
    local d
    d=$(pg_dir "$1")
    mkdir -p "$LAB/pg" "$d/run"
    chown postgres:postgres "$d" "$d/run"
    chmod 700 "$d"
}

# The timeline a stopped server ended on (a promotion starts a new one).
timeline() {
    "$PG_BIN/pg_controldata" -D "$(pg_dir "$1")/data" | sed -n "s/^Latest checkpoint's TimeLineID: *//p"
}

# Which host is the primary: the one without standby.signal; of two, the running one, or
# else the one on the later timeline (the promoted one).
find_primary() {
    local candidates=() running=() h
    for h in "${PG_HOSTS[@]}"; do
        has_data "$h" && ! is_standby "$h" && candidates+=("$h")
    done
    case ${#candidates[@]} in
    0) die "neither pg-a nor pg-b is a primary: run down.sh and up.sh" ;;
    1)
        echo "${candidates[0]}"
        return
        ;;
    esac
    for h in "${candidates[@]}"; do pg_running "$h" && running+=("$h"); done
    case ${#running[@]} in
    1) echo "${running[0]}" ;;
    2) die "both pg-a and pg-b run as primaries (split brain): run down.sh and up.sh" ;;
    *)
        local ta tb
        ta=$(timeline pg-a)
        tb=$(timeline pg-b)
        if [ "$ta" -gt "$tb" ]; then
            echo pg-a
        elif [ "$tb" -gt "$ta" ]; then
            echo pg-b
        else
            die "cannot tell which server is the primary: run down.sh and up.sh"
        fi
        ;;
    esac
}

if ! has_data pg-a && ! has_data pg-b; then
    log "initialising the primary on pg-a"
    pg_layout pg-a
    rm -rf "$(pg_dir pg-a)/data"
    as_postgres "$PG_BIN/initdb" -D "$(pg_dir pg-a)/data" -U postgres -E UTF8 \
        --locale=C.UTF-8 --auth=trust >/dev/null
    write_host_conf pg-a
fi

PRIMARY=$(find_primary)
REPLICA=$([ "$PRIMARY" = pg-a ] && echo pg-b || echo pg-a)
pg_start "$PRIMARY"

# The database the drill writes to: ledger holds the business's rows, switchyard_probe
# the rows the runbook's verify steps write, switchyard_canary the canary's.
if [ -z "$(psql_on "$PRIMARY" -d postgres -c "select 1 from pg_database where datname = '$DB'")" ]; then
    log "creating database $DB with a few rows"
    psql_on "$PRIMARY" -d postgres -c "create database $DB"
    psql_on "$PRIMARY" -d "$DB" <<'EOF'
create table ledger (
    id bigserial primary key,
    note text not null,
    written_at timestamptz not null default now()
);
create table switchyard_probe (
    id bigserial primary key,
    note text not null,
    server inet default inet_server_addr(),
    written_at timestamptz not null default now()
);
insert into ledger (note) values ('opening balance'), ('first transfer'), ('second transfer');
EOF
fi
# switchyard's RPO canary (runbooks/postgres.toml) writes one row per acknowledged write,
# keyed by the run, and reads the highest seq of its run back after the switchover.
# Outside the block above, so that a lab made before the canary existed gets it too.
psql_on "$PRIMARY" -d "$DB" -c "create table if not exists switchyard_canary (
    run text not null,
    seq bigint not null,
    written_at timestamptz not null default now(),
    primary key (run, seq))" >/dev/null

# The replica: (re)made from the primary when it is missing or is not a standby (the old
# primary after a switchover). Its old data directory goes: it is rebuilt, not rewound.
if ! has_data "$REPLICA" || ! is_standby "$REPLICA"; then
    if has_data "$REPLICA"; then
        log "re-seeding $REPLICA as a replica of $PRIMARY (it is no longer the primary)"
        pg_running "$REPLICA" && as_postgres "$PG_BIN/pg_ctl" -D "$(pg_dir "$REPLICA")/data" -m fast -w stop >/dev/null
    else
        log "making $REPLICA a streaming replica of $PRIMARY"
    fi
    pg_layout "$REPLICA"
    rm -rf "$(pg_dir "$REPLICA")/data"
    as_postgres "$PG_BIN/pg_basebackup" -h "${ADDR[$PRIMARY]}" -p "$PG_PORT" -U postgres \
        -D "$(pg_dir "$REPLICA")/data" -R -X stream -c fast
    write_host_conf "$REPLICA"
fi
pg_start "$REPLICA"

log "waiting for $REPLICA to stream from $PRIMARY"
for _ in $(seq 120); do
    [ "$(psql_on "$REPLICA" -d postgres -c 'select status from pg_stat_wal_receiver' 2>/dev/null)" = streaming ] && break
    sleep 0.5
done
[ "$(psql_on "$REPLICA" -d postgres -c 'select status from pg_stat_wal_receiver')" = streaming ] ||
    die "$REPLICA does not stream from $PRIMARY; see $(pg_dir "$REPLICA")/postgres.log"

# ---------------------------------------------------------------------------------------
# nginx on lb
# ---------------------------------------------------------------------------------------
N=$LAB/nginx
mkdir -p "$N/logs" "$N/run" "$N/tmp" "$LAB/hosts/lb/bin"
# Per hall, the two include files the runbook switches between: the TCP upstream and the
# body of the HTTP health endpoint. `active` is a symlink to one hall's directory.
for host in "${PG_HOSTS[@]}"; do
    h=${HALL[$host]}
    mkdir -p "$N/halls/$h"
    cat >"$N/halls/$h/stream.conf" <<EOF
# hall $h: PostgreSQL connections go to $host
upstream postgres {
    server ${ADDR[$host]}:$PG_PORT;
}
EOF
    cat >"$N/halls/$h/http.conf" <<EOF
# hall $h: the health endpoint names the backend
return 200 "$host (hall $h)\n";
EOF
done

LOAD_STREAM=""
if ! /usr/sbin/nginx -V 2>&1 | grep -qE -- '--with-stream( |$)'; then
    [ -e /usr/lib/nginx/modules/ngx_stream_module.so ] || die "nginx has no stream module (libnginx-mod-stream)"
    LOAD_STREAM="load_module /usr/lib/nginx/modules/ngx_stream_module.so;"
fi
LB=${ADDR[lb]}
cat >"$N/nginx.conf" <<EOF
# nginx of lab host lb, written by lab/postgres/up.sh. Run as
#   nginx -p $N/ -c $N/nginx.conf -e $N/logs/error.log
# (the lb host's PATH has a wrapper named nginx that adds these).
$LOAD_STREAM
user www-data;
worker_processes 1;
pid $N/run/nginx.pid;
error_log $N/logs/error.log notice;
events {
    worker_connections 256;
}
http {
    access_log $N/logs/access.log;
    client_body_temp_path $N/tmp/body;
    proxy_temp_path $N/tmp/proxy;
    fastcgi_temp_path $N/tmp/fastcgi;
    uwsgi_temp_path $N/tmp/uwsgi;
    scgi_temp_path $N/tmp/scgi;
    default_type text/plain;
    server {
        listen $LB:$LB_HTTP_PORT;
        # Which PostgreSQL server the load balancer sends connections to.
        location = /primary {
            include $N/active/http.conf;
        }
        location / {
            return 404 "see /primary\n";
        }
    }
}
stream {
    include $N/active/stream.conf;
    server {
        listen $LB:$PG_PORT;
        proxy_pass postgres;
        proxy_bind $LB;
        proxy_connect_timeout 3s;
    }
}
EOF
cat >"$LAB/hosts/lb/bin/nginx" <<EOF
#!/bin/sh
# nginx as the lab host lb runs it: its own prefix, configuration and error log.
exec /usr/sbin/nginx -p $N/ -c $N/nginx.conf -e $N/logs/error.log "\$@"
EOF
chmod 755 "$LAB/hosts/lb/bin/nginx"
NGINX="$LAB/hosts/lb/bin/nginx"

# nginx sends connections to the primary.
want=halls/${HALL[$PRIMARY]}
if [ "$(readlink "$N/active" 2>/dev/null)" != "$want" ]; then
    log "pointing nginx at $PRIMARY (hall ${HALL[$PRIMARY]})"
    ln -sfn "$want" "$N/active"
fi
"$NGINX" -t -q || die "the nginx configuration is invalid"
if alive "$N/run/nginx.pid"; then
    "$NGINX" -s reload
else
    log "starting nginx on lb ($LB:$PG_PORT, http://$LB:$LB_HTTP_PORT/primary)"
    "$NGINX" </dev/null >/dev/null 2>&1
fi
# GET http://lb/primary without curl: the body's last line.
health() {
    (
        exec 3<>"/dev/tcp/$LB/$LB_HTTP_PORT" || exit 1
        printf 'GET /primary HTTP/1.0\r\nHost: lb\r\n\r\n' >&3
        tail -n1 <&3
    ) 2>/dev/null
}
# A reload (a signal) takes effect a moment later: wait until nginx names the primary.
for _ in $(seq 100); do
    [ "$(health)" = "$PRIMARY (hall ${HALL[$PRIMARY]})" ] && break
    sleep 0.1
done
[ "$(health)" = "$PRIMARY (hall ${HALL[$PRIMARY]})" ] ||
    die "nginx does not name $PRIMARY on http://$LB:$LB_HTTP_PORT/primary; see $N/logs/error.log"

# ---------------------------------------------------------------------------------------
# The inventory (lab/postgres/inventory.toml is this file for the defaults)
# ---------------------------------------------------------------------------------------
cat >"$LAB/inventory.toml" <<EOF
# The PostgreSQL switchover lab (lab/postgres/up.sh): three hosts on loopback addresses,
# each with its own sshd. Written by up.sh for LAB_DIR=$LAB, NET=$NET.
# runbooks/postgres.toml names lab/postgres/inventory.toml, which is this file for the
# default LAB_DIR and NET; for another lab, pass this file with --inventory.

[halls.a]
description = "Data hall A (lab: pg-a, the PostgreSQL primary at first)"

[halls.b]
description = "Data hall B (lab: pg-b, the streaming replica at first)"

[ssh]
user = "root"
port = $SSH_PORT
identity_file = "$LAB/ssh/id_ed25519"
known_hosts = "$LAB/ssh/known_hosts"
host_key_checking = "strict"
connect_timeout = "10s"

[hosts.pg-a]
address = "${ADDR[pg-a]}"
hall = "a"
tags = ["postgres"]
description = "PostgreSQL, primary at the start of the lab"

[hosts.pg-b]
address = "${ADDR[pg-b]}"
hall = "b"
tags = ["postgres"]
description = "PostgreSQL, streaming replica at the start of the lab"

# The one load balancer serves both halls. An inventory host has exactly one hall and
# every step needs a host in each hall, so each hall reaches it under its own name.
[hosts.lb-a]
address = "${ADDR[lb]}"
hall = "a"
tags = ["lb"]
description = "nginx (the same machine as lb-b): TCP $PG_PORT to the primary, HTTP $LB_HTTP_PORT/primary names it"

[hosts.lb-b]
address = "${ADDR[lb]}"
hall = "b"
tags = ["lb"]
description = "nginx (the same machine as lb-a)"
EOF

# Every sshd answers (the last one may still be starting).
for host in "${HOSTS[@]}"; do
    for _ in $(seq 50); do
        (exec 3<>"/dev/tcp/${ADDR[$host]}/$SSH_PORT") 2>/dev/null && break
        sleep 0.1
    done
    (exec 3<>"/dev/tcp/${ADDR[$host]}/$SSH_PORT") 2>/dev/null ||
        die "sshd of $host does not listen; see $LAB/ssh/$host/sshd.log"
done

log "ready: primary $PRIMARY, replica $REPLICA, nginx -> $PRIMARY; inventory $LAB/inventory.toml"
