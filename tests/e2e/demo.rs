//! `switchyard demo` end to end: the lab, the live switchover (of a runbook, or with
//! `--site` of a site), its evidence, and that no process the demo started outlives it;
//! and the lab's endpoint, `serve-http`, alone.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::util::{Output, Test, run_dir, summary};

/// The lab folder the demo names on stderr.
fn lab_dir(out: &Output) -> PathBuf {
    let line = out
        .stderr
        .lines()
        .find_map(|l| l.strip_prefix("demo: a lab of two halls in "))
        .unwrap_or_else(|| panic!("no lab line:\n{}", out.stderr));
    PathBuf::from(line.split(", each host").next().expect("path"))
}

/// Processes whose command line contains `needle` (read from /proc: no procps needed).
fn processes(needle: &str) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        if let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) {
            let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
            if cmdline.contains(needle) {
                found.push(format!(
                    "{}: {cmdline}",
                    entry.file_name().to_string_lossy()
                ));
            }
        }
    }
    found
}

/// The demo runs a switchover of its lab and then checks what it left; its evidence folder
/// is named `folder…`.
fn demo(extra: &[&str], folder: &str) -> (Output, PathBuf) {
    let mut args = vec!["demo", "--no-progress", "--evidence-dir", "drills"];
    args.extend(extra);
    let t = Test::new();
    // Only one live run per runbook at a time on a machine: a lock folder of its own
    // keeps this test from meeting a demo that runs elsewhere on the machine.
    let locks = t.path().join("locks").display().to_string();
    let started = Instant::now();
    let out = t
        .env("SWITCHYARD_LOCK_DIR", &locks)
        .args(&args)
        .run()
        .code(0);
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "the demo took {:?}",
        started.elapsed()
    );
    let lab = lab_dir(&out);
    // The demo has exited: every endpoint it started must be gone already.
    let left = processes(&lab.display().to_string());
    assert!(left.is_empty(), "left running: {left:#?}");

    let report = out
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("report: "))
        .unwrap_or_else(|| panic!("no report line:\n{}", out.stdout));
    let report = PathBuf::from(report);
    assert!(report.is_absolute(), "{}", report.display());
    assert!(report.is_file(), "{}", report.display());
    let dir = run_dir(&out);
    assert!(
        dir.starts_with(out.root.join("drills")),
        "{}",
        dir.display()
    );
    let name = dir.file_name().map(|n| n.to_string_lossy().into_owned());
    assert!(
        name.as_deref().is_some_and(|n| n.starts_with(folder)),
        "{name:?} is not {folder}…"
    );
    assert_eq!(
        report.parent().map(Path::canonicalize).and_then(Result::ok),
        dir.canonicalize().ok()
    );

    let s = summary(&dir);
    assert_eq!(s["outcome"], "passed", "{s:#}");
    assert_eq!(s["dry_run"], false);
    assert_eq!((&s["from"], &s["to"]), (&"a".into(), &"b".into()));
    assert_eq!(s["rto"]["met"], true);
    // A runbook's summary, or a site's with each runbook's inside.
    let runbooks: Vec<&Value> = match s["runbooks"].as_array() {
        Some(rbs) => {
            assert_eq!(s["schema"], "switchyard.site-summary/v1");
            assert_eq!(s["site"], "demo");
            for rb in rbs {
                assert_eq!(rb["status"], "recovered", "{rb:#}");
                assert_eq!(rb["rto"]["met"], true, "{rb:#}");
            }
            rbs.iter().collect()
        }
        None => {
            assert_eq!(s["runbook"], "demo");
            vec![&s]
        }
    };
    let all = |key: &str| -> Vec<Value> {
        runbooks
            .iter()
            .flat_map(|rb| rb[key].as_array().expect(key).iter().cloned())
            .collect()
    };
    let services = all("services");
    assert!(services.len() >= 3, "{services:#?}");
    for svc in &services {
        assert_eq!(svc["status"], "recovered", "{svc:#}");
        // The site demo's services have no targets of their own; the plain demo's do.
        if s["runbooks"].is_null() || !svc["rto"].is_null() {
            assert_eq!(svc["rto"]["met"], true, "{svc:#}");
        }
    }
    let steps = all("steps");
    for step in &steps {
        assert_eq!(step["status"], "ok", "{step:#}");
    }
    // Health really moved: hall a's endpoints were stopped and seen to go down, hall b's
    // started and seen healthy.
    let hosts = |phase: &str| -> Vec<&str> {
        steps
            .iter()
            .filter(|x| x["phase"] == phase)
            .map(|x| x["host"].as_str().expect("every step has a host"))
            .collect()
    };
    for (phase, hall) in [("stop", "-a"), ("start", "-b"), ("verify", "-b")] {
        let hosts = hosts(phase);
        assert!(hosts.len() >= 3, "{phase}: {hosts:?}");
        assert!(
            hosts.iter().all(|h| h.ends_with(hall)),
            "{phase}: {hosts:?}"
        );
    }

    Test::reuse(&out.root)
        .args(&["verify-evidence", &dir.display().to_string()])
        .run()
        .code(0);
    (out, lab)
}

#[test]
fn demo_switches_a_lab_live_writes_evidence_and_stops_what_it_started() {
    let (out, lab) = demo(&[], "demo-a-to-b-");
    assert!(!lab.exists(), "the lab is left in {}", lab.display());
    for host in ["db-a", "db-b", "cache-b", "app-b", "lb-b"] {
        assert!(out.stderr.contains(host), "{}", out.stderr);
    }
    assert!(out.stderr.contains("LIVE demo: a → b"), "{}", out.stderr);

    // Kept: the lab's files stay (the switch is in its state files), its processes do not.
    let (_, lab) = demo(&["--keep"], "demo-a-to-b-");
    let state = |host: &str| std::fs::read_to_string(lab.join("state").join(host)).ok();
    assert_eq!(state("db-a").as_deref(), Some("down\n"));
    assert_eq!(state("lb-b").as_deref(), Some("up\n"));
    // The bundled runbook is valid, and its worst case fits its RTO.
    let runbook = lab.join("runbooks/demo.toml").display().to_string();
    let plan = Test::new()
        .args(&["plan", &runbook, "--to", "b"])
        .run()
        .code(0);
    assert!(!plan.stderr.contains("exceeds"), "{}", plan.stderr);
    std::fs::remove_dir_all(&lab).expect("remove the kept lab");
}

/// The events of a run's journal, in order.
fn journal(dir: &Path) -> Vec<Value> {
    std::fs::read_to_string(dir.join("journal.jsonl"))
        .expect("journal.jsonl")
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON event"))
        .collect()
}

/// One step event of the journal: its `seq`, `ts`, step id and phase.
struct StepEvent {
    seq: u64,
    ts: String,
    step: String,
}

/// The `event` events of `runbook`'s steps in `phase`.
fn step_events(events: &[Value], event: &str, runbook: &str, phase: &str) -> Vec<StepEvent> {
    let found: Vec<StepEvent> = events
        .iter()
        .filter(|e| e["event"] == event && e["phase"] == phase)
        .filter(|e| {
            e["step"]
                .as_str()
                .is_some_and(|s| s.starts_with(&format!("{runbook}/")))
        })
        .map(|e| StepEvent {
            seq: e["seq"].as_u64().expect("seq"),
            ts: e["ts"].as_str().expect("ts").to_string(),
            step: e["step"].as_str().expect("step").to_string(),
        })
        .collect();
    assert!(!found.is_empty(), "no {event} of {runbook}'s {phase} steps");
    found
}

/// Every step of `later` began after the last step of `earlier` had ended, by the
/// journal's order and by its clock.
#[track_caller]
fn after(later: &[StepEvent], earlier: &[StepEvent]) {
    let last = earlier.iter().max_by_key(|e| e.seq).expect("an event");
    for e in later {
        assert!(
            e.seq > last.seq && e.ts >= last.ts,
            "{} began (seq {}, {}) before {} ended (seq {}, {})",
            e.step,
            e.seq,
            e.ts,
            last.step,
            last.seq,
            last.ts
        );
    }
}

#[test]
fn demo_site_switches_its_runbooks_in_the_order_their_requires_give() {
    let (out, lab) = demo(&["--site", "--keep"], "site-demo-a-to-b-");
    assert!(
        out.stderr.contains("demo: switching the site "),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("LIVE site demo (4 runbooks): a → b"),
        "{}",
        out.stderr
    );
    // stdout ends with a line per system, lowest tier first.
    let systems: Vec<&str> = out
        .stdout
        .lines()
        .filter(|l| l.starts_with("  tier "))
        .collect();
    assert_eq!(systems.len(), 4, "{}", out.stdout);
    assert!(systems[0].starts_with("  tier 0"), "{systems:?}");
    assert!(
        systems
            .iter()
            .all(|l| l.contains("recovered") && l.contains("(met)")),
        "{systems:?}"
    );
    for host in ["ns-a", "resolver-b", "ldap-b", "pg-b", "app-b", "web-b"] {
        assert!(out.stderr.contains(host), "{}", out.stderr);
    }
    let dir = run_dir(&out);
    let events = journal(&dir);
    let finished: Vec<&Value> = events
        .iter()
        .filter(|e| e["event"] == "step_finished")
        .collect();
    assert!(finished.len() >= 20, "{} steps finished", finished.len());
    for e in &finished {
        assert_eq!(e["status"], "ok", "{e:#}");
    }
    let started = |runbook, phase| step_events(&events, "step_started", runbook, phase);
    let ended = |runbook, phase| step_events(&events, "step_finished", runbook, phase);
    // The portal requires the directory, DNS and the database: it starts only once all
    // three have verified in hall b, and it was stopped before any of them.
    let portal_starts = started("demo-permits", "start");
    for required in ["demo-directory", "demo-dns", "demo-database"] {
        after(&portal_starts, &ended(required, "verify"));
        after(&started(required, "stop"), &ended("demo-permits", "stop"));
    }
    // The directory requires DNS.
    after(
        &started("demo-directory", "start"),
        &ended("demo-dns", "verify"),
    );
    after(
        &started("demo-dns", "stop"),
        &ended("demo-directory", "stop"),
    );

    // The bundled site is valid, and its worst case fits its RTO.
    let site = lab.join("sites/demo.toml").display().to_string();
    let plan = Test::new()
        .args(&["plan", &site, "--to", "b"])
        .run()
        .code(0);
    assert!(!plan.stderr.contains("exceeds"), "{}", plan.stderr);
    std::fs::remove_dir_all(&lab).expect("remove the kept lab");
}

#[test]
fn demo_refuses_an_inventory_of_the_users() {
    Test::new()
        .args(&["demo", "--inventory", "inventory/site.toml"])
        .run()
        .code(2)
        .stderr_has("--inventory does not apply");
}

/// `GET` or another request to `addr`; the status code and body.
fn request(addr: &str, line: &str) -> (u16, String) {
    let mut conn = TcpStream::connect(addr).expect("connect");
    write!(
        conn,
        "{line} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .expect("send");
    let mut response = String::new();
    conn.read_to_string(&mut response).expect("read");
    let status = response
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not HTTP: {response:?}"));
    let body = response.split("\r\n\r\n").nth(1).unwrap_or("").to_string();
    (status, body)
}

#[test]
fn serve_http_answers_health_from_its_state_file_and_ends_with_its_stdin() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let state = dir.path().join("state");
    std::fs::write(&state, "up\n").expect("write");
    let state_file = state.to_str().expect("UTF-8 path");
    let mut child = Test::reuse(dir.path()).start(
        &[
            "serve-http",
            "--listen",
            "127.0.0.1:0",
            "--state-file",
            state_file,
        ],
        Stdio::piped(),
        Stdio::piped(),
        Stdio::null(),
    );
    let mut first = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut first)
        .expect("read");
    let addr = first
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("first line: {first:?}"))
        .to_string();
    assert!(
        addr.starts_with("127.0.0.1:") && !addr.ends_with(":0"),
        "{addr}"
    );

    assert_eq!(request(&addr, "GET /health"), (200, "ok\n".into()));
    std::fs::write(&state, "down\n").expect("write");
    assert_eq!(request(&addr, "GET /health"), (503, "down\n".into()));
    std::fs::write(&state, "up").expect("write");
    assert_eq!(request(&addr, "GET /health?probe=1").0, 200);
    std::fs::remove_file(&state).expect("remove");
    assert_eq!(request(&addr, "GET /health").0, 503);
    assert_eq!(request(&addr, "GET /").0, 404);
    assert_eq!(request(&addr, "GET /healthz").0, 404);
    assert_eq!(request(&addr, "POST /health").0, 405);

    drop(child.stdin.take());
    let until = Instant::now() + Duration::from_secs(5);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if Instant::now() > until {
            let _ = child.kill();
            panic!("serve-http still running after its stdin closed");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    assert!(status.success(), "{status}");
}
