//! Incident-grade runs: manual steps, a pause decided at a (pseudo-)terminal, rollback,
//! one live run at a time, and resume after switchyard itself was killed.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::support::evidence::assert_intact;
use crate::support::runs::{kill_when, resume, signal_when};
use crate::support::util::{
    LIVE, LOCAL_INVENTORY, SWITCHYARD, Test, run_dir, step, summary, wait_until,
};

fn project(on_failure: &str, body: &str) -> Test {
    runbook(
        Test::new().file("inventory/site.toml", LOCAL_INVENTORY),
        on_failure,
        body,
    )
}

/// (Re)writes `runbooks/test.toml`: the header with `on_failure`, then `body`, where
/// `{dir}` stands for the project folder (commands run in another folder on resume).
fn runbook(t: Test, on_failure: &str, body: &str) -> Test {
    let body = body.replace("{dir}", &t.path().display().to_string());
    t.file(
        "runbooks/test.toml",
        format!(
            "[runbook]\nname = \"test\"\nrto = \"1h\"\ninventory = [\"../inventory/site.toml\"]\non_failure = \"{on_failure}\"\n{body}"
        ),
    )
}

fn lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(String::from)
        .collect()
}

/// Two services whose steps append to `log`; `app` fails to start while `fail` exists.
fn two_services(log: &Path, fail: &Path) -> String {
    let (log, fail) = (log.display(), fail.display());
    format!(
        r#"
[services.db]
hosts = ["node-a", "node-b"]
[[services.db.stop]]
run = "echo stop db {{{{host.name}}}} >> {log}"
[[services.db.start]]
run = "echo start db {{{{host.name}}}} >> {log}"

[services.app]
hosts = ["node-a", "node-b"]
depends_on = ["db"]
[[services.app.stop]]
run = "echo stop app {{{{host.name}}}} >> {log}"
[[services.app.start]]
run = "echo start app {{{{host.name}}}} >> {log}; if [ -e {fail}.{{{{host.name}}}} ]; then echo no space left on device >&2; exit 1; fi"
"#
    )
}

#[test]
fn a_manual_step_confirmed_by_yes_says_so_and_counts_as_human_wait() {
    let out = project(
        "abort",
        r#"
[services.db]
hosts = ["node-a", "node-b"]
[[services.db.start]]
name = "check the console"
manual = "Look at the SAN console: is the LUN mapped to hall {{target}}?"
"#,
    )
    .args(LIVE)
    .run()
    .code(0);
    let s = summary(&run_dir(&out));
    assert_eq!(step(&s, "db.start.1")["status"], "ok");
    let journal = std::fs::read_to_string(run_dir(&out).join("journal.jsonl")).expect("journal");
    assert!(journal.contains(r#""event":"decision""#) && journal.contains(r#""by":"--yes""#));
    let md = std::fs::read_to_string(run_dir(&out).join("report.md")).expect("md");
    assert!(md.contains("confirmed automatically by --yes"), "{md}");
}

#[test]
fn a_manual_step_in_a_dry_run_is_planned() {
    let out = project(
        "abort",
        "[services.db]\nhosts = [\"node-a\", \"node-b\"]\n[[services.db.start]]\nmanual = \"do it\"\n",
    )
    .args(&["--no-progress", "run", "runbooks/test.toml", "--to", "b"])
    .run()
    .code(0);
    assert_eq!(
        step(&summary(&run_dir(&out)), "db.start.1")["status"],
        "planned"
    );
}

#[test]
fn rollback_switches_back_every_service_that_had_begun_to_stop_in_reverse_order() {
    let t = project("rollback", "");
    let (log, fail) = (t.path().join("log"), t.path().join("fail"));
    std::fs::write(fail.with_extension("node-b"), "").expect("fail marker");
    let t = runbook(t, "rollback", &two_services(&log, &fail));
    let out = t.args(LIVE).run().code(1);
    let s = summary(&run_dir(&out));
    assert_eq!(s["outcome"], "rolled_back");
    assert_eq!(
        lines(&log),
        [
            "stop app node-a",
            "stop db node-a",
            "start db node-b",
            "start app node-b",
            // The rollback: b → a, app stops before db, db starts before app.
            "stop app node-b",
            "stop db node-b",
            "start db node-a",
            "start app node-a",
        ]
    );
    assert_eq!(step(&s, "rollback.db.start.1")["status"], "ok");
    for service in s["services"].as_array().expect("services") {
        assert_eq!(service["status"], "rolled_back", "{service}");
        assert_eq!(service["rto"], serde_json::Value::Null, "{service}");
    }
    assert_intact(&run_dir(&out));
}

/// Runs a live run on a pseudo-terminal (`script`), types the runbook's name, then
/// answers the first question with `answer` once it is shown (after `before_answer`);
/// an empty answer leaves the question unanswered. Returns the exit code and what the
/// terminal showed.
pub(crate) fn on_a_terminal(t: &Test, answer: &str, before_answer: impl FnOnce()) -> (i32, String) {
    let cmd = format!("{SWITCHYARD} --no-progress run runbooks/test.toml --to b --live");
    let mut child = Command::new("script")
        .args(["-q", "-e", "-c", &cmd, "/dev/null"])
        .current_dir(t.path())
        .env("SWITCHYARD_LOCK_DIR", t.path().join(".locks"))
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("script (util-linux) runs");
    let mut stdin = child.stdin.take().expect("stdin");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    // Raw chunks, not lines: a prompt ends without a newline.
    std::thread::spawn(move || {
        let mut stdout = stdout;
        let mut buf = [0u8; 4096];
        while let Ok(n) = std::io::Read::read(&mut stdout, &mut buf) {
            if n == 0
                || tx
                    .send(String::from_utf8_lossy(&buf[..n]).into_owned())
                    .is_err()
            {
                break;
            }
        }
    });
    let mut seen = String::new();
    let wait_for = |needle: &str, seen: &mut String| {
        let start = Instant::now();
        while !seen.contains(needle) {
            let left = Duration::from_secs(60).saturating_sub(start.elapsed());
            match rx.recv_timeout(left) {
                Ok(l) => seen.push_str(&l),
                Err(_) => panic!("never saw {needle:?}:\n{seen}"),
            }
        }
    };
    wait_for("to proceed", &mut seen);
    stdin.write_all(b"test\n").expect("type the name");
    wait_for("type one of", &mut seen);
    before_answer();
    if !answer.is_empty() {
        stdin
            .write_all(format!("{answer}\n").as_bytes())
            .expect("answer");
    }
    let status = child.wait().expect("wait");
    while let Ok(l) = rx.recv_timeout(Duration::from_secs(2)) {
        seen.push_str(&l);
    }
    (status.code().unwrap_or(-1), seen)
}

/// [`two_services`] with `on_failure = "pause"`, `app` failing on node-b, and `verify`
/// as the command of app's verify step.
fn pause_project(verify: &str) -> (Test, PathBuf, PathBuf) {
    let t = project("pause", "");
    let (log, fail) = (t.path().join("log"), t.path().join("fail"));
    std::fs::write(fail.with_extension("node-b"), "").expect("fail marker");
    let body = two_services(&log, &fail);
    let t = runbook(
        t,
        "pause",
        &format!("{body}\n[[services.app.verify]]\nrun = \"{verify}\"\n"),
    );
    (t, log, fail)
}

fn newest_run(t: &Test) -> PathBuf {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(t.path().join("evidence"))
        .expect("evidence")
        .map(|e| e.expect("entry").path())
        .collect();
    dirs.sort();
    dirs.pop().expect("a run folder")
}

#[test]
fn pause_then_retry_runs_the_failed_step_again_and_records_who_decided() {
    let (t, log, fail) = pause_project("true");
    // The operator removes the cause, then answers: the retry succeeds.
    let (code, seen) = on_a_terminal(&t, "retry freed the disk", || {
        std::fs::remove_file(fail.with_extension("node-b")).expect("remove the cause");
    });
    assert_eq!(code, 0, "{seen}");
    let s = summary(&newest_run(&t));
    assert_eq!(s["outcome"], "passed");
    assert_eq!(step(&s, "app.start.1")["status"], "ok");
    assert_eq!(
        lines(&log)
            .iter()
            .filter(|l| *l == "start app node-b")
            .count(),
        2
    );
    let journal = std::fs::read_to_string(newest_run(&t).join("journal.jsonl")).expect("journal");
    assert!(journal.contains(r#""choice":"retry""#), "{journal}");
    assert!(
        journal.contains(r#""comment":"freed the disk""#),
        "{journal}"
    );
}

#[test]
fn pause_then_skip_goes_on_and_the_evidence_says_who_skipped() {
    let (t, _log, _fail) = pause_project("true");
    let (code, seen) = on_a_terminal(&t, "skip known issue, ticket 4711", || {});
    assert_eq!(code, 0, "{seen}");
    let dir = newest_run(&t);
    let s = summary(&dir);
    assert_eq!(s["outcome"], "passed");
    assert_skipped_by_the_operator(&s);
    assert_eq!(step(&s, "app.verify.1")["status"], "ok");
    // The reports show it skipped, with why it failed and who skipped it — not as a failure.
    let md = std::fs::read_to_string(dir.join("report.md")).expect("md");
    assert!(md.contains("| skipped |"), "{md}");
    assert!(!md.contains("## Failed steps"), "{md}");
    assert!(md.contains("## Steps skipped after they failed"), "{md}");
    assert!(md.contains("known issue, ticket 4711"), "{md}");
    assert!(md.contains("no space left on device"), "{md}");
    assert!(
        md.contains("or was skipped by the operator (1 skipped)"),
        "{md}"
    );
    let junit = std::fs::read_to_string(dir.join("junit.xml")).expect("junit");
    let case = junit
        .split("<testcase ")
        .find(|c| c.contains("name=\"app.start.1 ") && c.contains("on node-b"))
        .unwrap_or_else(|| panic!("no test case of app.start.1 on node-b:\n{junit}"));
    assert!(
        case.contains("<skipped message=\"") && case.contains("skipped by"),
        "{case}"
    );
    assert!(!junit.contains("<failure"), "{junit}");
    let html = std::fs::read_to_string(dir.join("report.html")).expect("html");
    assert!(html.contains("Steps skipped after they failed"), "{html}");
    assert!(!html.contains("<h2>Failed steps</h2>"), "{html}");
}

/// `app.start.1` on node-b failed and the operator skipped it: it says so, skipped.
fn assert_skipped_by_the_operator(s: &serde_json::Value) {
    let app = step(s, "app.start.1");
    assert_eq!(app["status"], "skipped", "{app}");
    let message = app["message"].as_str().expect("message");
    assert!(message.contains("skipped by"), "{app}");
    assert!(message.contains("known issue"), "{app}");
}

#[test]
fn pause_then_abort_stops_the_run_as_aborted() {
    let (t, _log, _fail) = pause_project("true");
    let (code, seen) = on_a_terminal(&t, "abort", || {});
    assert_eq!(code, 1, "{seen}");
    let s = summary(&newest_run(&t));
    assert_eq!(s["outcome"], "aborted");
    assert_eq!(step(&s, "app.verify.1")["status"], "skipped");
}

#[test]
fn pause_then_rollback_switches_back() {
    let (t, log, _fail) = pause_project("true");
    let (code, seen) = on_a_terminal(&t, "rollback", || {});
    assert_eq!(code, 1, "{seen}");
    let s = summary(&newest_run(&t));
    assert_eq!(s["outcome"], "rolled_back");
    assert!(lines(&log).contains(&"start db node-a".to_string()));
}

#[test]
fn a_second_live_run_is_refused_while_the_first_holds_the_lock() {
    let t = project(
        "abort",
        "[services.db]\nhosts = [\"node-a\", \"node-b\"]\n[[services.db.start]]\nrun = \"sleep 3\"\n",
    );
    let locks = t.path().join(".locks");
    let mut first = Test::reuse(t.path()).args(LIVE).spawn();
    wait_until("the first run to take the lock", || {
        std::fs::read_to_string(locks.join("test.lock")).is_ok_and(|s| s.contains("pid"))
    });
    let root = t.path().to_path_buf();
    Test::reuse(&root)
        .args(&["run", "runbooks/test.toml", "--to", "b", "--live", "--yes"])
        .run()
        .code(1)
        .stderr_has("holds the lock")
        .stderr_has(&format!("pid {}", first.id()));
    assert_eq!(first.wait().expect("wait").code(), Some(0));
    // Once the first run is done, the lock is free again.
    Test::reuse(&root)
        .args(&["run", "runbooks/test.toml", "--to", "b", "--live", "--yes"])
        .run()
        .code(0);
    drop(t);
}

#[test]
fn a_killed_run_resumes_without_running_finished_steps_twice() {
    let t = project("abort", "");
    let p = |n: &str| t.path().join(n).display().to_string();
    let body = format!(
        r#"
[services.db]
hosts = ["node-a", "node-b"]
[[services.db.stop]]
run = "echo x >> {one}"
[[services.db.start]]
run = "echo x >> {two}; sleep 2"
[[services.db.verify]]
run = "echo x >> {three}"
"#,
        one = p("one"),
        two = p("two"),
        three = p("three")
    );
    let t = runbook(t, "abort", &body);
    // Killed once the step's command is under way (it wrote its first line).
    let two = t.path().join("two");
    let dir = kill_when(&t, LIVE, "db.start.1", |_| two.exists());
    let out = resume(&dir).code(0);
    assert!(out.stderr.contains("resumed"), "{}", out.stderr);
    assert_eq!(
        lines(t.path().join("one").as_path()).len(),
        1,
        "a finished step ran again"
    );
    assert_eq!(
        lines(t.path().join("two").as_path()).len(),
        2,
        "the started step runs again"
    );
    assert_eq!(lines(t.path().join("three").as_path()).len(), 1);
    let s = summary(&dir);
    assert_eq!(s["outcome"], "passed");
    assert_eq!(step(&s, "db.start.1")["rerun"], true);
    assert_intact(&dir);
    // The run's own inventory files are what it resumes with.
    Test::reuse(&dir)
        .args(&["resume", ".", "--inventory", "other.toml"])
        .run()
        .code(2)
        .stderr_has("--inventory is not taken");
    // A finished run has nothing to resume.
    Test::reuse(&dir)
        .args(&["resume", ".", "--yes"])
        .run()
        .code(2)
        .stderr_has("already finished");
}

#[test]
fn after_the_grace_period_a_running_step_is_stopped_and_nothing_it_started_goes_on() {
    let t = project("abort", "");
    let (started, marker) = (t.path().join("started"), t.path().join("marker"));
    let body = format!(
        "[services.db]\nhosts = [\"node-a\", \"node-b\"]\n[[services.db.start]]\nrun = \"echo x >> {}; sleep 4; touch {}\"\n[[services.db.verify]]\nrun = \"true\"\n",
        started.display(),
        marker.display()
    );
    let t = runbook(t, "abort", &body);
    let child = Test::reuse(t.path())
        .args(LIVE)
        .args(&["--grace", "1s"])
        .spawn();
    wait_until("the step to start", || started.exists());
    let signalled = Instant::now();
    let pid = nix::unistd::Pid::from_raw(child.id() as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).expect("SIGTERM");
    let out = child.wait_with_output().expect("wait");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert!(
        stderr.contains("stopping the 1 running step(s) now"),
        "{stderr}"
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let dir = t
        .path()
        .join(stdout.rsplit("evidence in ").next().expect("dir").trim());
    let s = summary(&dir);
    assert_eq!(s["outcome"], "interrupted");
    let db = step(&s, "db.start.1");
    assert_eq!(db["status"], "failed");
    assert!(
        db["message"]
            .as_str()
            .expect("message")
            .contains("interrupted"),
        "{db}"
    );
    assert_eq!(step(&s, "db.verify.1")["status"], "skipped");
    // Had the command gone on, it would have touched the marker 4 s after it started.
    std::thread::sleep(Duration::from_secs(5).saturating_sub(signalled.elapsed()));
    assert!(!marker.exists(), "the stopped command went on running");
    assert_intact(&dir);
}

#[test]
fn a_manual_step_nobody_confirms_within_its_timeout_fails() {
    let t = project(
        "abort",
        "[services.db]\nhosts = [\"node-a\", \"node-b\"]\n[[services.db.start]]\nmanual = \"Call the DBA on duty.\"\ntimeout = \"1s\"\n",
    );
    let (code, seen) = on_a_terminal(&t, "", || {});
    assert_eq!(code, 1, "{seen}");
    assert!(seen.contains("Call the DBA on duty."), "{seen}");
    let s = summary(&newest_run(&t));
    assert_eq!(s["outcome"], "failed");
    let db = step(&s, "db.start.1");
    assert_eq!(db["status"], "failed");
    assert!(
        db["message"]
            .as_str()
            .expect("message")
            .contains("nobody confirmed it within 1s"),
        "{db}"
    );
}

#[test]
fn a_manual_step_confirmed_at_the_terminal_records_who_and_the_comment() {
    let t = project(
        "abort",
        "[services.db]\nhosts = [\"node-a\", \"node-b\"]\n[[services.db.start]]\nmanual = \"Call the DBA on duty.\"\n",
    );
    let (code, seen) = on_a_terminal(&t, "done spoke to Kim", || {});
    assert_eq!(code, 0, "{seen}");
    let dir = newest_run(&t);
    let s = summary(&dir);
    assert_eq!(step(&s, "db.start.1")["status"], "ok");
    let journal = std::fs::read_to_string(dir.join("journal.jsonl")).expect("journal");
    let operator = s["operator"].as_str().expect("operator");
    assert!(
        journal.contains(&format!(r#""by":"{operator}""#)),
        "{journal}"
    );
    assert!(journal.contains(r#""comment":"spoke to Kim""#), "{journal}");
    let md = std::fs::read_to_string(dir.join("report.md")).expect("md");
    assert!(md.contains("spoke to Kim"), "{md}");
}

/// Starts a live run of `t`'s runbook and kills it (SIGKILL) once `step` has started.
/// Returns the run folder.
fn kill_during(t: &Test, step: &str) -> PathBuf {
    kill_when(t, LIVE, step, |_| true)
}

/// As Ctrl-C does, sends SIGINT to a live run of `t`'s runbook once `step` has started
/// and `ready` holds; with `--grace 0s` its running steps are stopped at once. The run
/// ends `interrupted` (exit 130). Returns the run folder.
fn interrupt_when(t: &Test, step: &str, ready: impl Fn() -> bool) -> PathBuf {
    let args = [LIVE, &["--grace", "0s"]].concat();
    let (dir, out) = signal_when(t, &args, step, |_| ready(), Signal::SIGINT);
    assert_eq!(out.status.code(), Some(130), "{out:?}");
    assert_eq!(summary(&dir)["outcome"], "interrupted");
    dir
}

/// The pid of the live run that holds `t`'s run lock, as the lock file names it.
fn lock_holder(t: &Test) -> Pid {
    let text = std::fs::read_to_string(t.path().join(".locks/test.lock")).expect("lock");
    let pid = text
        .strip_prefix("pid ")
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|pid| pid.parse().ok())
        .unwrap_or_else(|| panic!("the lock names no pid: {text:?}"));
    Pid::from_raw(pid)
}

#[test]
fn the_lock_of_a_killed_run_is_taken_over_and_the_evidence_names_its_holder() {
    let t = project(
        "abort",
        "[services.db]\nhosts = [\"node-a\", \"node-b\"]\n[[services.db.start]]\nrun = \"sleep 2\"\n",
    );
    let dead = kill_during(&t, "db.start.1");
    let holder = std::fs::read_to_string(t.path().join(".locks/test.lock")).expect("lock");
    assert!(
        holder.contains("pid "),
        "the killed run's lock names it: {holder:?}"
    );
    let root = t.path().to_path_buf();
    let out = Test::reuse(&root).args(LIVE).run().code(0);
    let dir = run_dir(&out);
    assert_ne!(dir, dead);
    let journal = std::fs::read_to_string(dir.join("journal.jsonl")).expect("journal");
    assert!(
        journal.contains("took over the stale lock") && journal.contains(holder.trim()),
        "{journal}"
    );
}

#[test]
fn resume_refuses_changed_inputs_unless_forced_and_records_it() {
    let t = project(
        "abort",
        "[services.db]\nhosts = [\"node-a\", \"node-b\"]\n[[services.db.start]]\nrun = \"sleep 2\"\n[[services.db.verify]]\nrun = \"true\"\n",
    );
    let dir = kill_during(&t, "db.start.1");
    let runbook = t.path().join("runbooks/test.toml");
    let text = std::fs::read_to_string(&runbook).expect("runbook");
    std::fs::write(&runbook, text.replace("rto = \"1h\"", "rto = \"2h\"")).expect("edit");
    Test::reuse(&dir)
        .args(&["resume", ".", "--yes"])
        .run()
        .code(2)
        .stderr_has("changed since the run started")
        .stderr_has("runbooks/test.toml")
        .stderr_has("--force");
    let out = Test::reuse(&dir)
        .args(&["--no-progress", "resume", ".", "--yes", "--force"])
        .run()
        .code(0);
    assert!(out.stderr.contains("resumed"), "{}", out.stderr);
    let journal = std::fs::read_to_string(dir.join("journal.jsonl")).expect("journal");
    assert!(
        journal.contains(r#""forced":["#) && journal.contains("test.toml"),
        "{journal}"
    );
    let md = std::fs::read_to_string(dir.join("report.md")).expect("md");
    assert!(md.contains("accepted with --force"), "{md}");
    assert_intact(&dir);
}

#[test]
fn a_step_that_failed_before_the_crash_runs_again_on_resume() {
    let t = project("abort", "");
    let (fixed, other) = (t.path().join("fixed"), t.path().join("other"));
    let body = format!(
        r#"
[services.db]
hosts = ["node-a", "node-b"]
[[services.db.start]]
run = "test -e {fixed}"

[services.cache]
hosts = ["node-a", "node-b"]
[[services.cache.start]]
run = "echo x >> {other}; sleep 2"
"#,
        fixed = fixed.display(),
        other = other.display()
    );
    let t = runbook(t, "abort", &body);
    // db fails at once; the run waits for cache, and is killed while it does.
    let dir = kill_when(&t, LIVE, "cache.start.1", |j| {
        j.contains(r#""event":"step_finished","step":"db.start.1""#)
    });
    let before = std::fs::read_to_string(dir.join("journal.jsonl")).expect("journal");
    assert!(before.contains(r#""status":"failed""#), "{before}");
    std::fs::write(&fixed, "").expect("the operator fixes the cause");
    resume(&dir).code(0);
    let s = summary(&dir);
    assert_eq!(s["outcome"], "passed");
    let db: Vec<_> = s["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .filter(|x| x["id"] == "db.start.1")
        .collect();
    assert_eq!(db.len(), 1, "the rerun replaces the failed end: {db:?}");
    assert_eq!(db[0]["status"], "ok");
    assert_eq!(db[0]["rerun"], true);
    assert_intact(&dir);
}

#[test]
fn a_local_command_ends_when_switchyard_is_killed() {
    let t = project("abort", "");
    let (started, marker) = (t.path().join("started"), t.path().join("marker"));
    let body = format!(
        "[services.db]\nhosts = [\"node-a\", \"node-b\"]\n[[services.db.start]]\nrun = \"echo x >> {}; sleep 3; touch {}\"\n",
        started.display(),
        marker.display()
    );
    let t = runbook(t, "abort", &body);
    let mut child = Test::reuse(t.path()).args(LIVE).spawn();
    wait_until("the step to start", || started.exists());
    let killed = Instant::now();
    child.kill().expect("SIGKILL");
    let _ = child.wait();
    // Had the command gone on, it would have touched the marker 3 s after it started.
    std::thread::sleep(Duration::from_secs(4).saturating_sub(killed.elapsed()));
    assert!(!marker.exists(), "the command outlived switchyard");
}

#[test]
fn a_run_interrupted_by_ctrl_c_resumes_and_passes() {
    let t = project(
        "abort",
        r#"
[services.db]
hosts = ["node-a", "node-b"]
[[services.db.start]]
run = "if [ -e {dir}/resumed ]; then true; else touch {dir}/started; sleep 30; fi"
[[services.db.verify]]
run = "echo x >> {dir}/verified"
"#,
    );
    let started = t.path().join("started");
    let dir = interrupt_when(&t, "db.start.1", || started.exists());
    assert_eq!(step(&summary(&dir), "db.verify.1")["status"], "skipped");
    std::fs::write(t.path().join("resumed"), "").expect("resumed marker");
    resume(&dir).code(0);
    let s = summary(&dir);
    assert_eq!(s["outcome"], "passed");
    let db = step(&s, "db.start.1");
    assert_eq!((&db["status"], &db["rerun"]), (&"ok".into(), &true.into()));
    // The interruption left it `not run`: it runs now, for the first time.
    let verify = step(&s, "db.verify.1");
    assert_eq!(verify["status"], "ok", "{verify}");
    assert_eq!(verify["rerun"], serde_json::Value::Null, "{verify}");
    assert_eq!(lines(&t.path().join("verified")).len(), 1);
    assert_intact(&dir);
}

/// `app` on node-a and node-b under `on_failure = "rollback"`: it cannot start in hall b,
/// so the run rolls back; its stop in hall b — the rollback's, switching back — touches
/// `stopping` and waits until `go` exists. Every command appends to `log`.
fn rollback_project() -> Test {
    project(
        "rollback",
        r#"
[services.app]
hosts = ["node-a", "node-b"]
[[services.app.stop]]
run = "echo stop {{host.name}} >> {dir}/log; if [ {{host.hall}} = b ]; then touch {dir}/stopping; while [ ! -e {dir}/go ]; do sleep 0.1; done; fi"
[[services.app.start]]
run = "echo start {{host.name}} >> {dir}/log; test {{host.hall}} = a"
"#,
    )
}

/// Resumes a run of [`rollback_project`] that stopped while its rollback stopped app on
/// node-b: the rollback goes on from there and ends; the switchover is not run again.
fn resume_the_rollback(t: &Test, dir: &Path) {
    std::fs::write(t.path().join("go"), "").expect("go marker");
    resume(dir).code(1);
    let s = summary(dir);
    assert_eq!(s["outcome"], "rolled_back");
    assert_eq!(
        lines(&t.path().join("log")),
        [
            "stop node-a",
            "start node-b",
            // The rollback: its stop was cut off, and runs again on resume.
            "stop node-b",
            "stop node-b",
            "start node-a",
        ]
    );
    let stop = step(&s, "rollback.app.stop.1");
    assert_eq!(
        (&stop["status"], &stop["rerun"]),
        (&"ok".into(), &true.into())
    );
    assert_eq!(step(&s, "rollback.app.start.1")["status"], "ok");
    // The switchover's failed start keeps its end: it was not run again.
    let start = step(&s, "app.start.1");
    assert_eq!(start["status"], "failed", "{start}");
    assert_eq!(start["rerun"], serde_json::Value::Null, "{start}");
    let journal = std::fs::read_to_string(dir.join("journal.jsonl")).expect("journal");
    assert!(
        journal.contains(r#""rerun":["rollback.app.stop.1@node-b"]"#),
        "the resumed event names only what runs again: {journal}"
    );
    assert_eq!(journal.matches(r#""event":"rollback_started""#).count(), 1);
    assert_intact(dir);
}

#[test]
fn a_run_killed_during_its_rollback_resumes_the_rollback_not_the_switchover() {
    let t = rollback_project();
    let stopping = t.path().join("stopping");
    let dir = kill_when(&t, LIVE, "rollback.app.stop.1", |_| stopping.exists());
    resume_the_rollback(&t, &dir);
}

#[test]
fn a_run_interrupted_during_its_rollback_resumes_the_rollback_not_the_switchover() {
    let t = rollback_project();
    let stopping = t.path().join("stopping");
    let dir = interrupt_when(&t, "rollback.app.stop.1", || stopping.exists());
    resume_the_rollback(&t, &dir);
}

#[test]
fn a_step_the_operator_skipped_stays_skipped_on_resume() {
    // The step after the skipped one waits; switchyard is killed while it does.
    let (t, log, _fail) =
        pause_project("touch {dir}/waiting; while [ ! -e {dir}/go ]; do sleep 0.1; done");
    let (waiting, go) = (t.path().join("waiting"), t.path().join("go"));
    let (_, seen) = std::thread::scope(|s| {
        s.spawn(|| {
            wait_until("the step after the skipped one to wait", || {
                waiting.exists()
            });
            kill(lock_holder(&t), Signal::SIGKILL).expect("SIGKILL");
        });
        on_a_terminal(&t, "skip known issue, ticket 4711", || {})
    });
    let dir = newest_run(&t);
    let before = std::fs::read_to_string(dir.join("journal.jsonl")).expect("journal");
    assert!(!before.contains(r#""event":"run_finished""#), "{seen}");
    std::fs::write(&go, "").expect("go marker");
    resume(&dir).code(0);
    let s = summary(&dir);
    assert_eq!(s["outcome"], "passed");
    assert_skipped_by_the_operator(&s);
    assert_eq!(step(&s, "app.start.1")["rerun"], serde_json::Value::Null);
    let runs = lines(&log)
        .iter()
        .filter(|l| *l == "start app node-b")
        .count();
    assert_eq!(runs, 1, "the skipped step ran again");
    let verify = step(&s, "app.verify.1");
    assert_eq!(
        (&verify["status"], &verify["rerun"]),
        (&"ok".into(), &true.into())
    );
    assert_intact(&dir);
}

#[test]
fn a_run_killed_after_deciding_to_roll_back_resumes_the_rollback() {
    // `app` fails to start in hall b while `slow`, on its own, still starts there: the
    // run has decided to roll back and waits for `slow` to end. Killed then, before any
    // rollback step, the run must resume the rollback: the decision is in the journal.
    let t = project(
        "rollback",
        r#"
[services.app]
hosts = ["node-a", "node-b"]
[[services.app.stop]]
run = "echo stop app {{host.name}} >> {dir}/log"
[[services.app.start]]
run = "echo start app {{host.name}} >> {dir}/log; test {{host.hall}} = a"

[services.slow]
hosts = ["node-a", "node-b"]
[[services.slow.stop]]
run = "echo stop slow {{host.name}} >> {dir}/log"
[[services.slow.start]]
run = "echo start slow {{host.name}} >> {dir}/log; if [ ! -e {dir}/go ]; then touch {dir}/slow; sleep 120; fi"
"#,
    );
    let slow = t.path().join("slow");
    let dir = kill_when(&t, LIVE, "slow.start.1", |journal| {
        slow.exists() && journal.contains(r#""event":"rollback_started""#)
    });
    std::fs::write(t.path().join("go"), "").expect("go marker");
    resume(&dir).code(1);
    let s = summary(&dir);
    assert_eq!(s["outcome"], "rolled_back");
    let log = lines(&t.path().join("log"));
    assert_eq!(
        log.iter().filter(|l| *l == "start slow node-b").count(),
        1,
        "the switchover ran again on resume: {log:?}"
    );
    for id in ["rollback.app.start.1", "rollback.slow.start.1"] {
        assert_eq!(step(&s, id)["status"], "ok", "{id}");
    }
    assert_intact(&dir);
}

#[test]
fn terminal_escapes_in_a_failed_steps_output_are_spelled_out_on_the_terminal_and_in_reports() {
    let t = project(
        "pause",
        r#"
[services.db]
hosts = ["node-a", "node-b"]
[[services.db.start]]
run = '''printf '\033]0;owned\007\033[2J'; exit 1'''
"#,
    );
    let (code, seen) = on_a_terminal(&t, "abort", || {});
    assert_eq!(code, 1, "{seen}");
    assert!(seen.contains(r"\e]0;owned\x07\e[2J"), "{seen}");
    assert!(!seen.contains(['\x1b', '\x07']), "{seen:?}");
    let dir = newest_run(&t);
    let journal = std::fs::read_to_string(dir.join("journal.jsonl")).expect("journal");
    assert!(
        journal.contains(r"\u001b]0;owned\u0007\u001b[2J"),
        "{journal}"
    );
    for report in ["report.md", "report.html"] {
        let text = std::fs::read_to_string(dir.join(report)).expect(report);
        assert!(text.contains("␛]0;owned␇␛[2J"), "{report}: {text}");
        assert!(!text.contains(['\x1b', '\x07']), "{report}: {text:?}");
    }
}
