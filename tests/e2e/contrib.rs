//! `contrib/`: the systemd units of the nightly job are valid for systemd itself, and
//! the commands they run work on a real project.

use std::path::{Path, PathBuf};
use std::process::Command;

fn contrib(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("contrib")
        .join(rel)
}

fn text(rel: &str) -> String {
    std::fs::read_to_string(contrib(rel)).expect("contrib file")
}

/// `systemd-analyze verify` on the service and timer, with the binary path pointing at
/// this build (it checks that the command exists). It says nothing when they are valid;
/// an unknown key or section, a bad time, a missing binary is printed.
#[test]
fn the_systemd_units_verify() {
    let dir = tempfile::tempdir().expect("tempdir");
    let service = text("systemd/switchyard-drill.service").replace(
        "/usr/local/bin/switchyard",
        env!("CARGO_BIN_EXE_switchyard"),
    );
    std::fs::write(dir.path().join("switchyard-drill.service"), service).expect("write");
    std::fs::write(
        dir.path().join("switchyard-drill.timer"),
        text("systemd/switchyard-drill.timer"),
    )
    .expect("write");
    let out = Command::new("systemd-analyze")
        .arg("verify")
        .arg(dir.path().join("switchyard-drill.service"))
        .arg(dir.path().join("switchyard-drill.timer"))
        .output()
        .expect("systemd-analyze (scripts/test installs systemd)");
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{said}");
    assert!(said.trim().is_empty(), "systemd-analyze objects:\n{said}");
}

/// The tmpfiles.d lines have the shape `TYPE PATH MODE USER GROUP AGE` and make the lock
/// folder the way docs/evidence.md asks (root-owned, sticky, shared).
#[test]
fn the_tmpfiles_lines_make_the_lock_folder_shared_and_sticky() {
    let conf = text("systemd/switchyard.conf");
    let lines: Vec<Vec<&str>> = conf
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert!(lines.iter().all(|l| l.len() == 6), "{conf}");
    assert!(
        lines.contains(&vec![
            "d",
            "/run/lock/switchyard",
            "1777",
            "root",
            "root",
            "-"
        ]),
        "{conf}"
    );
}
