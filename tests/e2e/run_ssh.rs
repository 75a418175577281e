//! `switchyard run` over SSH to real OpenSSH servers on loopback: a live switchover, a
//! dry run that only logs in, failover with the source hall's sshd stopped, and the
//! same outage in switchover mode.

use std::path::Path;

use serde_json::Value;

use crate::support::sshd::{INVENTORY_HEAD, Sshd};
use crate::support::util::step_on;
use crate::support::util::{LIVE, Output, Test};

/// An inventory with one SSH host per hall, each its own sshd.
fn inventory(a: &Sshd, b: &Sshd) -> String {
    format!(
        "{INVENTORY_HEAD}{}{}",
        a.inventory_host("db-a", "a", "db"),
        b.inventory_host("db-b", "b", "db")
    )
}

/// A service whose stop and start steps append to `log` on whichever host they run; its
/// stop runs `on` the `stop_on` hall(s).
fn runbook(log: &Path, stop_on: &str) -> String {
    let log = log.display();
    format!(
        r#"
[services.db]
hosts = ["tag:db"]
[[services.db.precheck]]
name = "target is up"
run = "test -d /"
[[services.db.stop]]
name = "stop"
on = "{stop_on}"
run = "echo stop {{{{host.name}}}} >> {log}"
[[services.db.start]]
name = "start"
run = "echo start {{{{host.name}}}} >> {log}"
[[services.db.verify]]
name = "started"
run = "grep -q 'start {{{{host.name}}}}' {log}"
"#
    )
}

fn summary(out: &Output) -> Value {
    crate::support::util::summary(&crate::support::util::run_dir(out))
}

fn status<'a>(s: &'a Value, id: &str) -> &'a Value {
    &crate::support::util::step(s, id)["status"]
}

fn project(a: &Sshd, b: &Sshd) -> (Test, std::path::PathBuf) {
    let t = Test::new().file("inventory/site.toml", inventory(a, b));
    let log = t.path().join("log");
    let t = t.runbook(&runbook(&log, "source"));
    (t, log)
}

#[test]
fn a_live_switchover_runs_each_step_on_its_hall_over_ssh() {
    let (a, b) = (Sshd::start(), Sshd::start());
    let (t, log) = project(&a, &b);
    let out = t.args(LIVE).run().code(0);
    assert_eq!(
        std::fs::read_to_string(&log).expect("log"),
        "stop db-a\nstart db-b\n"
    );
    let s = summary(&out);
    assert_eq!(s["outcome"], "passed");
    assert_eq!(s["services"][0]["status"], "recovered");
    // One login per host, however many steps ran there.
    assert_eq!(a.logins(), 1);
    assert_eq!(b.logins(), 1);
    // Failback: the same runbook the other way.
    std::fs::remove_file(&log).expect("rm log");
    crate::support::util::Test::reuse(&out.root)
        .args(&[
            "--no-progress",
            "run",
            "runbooks/test.toml",
            "--to",
            "a",
            "--live",
            "--yes",
        ])
        .run()
        .code(0);
    assert_eq!(
        std::fs::read_to_string(&log).expect("log"),
        "stop db-b\nstart db-a\n"
    );
}

#[test]
fn a_dry_run_logs_in_everywhere_and_changes_nothing() {
    let (a, b) = (Sshd::start(), Sshd::start());
    let (t, log) = project(&a, &b);
    let out = t
        .args(&["--no-progress", "run", "runbooks/test.toml", "--to", "b"])
        .run()
        .code(0);
    assert!(!log.exists(), "a dry run ran an action");
    assert_eq!(
        a.logins(),
        1,
        "the dry run did not log in to the source host"
    );
    let s = summary(&out);
    assert_eq!(s["hosts"].as_array().expect("hosts").len(), 2);
    assert_eq!(status(&s, "db.precheck.1"), "ok");
    assert_eq!(status(&s, "db.stop.1"), "planned");
}

#[test]
fn a_dry_run_with_an_unreachable_host_fails_and_names_it() {
    let (a, b) = (Sshd::start(), Sshd::start());
    let (t, _log) = project(&a, &b);
    drop(a);
    let out = t
        .args(&["--no-progress", "run", "runbooks/test.toml", "--to", "b"])
        .run()
        .code(1);
    assert!(out.stderr.contains("UNREACHABLE db-a"), "{}", out.stderr);
    assert_eq!(summary(&out)["outcome"], "failed");
}

#[test]
fn failover_with_the_source_hall_down_records_source_unreachable_and_passes() {
    let (a, b) = (Sshd::start(), Sshd::start());
    let (t, log) = project(&a, &b);
    let lost = a.address.clone();
    drop(a);
    let failover = ["--mode", "failover"];
    let out = t.args(LIVE).args(&failover).run().code(0);
    assert_eq!(std::fs::read_to_string(&log).expect("log"), "start db-b\n");
    let s = summary(&out);
    assert_eq!(status(&s, "db.stop.1"), "source_unreachable");
    assert_eq!(status(&s, "db.start.1"), "ok");
    assert_eq!(s["outcome"], "passed");

    // A dry run checks every host it will touch (db-a, for the stop on the source) and
    // runs the precheck on db-b: the lost source host is expected, not a failure.
    let dry = Test::reuse(&out.root)
        .args(&["--no-progress", "run", "runbooks/test.toml", "--to", "b"])
        .args(&failover)
        .run()
        .code(0);
    let s = summary(&dry);
    assert_eq!(s["outcome"], "passed");
    assert_eq!(status(&s, "db.precheck.1"), "ok");
    let host = s["hosts"]
        .as_array()
        .expect("hosts")
        .iter()
        .find(|h| h["host"] == "db-a")
        .unwrap_or_else(|| panic!("db-a was not checked: {s}"));
    let m = host["message"].as_str().unwrap_or_default();
    assert!(
        m.starts_with("source host unreachable, as expected in failover: ") && m.contains(&lost),
        "{host}"
    );
    assert!(
        dry.stderr
            .contains("UNREACHABLE db-a: source host unreachable, as expected in failover"),
        "{}",
        dry.stderr
    );

    // A stop `on = "both"` selects the source hall's host too: it is as lost.
    std::fs::remove_file(&log).expect("rm log");
    let both = Test::reuse(&out.root)
        .runbook(&runbook(&log, "both"))
        .args(LIVE)
        .args(&failover)
        .run()
        .code(0);
    let s = summary(&both);
    assert_eq!(s["outcome"], "passed");
    assert_eq!(
        step_on(&s, "db.stop.1", "db-a")["status"],
        "source_unreachable"
    );
    assert_eq!(step_on(&s, "db.stop.1", "db-b")["status"], "ok");
    assert_eq!(
        std::fs::read_to_string(&log).expect("log"),
        "stop db-b\nstart db-b\n"
    );
}

#[test]
fn the_same_outage_in_a_switchover_fails_naming_host_step_and_cause() {
    let (a, b) = (Sshd::start(), Sshd::start());
    let (t, log) = project(&a, &b);
    drop(a);
    let out = t.args(LIVE).run().code(1);
    assert!(
        out.stderr
            .contains("step db.stop.1 on db-a: cannot connect to"),
        "{}",
        out.stderr
    );
    assert!(!log.exists(), "nothing may start after the stop failed");
    assert_eq!(status(&summary(&out), "db.start.1"), "skipped");
}

#[test]
fn check_inventory_logs_in_to_every_ssh_host_and_names_the_one_it_cannot_reach() {
    let (a, b) = (Sshd::start(), Sshd::start());
    let t = Test::new().file("inventory/site.toml", inventory(&a, &b));
    let dir = t.path().to_path_buf();
    let out = t.args(&["check-inventory"]).run().code(0);
    for (name, sshd) in [("db-a", &a), ("db-b", &b)] {
        let line = format!("ok    {name}  {}:{}", sshd.address, sshd.port);
        assert!(out.stdout.contains(&line), "{line:?} in:\n{}", out.stdout);
    }
    assert_eq!((a.logins(), b.logins()), (1, 1));
    let b_address = b.address.clone();
    drop(b);
    let out = Test::reuse(&dir).args(&["check-inventory"]).run().code(1);
    let out = out
        .stdout_has("ok    db-a")
        .stderr_has("1 of 2 hosts cannot be reached");
    assert!(
        out.stdout.contains("FAIL  db-b") && out.stdout.contains(&b_address),
        "{}",
        out.stdout
    );
}

#[test]
fn check_inventory_logs_in_with_a_key_that_only_ssh_agent_holds() {
    let sshd = Sshd::start();
    let t = Test::new();
    let socket = t.path().join("agent.sock");
    let mut agent = std::process::Command::new("ssh-agent")
        .arg("-D")
        .arg("-a")
        .arg(&socket)
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("ssh-agent (openssh-client) runs");
    let until = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while !socket.exists() && std::time::Instant::now() < until {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let added = std::process::Command::new("ssh-add")
        .arg(&sshd.identity_file)
        .env("SSH_AUTH_SOCK", &socket)
        .output()
        .expect("ssh-add runs");
    assert!(added.status.success(), "{added:?}");
    // No identity_file, and a home without keys: only the agent can log in.
    let host = format!(
        "[hosts.db-a]\naddress = \"{}\"\nport = {}\nhall = \"a\"\nknown_hosts = \"{}\"\n",
        sshd.address,
        sshd.port,
        sshd.known_hosts.display()
    );
    let home = t.path().join("home");
    std::fs::create_dir_all(&home).expect("home");
    let out = t
        .file("inventory/site.toml", format!("{INVENTORY_HEAD}{host}"))
        .env("SSH_AUTH_SOCK", &socket.display().to_string())
        .env("HOME", &home.display().to_string())
        .args(&["check-inventory"])
        .run();
    let _ = agent.kill();
    let _ = agent.wait();
    out.code(0).stdout_has("ok    db-a");
    assert_eq!(sshd.logins(), 1);
}
