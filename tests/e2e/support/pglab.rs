//! The PostgreSQL + nginx lab of `lab/postgres/`: `up.sh` builds it in a directory of
//! its own (a real PostgreSQL primary pg-a in hall a streaming to a replica pg-b in hall
//! b, an nginx load balancer in front, and one OpenSSH sshd per host on a loopback
//! address 127.30.N.x of its own, installing Debian's postgresql, nginx and
//! openssh-server when missing), and `down.sh` tears it down when the [`Lab`] is
//! dropped, also when an assertion fails; and reading and writing its database. Needs
//! root. No tests here.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::Value;

use super::util::Test;

pub const ROOT: &str = env!("CARGO_MANIFEST_DIR");
const PG_PORT: u16 = 5432;
const HTTP_PORT: u16 = 8080;
const SSH_PORT: u16 = 2222;

/// A lab made by `up.sh` in a directory of its own, torn down by `down.sh` when dropped.
pub struct Lab {
    pub dir: PathBuf,
    pub net: String,
    /// Holds up.sh's log and the runs' evidence; outlives the lab directory.
    work: tempfile::TempDir,
    /// Runs so far: each gets an evidence directory of its own.
    runs: std::sync::atomic::AtomicUsize,
    _dir: tempfile::TempDir,
}

impl Lab {
    pub fn up() -> Lab {
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
            runs: std::sync::atomic::AtomicUsize::new(0),
            _dir: dir,
        };
        // The guard exists before up.sh runs, so a half-built lab is torn down too.
        lab.script("up.sh", &[&lab.net]);
        lab
    }

    pub fn address(&self, last: u8) -> String {
        format!("{}.{last}", self.net)
    }

    pub fn pg_a(&self) -> String {
        self.address(1)
    }

    pub fn pg_b(&self) -> String {
        self.address(2)
    }

    pub fn lb(&self) -> String {
        self.address(10)
    }

    pub fn inventory(&self) -> PathBuf {
        self.dir.join("inventory.toml")
    }

    /// Runs `lab/postgres/SCRIPT LAB_DIR ARGS...`, its output in a log file (the daemons
    /// it starts must not hold a pipe of ours open), and fails with that log.
    pub fn script(&self, script: &str, args: &[&str]) {
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
    pub fn run(&self, to: &str, extra: &[&str]) -> Run {
        self.run_file("runbooks/postgres.toml", to, extra)
    }

    /// `switchyard run RUNBOOK --to HALL` (a path from the repository root, or absolute)
    /// against this lab, with an evidence directory of its own for each call.
    pub fn run_file(&self, runbook: &str, to: &str, extra: &[&str]) -> Run {
        let evidence = self.work.path().join(format!(
            "evidence-{}",
            self.runs.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        ));
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
            .args(&["--no-progress", "run", runbook, "--to", to])
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
            summary: super::util::summary(&runs[0]),
            dir: runs[0].clone(),
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

pub struct Run {
    pub code: i32,
    pub summary: Value,
    /// The run folder.
    pub dir: PathBuf,
    pub stderr: String,
}

impl Run {
    /// Each step's id and status, in the summary's order.
    pub fn statuses(&self) -> Vec<(String, String)> {
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
/// process id, so two test runs at once take different ones; 127.30.0 is the default lab),
/// and not handed to another lab of this process (whose servers may not listen yet).
fn unused_net() -> String {
    static TAKEN: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());
    let mut taken = TAKEN.lock().unwrap_or_else(|e| e.into_inner());
    let start = std::process::id() % 250;
    let net = (0..250)
        .map(|i| format!("127.30.{}", (start + i) % 250 + 1))
        .filter(|net| !taken.contains(net))
        .find(|net| {
            [1, 2, 10].iter().all(|host| {
                [SSH_PORT, PG_PORT, HTTP_PORT].iter().all(|port| {
                    let addr: SocketAddr = format!("{net}.{host}:{port}").parse().expect("addr");
                    TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err()
                })
            })
        })
        .expect("a free 127.30.N.0/24");
    taken.push(net.clone());
    net
}

/// One SQL statement through psql over TCP to `host:5432`, database `drill`.
pub fn psql(host: &str, sql: &str) -> Result<String, String> {
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
pub fn sql(host: &str, sql: &str) -> String {
    psql(host, sql).unwrap_or_else(|e| panic!("psql -h {host} -c {sql:?}: {e}"))
}

/// The body of `GET http://lb:8080/primary`.
pub fn health(lb: &str) -> String {
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
pub fn notes(lb: &str, prefix: &str) -> Vec<String> {
    let out = sql(
        lb,
        &format!("select note from ledger where note like '{prefix}%' order by id"),
    );
    out.lines().map(str::to_string).collect()
}

pub fn write_rows(lb: &str, prefix: &str, n: usize) -> Vec<String> {
    sql(
        lb,
        &format!("insert into ledger (note) select '{prefix}' || g from generate_series(1, {n}) g"),
    );
    (1..=n).map(|i| format!("{prefix}{i}")).collect()
}
