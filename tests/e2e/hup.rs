//! A dropped terminal (SIGHUP) mid-run: the run goes on to its end as if nothing had
//! happened, the journal says the terminal was lost, and the command that was running —
//! on an SSH host or locally — is not touched.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::support::evidence::{assert_intact, assert_rebuilds, independent_check, read};
use crate::support::runs::{run_folder, wait_bounded};
use crate::support::sshd::{INVENTORY_HEAD, Sshd};
use crate::support::util::{LIVE, LOCAL_INVENTORY, SWITCHYARD, Test, step, summary, wait_until};

/// A service whose start step takes a while and then touches `marker`; its verify
/// checks the marker, so it passes only if the start's command ran to its end.
fn runbook(marker: &Path, hosts: &str) -> String {
    let marker = marker.display();
    format!(
        r#"
[services.db]
hosts = {hosts}
[[services.db.stop]]
name = "stop"
on = "source"
run = "true"
[[services.db.start]]
name = "start"
run = "sleep 2; touch {marker}"
[[services.db.verify]]
name = "started"
run = "test -f {marker}"
"#
    )
}

/// Starts the live run with `stdout` and `stderr`, waits for `db.start.1` to start,
/// hangs it up and, if `pipes`, first closes the pipes it writes to. Returns the run
/// folder and the exit code.
fn hang_up_during_start(t: &Test, pipes: bool) -> (PathBuf, i32) {
    let (out, err) = if pipes {
        (Stdio::piped(), Stdio::piped())
    } else {
        let file = |n: &str| std::fs::File::create(t.path().join(n)).expect("output file");
        (file(".stdout").into(), file(".stderr").into())
    };
    let mut child = t.start(LIVE, Stdio::null(), out, err);
    let mut journal = PathBuf::new();
    wait_until("db.start.1 to start", || {
        let Some(dir) = run_folder(&t.path().join("evidence")) else {
            return false;
        };
        journal = dir.join("journal.jsonl");
        std::fs::read_to_string(&journal)
            .is_ok_and(|s| s.contains(r#""event":"step_started","step":"db.start.1""#))
    });
    // The terminal is gone: whatever switchyard writes from now on has nowhere to go.
    drop(child.stdout.take());
    drop(child.stderr.take());
    kill(Pid::from_raw(child.id() as i32), Signal::SIGHUP).expect("SIGHUP");
    let status = wait_bounded(&mut child, std::time::Duration::from_secs(60));
    let dir = journal.parent().expect("run folder").to_path_buf();
    (dir, status.code().unwrap_or(-1))
}

/// The run passed (exit 0, when `code` is known), its slow command ran to its end, and its journal has one
/// `terminal_lost`, after the start step began and before it ended.
fn assert_went_on(dir: &Path, code: Option<i32>, marker: &Path) {
    let journal = read(dir, "journal.jsonl");
    if let Some(code) = code {
        assert_eq!(code, 0, "{journal}");
    }
    assert!(marker.exists(), "the running command was killed");
    let s = summary(dir);
    assert_eq!(s["outcome"], "passed");
    assert_eq!(step(&s, "db.start.1")["status"], "ok");
    assert_eq!(step(&s, "db.verify.1")["status"], "ok");
    let lost = r#""event":"terminal_lost","signal":"SIGHUP""#;
    assert_eq!(journal.matches(lost).count(), 1, "{journal}");
    let at = |needle: &str| journal.find(needle).expect(needle);
    assert!(at(r#""step":"db.start.1""#) < at(lost));
    assert!(at(lost) < at(r#""event":"step_finished","step":"db.start.1""#));
    assert!(
        read(dir, "report.md").contains("terminal was lost (SIGHUP)"),
        "the report does not say the terminal was lost"
    );
    assert_intact(dir);
    assert_eq!(independent_check(dir).0, 0);
    // The reports are rebuilt from the journal byte for byte, hangup and all.
    assert_rebuilds(dir);
}

#[test]
fn a_hangup_during_a_remote_command_over_ssh_leaves_it_running_and_the_run_passes() {
    let (a, b) = (Sshd::start(), Sshd::start());
    let inventory = format!(
        "{INVENTORY_HEAD}{}{}",
        a.inventory_host("db-a", "a", "db"),
        b.inventory_host("db-b", "b", "db")
    );
    let t = Test::new().file("inventory/site.toml", inventory);
    let marker = t.path().join("marker");
    let t = t.runbook(&runbook(&marker, r#"["tag:db"]"#));
    let (dir, code) = hang_up_during_start(&t, false);
    assert_went_on(&dir, Some(code), &marker);
    // Said once on stderr before the hangup, and nothing of the run's end after it.
    let stderr = std::fs::read_to_string(t.path().join(".stderr")).expect("stderr");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(
        !stderr.contains("db.verify.1"),
        "written after the hangup: {stderr}"
    );
}

#[test]
fn a_hangup_with_closed_output_pipes_leaves_a_local_command_running_and_the_run_passes() {
    let t = Test::new().file("inventory/site.toml", LOCAL_INVENTORY);
    let marker = t.path().join("marker");
    let t = t.runbook(&runbook(&marker, r#"["node-a", "node-b"]"#));
    let (dir, code) = hang_up_during_start(&t, true);
    assert_went_on(&dir, Some(code), &marker);
}

#[test]
fn a_real_terminal_that_hangs_up_under_the_progress_bars_does_not_stop_the_run() {
    let t = Test::new().file("inventory/site.toml", LOCAL_INVENTORY);
    let marker = t.path().join("marker");
    let t = t.runbook(&runbook(&marker, r#"["node-a", "node-b"]"#));
    // On a pseudo-terminal (`script`), with the progress bars; what it shows goes to a
    // file, so that nothing waits for a reader.
    let cmd = format!("{SWITCHYARD} run runbooks/test.toml --to b --live --yes");
    let shown = std::fs::File::create(t.path().join(".shown")).expect("file");
    let mut script = std::process::Command::new("script")
        .args(["-q", "-c", &cmd, "/dev/null"])
        .current_dir(t.path())
        .env("SWITCHYARD_LOCK_DIR", t.path().join(".locks"))
        .stdin(Stdio::piped())
        .stdout(shown)
        .stderr(Stdio::null())
        .spawn()
        .expect("script (util-linux) runs");
    let mut journal = PathBuf::new();
    wait_until("db.start.1 to start", || {
        let Some(dir) = run_folder(&t.path().join("evidence")) else {
            return false;
        };
        journal = dir.join("journal.jsonl");
        std::fs::read_to_string(&journal)
            .is_ok_and(|s| s.contains(r#""event":"step_started","step":"db.start.1""#))
    });
    // The terminal goes away: its master side closes, and the kernel hangs up the
    // session (SIGHUP to switchyard), as when an SSH session drops.
    script.kill().expect("kill script");
    script.wait().expect("wait for script");
    let dir = journal.parent().expect("run folder").to_path_buf();
    // switchyard is no child of the test's: the run has ended once it gave its lock
    // back (emptied), which it does after the summary and every report are written.
    let lock = t.path().join(".locks/test.lock");
    wait_until("the run to end", || {
        dir.join("summary.json").exists() && std::fs::metadata(&lock).is_ok_and(|m| m.len() == 0)
    });
    // Its exit code went with the terminal.
    assert_went_on(&dir, None, &marker);
}
