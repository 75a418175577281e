//! The PostgreSQL + nginx lab of `lab/postgres/` end to end: a real PostgreSQL primary
//! (pg-a, hall a) streaming to a replica (pg-b, hall b), an nginx load balancer in front
//! of them, and one OpenSSH sshd per host, each on a loopback address 127.30.N.x of its
//! own. `lab/postgres/up.sh` builds it (installing Debian's postgresql, nginx and
//! openssh-server when missing), `runbooks/postgres.toml` switches it, and
//! `lab/postgres/down.sh` tears it down, also when an assertion fails. Needs root.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::Value;

use crate::support::util::Test;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
const PG_PORT: u16 = 5432;
const HTTP_PORT: u16 = 8080;
const SSH_PORT: u16 = 2222;

/// A lab made by `up.sh` in a directory of its own, torn down by `down.sh` when dropped.
struct Lab {
    dir: PathBuf,
    net: String,
    /// Holds up.sh's log and the runs' evidence; outlives the lab directory.
    work: tempfile::TempDir,
    _dir: tempfile::TempDir,
}

impl Lab {
    fn up() -> Lab {
        assert!(
            nix::unistd::geteuid().is_root(),
            "the PostgreSQL lab test must run as root: lab/postgres/up.sh installs packages \
             and starts sshd, PostgreSQL (as postgres) and nginx"
        );
        let dir = tempfile::Builder::new()
            .prefix("switchyard-pg-")
            .tempdir_in("/tmp")
            .expect("lab directory");
        let lab = Lab {
            dir: dir.path().to_path_buf(),
            net: unused_net(),
            work: tempfile::tempdir().expect("work directory"),
            _dir: dir,
        };
        // The guard exists before up.sh runs, so a half-built lab is torn down too.
        lab.script("up.sh", &[&lab.net]);
        lab
    }

    fn address(&self, last: u8) -> String {
        format!("{}.{last}", self.net)
    }

    fn pg_a(&self) -> String {
        self.address(1)
    }

    fn pg_b(&self) -> String {
        self.address(2)
    }

    fn lb(&self) -> String {
        self.address(10)
    }

    fn inventory(&self) -> PathBuf {
        self.dir.join("inventory.toml")
    }

    /// Runs `lab/postgres/SCRIPT LAB_DIR ARGS...`, its output in a log file (the daemons
    /// it starts must not hold a pipe of ours open), and fails with that log.
    fn script(&self, script: &str, args: &[&str]) {
        let log_path = self.work.path().join(format!("{script}.log"));
        let log = std::fs::File::create(&log_path).expect("log file");
        let status = Command::new(Path::new(ROOT).join("lab/postgres").join(script))
            .arg(&self.dir)
            .args(args)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log file"))
            .stderr(log)
            .status()
            .unwrap_or_else(|e| panic!("run lab/postgres/{script}: {e}"));
        assert!(
            status.success(),
            "lab/postgres/{script} failed ({status}):\n{}",
            std::fs::read_to_string(&log_path).unwrap_or_default()
        );
    }

    /// `switchyard run runbooks/postgres.toml --to HALL` against this lab, with its own
    /// evidence directory.
    fn run(&self, to: &str, extra: &[&str]) -> Run {
        let evidence = self
            .work
            .path()
            .join(format!("evidence-{to}-{}", extra.join("")));
        let inventory = self.inventory();
        let out = Test::reuse(Path::new(ROOT))
            // The lab's own run locks, not the repository's.
            .env(
                "SWITCHYARD_LOCK_DIR",
                self.work
                    .path()
                    .join(".locks")
                    .to_str()
                    .expect("UTF-8 path"),
            )
            .args(&["--no-progress", "run", "runbooks/postgres.toml", "--to", to])
            .args(&["--inventory", inventory.to_str().expect("UTF-8 path")])
            .args(&["--evidence-dir", evidence.to_str().expect("UTF-8 path")])
            .args(extra)
            .run();
        let stderr = out.stderr;
        let runs: Vec<PathBuf> = std::fs::read_dir(&evidence)
            .map(|d| d.flatten().map(|e| e.path()).collect())
            .unwrap_or_default();
        assert_eq!(runs.len(), 1, "one run folder in {evidence:?}:\n{stderr}");
        Run {
            code: out.code,
            summary: crate::support::util::summary(&runs[0]),
            stderr,
        }
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        let status = Command::new(Path::new(ROOT).join("lab/postgres/down.sh"))
            .arg(&self.dir)
            .stdin(Stdio::null())
            .status();
        if !matches!(status, Ok(s) if s.success()) {
            eprintln!(
                "lab/postgres/down.sh {} failed: {status:?}",
                self.dir.display()
            );
        }
    }
}

struct Run {
    code: i32,
    summary: Value,
    stderr: String,
}

impl Run {
    /// Each step's id and status, in the summary's order.
    fn statuses(&self) -> Vec<(String, String)> {
        self.summary["steps"]
            .as_array()
            .expect("steps")
            .iter()
            .map(|s| {
                (
                    s["id"].as_str().expect("id").to_string(),
                    s["status"].as_str().expect("status").to_string(),
                )
            })
            .collect()
    }
}

/// `127.30.N` with nothing listening on the lab's ports of .1, .2 and .10 (N from the
/// process id, so two test runs at once take different ones; 127.30.0 is the default lab).
fn unused_net() -> String {
    let start = std::process::id() % 250;
    (0..250)
        .map(|i| format!("127.30.{}", (start + i) % 250 + 1))
        .find(|net| {
            [1, 2, 10].iter().all(|host| {
                [SSH_PORT, PG_PORT, HTTP_PORT].iter().all(|port| {
                    let addr: SocketAddr = format!("{net}.{host}:{port}").parse().expect("addr");
                    TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err()
                })
            })
        })
        .expect("a free 127.30.N.0/24")
}

/// One SQL statement through psql over TCP to `host:5432`, database `drill`.
fn psql(host: &str, sql: &str) -> Result<String, String> {
    let out = Command::new("psql")
        .args(["-h", host, "-p", "5432", "-U", "postgres", "-d", "drill"])
        .args(["-XAtq", "-v", "ON_ERROR_STOP=1", "-c", sql])
        .env("PGCONNECT_TIMEOUT", "5")
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("run psql: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

#[track_caller]
fn sql(host: &str, sql: &str) -> String {
    psql(host, sql).unwrap_or_else(|e| panic!("psql -h {host} -c {sql:?}: {e}"))
}

/// The body of `GET http://lb:8080/primary`.
fn health(lb: &str) -> String {
    let addr: SocketAddr = format!("{lb}:{HTTP_PORT}").parse().expect("address");
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    s.write_all(b"GET /primary HTTP/1.0\r\nHost: lb\r\n\r\n")
        .expect("send");
    let mut response = String::new();
    s.read_to_string(&mut response).expect("read");
    response
        .split_once("\r\n\r\n")
        .map_or(String::new(), |(_, body)| body.trim().to_string())
}

/// The notes of the rows a test wrote, as read through the load balancer.
fn notes(lb: &str, prefix: &str) -> Vec<String> {
    let out = sql(
        lb,
        &format!("select note from ledger where note like '{prefix}%' order by id"),
    );
    out.lines().map(str::to_string).collect()
}

fn write_rows(lb: &str, prefix: &str, n: usize) -> Vec<String> {
    sql(
        lb,
        &format!("insert into ledger (note) select '{prefix}' || g from generate_series(1, {n}) g"),
    );
    (1..=n).map(|i| format!("{prefix}{i}")).collect()
}

#[test]
fn postgres_lab_dry_run_changes_nothing_and_a_live_switchover_keeps_every_row() {
    let lab = Lab::up();
    let lb = lab.lb();

    // The committed inventory that runbooks/postgres.toml names is what up.sh writes for
    // the default lab directory and addresses.
    let committed = std::fs::read_to_string(Path::new(ROOT).join("lab/postgres/inventory.toml"))
        .expect("lab/postgres/inventory.toml")
        .replace("/tmp/switchyard-pg-lab", &lab.dir.display().to_string())
        .replace("127.30.0.", &format!("{}.", lab.net));
    let generated = std::fs::read_to_string(lab.inventory()).expect("generated inventory");
    assert_eq!(
        committed, generated,
        "lab/postgres/inventory.toml has drifted from what up.sh writes"
    );

    // The lab as up.sh leaves it: pg-a the primary, pg-b its replica, nginx on pg-a.
    assert_eq!(sql(&lab.pg_a(), "select pg_is_in_recovery()"), "f");
    assert_eq!(sql(&lab.pg_b(), "select pg_is_in_recovery()"), "t");
    assert_eq!(health(&lb), "pg-a (hall a)");
    let before = write_rows(&lb, "before switchover #", 200);

    // Dry run: prechecks for real, every action and verify only planned; nothing changes.
    let dry = lab.run("b", &[]);
    assert_eq!(dry.code, 0, "dry run failed:\n{}", dry.stderr);
    assert_eq!(dry.summary["dry_run"], true);
    assert_eq!(dry.summary["outcome"], "passed");
    for (id, status) in dry.statuses() {
        let want = if id.contains(".precheck.") {
            "ok"
        } else {
            "planned"
        };
        assert_eq!(status, want, "{id} in the dry run:\n{}", dry.stderr);
    }
    assert_eq!(
        sql(&lab.pg_b(), "select pg_is_in_recovery()"),
        "t",
        "the dry run promoted the replica"
    );
    assert_eq!(sql(&lab.pg_a(), "select pg_is_in_recovery()"), "f");
    assert_eq!(health(&lb), "pg-a (hall a)", "the dry run re-pointed nginx");
    assert_eq!(
        sql(&lb, "select count(*) from switchyard_probe"),
        "0",
        "the dry run ran a verify step's write"
    );

    // The drill: a -> b.
    let live = lab.run("b", &["--live", "--yes"]);
    assert_eq!(live.code, 0, "live switchover failed:\n{}", live.stderr);
    let s = &live.summary;
    assert_eq!(s["dry_run"], false);
    assert_eq!(s["outcome"], "passed", "{}", live.stderr);
    for (id, status) in live.statuses() {
        assert_eq!(status, "ok", "{id} in the live run:\n{}", live.stderr);
    }
    for svc in s["services"].as_array().expect("services") {
        assert_eq!(svc["status"], "recovered", "{svc}");
    }
    assert_eq!(s["rto"]["met"], true);
    eprintln!(
        "postgres lab: a -> b switchover achieved {} s (target {} s)",
        s["rto"]["achieved_s"], s["rto"]["target_s"]
    );
    // pg-b was promoted, pg-a is down, nginx sends clients to pg-b.
    assert_eq!(sql(&lab.pg_b(), "select pg_is_in_recovery()"), "f");
    assert!(
        psql(&lab.pg_a(), "select 1").is_err(),
        "the old primary still accepts connections"
    );
    assert_eq!(health(&lb), "pg-b (hall b)");
    assert_eq!(sql(&lb, "select current_setting('cluster_name')"), "pg-b");
    // Every row written before the switch, through the load balancer, and a new write.
    assert_eq!(notes(&lb, "before switchover #"), before);
    assert_eq!(
        sql(&lb, "select note from ledger where id <= 3 order by id"),
        "opening balance\nfirst transfer\nsecond transfer"
    );
    let after = write_rows(&lb, "after switchover #", 10);
    assert_eq!(notes(&lb, "after switchover #"), after);

    // Failback b -> a, the same runbook: after up.sh has re-seeded the old primary as a
    // replica of the new one, as the runbook says it must be.
    lab.script("up.sh", &[&lab.net]);
    assert_eq!(sql(&lab.pg_a(), "select pg_is_in_recovery()"), "t");
    let back = lab.run("a", &["--live", "--yes"]);
    assert_eq!(back.code, 0, "failback failed:\n{}", back.stderr);
    assert_eq!(back.summary["outcome"], "passed");
    assert_eq!(sql(&lab.pg_a(), "select pg_is_in_recovery()"), "f");
    assert_eq!(health(&lb), "pg-a (hall a)");
    assert_eq!(notes(&lb, "before switchover #"), before);
    assert_eq!(notes(&lb, "after switchover #"), after);
}
