//! A builder for end-to-end tests: write files into a temporary project directory, run
//! the real `switchyard` binary there, and inspect what it did.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use serde_json::Value;

/// The switchyard binary under test. Every test runs it through [`Test`]; only the
/// pseudo-terminal runner, which hands `script` a command line, names it itself.
pub const SWITCHYARD: &str = env!("CARGO_BIN_EXE_switchyard");

/// An inventory with two halls and a pair of hosts for each role, one per hall.
pub const INVENTORY: &str = r#"
[halls.a]
description = "north"
[halls.b]
description = "south"

[ssh]
user = "drill"

[hosts.db-a1]
address = "10.10.0.11"
hall = "a"
tags = ["db"]
[hosts.db-b1]
address = "10.20.0.11"
hall = "b"
tags = ["db"]
[hosts.app-a1]
address = "10.10.0.21"
hall = "a"
tags = ["app"]
[hosts.app-b1]
address = "10.20.0.21"
hall = "b"
tags = ["app"]
[hosts.web-a1]
address = "10.10.0.31"
hall = "a"
tags = ["web"]
[hosts.web-b1]
address = "10.20.0.31"
hall = "b"
tags = ["web"]

[groups]
front = ["tag:web", "tag:app"]
"#;

/// Two halls with one local host each (tag `node`): commands run on this machine with
/// `sh -c`.
pub const LOCAL_INVENTORY: &str = r#"
[halls.a]
[halls.b]
[hosts.node-a]
transport = "local"
hall = "a"
tags = ["node"]
[hosts.node-b]
transport = "local"
hall = "b"
tags = ["node"]
"#;

/// The `[runbook]` header most tests share.
pub const HEADER: &str = r#"
[runbook]
name = "test"
rto = "1h"
inventory = ["../inventory/site.toml"]
"#;

pub struct Test {
    dir: Dir,
    args: Vec<String>,
    env: Vec<(String, String)>,
}

/// A temporary project directory, or one a test keeps using across runs.
enum Dir {
    Temp(tempfile::TempDir),
    Kept(std::path::PathBuf),
}

impl Dir {
    fn path(&self) -> &std::path::Path {
        match self {
            Dir::Temp(t) => t.path(),
            Dir::Kept(p) => p,
        }
    }
}

pub struct Output {
    /// The project directory; it lives as long as this output.
    pub root: std::path::PathBuf,
    _dir: Option<tempfile::TempDir>,
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Test {
    /// A project with the standard inventory and no runbook.
    pub fn new() -> Test {
        let t = Test {
            dir: Dir::Temp(tempfile::tempdir().expect("temporary directory")),
            args: Vec::new(),
            env: Vec::new(),
        };
        t.file("inventory/site.toml", INVENTORY)
    }

    /// Runs again in the directory of an earlier run that is still alive.
    pub fn reuse(dir: &std::path::Path) -> Test {
        Test {
            dir: Dir::Kept(dir.to_path_buf()),
            args: Vec::new(),
            env: Vec::new(),
        }
    }

    pub fn path(&self) -> &std::path::Path {
        self.dir.path()
    }

    pub fn env(mut self, key: &str, value: &str) -> Test {
        self.env.push((key.into(), value.into()));
        self
    }

    pub fn file(self, path: &str, text: impl AsRef<[u8]>) -> Test {
        let p = self.dir.path().join(path);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(p, text).expect("write");
        self
    }

    /// `runbooks/test.toml`: the shared header followed by `body`.
    pub fn runbook(self, body: &str) -> Test {
        self.file("runbooks/test.toml", format!("{HEADER}\n{body}"))
    }

    pub fn args(mut self, args: &[&str]) -> Test {
        self.args.extend(args.iter().map(|s| s.to_string()));
        self
    }

    /// switchyard with this test's arguments, in its directory, with its environment.
    fn command(&self) -> Command {
        let mut c = Command::new(SWITCHYARD);
        c.args(&self.args)
            // Each test project has its own run locks, so tests with the same runbook
            // name do not hold each other's (a test may set its own).
            .env("SWITCHYARD_LOCK_DIR", self.dir.path().join(".locks"))
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .current_dir(self.dir.path())
            .env_remove("RUST_LOG")
            .env("NO_COLOR", "1")
            .stdin(std::process::Stdio::null());
        c
    }

    /// As [`Test::spawn`] with these arguments, keeping the test (and its directory).
    pub fn spawn_with(&self, args: &[&str]) -> Child {
        self.start(args, Stdio::null(), Stdio::piped(), Stdio::piped())
    }

    /// Starts switchyard without waiting for it (stdout and stderr piped), for tests
    /// that act while it runs. The directory must outlive the process.
    pub fn spawn(&self) -> Child {
        self.spawn_with(&[])
    }

    /// Starts switchyard with these further arguments and standard streams, without
    /// waiting for it. The directory must outlive the process.
    pub fn start(&self, args: &[&str], stdin: Stdio, stdout: Stdio, stderr: Stdio) -> Child {
        self.command()
            .args(args)
            .stdin(stdin)
            .stdout(stdout)
            .stderr(stderr)
            .spawn()
            .expect("start switchyard")
    }

    /// Runs switchyard; the directory lives as long as the returned output.
    pub fn run(self) -> Output {
        let out = self.command().output().expect("run switchyard");
        let root = self.dir.path().to_path_buf();
        let output = Output {
            root,
            _dir: match self.dir {
                Dir::Temp(t) => Some(t),
                Dir::Kept(_) => None,
            },
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        };
        assert!(
            !output.stderr.contains("panicked"),
            "switchyard panicked:\n{}",
            output.stderr
        );
        output
    }
}

impl Output {
    #[track_caller]
    pub fn code(self, expected: i32) -> Output {
        assert_eq!(
            self.code, expected,
            "exit code\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout, self.stderr
        );
        self
    }

    #[track_caller]
    pub fn stderr_has(self, needle: &str) -> Output {
        assert!(
            self.stderr.contains(needle),
            "stderr lacks {needle:?}:\n{}",
            self.stderr
        );
        self
    }

    #[track_caller]
    pub fn stdout_has(self, needle: &str) -> Output {
        assert!(
            self.stdout.contains(needle),
            "stdout lacks {needle:?}:\n{}",
            self.stdout
        );
        self
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).expect("stdout is JSON")
    }
}

/// `plan --format json` of `body` with the shared header.
pub fn plan_json(body: &str, extra: &[&str]) -> serde_json::Value {
    let mut args = vec!["plan", "runbooks/test.toml", "--format", "json"];
    args.extend(extra);
    if !extra.contains(&"--to") {
        args.extend(["--to", "b"]);
    }
    Test::new().runbook(body).args(&args).run().code(0).json()
}

/// A live run of `runbooks/test.toml` to hall b, without asking and with plain lines.
pub const LIVE: &[&str] = &[
    "--no-progress",
    "run",
    "runbooks/test.toml",
    "--to",
    "b",
    "--live",
    "--yes",
];

/// Polls `ready` every 10 ms until it holds; fails the test, naming `what`, after 30 s.
#[track_caller]
pub fn wait_until(what: &str, mut ready: impl FnMut() -> bool) {
    let start = std::time::Instant::now();
    while !ready() {
        assert!(
            start.elapsed() < std::time::Duration::from_secs(30),
            "waited 30 s for {what}"
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

/// The run folder named on stdout.
pub fn run_dir(out: &Output) -> PathBuf {
    let line = out
        .stdout
        .lines()
        .find(|l| l.contains("evidence in "))
        .expect("evidence line");
    out.root
        .join(line.rsplit("evidence in ").next().expect("path").trim())
}

pub fn summary(dir: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("summary.json")).expect("summary.json"))
        .expect("JSON")
}

pub fn step<'a>(s: &'a Value, id: &str) -> &'a Value {
    s["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .find(|x| x["id"] == id)
        .unwrap_or_else(|| panic!("no step {id}"))
}

/// The entry of step `id` on `host`.
#[track_caller]
pub fn step_on<'a>(s: &'a Value, id: &str, host: &str) -> &'a Value {
    s["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .find(|x| x["id"] == id && x["host"] == host)
        .unwrap_or_else(|| panic!("no step {id} on {host}"))
}
