//! `switchyard run` end to end on local hosts and real HTTP servers: dry run and live,
//! failures, timeouts, polling, RTO, secrets, and the evidence each leaves.

use std::path::{Path, PathBuf};
use std::time::Duration;

use switchyard::evidence::journal;

use crate::support::http::HttpServer;
use crate::support::util::{LIVE, LOCAL_INVENTORY, Test, run_dir, step, summary, wait_until};

fn local(body: &str) -> Test {
    Test::new()
        .file("inventory/site.toml", LOCAL_INVENTORY)
        .runbook(body)
}

/// A chain of three services whose steps append to `log`, so the order can be read back.
fn chain(log: &Path) -> String {
    let log = log.display();
    let svc = |name: &str, deps: &str| {
        format!(
            r#"
[services.{name}]
hosts = ["tag:node"]
depends_on = [{deps}]
[[services.{name}.stop]]
run = "echo stop {name} {{{{host.name}}}} >> {log}"
[[services.{name}.start]]
run = "echo start {name} {{{{host.name}}}} >> {log}"
[[services.{name}.verify]]
run = "grep -q 'start {name} {{{{host.name}}}}' {log}"
"#
        )
    };
    [svc("web", "\"app\""), svc("app", "\"db\""), svc("db", "")].concat()
}

#[test]
fn a_dry_run_changes_nothing_and_plans_every_action() {
    let t = local("");
    let log = t.path().join("log");
    let t = t.runbook(&chain(&log));
    let out = t
        .args(&["run", "runbooks/test.toml", "--to", "b"])
        .run()
        .code(0);
    assert!(!log.exists(), "a dry run ran an action");
    let s = summary(&run_dir(&out));
    assert_eq!(s["dry_run"], true);
    assert_eq!(s["outcome"], "passed");
    assert!(
        s["steps"]
            .as_array()
            .expect("steps")
            .iter()
            .all(|x| x["status"] == "planned")
    );
    assert!(out.stderr.contains("DRY RUN of test"), "{}", out.stderr);
}

#[test]
fn a_live_switchover_and_its_failback_run_in_dependency_order() {
    let t = local("");
    let log = t.path().join("log");
    let t = t.runbook(&chain(&log));
    let out = t
        .args(&["run", "runbooks/test.toml", "--to", "b", "--live", "--yes"])
        .run()
        .code(0);
    let order = std::fs::read_to_string(&log).expect("log");
    assert_eq!(
        order.lines().collect::<Vec<_>>(),
        [
            "stop web node-a",
            "stop app node-a",
            "stop db node-a",
            "start db node-b",
            "start app node-b",
            "start web node-b"
        ]
    );
    let s = summary(&run_dir(&out));
    assert_eq!(s["outcome"], "passed");
    assert_eq!(s["services"].as_array().expect("services").len(), 3);
    assert!(
        s["services"]
            .as_array()
            .expect("services")
            .iter()
            .all(|x| x["status"] == "recovered")
    );
    std::fs::remove_file(&log).expect("rm log");
    Test::reuse(&out.root)
        .args(&["run", "runbooks/test.toml", "--to", "a", "--live", "--yes"])
        .run()
        .code(0);
    let back = std::fs::read_to_string(&log).expect("log");
    assert_eq!(back.lines().next(), Some("stop web node-b"));
    assert_eq!(back.lines().last(), Some("start web node-a"));
}

#[test]
fn a_failing_step_stops_the_run_names_host_step_and_cause_and_leaves_evidence() {
    let body = r#"
[services.db]
hosts = ["tag:node"]
[[services.db.stop]]
name = "stop primary"
run = "echo going down; exit 7"
[[services.db.start]]
run = "echo never"
"#;
    let t = local(body);
    let out = t
        .args(&["run", "runbooks/test.toml", "--to", "b", "--live", "--yes"])
        .run()
        .code(1);
    assert!(
        out.stderr
            .contains("step db.stop.1 on node-a: exited with 7, expected 0"),
        "{}",
        out.stderr
    );
    let dir = run_dir(&out);
    let s = summary(&dir);
    assert_eq!(s["outcome"], "failed");
    assert_eq!(step(&s, "db.stop.1")["status"], "failed");
    assert_eq!(step(&s, "db.stop.1")["exit_code"], 7);
    assert_eq!(step(&s, "db.start.1")["status"], "skipped");
    let stdout =
        std::fs::read_to_string(dir.join("output/db.stop.1.node-a.stdout")).expect("output");
    assert_eq!(stdout, "going down\n");
    let text = std::fs::read_to_string(dir.join("journal.jsonl")).expect("journal");
    let (events, last) = journal::verify(&text).expect("journal verifies");
    assert_eq!(s["journal"]["events"], events);
    assert_eq!(s["journal"]["last_hash"], last.as_str());
}

#[test]
fn a_command_past_its_timeout_is_stopped_and_retried() {
    let body = r#"
[services.app]
hosts = ["tag:node"]
[[services.app.start]]
run = "sleep 30"
timeout = "300ms"
retries = 1
retry_interval = "100ms"
"#;
    let t = local(body);
    let started = std::time::Instant::now();
    let out = t
        .args(&["run", "runbooks/test.toml", "--to", "b", "--live", "--yes"])
        .run()
        .code(1);
    assert!(started.elapsed() < Duration::from_secs(20));
    let s = summary(&run_dir(&out));
    assert_eq!(step(&s, "app.start.1")["attempts"], 2);
    assert!(
        step(&s, "app.start.1")["message"]
            .as_str()
            .expect("message")
            .contains("timed out after 300ms")
    );
}

#[test]
fn an_http_check_polls_until_the_server_comes_up() {
    let server = HttpServer::start(|n| {
        if n < 3 {
            (503, "starting".into())
        } else {
            (200, "ok".into())
        }
    });
    let body = format!(
        r#"
[services.web]
[[services.web.verify]]
http = "http://{}/health"
expect_body = "ok"
within = "10s"
interval = "200ms"
"#,
        server.addr
    );
    let t = local(&body);
    let out = t
        .args(&["run", "runbooks/test.toml", "--to", "b", "--live", "--yes"])
        .run()
        .code(0);
    assert_eq!(
        step(&summary(&run_dir(&out)), "web.verify.1")["attempts"],
        3
    );
    assert_eq!(server.hits.load(std::sync::atomic::Ordering::SeqCst), 3);
}

#[test]
fn expect_body_must_match() {
    let server = HttpServer::start(|_| (200, "maintenance".into()));
    let body = format!(
        "[services.web]\n[[services.web.verify]]\nhttp = \"http://{}/\"\nexpect_body = \"welcome\"\n",
        server.addr
    );
    let out = local(&body)
        .args(&["run", "runbooks/test.toml", "--to", "b", "--live", "--yes"])
        .run()
        .code(1);
    assert!(
        out.stderr
            .contains("answered 200 without \"welcome\" in its body"),
        "{}",
        out.stderr
    );
}

#[test]
fn consecutive_successes_are_needed_against_a_flapping_endpoint() {
    // 200, 500, 200, 500, 200, 200, 200: the first run of three successes ends at request 7.
    let server = HttpServer::start(|n| {
        if n == 2 || n == 4 {
            (500, "flap".into())
        } else {
            (200, "ok".into())
        }
    });
    let body = format!(
        "[services.web]\n[[services.web.verify]]\nhttp = \"http://{}/\"\nwithin = \"10s\"\ninterval = \"50ms\"\nconsecutive = 3\n",
        server.addr
    );
    let t = local(&body);
    let out = t
        .args(&["run", "runbooks/test.toml", "--to", "b", "--live", "--yes"])
        .run()
        .code(0);
    assert_eq!(
        step(&summary(&run_dir(&out)), "web.verify.1")["attempts"],
        7
    );
}

#[test]
fn a_missed_rto_exits_3() {
    let body = "[services.slow]\nrto = \"1s\"\n[[services.slow.start]]\nsleep = \"1500ms\"\n";
    let t = local(body);
    let out = t
        .args(&["run", "runbooks/test.toml", "--to", "b", "--live", "--yes"])
        .run()
        .code(3);
    let s = summary(&run_dir(&out));
    assert_eq!(s["outcome"], "rto_breached");
    assert_eq!(s["services"][0]["rto"]["met"], false);
}

#[test]
fn secrets_never_reach_the_evidence_or_the_output() {
    let body = r#"
[secrets]
token = { env = "SWITCHYARD_TEST_TOKEN" }

[services.app]
hosts = ["tag:node"]
[[services.app.start]]
run = "echo using {{secrets.token}}; echo {{secrets.token}} >&2; exit 1"
"#;
    let t = local(body);
    let out = t
        .env("SWITCHYARD_TEST_TOKEN", "hunter2 with 'quotes'")
        .args(&["run", "runbooks/test.toml", "--to", "b", "--live", "--yes"])
        .run()
        .code(1);
    let dir = run_dir(&out);
    for needle in ["hunter2", "quotes"] {
        assert_nowhere(needle, &out, &dir);
    }
    let stdout =
        std::fs::read_to_string(dir.join("output/app.start.1.node-b.stdout")).expect("output");
    assert_eq!(stdout, "using [REDACTED:token]\n");
}

/// A runbook with one service `app` on the local hosts, the secret `token` (from the
/// environment, set to `value`) and the steps `steps`.
fn with_secret(value: &str, steps: &str) -> Test {
    let body = format!(
        "[secrets]\ntoken = {{ env = \"SWITCHYARD_TEST_TOKEN\" }}\n\n[services.app]\nhosts = [\"tag:node\"]\n{steps}\n"
    );
    local(&body).env("SWITCHYARD_TEST_TOKEN", value)
}

/// `needle` is neither printed nor in any file of the run folder.
#[track_caller]
fn assert_nowhere(needle: &str, out: &crate::support::util::Output, dir: &Path) {
    assert!(
        !out.stdout.contains(needle) && !out.stderr.contains(needle),
        "{needle} printed:\n{}{}",
        out.stdout,
        out.stderr
    );
    for entry in walk(dir) {
        let text = String::from_utf8_lossy(&std::fs::read(&entry).expect("read")).into_owned();
        assert!(!text.contains(needle), "{needle} in {}", entry.display());
    }
}

#[test]
fn a_secret_cut_in_two_by_the_excerpt_leaves_no_piece_in_any_report() {
    // One line: the secret (28 bytes), then 2043 bytes. The excerpt keeps the last 2048
    // bytes, so its cut falls 5 bytes before the secret's end: cut before redaction, the
    // tail `8w7v6` stayed in the excerpt.
    let secret = "S3cr3tT0KEN1234567890zq8w7v6";
    let steps = r#"[[services.app.start]]
run = "printf '%s%s\\n' {{secrets.token}} \"$(head -c 2043 /dev/zero | tr '\\0' y)\"; exit 1""#;
    let out = with_secret(secret, steps).args(LIVE).run().code(1);
    let dir = run_dir(&out);
    for piece in ["8w7v6", "1234567890", "S3cr3t"] {
        assert_nowhere(piece, &out, &dir);
    }
    let s = summary(&dir);
    assert_eq!(step(&s, "app.start.1")["status"], "failed");
}

#[test]
fn a_secret_with_quotes_and_backslashes_in_expect_stdout_is_redacted_in_every_form() {
    // The failure message quotes the expected text as `"Pa\"ss\\Word42"`, an escaped form
    // of the secret that a search for the secret as read does not find.
    let steps = r#"[[services.app.verify]]
run = "echo nope"
expect_stdout = "{{secrets.token}}""#;
    let out = with_secret(r#"Pa"ss\Word42"#, steps)
        .args(LIVE)
        .run()
        .code(1);
    let dir = run_dir(&out);
    assert_nowhere("Word42", &out, &dir);
    let s = summary(&dir);
    let message = step(&s, "app.verify.1")["message"]
        .as_str()
        .expect("message");
    assert!(message.contains("[REDACTED:token]"), "{message}");
}

#[test]
fn a_secret_in_a_local_command_is_not_in_any_process_arguments() {
    let secret = "n0t-in-ps-7f3a9c";
    let steps = r#"[[services.app.start]]
run = "touch started; sleep 2; echo {{secrets.token}} > /dev/null""#;
    let t = with_secret(secret, steps).args(LIVE);
    let started = t.path().join("started");
    let mut child = t.spawn();
    wait_until("the command to start", || started.exists());
    let mut seen = Vec::new();
    while child.try_wait().expect("wait").is_none() {
        for proc_dir in std::fs::read_dir("/proc").expect("/proc").flatten() {
            let cmdline = std::fs::read(proc_dir.path().join("cmdline")).unwrap_or_default();
            if String::from_utf8_lossy(&cmdline).contains(secret) {
                seen.push(String::from_utf8_lossy(&cmdline).replace('\0', " "));
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(seen.is_empty(), "the secret is in `ps`: {seen:?}");
    let status = child.wait().expect("wait");
    assert_eq!(status.code(), Some(0));
}

fn walk_if_exists(dir: &Path) -> Vec<PathBuf> {
    if dir.is_dir() { walk(dir) } else { Vec::new() }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).expect("dir").flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p))
        } else {
            out.push(p)
        }
    }
    out
}

#[test]
fn a_live_run_without_a_terminal_needs_yes() {
    local("[services.s]\n[[services.s.start]]\nlocal = \"true\"\n")
        .args(&["run", "runbooks/test.toml", "--to", "b", "--live"])
        .run()
        .code(2)
        .stderr_has("a live run must be confirmed");
}

#[test]
fn an_evidence_folder_that_cannot_be_written_stops_the_run_before_anything_changes() {
    let t = local("");
    let marker = t.path().join("changed");
    let t = t
        .runbook(&format!(
            "[services.s]\n[[services.s.start]]\nlocal = \"touch {}\"\n",
            marker.display()
        ))
        .file("not-a-dir", "a file where the evidence folder should be");
    t.args(&[
        "run",
        "runbooks/test.toml",
        "--to",
        "b",
        "--live",
        "--yes",
        "--evidence-dir",
        "not-a-dir/evidence",
    ])
    .run()
    .code(2)
    .stderr_has("cannot create the evidence folder");
    assert!(!marker.exists());
}

#[test]
fn only_runs_the_named_services() {
    let t = local("");
    let log = t.path().join("log");
    let t = t.runbook(&chain(&log));
    let _out = t
        .args(&[
            "run",
            "runbooks/test.toml",
            "--to",
            "b",
            "--live",
            "--yes",
            "--only",
            "db",
        ])
        .run()
        .code(0);
    let order = std::fs::read_to_string(&log).expect("log");
    assert_eq!(
        order.lines().collect::<Vec<_>>(),
        ["stop db node-a", "start db node-b"]
    );
}

#[test]
fn ctrl_c_starts_no_new_step_lets_the_running_one_finish_and_exits_130() {
    let t = local("");
    let log = t.path().join("log");
    let body = format!(
        "[services.s]\nhosts = [\"tag:node\"]\n[[services.s.stop]]\nrun = \"sleep 1; echo first >> {log}\"\n[[services.s.start]]\nrun = \"echo second >> {log}\"\n",
        log = log.display()
    );
    let t = t.runbook(&body);
    let child = Test::reuse(t.path()).args(LIVE).spawn();
    // Wait until the first step is under way (the journal says so), however slow the start.
    wait_until("the first step to start", || {
        walk_if_exists(&t.path().join("evidence")).iter().any(|p| {
            p.ends_with("journal.jsonl")
                && std::fs::read_to_string(p).is_ok_and(|j| j.contains("step_started"))
        })
    });
    let pid = nix::unistd::Pid::from_raw(child.id() as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT).expect("SIGINT");
    let out = child.wait_with_output().expect("wait");
    assert_eq!(
        out.status.code(),
        Some(130),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(std::fs::read_to_string(&log).expect("log"), "first\n");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let dir = t
        .path()
        .join(stdout.rsplit("evidence in ").next().expect("dir").trim());
    let s = summary(&dir);
    assert_eq!(s["outcome"], "interrupted");
    assert_eq!(step(&s, "s.stop.1")["status"], "ok");
    assert_eq!(step(&s, "s.start.1")["status"], "skipped");
    journal::verify(&std::fs::read_to_string(dir.join("journal.jsonl")).expect("journal"))
        .expect("intact");
}

#[test]
fn an_http_step_sends_its_method_headers_and_body_and_checks_the_status() {
    let server = HttpServer::start(|_| (201, "created".into()));
    let body = format!(
        r#"
[secrets]
token = {{ env = "SWITCHYARD_TEST_TOKEN" }}

[services.lb]
[[services.lb.start]]
http = "http://{}/pools/{{{{target}}}}"
method = "PUT"
headers = {{ Authorization = "Bearer {{{{secrets.token}}}}", Content-Type = "application/json" }}
body = '{{"pool": "{{{{target}}}}"}}'
expect_status = [200, 201]
"#,
        server.addr
    );
    local(&body)
        .env("SWITCHYARD_TEST_TOKEN", "tok-123")
        .args(&["run", "runbooks/test.toml", "--to", "b", "--live", "--yes"])
        .run()
        .code(0);
    let req = server.last_request.lock().expect("lock").clone();
    assert!(req.starts_with("PUT /pools/b HTTP/1.1"), "{req}");
    assert!(
        req.to_ascii_lowercase()
            .contains("authorization: bearer tok-123"),
        "{req}"
    );
    assert!(req.ends_with(r#"{"pool": "b"}"#), "{req}");
}

#[test]
fn a_tcp_check_needs_a_listener() {
    let server = HttpServer::start(|_| (200, String::new()));
    let ok = format!(
        "[services.db]\n[[services.db.verify]]\ntcp = \"{}\"\n",
        server.addr
    );
    local(&ok)
        .args(&["run", "runbooks/test.toml", "--to", "b", "--live", "--yes"])
        .run()
        .code(0);
    let closed = format!(
        "[services.db]\n[[services.db.verify]]\ntcp = \"{}:9\"\ntimeout = \"1s\"\n",
        crate::support::http::loopback()
    );
    local(&closed)
        .args(&["run", "runbooks/test.toml", "--to", "b", "--live", "--yes"])
        .run()
        .code(1)
        .stderr_has("cannot connect to");
}

#[test]
fn serial_runs_one_host_at_a_time() {
    let t = local("");
    let log = t.path().join("log");
    let body = format!(
        "[services.s]\nhosts = [\"tag:node\"]\n[[services.s.start]]\non = \"both\"\nserial = 1\nrun = \"echo begin {{{{host.name}}}} >> {log}; sleep 0.3; echo end {{{{host.name}}}} >> {log}\"\n",
        log = log.display()
    );
    let _out = t
        .runbook(&body)
        .args(&["run", "runbooks/test.toml", "--to", "b", "--live", "--yes"])
        .run()
        .code(0);
    let lines: Vec<String> = std::fs::read_to_string(&log)
        .expect("log")
        .lines()
        .map(str::to_string)
        .collect();
    assert_eq!(lines.len(), 4);
    assert!(
        lines[0].starts_with("begin") && lines[1].starts_with("end"),
        "{lines:?}"
    );
    assert_eq!(
        lines[0].replace("begin", ""),
        lines[1].replace("end", ""),
        "{lines:?}"
    );
}

#[test]
fn continue_on_error_records_the_failure_and_goes_on() {
    let t = local("");
    let log = t.path().join("log");
    let body = format!(
        "[services.s]\nhosts = [\"tag:node\"]\n[[services.s.stop]]\nrun = \"exit 1\"\ncontinue_on_error = true\n[[services.s.start]]\nrun = \"echo started >> {}\"\n",
        log.display()
    );
    let out = t
        .runbook(&body)
        .args(&["run", "runbooks/test.toml", "--to", "b", "--live", "--yes"])
        .run()
        .code(0);
    assert_eq!(std::fs::read_to_string(&log).expect("log"), "started\n");
    let s = summary(&run_dir(&out));
    assert_eq!(step(&s, "s.stop.1")["status"], "failed");
    assert_eq!(step(&s, "s.start.1")["status"], "ok");
}

#[test]
fn the_documented_journal_check_passes_on_a_real_run_and_fails_on_an_edit() {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/evidence.md"))
        .expect("doc");
    let script = doc
        .split("```python\n")
        .nth(1)
        .and_then(|s| s.split("```").next())
        .expect("python block");
    let out =
        local("[services.s]\nhosts = [\"tag:node\"]\n[[services.s.start]]\nrun = \"echo hello\"\n")
            .args(&["run", "runbooks/test.toml", "--to", "b", "--live", "--yes"])
            .run()
            .code(0);
    let dir = run_dir(&out);
    let check = || {
        std::process::Command::new("python3")
            .arg("-c")
            .arg(script)
            .current_dir(&dir)
            .output()
            .expect("python3")
    };
    let ok = check();
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert!(String::from_utf8_lossy(&ok.stdout).contains("journal intact"));
    let path = dir.join("journal.jsonl");
    let edited =
        std::fs::read_to_string(&path)
            .expect("journal")
            .replacen("\"ok\"", "\"failed\"", 1);
    std::fs::write(&path, edited).expect("write");
    assert!(
        !check().status.success(),
        "an edited journal passed the documented check"
    );
}

#[test]
fn quiet_runs_show_only_failures() {
    let body = "[services.s]\nhosts = [\"tag:node\"]\n[[services.s.start]]\nrun = \"true\"\n";
    let out = local(body)
        .args(&[
            "-q",
            "run",
            "runbooks/test.toml",
            "--to",
            "b",
            "--live",
            "--yes",
        ])
        .run()
        .code(0);
    assert_eq!(
        out.stderr, "",
        "nothing but failures and questions under -q"
    );
    let body = "[services.s]\nhosts = [\"tag:node\"]\n[[services.s.start]]\nrun = \"exit 4\"\n";
    let out = local(body)
        .args(&[
            "-q",
            "run",
            "runbooks/test.toml",
            "--to",
            "b",
            "--live",
            "--yes",
        ])
        .run()
        .code(1)
        .stderr_has("FAILED  s.start.1 on node-b");
    assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
}

#[test]
fn a_check_keeps_trying_until_within_with_interval_from_start_to_start() {
    // Attempts start every 2 s (the default interval) and time out after 1 s: at 0 s and
    // 2 s, the second cut off by `within` at 3 s.
    let body = "[services.s]\nhosts = [\"tag:node\"]\n[[services.s.verify]]\nrun = \"sleep 5\"\ntimeout = \"1s\"\nwithin = \"3s\"\n";
    let out = local(body).args(LIVE).run().code(1);
    let s = summary(&run_dir(&out));
    let check = step(&s, "s.verify.1");
    assert_eq!(check["status"], "failed");
    assert_eq!(check["attempts"], 2, "{check}");
    let took = check["duration_s"].as_f64().expect("duration");
    assert!(
        (2.9..4.5).contains(&took),
        "gave up after {took} s: {check}"
    );
}

#[test]
fn a_closed_stderr_does_not_stop_a_run() {
    // `switchyard run … 2>&1 | head -3`, or a terminal that went away: the run goes on.
    let body = "[services.s]\nhosts = [\"tag:node\"]\n[[services.s.stop]]\nrun = \"sleep 0.3\"\n[[services.s.start]]\nrun = \"true\"\n";
    let t = local(body);
    let mut child = t.spawn_with(LIVE);
    drop(child.stderr.take());
    let out = child.wait_with_output().expect("wait");
    assert_eq!(out.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let dir = t
        .path()
        .join(stdout.rsplit("evidence in ").next().expect("dir").trim());
    assert_eq!(summary(&dir)["outcome"], "passed");
}
