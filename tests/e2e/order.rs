//! The derived order (spec §3 "Order"), checked on small runbooks whose waves, critical
//! path and worst case are worked out by hand in the comments.

use serde_json::Value;

use crate::support::util::plan_json;

fn ids(v: &Value) -> Vec<String> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| x.as_str().expect("string").to_string())
        .collect()
}

fn waves(plan: &Value) -> Vec<Vec<String>> {
    plan["waves"]
        .as_array()
        .expect("waves")
        .iter()
        .map(ids)
        .collect()
}

fn step<'a>(plan: &'a Value, id: &str) -> &'a Value {
    plan["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .find(|s| s["id"] == id)
        .unwrap_or_else(|| panic!("no step {id}"))
}

fn deps(plan: &Value, id: &str) -> Vec<String> {
    let mut d = ids(&step(plan, id)["depends_on"]);
    d.sort();
    d
}

fn hosts(plan: &Value, id: &str) -> Vec<String> {
    step(plan, id)["executions"]
        .as_array()
        .expect("executions")
        .iter()
        .map(|e| e["host"].as_str().unwrap_or("-").to_string())
        .collect()
}

/// Three services, each with stop (60s), start (120s) and verify (within 30s).
fn service(name: &str, deps: &[&str], tag: &str) -> String {
    let deps: Vec<String> = deps.iter().map(|d| format!("{d:?}")).collect();
    format!(
        r#"
[services.{name}]
hosts = ["tag:{tag}"]
depends_on = [{}]
[[services.{name}.stop]]
run = "systemctl stop {name}"
timeout = "60s"
[[services.{name}.start]]
run = "systemctl start {name}"
timeout = "2m"
[[services.{name}.verify]]
run = "systemctl is-active {name}"
within = "30s"
"#,
        deps.join(", ")
    )
}

#[test]
fn a_chain_stops_dependents_first_and_starts_dependencies_first() {
    let body = [
        service("web", &["app"], "web"),
        service("app", &["db"], "app"),
        service("db", &[], "db"),
    ]
    .concat();
    let plan = plan_json(&body, &[]);
    let expected: Vec<Vec<String>> = [
        "web.stop.1",
        "app.stop.1",
        "db.stop.1",
        "db.start.1",
        "db.verify.1",
        "app.start.1",
        "app.verify.1",
        "web.start.1",
        "web.verify.1",
    ]
    .iter()
    .map(|s| vec![s.to_string()])
    .collect();
    assert_eq!(waves(&plan), expected);
    // 3 × 60 (stops) + 3 × 120 (starts) + 3 × 30 (verifies) = 630 s, all on one path.
    assert_eq!(plan["rto"]["worst_case_s"], 630.0);
    assert_eq!(ids(&plan["critical_path"]).len(), 9);
    // db is recovered after the three stops, its start and its verify: 180 + 120 + 30.
    let db = plan["services"]
        .as_array()
        .expect("services")
        .iter()
        .find(|s| s["name"] == "db")
        .expect("db");
    assert_eq!(db["rto"]["worst_case_s"], 330.0);
    assert_eq!(deps(&plan, "app.start.1"), ["app.stop.1", "db.verify.1"]);
}

#[test]
fn a_diamond_waits_for_both_branches_and_its_critical_path_takes_the_longer() {
    let body = r#"
[services.db]
hosts = ["tag:db"]
[[services.db.start]]
run = "start db"
timeout = "10s"

[services.left]
hosts = ["tag:app"]
depends_on = ["db"]
[[services.left.start]]
run = "start left"
timeout = "100s"

[services.right]
hosts = ["tag:app"]
depends_on = ["db"]
[[services.right.start]]
run = "start right"
timeout = "200s"

[services.top]
hosts = ["tag:web"]
depends_on = ["left", "right"]
[[services.top.start]]
run = "start top"
timeout = "5s"
"#;
    let plan = plan_json(body, &[]);
    assert_eq!(
        waves(&plan),
        vec![
            vec!["db.start.1".to_string()],
            vec!["left.start.1".into(), "right.start.1".into()],
            vec!["top.start.1".into()]
        ]
    );
    assert_eq!(
        deps(&plan, "top.start.1"),
        ["left.start.1", "right.start.1"]
    );
    assert_eq!(
        ids(&plan["critical_path"]),
        ["db.start.1", "right.start.1", "top.start.1"]
    );
    // 10 + max(100, 200) + 5
    assert_eq!(plan["rto"]["worst_case_s"], 215.0);
}

#[test]
fn independent_services_run_in_parallel_after_every_precheck() {
    let body = r#"
[services.x]
hosts = ["tag:app"]
[[services.x.precheck]]
run = "check x"
[[services.x.stop]]
run = "stop x"
[[services.x.start]]
run = "start x"

[services.y]
hosts = ["tag:db"]
[[services.y.precheck]]
run = "check y one"
[[services.y.precheck]]
run = "check y two"
[[services.y.stop]]
run = "stop y"
[[services.y.start]]
run = "start y"
"#;
    let plan = plan_json(body, &[]);
    let w = waves(&plan);
    assert_eq!(w[0], ["x.precheck.1", "y.precheck.1"]);
    assert_eq!(w[1], ["y.precheck.2"]);
    // Rule 1: no stop begins before every precheck passed, even x's own shorter chain.
    assert_eq!(w[2], ["x.stop.1", "y.stop.1"]);
    assert_eq!(w[3], ["x.start.1", "y.start.1"]);
    assert_eq!(deps(&plan, "x.stop.1"), ["prechecks-passed"]);
    let gate = &plan["gates"].as_array().expect("gates")[0];
    assert_eq!(gate["id"], "prechecks-passed");
    assert_eq!(ids(&gate["after"]), ["x.precheck.1", "y.precheck.2"]);
}

#[test]
fn failback_runs_the_same_runbook_the_other_way() {
    let body = service("db", &[], "db");
    let forward = plan_json(&body, &["--to", "b"]);
    assert_eq!(hosts(&forward, "db.stop.1"), ["db-a1"]);
    assert_eq!(hosts(&forward, "db.start.1"), ["db-b1"]);
    let back = plan_json(&body, &["--to", "a"]);
    assert_eq!(
        (back["from"].as_str(), back["to"].as_str()),
        (Some("b"), Some("a"))
    );
    assert_eq!(hosts(&back, "db.stop.1"), ["db-b1"]);
    assert_eq!(hosts(&back, "db.start.1"), ["db-a1"]);
    assert_eq!(hosts(&back, "db.verify.1"), ["db-a1"]);
}

#[test]
fn failover_skips_source_prechecks_and_checks_only_the_target_side_of_both() {
    let body = r#"
[services.db]
hosts = ["tag:db"]
[[services.db.precheck]]
name = "source is primary"
run = "is-primary"
on = "source"
[[services.db.precheck]]
name = "both halls have disk"
run = "df /var/lib/postgresql"
on = "both"
[[services.db.stop]]
run = "stop"
[[services.db.start]]
run = "promote"
"#;
    let switchover = plan_json(body, &[]);
    assert_eq!(hosts(&switchover, "db.precheck.2"), ["db-a1", "db-b1"]);
    let failover = plan_json(body, &["--mode", "failover"]);
    assert_eq!(failover["mode"], "failover");
    let skipped = failover["skipped"].as_array().expect("skipped");
    assert_eq!(skipped.len(), 1);
    assert_eq!(skipped[0]["id"], "db.precheck.1");
    assert_eq!(hosts(&failover, "db.precheck.2"), ["db-b1"]);
    // Source-side actions stay in the plan: they are tried, and may find the host gone.
    assert_eq!(hosts(&failover, "db.stop.1"), ["db-a1"]);
}

#[test]
fn a_service_without_a_stop_phase_still_orders_the_stops_around_it() {
    // web -> app -> db, but app has nothing to stop: db still stops after web.
    let body = r#"
[services.web]
hosts = ["tag:web"]
depends_on = ["app"]
[[services.web.stop]]
run = "stop web"
[[services.web.start]]
run = "start web"

[services.app]
hosts = ["tag:app"]
depends_on = ["db"]
[[services.app.start]]
run = "start app"

[services.db]
hosts = ["tag:db"]
[[services.db.stop]]
run = "stop db"
[[services.db.start]]
run = "start db"
"#;
    let plan = plan_json(body, &[]);
    assert_eq!(deps(&plan, "db.stop.1"), ["app.stopped"]);
    let order: Vec<String> = waves(&plan).concat();
    let pos = |id: &str| order.iter().position(|x| x == id).expect(id);
    assert!(pos("web.stop.1") < pos("db.stop.1"));
    assert!(pos("db.start.1") < pos("app.start.1"));
    assert!(pos("app.start.1") < pos("web.start.1"));
}

#[test]
fn worst_case_counts_attempts_retry_intervals_within_and_serial_batches() {
    let body = r#"
[services.app]
rto = "1m"
hosts = ["tag:app"]
[[services.app.start]]
name = "flaky start"
run = "start"
timeout = "10s"
retries = 2
retry_interval = "5s"
on = "both"
serial = 1
[[services.app.verify]]
name = "healthy"
run = "check"
within = "45s"
interval = "5s"
[[services.app.verify]]
name = "settle"
sleep = "7s"
[[services.app.verify]]
manual = "Ask the service desk to log in"
"#;
    let plan = plan_json(body, &[]);
    // (10 × 3 attempts + 5 × 2 retry intervals) × 2 hosts one at a time = 80
    assert_eq!(step(&plan, "app.start.1")["worst_case_s"], 80.0);
    assert_eq!(step(&plan, "app.start.1")["attempts"], 3);
    assert_eq!(step(&plan, "app.verify.1")["worst_case_s"], 45.0);
    assert_eq!(step(&plan, "app.verify.2")["worst_case_s"], 7.0);
    assert_eq!(step(&plan, "app.verify.3")["worst_case_s"], 0.0);
    // 80 + 45 + 7 against a service target of 1m.
    let app = &plan["services"][0]["rto"];
    assert_eq!(app["worst_case_s"], 132.0);
    assert_eq!(app["target_s"], 60.0);
    assert_eq!(app["exceeded"], true);
    let warnings = ids(&plan["warnings"]);
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("service `app`: worst case 2m 12s exceeds its RTO target of 1m")),
        "{warnings:?}"
    );
}

#[test]
fn a_step_on_both_halls_may_have_its_hosts_in_one_hall_only() {
    // The load balancer lives in hall b; a step on both halls runs there in either direction.
    let body = r#"
[services.lb]
hosts = ["web-b1"]
[[services.lb.start]]
run = "reload"
on = "both"
"#;
    let there = plan_json(body, &["--to", "b"]);
    let back = plan_json(body, &["--to", "a"]);
    assert_eq!(hosts(&there, "lb.start.1"), ["web-b1"]);
    assert_eq!(hosts(&back, "lb.start.1"), ["web-b1"]);
}
