//! `switchyard watch RUN_DIR`: a run's progress followed from its journal by another
//! process, live until the run ends and with its exit code; a finished run's record; a
//! killed run, an edited journal and a folder that is no run.

use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::support::runs::{kill_when, run_folder, wait_bounded};
use crate::support::util::{LIVE, LOCAL_INVENTORY, SWITCHYARD, Test, run_dir, wait_until};

/// A runbook of three steps on the local hosts: `db.stop.1`, then `db.start.1`, which
/// waits until the file `go` exists, then `db.verify.1`, which runs `last`.
fn gated(last: &str) -> Test {
    let t = Test::new().file("inventory/site.toml", LOCAL_INVENTORY);
    let go = t.path().join("go");
    let go = go.display();
    t.runbook(&format!(
        r#"
[services.db]
hosts = ["node-a", "node-b"]
[[services.db.stop]]
run = "true"
[[services.db.start]]
run = "while [ ! -e {go} ]; do sleep 0.05; done"
timeout = "60s"
[[services.db.verify]]
run = "{last}"
"#
    ))
}

/// Starts `switchyard ARGS` in `t`'s project (stdout and stderr in `.run.stdout` and
/// `.run.stderr`) and waits until its journal says `db.start.1` started; the run and its
/// folder.
fn started(t: &Test, args: &[&str]) -> (Child, PathBuf) {
    let file = |name: &str| std::fs::File::create(t.path().join(name)).expect("output file");
    let run = t.start(
        args,
        Stdio::null(),
        file(".run.stdout").into(),
        file(".run.stderr").into(),
    );
    let mut dir = PathBuf::new();
    wait_until("the run to start db.start.1", || {
        let Some(d) = run_folder(&t.path().join("evidence")) else {
            return false;
        };
        dir = d;
        std::fs::read_to_string(dir.join("journal.jsonl"))
            .is_ok_and(|j| j.contains(r#""event":"step_started","step":"db.start.1""#))
    });
    (run, dir)
}

/// `switchyard watch DIR --no-progress` in `t`'s project, its stdout and stderr in
/// files (`.watch.stdout`, `.watch.stderr`).
fn watch(t: &Test, dir: &Path) -> Child {
    let file = |name: &str| std::fs::File::create(t.path().join(name)).expect("output file");
    t.start(
        &["--no-progress", "watch", &dir.display().to_string()],
        Stdio::null(),
        file(".watch.stdout").into(),
        file(".watch.stderr").into(),
    )
}

fn read(t: &Test, name: &str) -> String {
    std::fs::read_to_string(t.path().join(name)).unwrap_or_default()
}

/// Each line with its `[   12.3s]` time cut off.
fn untimed(text: &str) -> Vec<String> {
    text.lines()
        .map(|l| l.split_once("s] ").map_or(l, |(_, rest)| rest).to_string())
        .collect()
}

/// Starts a live run of `gated(last)`, and `watch` once `db.start.1` has started;
/// lets the step end and returns the run's and the watch's exit codes and the test.
fn follow(last: &str) -> (i32, i32, Test) {
    follow_then(last, &[], |t, _| {
        std::fs::write(t.path().join("go"), "").expect("go")
    })
}

/// As [`follow`], with further arguments for the run, doing `then` (given the run's
/// pid) instead of letting the step end.
fn follow_then(last: &str, args: &[&str], then: impl FnOnce(&Test, u32)) -> (i32, i32, Test) {
    let t = gated(last);
    let (mut run, dir) = started(&t, &[LIVE, args].concat());
    let mut watching = watch(&t, &dir);
    wait_until("watch to show what the journal holds so far", || {
        read(&t, ".watch.stderr").contains("start   db.start.1")
    });
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        watching.try_wait().expect("wait").is_none(),
        "watch ended while the run goes on:\n{}",
        read(&t, ".watch.stderr")
    );
    let before = read(&t, ".watch.stderr");
    assert!(!before.contains("db.verify.1"), "{before}");
    then(&t, run.id());
    let ran = wait_bounded(&mut run, Duration::from_secs(60));
    let watched = wait_bounded(&mut watching, Duration::from_secs(30));
    (ran.code().unwrap_or(-1), watched.code().unwrap_or(-1), t)
}

#[test]
fn watch_follows_a_passing_run_live_and_exits_0_when_it_ends() {
    let (ran, watched, t) = follow("true");
    assert_eq!(ran, 0, "{}", read(&t, ".run.stderr"));
    let stderr = read(&t, ".watch.stderr");
    assert_eq!(watched, 0, "{stderr}");
    // Steps that ended after watch started are shown, as `run` shows them.
    for line in [
        "ok      db.start.1",
        "start   db.verify.1",
        "ok      db.verify.1",
    ] {
        assert!(stderr.contains(line), "watch lacks {line:?}:\n{stderr}");
    }
    let run = untimed(&read(&t, ".run.stderr"));
    assert_eq!(untimed(&stderr), run, "watch shows what run shows");
    let stdout = read(&t, ".watch.stdout");
    assert!(stdout.starts_with("passed: evidence in "), "{stdout}");
}

#[test]
fn watch_follows_a_failing_run_and_exits_1_with_it() {
    let (ran, watched, t) = follow("echo disk full >&2; exit 1");
    assert_eq!(ran, 1);
    let stderr = read(&t, ".watch.stderr");
    assert_eq!(watched, 1, "{stderr}");
    assert!(stderr.contains("FAILED  db.verify.1"), "{stderr}");
    assert!(stderr.contains("disk full"), "{stderr}");
    assert!(read(&t, ".watch.stdout").starts_with("failed: evidence in "));
}

#[test]
fn watch_of_a_run_interrupted_by_ctrl_c_exits_130_with_it() {
    let (ran, watched, t) = follow_then("true", &["--grace", "0s"], |_, pid| {
        kill(Pid::from_raw(pid as i32), Signal::SIGINT).expect("signal the run")
    });
    assert_eq!(ran, 130, "{}", read(&t, ".run.stderr"));
    let stderr = read(&t, ".watch.stderr");
    assert_eq!(watched, 130, "{stderr}");
    assert!(read(&t, ".watch.stdout").starts_with("interrupted: evidence in "));
}

#[test]
fn watch_of_a_finished_run_prints_its_record_and_exits_at_once_with_its_code() {
    for (last, code, outcome) in [("true", 0, "passed"), ("exit 1", 1, "failed")] {
        let t = gated(last).file("go", "");
        let run = Test::reuse(t.path()).args(LIVE).run().code(code);
        let dir = run_dir(&run);
        let begun = Instant::now();
        let out = Test::reuse(t.path())
            .args(&["--no-progress", "watch", &dir.display().to_string()])
            .run()
            .code(code);
        assert!(begun.elapsed() < Duration::from_secs(5), "watch waited");
        assert_eq!(untimed(&out.stderr), untimed(&run.stderr));
        assert_eq!(
            out.stdout,
            format!("{outcome}: evidence in {}\n", dir.display())
        );
        let journal = std::fs::read(dir.join("journal.jsonl")).expect("journal");
        // Watching wrote nothing: the same journal, no new file.
        let names = |d: &Path| {
            let mut n: Vec<_> = std::fs::read_dir(d)
                .expect("dir")
                .map(|e| e.expect("entry").file_name())
                .collect();
            n.sort();
            n
        };
        let files = names(&dir);
        Test::reuse(t.path())
            .args(&["--no-progress", "watch", &dir.display().to_string()])
            .run()
            .code(code);
        assert_eq!(
            std::fs::read(dir.join("journal.jsonl")).expect("journal"),
            journal
        );
        assert_eq!(names(&dir), files);
    }
}

#[test]
fn watch_of_a_killed_run_says_it_is_not_running_and_exits_1() {
    let t = gated("true");
    let dir = kill_when(&t, LIVE, "db.start.1", |_| true);
    let out = Test::reuse(t.path())
        .args(&["--no-progress", "watch", &dir.display().to_string()])
        .run()
        .code(1)
        .stderr_has("the run is not running: killed or crashed")
        .stderr_has("`switchyard resume ");
    assert!(out.stderr.contains("start   db.start.1"), "{}", out.stderr);
}

#[test]
fn watch_of_an_edited_journal_names_the_line_that_does_not_verify() {
    let t = gated("true").file("go", "");
    let dir = run_dir(&Test::reuse(t.path()).args(LIVE).run().code(0));
    let path = dir.join("journal.jsonl");
    let text = std::fs::read_to_string(&path).expect("journal");
    let n = text
        .lines()
        .position(|l| l.contains(r#""event":"step_finished""#))
        .expect("a finished step")
        + 1;
    let edited: Vec<String> = text
        .lines()
        .enumerate()
        .map(|(i, l)| {
            if i + 1 == n {
                l.replacen(r#""status":"ok""#, r#""status":"skipped""#, 1)
            } else {
                l.to_string()
            }
        })
        .collect();
    std::fs::write(&path, edited.join("\n") + "\n").expect("edit");
    Test::reuse(t.path())
        .args(&["--no-progress", "watch", &dir.display().to_string()])
        .run()
        .code(1)
        .stderr_has(&format!("journal.jsonl line {n} does not verify"))
        .stderr_has("edited");
}

#[test]
fn watch_of_a_folder_that_is_no_run_exits_2() {
    let t = Test::new().file("empty/readme", "");
    Test::reuse(t.path())
        .args(&["watch", "empty"])
        .run()
        .code(2)
        .stderr_has("not a run folder");
    Test::reuse(t.path())
        .args(&["watch", "missing"])
        .run()
        .code(2)
        .stderr_has("not a run folder");
}

#[test]
fn watch_follows_a_killed_run_through_its_resume_to_the_resumed_end() {
    let t = gated("true");
    let dir = kill_when(&t, LIVE, "db.start.1", |_| true);
    let file = |name: &str| std::fs::File::create(t.path().join(name)).expect("output file");
    // The resumed run holds the lock in the project's lock folder, where watch looks.
    let locks = t.path().join(".locks");
    let mut resumed = Test::reuse(&dir)
        .env("SWITCHYARD_LOCK_DIR", &locks.display().to_string())
        .start(
            &["--no-progress", "resume", ".", "--yes"],
            Stdio::null(),
            file(".resume.stdout").into(),
            file(".resume.stderr").into(),
        );
    wait_until("the resumed run to start db.start.1 again", || {
        std::fs::read_to_string(dir.join("journal.jsonl")).is_ok_and(|j| {
            j.contains(r#""event":"resumed""#)
                && j.matches(r#""event":"step_started","step":"db.start.1""#)
                    .count()
                    == 2
        })
    });
    let mut watching = watch(&t, &dir);
    wait_until("watch to show the resume", || {
        read(&t, ".watch.stderr").contains("resumed")
    });
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        watching.try_wait().expect("wait").is_none(),
        "watch ended while the resumed run goes on:\n{}",
        read(&t, ".watch.stderr")
    );
    std::fs::write(t.path().join("go"), "").expect("go");
    let ran = wait_bounded(&mut resumed, Duration::from_secs(60));
    assert_eq!(ran.code(), Some(0), "{}", read(&t, ".resume.stderr"));
    let watched = wait_bounded(&mut watching, Duration::from_secs(30));
    let stderr = read(&t, ".watch.stderr");
    assert_eq!(watched.code(), Some(0), "{stderr}");
    assert!(stderr.contains("ok      db.verify.1"), "{stderr}");
    assert!(read(&t, ".watch.stdout").starts_with("passed: evidence in "));
}

#[test]
fn watch_of_a_finished_run_ends_at_once_while_another_run_of_its_runbook_holds_the_lock() {
    let t = gated("true").file("go", "");
    let first = run_dir(&Test::reuse(t.path()).args(LIVE).run().code(0));
    std::fs::remove_file(t.path().join("go")).expect("close the gate");
    let file = |name: &str| std::fs::File::create(t.path().join(name)).expect("output file");
    let mut second = t.start(
        LIVE,
        Stdio::null(),
        file(".run.stdout").into(),
        file(".run.stderr").into(),
    );
    wait_until("the second run to start db.start.1", || {
        std::fs::read_dir(t.path().join("evidence"))
            .expect("evidence")
            .map(|e| e.expect("entry").path())
            .filter(|d| *d != first)
            .any(|d| {
                std::fs::read_to_string(d.join("journal.jsonl"))
                    .is_ok_and(|j| j.contains(r#""event":"step_started","step":"db.start.1""#))
            })
    });
    let begun = Instant::now();
    let mut watching = watch(&t, &first);
    let watched = wait_bounded(&mut watching, Duration::from_secs(30));
    let waited = begun.elapsed();
    std::fs::write(t.path().join("go"), "").expect("go");
    assert_eq!(
        wait_bounded(&mut second, Duration::from_secs(60)).code(),
        Some(0)
    );
    assert_eq!(watched.code(), Some(0), "{}", read(&t, ".watch.stderr"));
    assert!(waited < Duration::from_secs(5), "watch waited {waited:?}");
    assert!(read(&t, ".watch.stdout").starts_with("passed: evidence in "));
}

#[test]
fn watch_on_a_terminal_shows_the_progress_bars_and_exits_with_the_runs_code() {
    for (last, code) in [("true", 0), ("exit 1", 1)] {
        let t = gated(last);
        let (mut run, dir) = started(&t, LIVE);
        // On a pseudo-terminal (`script`, which exits with watch's code); what it shows
        // goes to a file.
        let cmd = format!("{SWITCHYARD} watch {}", dir.display());
        let mut script = std::process::Command::new("script")
            .args(["-q", "-e", "-c", &cmd, "/dev/null"])
            .current_dir(t.path())
            .env("SWITCHYARD_LOCK_DIR", t.path().join(".locks"))
            .env("NO_COLOR", "1")
            .stdin(Stdio::piped())
            .stdout(std::fs::File::create(t.path().join(".shown")).expect("output file"))
            .stderr(Stdio::null())
            .spawn()
            .expect("script (util-linux) runs");
        wait_until("the bars to be drawn", || {
            read(&t, ".shown").contains("steps  RTO 1h")
        });
        std::fs::write(t.path().join("go"), "").expect("go");
        assert_eq!(
            wait_bounded(&mut run, Duration::from_secs(60)).code(),
            Some(code)
        );
        let watched = wait_bounded(&mut script, Duration::from_secs(30));
        let shown = read(&t, ".shown");
        assert_eq!(watched.code(), Some(code), "{shown}");
        assert!(shown.contains("db.verify.1"), "{shown}");
        assert!(shown.contains("evidence in "), "{shown}");
    }
}
