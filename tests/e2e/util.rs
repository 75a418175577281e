//! A builder for end-to-end tests: write files into a temporary project directory, run
//! the real `switchyard` binary there, and inspect what it did.

use std::process::Command;

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

/// The `[runbook]` header most tests share.
pub const HEADER: &str = r#"
[runbook]
name = "test"
rto = "1h"
inventory = ["../inventory/site.toml"]
"#;

pub struct Test {
    dir: tempfile::TempDir,
    args: Vec<String>,
}

pub struct Output {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Test {
    /// A project with the standard inventory and no runbook.
    pub fn new() -> Test {
        let t = Test {
            dir: tempfile::tempdir().expect("temporary directory"),
            args: Vec::new(),
        };
        t.file("inventory/site.toml", INVENTORY)
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

    pub fn run(self) -> Output {
        let out = Command::new(env!("CARGO_BIN_EXE_switchyard"))
            .args(&self.args)
            .current_dir(self.dir.path())
            .env_remove("RUST_LOG")
            .env("NO_COLOR", "1")
            .output()
            .expect("run switchyard");
        let output = Output {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        };
        assert!(
            !output.stderr.contains("panicked"),
            "switchyard panicked:\n{}",
            output.stderr
        );
        // Keep the directory alive until the output has been read.
        drop(self.dir);
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
