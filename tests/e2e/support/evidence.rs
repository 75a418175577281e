//! A finished run with evidence to look at (a live run that fails, so every kind of
//! entry is in it), and reading and verifying a run folder.

use std::path::{Path, PathBuf};

use super::util::{LOCAL_INVENTORY, Output, Test, run_dir};

/// Three chained services on one host per hall: `db` recovers, `app` fails on its
/// start (so `web` is skipped), with a notice for the auditor.
pub const RUNBOOK: &str = r#"
[runbook]
name = "payroll"
title = "Payroll <system> & co"
owner = "Finance IT"
rto = "10m"
inventory = ["../inventory/site.toml"]
on_failure = "abort"

[services.db]
title = "Database"
rto = "5m"
hosts = ["node-a", "node-b"]
[[services.db.precheck]]
name = "target is ready"
run = "true"
on = "target"
[[services.db.stop]]
name = "stop primary"
run = "echo stopping"
[[services.db.start]]
name = "promote replica"
run = "echo promoted"
[[services.db.verify]]
name = "accepts writes"
run = "echo f"
expect_stdout = "f"

[services.app]
hosts = ["node-a", "node-b"]
depends_on = ["db"]
[[services.app.start]]
name = "start app"
run = "echo 'config error: <bad> & \"quoted\"' >&2; exit 3"

[services.web]
rto = "8m"
hosts = ["node-a", "node-b"]
depends_on = ["app"]
[[services.web.start]]
name = "start web"
run = "true"
"#;

/// A finished live run of [`RUNBOOK`] (it fails on `app`, exit 1) and its folder.
pub fn failed_run() -> (Output, PathBuf) {
    let out = Test::new()
        .file("inventory/site.toml", LOCAL_INVENTORY)
        .file("runbooks/payroll.toml", RUNBOOK)
        .args(&[
            "--no-progress",
            "run",
            "runbooks/payroll.toml",
            "--to",
            "b",
            "--live",
            "--yes",
        ])
        .run()
        .code(1);
    let dir = run_dir(&out);
    (out, dir)
}

pub fn verify(dir: &Path) -> Output {
    Test::reuse(dir).args(&["verify-evidence", "."]).run()
}

pub fn read(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// The reports and summary `switchyard report` rebuilds from `dir`'s journal alone, in a
/// folder holding nothing else: each format's stdout, next to the file the run wrote.
pub const REPORTS: [(&str, &str); 4] = [
    ("html", "report.html"),
    ("md", "report.md"),
    ("junit", "junit.xml"),
    ("json", "summary.json"),
];

/// `switchyard report` rebuilds every report of `dir` byte for byte from a copy of its
/// journal alone.
#[track_caller]
pub fn assert_rebuilds(dir: &Path) {
    let copy = tempfile::tempdir().expect("tempdir");
    std::fs::copy(dir.join("journal.jsonl"), copy.path().join("journal.jsonl")).expect("copy");
    for (format, file) in REPORTS {
        let again = Test::reuse(copy.path())
            .args(&["report", ".", "--format", format])
            .run()
            .code(0);
        assert!(
            again.stdout == read(dir, file),
            "{file} differs when rebuilt"
        );
    }
}

/// `verify-evidence` finds the run folder `dir` intact.
#[track_caller]
pub fn assert_intact(dir: &Path) {
    verify(dir).code(0);
}

/// `contrib/verify-evidence.py` (Python's standard library only) on `dir`: its exit code
/// and what it printed.
pub fn independent_check(dir: &Path) -> (i32, String) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("contrib/verify-evidence.py");
    let out = std::process::Command::new("python3")
        .arg(script)
        .arg(dir)
        .output()
        .expect("python3 runs");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    (out.status.code().expect("exit code"), text)
}
