//! Data safety on the real PostgreSQL + nginx lab (`lab/postgres/`): the safety invariant
//! of `runbooks/postgres.toml` ("never two writable primaries") holds through a real
//! switchover with every check recorded, and stops a runbook that promotes the replica
//! without stopping the primary before nginx is re-pointed. Needs root, like
//! `postgres.rs`.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::support::pglab::{Lab, ROOT, health, sql};

/// `runbooks/postgres.toml` changed by `edit`, written beside the lab with its inventory
/// named by absolute path; returns the file.
fn variant(lab: &Lab, name: &str, edit: impl Fn(String) -> String) -> PathBuf {
    let text = std::fs::read_to_string(Path::new(ROOT).join("runbooks/postgres.toml"))
        .expect("runbooks/postgres.toml")
        .replace(
            "inventory = [\"../lab/postgres/inventory.toml\"]",
            &format!("inventory = [\"{}\"]", lab.inventory().display()),
        );
    let path = lab.dir.join(format!("{name}.toml"));
    std::fs::write(&path, edit(text)).expect("write the variant");
    path
}

/// The `invariant_checked` events of a run folder's journal.
fn checks(dir: &Path) -> Vec<Value> {
    std::fs::read_to_string(dir.join("journal.jsonl"))
        .expect("journal")
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).expect("JSON line"))
        .filter(|e| e["event"] == "invariant_checked")
        .collect()
}

/// Where each check was made, in order.
fn afters(checks: &[Value]) -> Vec<String> {
    checks
        .iter()
        .map(|c| c["after"].as_str().expect("after").to_string())
        .collect()
}

#[test]
fn the_split_brain_guard_holds_through_a_switchover_and_stops_a_promotion_without_a_stop() {
    let lab = Lab::up();
    let lb = lab.lb();

    // The runbook as committed: every check holds, one after the prechecks, after each stop
    // and start step, and at the end.
    let live = lab.run("b", &["--live", "--yes"]);
    assert_eq!(live.code, 0, "switchover failed:\n{}", live.stderr);
    let done = checks(&live.dir);
    assert_eq!(
        afters(&done),
        [
            "prechecks",
            "db.stop.1",
            "db.stop.2",
            "db.start.1",
            "lb.start.1",
            "end"
        ],
        "{done:#?}"
    );
    assert!(done.iter().all(|c| c["holds"] == true), "{done:#?}");
    // After the promotion: pg-b takes writes, pg-a is down (psql fails: it does not hold).
    let promoted = &done[3]["hosts"];
    let result = |host: &str| {
        promoted
            .as_array()
            .expect("hosts")
            .iter()
            .find(|h| h["host"] == host)
            .expect("host")["result"]
            .clone()
    };
    assert_eq!(result("pg-b"), "holds", "{promoted:#}");
    assert_eq!(result("pg-a"), "not", "{promoted:#}");
    assert_eq!(health(&lb), "pg-b (hall b)");

    // Re-seed pg-a as pg-b's replica, then a runbook that forgets to stop the primary:
    // the promotion makes two writable primaries, and the run stops before nginx moves.
    lab.script("up.sh", &[&lab.net]);
    assert_eq!(sql(&lab.pg_a(), "select pg_is_in_recovery()"), "t");
    let careless = variant(&lab, "no-stop", |text| {
        let start = text.find("[[services.db.stop]]").expect("a stop step");
        let end = text.find("[[services.db.start]]").expect("a start step");
        format!("{}{}", &text[..start], &text[end..])
    });
    let run = lab.run_file(careless.to_str().expect("UTF-8"), "a", &["--live", "--yes"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(run.summary["outcome"], "failed", "{}", run.stderr);
    let done = checks(&run.dir);
    // The first breach is found right after the promotion (the run still checks at its end).
    let breach = done.iter().find(|c| c["holds"] == false).expect("a breach");
    assert_eq!(breach["after"], "db.start.1", "{done:#?}");
    let hosts = breach["hosts"].as_array().expect("hosts");
    assert!(
        hosts.iter().all(|h| h["result"] == "holds"),
        "both servers take writes: {breach:#}"
    );
    assert!(
        run.stderr.contains("never two writable primaries"),
        "{}",
        run.stderr
    );
    // Both servers are out of recovery (the split brain the check found), but no client was
    // sent to the new one: the load balancer step never started.
    assert_eq!(sql(&lab.pg_a(), "select pg_is_in_recovery()"), "f");
    assert_eq!(sql(&lab.pg_b(), "select pg_is_in_recovery()"), "f");
    assert_eq!(health(&lb), "pg-b (hall b)", "nginx was re-pointed");
    let steps: Vec<(String, String)> = run.statuses();
    assert!(
        steps
            .iter()
            .any(|(id, status)| id == "lb.start.1" && status != "ok"),
        "{steps:?}"
    );
}
