//! `switchyard plan` as people read it (snapshots of every format) and its edges:
//! secrets redacted, unknown halls, `--inventory` overrides, every error at once.

use crate::support::util::Test;

/// A small runbook that uses a secret, a var, `serial`, an HTTP check per host, and a
/// manual step, so every renderer has something of each kind to show.
const RUNBOOK: &str = r#"
[vars]
conf = "/etc/app/app.conf"

[secrets]
token = { env = "APP_TOKEN" }

[services.db]
title = "Database"
rto = "10m"
hosts = ["tag:db"]
[[services.db.precheck]]
name = "replica streams"
run = "psql -Atc 'select status from pg_stat_wal_receiver'"
expect_stdout = "streaming"
[[services.db.stop]]
name = "stop primary"
run = "pg_ctlcluster 15 main stop -m fast"
timeout = "1m"
[[services.db.start]]
name = "promote"
run = "pg_ctlcluster 15 main promote"
timeout = "2m"

[services.app]
hosts = ["group:front"]
depends_on = ["db"]
[[services.app.start]]
name = "start app"
run = "APP_TOKEN={{secrets.token}} appctl start --config {{vars.conf}} --hall {{target}}"
serial = 1
[[services.app.verify]]
name = "health"
http = "http://{{host.address}}:8080/health"
expect_body = "ok"
within = "1m"
[[services.app.verify]]
manual = "Ask the service desk to log in"
"#;

fn plan(format: &str) -> String {
    Test::new()
        .runbook(RUNBOOK)
        .args(&[
            "plan",
            "runbooks/test.toml",
            "--to",
            "b",
            "--format",
            format,
        ])
        .run()
        .code(0)
        .stdout
}

#[test]
fn every_format_renders_the_plan() {
    for format in ["text", "json", "dot", "mermaid"] {
        insta::assert_snapshot!(format!("plan-{format}"), plan(format));
    }
}

#[test]
fn secrets_are_redacted_and_never_read_for_a_plan() {
    let out = Test::new()
        .runbook(RUNBOOK)
        .args(&["plan", "runbooks/test.toml", "--to", "b"])
        .run()
        .code(0)
        .stdout_has("APP_TOKEN=[REDACTED:token] appctl start --config /etc/app/app.conf --hall b");
    assert!(!out.stdout.contains("{{secrets"), "{}", out.stdout);
}

#[test]
fn an_unknown_hall_is_a_usage_error_with_a_suggestion() {
    Test::new()
        .runbook(RUNBOOK)
        .args(&["plan", "runbooks/test.toml", "--to", "bb"])
        .run()
        .code(2)
        .stderr_has(
            "--to bb: runbook `test` switches between halls `a` and `b` (did you mean `b`?)",
        );
    Test::new()
        .runbook(RUNBOOK)
        .args(&["plan", "runbooks/test.toml", "--to", "b", "--from", "b"])
        .run()
        .code(2)
        .stderr_has("--from and --to are both `b`");
}

#[test]
fn an_extra_inventory_overrides_hosts_of_the_same_name() {
    let override_inventory = r#"
[hosts.db-b1]
address = "192.0.2.99"
hall = "b"
tags = ["db"]
"#;
    let json = Test::new()
        .runbook(RUNBOOK)
        .file("override.toml", override_inventory)
        .args(&[
            "plan",
            "runbooks/test.toml",
            "--to",
            "b",
            "--format",
            "json",
            "--inventory",
            "override.toml",
        ])
        .run()
        .code(0)
        .json();
    let health = json["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .find(|s| s["id"] == "db.start.1")
        .expect("db.start.1");
    assert_eq!(health["executions"][0]["host"], "db-b1");
    let verify = json["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .find(|s| s["id"] == "app.verify.1")
        .expect("app.verify.1");
    assert!(
        verify["executions"].to_string().contains("10.20.0.21"),
        "{verify}"
    );
    // The same host twice in the runbook's own files is an error naming both places.
    Test::new()
        .file("inventory/more.toml", override_inventory)
        .file(
            "runbooks/test.toml",
            format!(
                "[runbook]\nname = \"test\"\nrto = \"1h\"\ninventory = [\"../inventory/site.toml\", \"../inventory/more.toml\"]\n{RUNBOOK}"
            ),
        )
        .args(&["validate", "runbooks/test.toml"])
        .run()
        .code(2)
        .stderr_has("host `db-b1` is defined twice")
        .stderr_has("inventory/more.toml:2:8")
        .stderr_has("first defined here");
}

#[test]
fn every_problem_in_a_file_is_reported_at_once() {
    let body = r#"
[services.db]
hosts = ["tag:dbs"]
depends_on = ["web"]
[[services.db.stop]]
run = "stop"
timout = "60s"

[services.web]
hosts = ["tag:web"]
depends_on = ["db"]
[[services.web.verify]]
http = "http://{{host.adress}}/health"
within = "5s"
interval = "10s"
"#;
    let out = Test::new()
        .runbook(body)
        .args(&["validate", "runbooks/test.toml"])
        .run()
        .code(2);
    for expected in [
        "selector `tag:dbs` matches no host",
        "unknown key `timout`",
        "unknown placeholder `{{host.adress}}`",
        "`interval` is longer than `within`",
        "services depend on each other in a cycle: db -> web -> db",
        "5 errors found",
    ] {
        assert!(
            out.stderr.contains(expected),
            "missing {expected:?} in\n{}",
            out.stderr
        );
    }
}
