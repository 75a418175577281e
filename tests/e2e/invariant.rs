//! Safety invariants end to end on local hosts: a flag file per host stands for "this
//! host is a writable primary". The checks run after the prechecks, after every action
//! step and at the end; a breach stops the run before any further step.

use std::path::Path;

use serde_json::Value;

use crate::support::evidence::assert_rebuilds;
use crate::support::util::{LIVE, LOCAL_INVENTORY, Test, run_dir, step, step_on, summary};

/// A runbook whose `db` promotes the target (and, with `stop`, first demotes the
/// source) and whose `lb` then switches the load balancer (a file).
fn runbook(dir: &Path, on_failure: &str, stop: bool, invariant_extra: &str) -> String {
    let d = dir.display();
    let stop = if stop {
        format!(
            "[[services.db.stop]]\nname = \"demote\"\nrun = \"rm -f {d}/{{{{host.name}}}}.writable\"\n"
        )
    } else {
        String::new()
    };
    format!(
        r#"
[runbook]
name = "test"
rto = "1h"
inventory = ["../inventory/site.toml"]
on_failure = "{on_failure}"

[[invariants]]
name = "never two writable primaries"
hosts = ["tag:node"]
run = "test -f {d}/{{{{host.name}}}}.writable && echo f"
expect_stdout = "f"
holds_on = "at_most_one"
{invariant_extra}

[services.db]
hosts = ["tag:node"]
{stop}
[[services.db.start]]
name = "promote"
run = "touch {d}/{{{{host.name}}}}.writable"

[services.lb]
depends_on = ["db"]
[[services.lb.start]]
name = "switch the load balancer"
local = "touch {d}/lb-switched"
"#
    )
}

fn setup(on_failure: &str, stop: bool) -> (Test, std::path::PathBuf) {
    let t = Test::new().file("inventory/site.toml", LOCAL_INVENTORY);
    let dir = t.path().to_path_buf();
    std::fs::write(dir.join("node-a.writable"), "").expect("flag");
    let t = t.file("runbooks/test.toml", runbook(&dir, on_failure, stop, ""));
    (t, dir)
}

/// The `invariant_checked` events of a run folder's journal.
pub fn checks(run: &Path) -> Vec<Value> {
    std::fs::read_to_string(run.join("journal.jsonl"))
        .expect("journal")
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).expect("JSON"))
        .filter(|e| e["event"] == "invariant_checked")
        .collect()
}

fn results(check: &Value) -> Vec<(String, String)> {
    check["hosts"]
        .as_array()
        .expect("hosts")
        .iter()
        .map(|h| {
            (
                h["host"].as_str().expect("host").to_string(),
                h["result"].as_str().expect("result").to_string(),
            )
        })
        .collect()
}

#[test]
fn invariant_promoting_without_stopping_the_source_breaches_before_the_next_step() {
    let (t, dir) = setup("abort", false);
    let out = t.args(LIVE).run().code(1);
    let run = run_dir(&out);
    let checks = checks(&run);
    let breach = checks
        .iter()
        .find(|c| c["holds"] == false)
        .unwrap_or_else(|| panic!("no breach: {checks:#?}"));
    assert_eq!(breach["name"], "never two writable primaries");
    assert_eq!(breach["after"], "db.start.1");
    assert_eq!(
        results(breach),
        [
            ("node-a".to_string(), "holds".to_string()),
            ("node-b".to_string(), "holds".to_string())
        ]
    );
    assert!(
        !dir.join("lb-switched").exists(),
        "the load balancer was switched after the breach"
    );
    let s = summary(&run);
    assert_eq!(s["outcome"], "failed");
    assert_eq!(step(&s, "lb.start.1")["status"], "skipped");
    assert_eq!(step_on(&s, "db.start.1", "node-b")["status"], "ok");
    assert!(
        out.stderr
            .contains("INVARIANT BREACHED `never two writable primaries` after db.start.1"),
        "{}",
        out.stderr
    );
}

fn switchyard(dir: &Path, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_switchyard"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("switchyard runs")
}

#[test]
fn invariant_a_clean_switchover_is_checked_after_the_prechecks_every_action_and_the_end() {
    let (t, dir) = setup("abort", true);
    let out = t.args(LIVE).run().code(0);
    let run = run_dir(&out);
    let checks = checks(&run);
    let after: Vec<&str> = checks
        .iter()
        .map(|c| c["after"].as_str().expect("after"))
        .collect();
    assert_eq!(
        after,
        ["prechecks", "db.stop.1", "db.start.1", "lb.start.1", "end"]
    );
    assert!(checks.iter().all(|c| c["holds"] == true), "{checks:#?}");
    // After the demote, nobody is writable; after the promote, only the target.
    assert_eq!(
        results(&checks[1]),
        [
            ("node-a".to_string(), "not".to_string()),
            ("node-b".to_string(), "not".to_string())
        ]
    );
    assert_eq!(
        results(&checks[4])[1],
        ("node-b".to_string(), "holds".to_string())
    );
    assert!(dir.join("lb-switched").exists());
    let s = summary(&run);
    assert_eq!(s["invariants"][0]["checks"], 5);
    assert_eq!(
        s["invariants"][0]["breaches"].as_array().map(Vec::len),
        Some(0)
    );
}

#[test]
fn invariant_a_breach_is_in_every_report_and_report_rebuilds_them_byte_for_byte() {
    let (t, _) = setup("abort", false);
    let out = t.args(LIVE).run().code(1);
    let run = run_dir(&out);
    let md = std::fs::read_to_string(run.join("report.md")).expect("report.md");
    assert!(md.contains("Safety invariant `never two writable primaries` was breached after db.start.1: 2 of 2 hosts hold (node-a, node-b), expected at_most_one. No further step started; the run stopped."), "{md}");
    assert!(md.contains("## Safety invariants"), "{md}");
    assert!(
        md.contains("### Breach: never two writable primaries after `db.start.1`"),
        "{md}"
    );
    assert!(md.contains("| node-b | holds | the check passed |"), "{md}");
    let html = std::fs::read_to_string(run.join("report.html")).expect("report.html");
    assert!(html.contains("<h2>Safety invariants</h2>"));
    assert!(html.contains("Breach: never two writable primaries after <code>db.start.1</code>"));
    let junit = std::fs::read_to_string(run.join("junit.xml")).expect("junit.xml");
    assert!(
        junit.contains("<testsuite name=\"test.invariants\" tests=\"1\" failures=\"1\""),
        "{junit}"
    );
    let s = summary(&run);
    let breach = &s["invariants"][0]["breaches"][0];
    assert_eq!(breach["after"], "db.start.1");
    assert_eq!(breach["hosts"][0]["result"], "holds");
    let folder = run.to_str().expect("UTF-8");
    assert_rebuilds(&run);
    let verified = switchyard(&run, &["verify-evidence", folder]);
    assert!(
        verified.status.success(),
        "{}",
        String::from_utf8_lossy(&verified.stdout)
    );
}

#[test]
fn invariant_a_breach_under_on_failure_rollback_rolls_back() {
    let t = Test::new().file("inventory/site.toml", LOCAL_INVENTORY);
    let dir = t.path().to_path_buf();
    std::fs::write(dir.join("node-a.writable"), "").expect("flag");
    // The demote forgets hall a: the switchover breaches; the rollback (b → a) demotes
    // b and promotes a again, and the invariant holds at its end.
    let d = dir.display();
    let body = runbook(&dir, "rollback", false, "").replace(
        "[[services.db.start]]",
        &format!(
            "[[services.db.stop]]\nname = \"demote\"\nrun = \"test {{{{host.hall}}}} = a || rm -f {d}/{{{{host.name}}}}.writable\"\n[[services.db.start]]"
        ),
    );
    let out = t.file("runbooks/test.toml", body).args(LIVE).run().code(1);
    let run = run_dir(&out);
    let s = summary(&run);
    assert_eq!(s["outcome"], "rolled_back", "{}", out.stderr);
    assert_eq!(step(&s, "lb.start.1")["status"], "skipped");
    assert_eq!(step_on(&s, "rollback.db.start.1", "node-a")["status"], "ok");
    let checks = checks(&run);
    let last = checks.last().expect("a check");
    assert_eq!(last["after"], "rollback.end");
    assert_eq!(last["holds"], true);
    assert!(!dir.join("node-b.writable").exists());
}

#[test]
fn invariant_a_breach_under_pause_with_yes_stops_the_run() {
    let (t, dir) = setup("pause", false);
    let out = t.args(LIVE).run().code(1);
    let run = run_dir(&out);
    let s = summary(&run);
    assert_eq!(s["outcome"], "failed");
    assert!(!dir.join("lb-switched").exists());
    let journal = std::fs::read_to_string(run.join("journal.jsonl")).expect("journal");
    let decision: Value = journal
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).expect("JSON"))
        .find(|e| e["event"] == "decision")
        .expect("a decision");
    assert_eq!(decision["step"], "invariant:never two writable primaries");
    assert_eq!(decision["choice"], "abort");
}

#[test]
fn invariant_a_breach_under_pause_is_asked_and_retry_checks_again() {
    let (t, dir) = setup("pause", false);
    // The operator demotes the source by hand, then answers `retry`: the check holds
    // and the run goes on.
    let (code, seen) = crate::incident::on_a_terminal(&t, "retry demoted a by hand", || {
        std::fs::remove_file(dir.join("node-a.writable")).expect("demote");
    });
    assert_eq!(code, 0, "{seen}");
    assert!(
        seen.contains("invariant `never two writable primaries` breached after db.start.1"),
        "{seen}"
    );
    assert!(dir.join("lb-switched").exists());
    let run = std::fs::read_dir(dir.join("evidence"))
        .expect("evidence")
        .flatten()
        .next()
        .expect("a run")
        .path();
    let after: Vec<(String, bool)> = checks(&run)
        .iter()
        .map(|c| {
            (
                c["after"].as_str().expect("after").to_string(),
                c["holds"] == true,
            )
        })
        .collect();
    assert_eq!(after[1], ("db.start.1".to_string(), false));
    assert_eq!(after[2], ("db.start.1".to_string(), true));
}

#[test]
fn invariant_a_dry_run_checks_once_after_the_prechecks() {
    let (t, dir) = setup("abort", false);
    let out = t
        .args(&["--no-progress", "run", "runbooks/test.toml", "--to", "b"])
        .run()
        .code(0);
    let checks = checks(&run_dir(&out));
    assert_eq!(checks.len(), 1, "{checks:#?}");
    assert_eq!(checks[0]["after"], "prechecks");
    assert_eq!(
        results(&checks[0]),
        [
            ("node-a".to_string(), "holds".to_string()),
            ("node-b".to_string(), "not".to_string())
        ]
    );
    assert!(!dir.join("node-b.writable").exists());
}

/// An invariant whose command hangs on the hall-a host, bounded by a 1 s timeout.
fn hanging(mode: &str) -> (i32, String, Vec<Value>, std::time::Duration) {
    let t = Test::new().file("inventory/site.toml", LOCAL_INVENTORY);
    let dir = t.path().to_path_buf();
    let body = runbook(&dir, "abort", true, "")
        .replace("holds_on = \"at_most_one\"", "holds_on = \"exactly_one\"");
    let body = body.replace(
        &format!(
            "run = \"test -f {}/{{{{host.name}}}}.writable && echo f\"",
            dir.display()
        ),
        "run = \"test {{host.hall}} = b || sleep 30\"\ntimeout = \"1s\"",
    );
    let body = body.replace("expect_stdout = \"f\"\n", "");
    let t = t.file("runbooks/test.toml", body);
    let started = std::time::Instant::now();
    let out = t
        .args(&[
            "--no-progress",
            "run",
            "runbooks/test.toml",
            "--to",
            "b",
            "--mode",
            mode,
        ])
        .run();
    let took = started.elapsed();
    let checks = checks(&run_dir(&out));
    (out.code, out.stderr, checks, took)
}

#[test]
fn invariant_a_hanging_check_is_unknown_after_its_timeout_a_breach_in_switchover() {
    let (code, _, checks, took) = hanging("switchover");
    assert_eq!(code, 1);
    assert!(took < std::time::Duration::from_secs(15), "took {took:?}");
    let c = &checks[0];
    assert_eq!(c["holds"], false);
    assert_eq!(c["hosts"][0]["host"], "node-a");
    assert_eq!(c["hosts"][0]["result"], "unknown");
    assert!(
        c["hosts"][0]["detail"]
            .as_str()
            .expect("detail")
            .contains("timed out after 1s"),
        "{c:#}"
    );
    assert!(
        c["message"]
            .as_str()
            .expect("message")
            .starts_with("unknown on node-a")
    );
}

#[test]
fn invariant_an_unknown_source_host_is_allowed_in_failover() {
    let (code, stderr, checks, _) = hanging("failover");
    assert_eq!(code, 0, "{stderr}");
    let c = &checks[0];
    assert_eq!(c["holds"], true);
    assert_eq!(c["hosts"][0]["result"], "unknown");
    assert!(
        c["hosts"][0]["detail"]
            .as_str()
            .expect("detail")
            .contains("left out of the count")
    );
}

#[test]
fn invariant_plan_lists_the_invariants_and_when_they_are_checked() {
    let (t, _) = setup("abort", true);
    let dir = t.path().to_path_buf();
    let text = switchyard(&dir, &["plan", "runbooks/test.toml", "--to", "b"]);
    let text = String::from_utf8_lossy(&text.stdout).to_string();
    assert!(
        text.contains("Safety invariants (checked after the prechecks"),
        "{text}"
    );
    assert!(
        text.contains("  never two writable primaries  (at_most_one, run per host, timeout 10s)"),
        "{text}"
    );
    assert!(
        text.contains("      checked after: prechecks, db.stop.1, db.start.1, lb.start.1, end"),
        "{text}"
    );
    let json = switchyard(
        &dir,
        &[
            "plan",
            "runbooks/test.toml",
            "--to",
            "b",
            "--format",
            "json",
        ],
    );
    let json: Value = serde_json::from_slice(&json.stdout).expect("JSON");
    let inv = &json["invariants"][0];
    assert_eq!(inv["holds_on"], "at_most_one");
    assert_eq!(inv["executions"][1]["host"], "node-b");
    assert_eq!(inv["checked_after"].as_array().map(Vec::len), Some(5));
}

#[test]
fn invariant_in_a_site_a_breach_stops_only_its_own_runbook() {
    let t = Test::new().file("inventory/site.toml", LOCAL_INVENTORY);
    let dir = t.path().to_path_buf();
    std::fs::write(dir.join("node-a.writable"), "").expect("flag");
    let pg = runbook(&dir, "abort", false, "").replace("name = \"test\"", "name = \"pg\"");
    let web = format!(
        r#"[runbook]
name = "web"
rto = "1h"
inventory = ["../inventory/site.toml"]
[services.web]
hosts = ["tag:node"]
[[services.web.stop]]
run = "true"
[[services.web.start]]
run = "touch {}/web-started"
"#,
        dir.display()
    );
    let site = "[site]\nname = \"town\"\nrto = \"1h\"\nrunbooks = [\"../runbooks/*.toml\"]\n\
                [systems.pg]\ntier = 0\n[systems.web]\ntier = 1\n";
    let out = t
        .file("runbooks/pg.toml", pg)
        .file("runbooks/web.toml", web)
        .file("sites/town.toml", site)
        .args(&[
            "--no-progress",
            "run",
            "sites/town.toml",
            "--to",
            "b",
            "--live",
            "--yes",
        ])
        .run()
        .code(1);
    let run = run_dir(&out);
    let s = summary(&run);
    let status = |name: &str| {
        s["runbooks"]
            .as_array()
            .expect("runbooks")
            .iter()
            .find(|r| r["runbook"] == name)
            .map(|r| r["status"].as_str().expect("status").to_string())
    };
    assert_eq!(status("pg").as_deref(), Some("failed"), "{}", out.stderr);
    assert_eq!(
        status("web").as_deref(),
        Some("recovered"),
        "{}",
        out.stderr
    );
    assert!(dir.join("web-started").exists());
    assert!(!dir.join("lb-switched").exists());
    let breach = checks(&run)
        .into_iter()
        .find(|c| c["holds"] == false)
        .expect("a breach");
    assert_eq!(breach["runbook"], "pg");
    assert_eq!(breach["after"], "pg/db.start.1");
    assert_eq!(s["invariants"][0]["runbook"], "pg");
}

#[test]
fn invariant_a_resumed_run_checks_again_at_once() {
    let (t, dir) = setup("abort", true);
    // The promote takes a while: the run is killed during it.
    let body = std::fs::read_to_string(dir.join("runbooks/test.toml"))
        .expect("runbook")
        .replace(
            &format!(
                "run = \"touch {}/{{{{host.name}}}}.writable\"",
                dir.display()
            ),
            &format!(
                "run = \"touch {d}/{{{{host.name}}}}.writable; touch {d}/promoting; sleep 2\"",
                d = dir.display()
            ),
        );
    let t = t.file("runbooks/test.toml", body);
    let promoting = dir.join("promoting");
    let run = crate::support::runs::kill_when(&t, LIVE, "db.start.1", |_| promoting.exists());
    let before: Vec<String> = checks(&run)
        .iter()
        .map(|c| c["after"].as_str().expect("after").to_string())
        .collect();
    assert_eq!(before, ["prechecks", "db.stop.1"]);
    let out = crate::support::runs::resume(&run).code(0);
    let after: Vec<String> = checks(&run)
        .iter()
        .map(|c| c["after"].as_str().expect("after").to_string())
        .collect();
    assert_eq!(
        after,
        [
            "prechecks",
            "db.stop.1",
            "resume",
            "db.start.1",
            "lb.start.1",
            "end"
        ],
        "{}",
        out.stderr
    );
    assert_eq!(summary(&run)["invariants"][0]["checks"], 6);
}

/// An SSH host of hall a that nobody answers (a closed port), among the checked hosts.
fn with_a_vanished_host(mode: &str) -> (i32, String, Vec<Value>) {
    let inventory = format!(
        "{LOCAL_INVENTORY}[hosts.gone-a]\naddress = \"127.0.0.1\"\nport = 1\nhall = \"a\"\ntags = [\"gone\"]\nconnect_timeout = \"2s\"\n"
    );
    let t = Test::new().file("inventory/site.toml", inventory);
    let dir = t.path().to_path_buf();
    let body = runbook(&dir, "abort", true, "")
        .replace(
            "hosts = [\"tag:node\"]\nrun = \"test -f",
            "hosts = [\"tag:node\", \"tag:gone\"]\nrun = \"test -f",
        )
        .replace("holds_on = \"at_most_one\"", "holds_on = \"none\"");
    let out = t
        .file("runbooks/test.toml", body)
        .args(&[
            "--no-progress",
            "run",
            "runbooks/test.toml",
            "--to",
            "b",
            "--mode",
            mode,
        ])
        .run();
    let checks = checks(&run_dir(&out));
    (out.code, out.stderr, checks)
}

#[test]
fn invariant_a_host_that_cannot_be_reached_is_unknown() {
    let (code, stderr, checks) = with_a_vanished_host("switchover");
    assert_eq!(code, 1, "{stderr}");
    let c = &checks[0];
    let gone = c["hosts"]
        .as_array()
        .expect("hosts")
        .iter()
        .find(|h| h["host"] == "gone-a")
        .expect("gone-a")
        .clone();
    assert_eq!(gone["result"], "unknown", "{c:#}");
    assert!(
        gone["detail"]
            .as_str()
            .expect("detail")
            .contains("127.0.0.1"),
        "{gone}"
    );
    let (code, stderr, checks) = with_a_vanished_host("failover");
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(checks[0]["holds"], true, "{:#}", checks[0]);
}

/// A dry run whose invariant asks each host's HTTP endpoint for its role; `a` and `b`
/// are what the hosts of hall a and hall b answer.
fn http_roles(a: &'static str, b: &'static str) -> (i32, Vec<Value>) {
    use crate::support::http::HttpServer;
    let server_a = HttpServer::start(move |_| (200, a.to_string()));
    let server_b = HttpServer::start(move |_| (200, b.to_string()));
    let inventory = format!(
        "[halls.a]\n[halls.b]\n[hosts.node-a]\ntransport = \"local\"\nhall = \"a\"\naddress = \"{}\"\ntags = [\"node\"]\n\
         [hosts.node-b]\ntransport = \"local\"\nhall = \"b\"\naddress = \"{}\"\ntags = [\"node\"]\n",
        server_a.addr, server_b.addr
    );
    let body = format!(
        r#"{}
[[invariants]]
name = "exactly one primary answers"
hosts = ["tag:node"]
http = "http://{{{{host.address}}}}/role"
expect_body = "primary"
timeout = "2s"
holds_on = "exactly_one"

[services.db]
hosts = ["tag:node"]
[[services.db.start]]
run = "true"
"#,
        crate::support::util::HEADER
    );
    let out = Test::new()
        .file("inventory/site.toml", inventory)
        .file("runbooks/test.toml", body)
        .args(&["--no-progress", "run", "runbooks/test.toml", "--to", "b"])
        .run();
    (out.code, checks(&run_dir(&out)))
}

#[test]
fn invariant_an_http_check_runs_on_every_host() {
    let (code, checks) = http_roles("primary", "replica");
    assert_eq!(code, 0, "{checks:#?}");
    assert_eq!(
        results(&checks[0]),
        [
            ("node-a".to_string(), "holds".to_string()),
            ("node-b".to_string(), "not".to_string())
        ]
    );
    let (code, checks) = http_roles("primary", "primary");
    assert_eq!(code, 1);
    assert_eq!(checks[0]["holds"], false);
}
