//! Faults in the middle of a live run, against real OpenSSH servers and real HTTP
//! servers on loopback: an sshd killed while a step runs on it, an HTTP endpoint that
//! never answers, one that fails twice before it recovers, a host partitioned away
//! while its verify step polls, and a rollback over SSH. Each asserts the outcome, the
//! exit code, a message naming host, step and cause, and a journal that verifies.
//!
//! (Failover with the source hall's sshd down is `run_ssh.rs`'s
//! `failover_with_the_source_hall_down_records_source_unreachable_and_passes`.)

use std::path::{Path, PathBuf};
use std::process::Child;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::http::HttpServer;
use crate::support::runs::{Finished, ended, project, run_folder, runbook, spawn};
use crate::support::sshd::{INVENTORY_HEAD, Sshd};
use crate::support::util::{LIVE, LOCAL_INVENTORY, Test, step, step_on, summary};

/// How long a test waits for the run to reach a point, however loaded the machine is.
const PATIENCE: Duration = Duration::from_secs(30);

/// An inventory of SSH hosts, `(name, hall, tag, sshd)`, each served by its own sshd.
fn inventory(hosts: &[(&str, &str, &str, &Sshd)]) -> String {
    let mut s = INVENTORY_HEAD.to_string();
    for (name, hall, tag, sshd) in hosts {
        s.push_str(&sshd.inventory_host(name, hall, tag));
    }
    s
}

/// The run folder named on stdout ("…: evidence in DIR").
fn evidence_dir(root: &Path, stdout: &str) -> PathBuf {
    let line = stdout
        .lines()
        .find(|l| l.contains("evidence in "))
        .unwrap_or_else(|| panic!("no evidence line in stdout:\n{stdout}"));
    root.join(line.rsplit("evidence in ").next().expect("path").trim())
}

/// Runs switchyard to the end, as `Test::run` does.
fn run(t: Test, args: &[&str]) -> (Finished, Test) {
    let child = spawn(&t, args);
    (finish(child, &t), t)
}

/// Waits for the run to end; checks that nothing panicked and that its journal verifies.
fn finish(child: Child, t: &Test) -> Finished {
    let out = ended(child, t, |stdout| evidence_dir(t.path(), stdout));
    Test::reuse(t.path())
        .args(&["verify-evidence", &out.dir.display().to_string()])
        .run()
        .code(0);
    out
}

/// The journal's events, in order; a line being written is left out.
fn events(dir: &Path) -> Vec<Value> {
    std::fs::read_to_string(dir.join("journal.jsonl"))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

/// Waits until the journal of the (only) run in the project has an event `is` accepts;
/// returns the run folder. Fails if the run ends first or `PATIENCE` runs out.
fn wait_for_event(t: &Test, child: &mut Child, what: &str, is: impl Fn(&Value) -> bool) -> PathBuf {
    let start = Instant::now();
    loop {
        if let Some(dir) = run_folder(&t.path().join("evidence"))
            && events(&dir).iter().any(&is)
        {
            return dir;
        }
        if let Some(status) = child.try_wait().expect("wait") {
            panic!(
                "switchyard ended ({status}) before {what}:\n{}",
                std::fs::read_to_string(t.path().join(".stderr")).unwrap_or_default()
            );
        }
        assert!(start.elapsed() < PATIENCE, "never saw {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn is_step_started(e: &Value, id: &str, host: &str) -> bool {
    e["event"] == "step_started" && e["step"] == id && e["host"] == host
}

#[track_caller]
fn message(step: &Value) -> &str {
    step["message"]
        .as_str()
        .unwrap_or_else(|| panic!("no message: {step}"))
}

/// Waits until `path` exists (a command wrote it on its host).
fn wait_for_file(path: &Path, child: &mut Child, t: &Test) {
    let start = Instant::now();
    while !path.exists() {
        if let Some(status) = child.try_wait().expect("wait") {
            panic!(
                "switchyard ended ({status}) before {} appeared:\n{}",
                path.display(),
                std::fs::read_to_string(t.path().join(".stderr")).unwrap_or_default()
            );
        }
        assert!(
            start.elapsed() < PATIENCE,
            "{} never appeared",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// A live run whose start step on `db-b` runs `sleep 5`; once the journal says the step
/// started and the command is running on the host, that host's sshd is killed: its
/// session processes (and with them the command), then the listener. Returns the
/// finished run, the host's address and the project (which holds the run).
fn kill_sshd_mid_step() -> (Finished, String, Test) {
    let (a, b) = (Sshd::start(), Sshd::start());
    let address = b.address.clone();
    let t = project(
        &inventory(&[("db-a", "a", "db", &a), ("db-b", "b", "db", &b)]),
        "abort",
        "",
    );
    let (started, finished) = (t.path().join("started"), t.path().join("finished"));
    let body = format!(
        r#"
[services.db]
hosts = ["tag:db"]
[[services.db.stop]]
name = "stop"
run = "true"
[[services.db.start]]
name = "start slowly"
run = "touch {started}; sleep 5; touch {finished}"
[[services.db.verify]]
run = "true"
"#,
        started = started.display(),
        finished = finished.display()
    );
    let t = runbook(t, "abort", &body);
    let mut child = spawn(&t, LIVE);
    wait_for_event(&t, &mut child, "db.start.1 started on db-b", |e| {
        is_step_started(e, "db.start.1", "db-b")
    });
    wait_for_file(&started, &mut child, &t);
    let killed = Instant::now();
    drop(b);
    let out = finish(child, &t);
    assert!(
        killed.elapsed() < Duration::from_secs(20),
        "the lost connection was noticed only after {:?}",
        killed.elapsed()
    );
    assert!(
        !finished.exists(),
        "the command went on after its sshd was killed"
    );
    (out, address, t)
}

#[test]
fn an_sshd_killed_while_its_step_runs_fails_the_step_and_the_run() {
    let (out, address, _t) = kill_sshd_mid_step();
    let out = out.code(1);
    let s = summary(&out.dir);
    assert_eq!(s["outcome"], "failed");
    let db = step(&s, "db.start.1");
    assert_eq!(db["status"], "failed");
    assert_eq!(db["host"], "db-b");
    assert_eq!(db["exit_code"], Value::Null);
    let m = message(db);
    assert!(
        m.starts_with("step db.start.1 on db-b: ")
            && m.contains(&format!("SSH session to {address}:22 failed"))
            && m.contains("the connection was lost while the command ran"),
        "{m}"
    );
    assert!(
        db["duration_s"].as_f64().expect("duration") < 5.0,
        "the step waited for a command whose host was gone: {db}"
    );
    out.stderr_has(&format!(
        "step db.start.1 on db-b: SSH session to {address}:22 failed"
    ));
    assert_eq!(step(&s, "db.verify.1")["status"], "skipped");
    assert_ne!(s["services"][0]["status"], "recovered");
}

/// Holds an HTTP server's handler until dropped, then lets it answer and end.
struct Release(Arc<AtomicBool>);

impl Drop for Release {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

#[test]
fn an_http_check_that_never_gets_an_answer_fails_within_its_within() {
    let release = Release(Arc::new(AtomicBool::new(false)));
    let held = release.0.clone();
    // Accepts, reads the request, and answers only when the test is over; later
    // connections wait in the listen queue, never accepted by the server.
    let server = HttpServer::start(move |_| {
        let start = Instant::now();
        while !held.load(Ordering::SeqCst) && start.elapsed() < Duration::from_secs(60) {
            std::thread::sleep(Duration::from_millis(10));
        }
        (200, "ok".into())
    });
    let _release = release; // dropped before `server`, whose drop waits for the handler
    let body = format!(
        r#"
[services.web]
[[services.web.verify]]
name = "health"
http = "http://{}/health"
timeout = "1s"
within = "3s"
interval = "200ms"
"#,
        server.addr
    );
    let t = project(LOCAL_INVENTORY, "abort", &body);
    let begun = Instant::now();
    let (out, _t) = run(t, LIVE);
    let out = out.code(1);
    assert!(
        begun.elapsed() < Duration::from_secs(20),
        "took {:?}",
        begun.elapsed()
    );
    let s = summary(&out.dir);
    assert_eq!(s["outcome"], "failed");
    let web = step(&s, "web.verify.1");
    assert_eq!(web["status"], "failed");
    // Attempts at 0 s and 1.2 s time out after 1 s each; the third is cut to what is left
    // of `within`, and no fourth starts after it.
    assert!(web["attempts"].as_u64().expect("attempts") >= 2, "{web}");
    let took = web["duration_s"].as_f64().expect("duration");
    assert!((2.0..4.0).contains(&took), "failed after {took}s: {web}");
    let m = message(web);
    assert!(m.contains("step web.verify.1"), "{m}");
    assert!(m.contains(&format!("http://{}/health", server.addr)), "{m}");
    assert!(
        m.contains("no answer within ") && m.contains("(timeout)"),
        "{m}"
    );
    assert_eq!(m.matches("/health").count(), 1, "the URL once: {m}");
    out.stderr_has("step web.verify.1");
    assert!(
        server.hits.load(Ordering::SeqCst) >= 1,
        "no request arrived"
    );
}

#[test]
fn an_http_check_that_fails_twice_then_answers_passes_on_the_third_attempt() {
    let server = HttpServer::start(|n| {
        if n <= 2 {
            (500, "database unavailable".into())
        } else {
            (200, "ok".into())
        }
    });
    let body = format!(
        r#"
[services.web]
[[services.web.verify]]
name = "health"
http = "http://{}/health"
within = "10s"
interval = "200ms"
"#,
        server.addr
    );
    let (out, _t) = run(project(LOCAL_INVENTORY, "abort", &body), LIVE);
    let out = out.code(0);
    let s = summary(&out.dir);
    assert_eq!(s["outcome"], "passed");
    let web = step(&s, "web.verify.1");
    assert_eq!(web["status"], "ok");
    assert_eq!(web["attempts"], 3);
    assert_eq!(server.hits.load(Ordering::SeqCst), 3);
    // The journal: two failed attempts, then the good one, then the step's end.
    let journal = events(&out.dir);
    let mine: Vec<&Value> = journal
        .iter()
        .filter(|e| e["step"] == "web.verify.1")
        .filter(|e| e["event"] == "attempt_finished" || e["event"] == "step_finished")
        .collect();
    let kinds: Vec<(&str, Option<bool>)> = mine
        .iter()
        .map(|e| (e["event"].as_str().expect("event"), e["ok"].as_bool()))
        .collect();
    assert_eq!(
        kinds,
        [
            ("attempt_finished", Some(false)),
            ("attempt_finished", Some(false)),
            ("attempt_finished", Some(true)),
            ("step_finished", None),
        ],
        "{mine:#?}"
    );
    for (i, e) in mine[..2].iter().enumerate() {
        assert_eq!(e["attempt"], i + 1);
        let m = e["message"].as_str().expect("message");
        assert!(
            m.contains(&format!("http://{}/health", server.addr)) && m.contains("answered 500"),
            "{m}"
        );
    }
}

#[test]
fn a_host_partitioned_away_while_its_verify_polls_fails_and_its_peer_passes() {
    let (a, b1, b2) = (Sshd::start(), Sshd::start(), Sshd::start());
    let hosts = [
        ("db-a", "a", "db", &a),
        ("db-b1", "b", "db", &b1),
        ("db-b2", "b", "db", &b2),
    ];
    let body = r#"
[services.db]
hosts = ["tag:db"]
[[services.db.start]]
name = "start"
run = "true"
[[services.db.verify]]
name = "answers"
run = "true"
within = "5s"
interval = "500ms"
consecutive = 3
"#;
    let t = project(&inventory(&hosts), "abort", body);
    let mut child = spawn(&t, LIVE);
    // Three successes in a row take at least a second: the partition comes well before.
    wait_for_event(&t, &mut child, "db.verify.1 started on db-b2", |e| {
        is_step_started(e, "db.verify.1", "db-b2")
    });
    drop(b2);
    let out = finish(child, &t).code(1);
    let s = summary(&out.dir);
    assert_eq!(s["outcome"], "failed");
    assert_eq!(step_on(&s, "db.start.1", "db-b2")["status"], "ok");
    let peer = step_on(&s, "db.verify.1", "db-b1");
    assert_eq!(peer["status"], "ok", "{peer}");
    assert!(peer["attempts"].as_u64().expect("attempts") >= 3, "{peer}");
    let lost = step_on(&s, "db.verify.1", "db-b2");
    assert_eq!(lost["status"], "failed");
    let m = message(lost);
    assert!(m.contains("step db.verify.1 on db-b2"), "{m}");
    assert!(
        m.contains("cannot connect") || m.contains("connection was lost"),
        "{m}"
    );
    assert!(m.contains("within 5s"), "{m}");
    out.stderr_has("step db.verify.1 on db-b2");
    assert_ne!(s["services"][0]["status"], "recovered");
}

#[test]
fn rollback_over_ssh_switches_both_services_back_in_order() {
    let servers: Vec<Sshd> = (0..4).map(|_| Sshd::start()).collect();
    let hosts = [
        ("db-a", "a", "db", &servers[0]),
        ("app-a", "a", "app", &servers[1]),
        ("db-b", "b", "db", &servers[2]),
        ("app-b", "b", "app", &servers[3]),
    ];
    let t = project(&inventory(&hosts), "rollback", "");
    let log = t.path().join("log");
    let l = log.display();
    // Every step appends to one log on this machine, which all four "hosts" are; app
    // fails to start in hall b.
    let body = format!(
        r#"
[services.db]
hosts = ["tag:db"]
[[services.db.stop]]
run = "echo stop db {{{{host.name}}}} >> {l}"
[[services.db.start]]
run = "echo start db {{{{host.name}}}} >> {l}"

[services.app]
hosts = ["tag:app"]
depends_on = ["db"]
[[services.app.stop]]
run = "echo stop app {{{{host.name}}}} >> {l}"
[[services.app.start]]
name = "start app"
run = "echo start app {{{{host.name}}}} >> {l}; test {{{{host.hall}}}} = a"
"#
    );
    let t = runbook(t, "rollback", &body);
    let (out, _t) = run(t, LIVE);
    let out = out.code(1);
    let s = summary(&out.dir);
    assert_eq!(s["outcome"], "rolled_back");
    assert_eq!(
        std::fs::read_to_string(&log)
            .expect("log")
            .lines()
            .collect::<Vec<_>>(),
        [
            "stop app app-a",
            "stop db db-a",
            "start db db-b",
            "start app app-b",
            // The rollback, b → a: app stops before db, db starts before app.
            "stop app app-b",
            "stop db db-b",
            "start db db-a",
            "start app app-a",
        ]
    );
    let app = step(&s, "app.start.1");
    assert_eq!(app["status"], "failed");
    assert_eq!(app["host"], "app-b");
    let m = message(app);
    assert!(
        m.contains("step app.start.1 on app-b") && m.contains("exited with 1, expected 0"),
        "{m}"
    );
    out.stderr_has("step app.start.1 on app-b");
    for (id, host) in [
        ("rollback.app.stop.1", "app-b"),
        ("rollback.db.stop.1", "db-b"),
        ("rollback.db.start.1", "db-a"),
        ("rollback.app.start.1", "app-a"),
    ] {
        let r = step(&s, id);
        assert_eq!(r["status"], "ok", "{r}");
        assert_eq!(r["host"], host, "{r}");
    }
    let journal = events(&out.dir);
    assert!(
        journal.iter().any(|e| e["event"] == "rollback_started"),
        "no rollback_started event"
    );
}

#[test]
fn a_rollback_runs_its_step_over_ssh_on_a_host_the_switchover_never_touched() {
    let (a, b) = (Sshd::start(), Sshd::start());
    let hosts = [("app-a", "a", "app", &a), ("app-b", "b", "app", &b)];
    let t = project(&inventory(&hosts), "rollback", "");
    let log = t.path().join("LOG");
    let l = log.display();
    // The stop runs on this machine, so the switchover touches only app-b; the
    // rollback's start is the first step on app-a. `$SSH_CONNECTION` is set by sshd:
    // its third field is the address the command's sshd listens on.
    let body = format!(
        r#"
[services.app]
hosts = ["tag:app"]
[[services.app.stop]]
local = "true"
[[services.app.start]]
run = "echo $SSH_CONNECTION >> {l}.{{{{host.name}}}}; test {{{{host.hall}}}} = a"
"#
    );
    let t = runbook(t, "rollback", &body);
    let (out, _t) = run(t, LIVE);
    let out = out.code(1);
    let s = summary(&out.dir);
    assert_eq!(s["outcome"], "rolled_back");
    assert_eq!(step_on(&s, "app.start.1", "app-b")["status"], "failed");
    let back = step_on(&s, "rollback.app.start.1", "app-a");
    assert_eq!(back["status"], "ok", "{back}");
    let seen = std::fs::read_to_string(format!("{l}.app-a")).expect("LOG.app-a");
    let server = seen.split_whitespace().nth(2);
    assert_eq!(
        server,
        Some(a.address.as_str()),
        "the rollback's start did not run over SSH on app-a: {seen:?}"
    );
}
