//! Data safety on the real PostgreSQL + nginx lab (`lab/postgres/`): the RPO canary of
//! `runbooks/postgres.toml` measures no loss in a clean switchover and the exact number of
//! acknowledged writes a failover loses after replication was cut, as queries on both
//! servers confirm; its safety invariant ("never two writable primaries") holds through a
//! real switchover with every check recorded, and stops a runbook that promotes the
//! replica without stopping the primary before nginx is re-pointed. Needs root, like
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

/// The measured RPO of service `db` in a summary.
fn db_rpo(summary: &Value) -> Value {
    summary["services"]
        .as_array()
        .expect("services")
        .iter()
        .find(|s| s["name"] == "db")
        .expect("db")["rpo"]
        .clone()
}

/// The run folder's name: the `{{run.id}}` its canary keyed its rows by.
fn run_id(dir: &Path) -> String {
    dir.file_name()
        .expect("folder name")
        .to_string_lossy()
        .into_owned()
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
    // The canary: written on pg-a from the prechecks until it stopped, read on pg-b.
    let rpo = db_rpo(&live.summary);
    let acked = rpo["last_ack_seq"].as_u64().expect("last_ack_seq");
    assert!(acked >= 1, "{rpo:#}");
    assert_eq!(rpo["read_seq"].as_u64(), Some(acked), "{rpo:#}");
    assert_eq!(rpo["lost_writes"], 0, "{rpo:#}");
    assert_eq!(rpo["lost_s"], 0.0, "{rpo:#}");
    assert_eq!(rpo["met"], true, "{rpo:#}");
    assert_eq!(rpo["target_s"], 0.0, "{rpo:#}");
    let run_id = run_id(&live.dir);
    assert_eq!(
        sql(
            &lab.pg_b(),
            &format!("select count(*), max(seq) from switchyard_canary where run = '{run_id}'")
        ),
        format!("{acked}|{acked}"),
        "every acknowledged write is on the new primary, once"
    );
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

/// A failover after the link between the halls failed: the old primary went on
/// acknowledging writes that never reached the replica, so the promotion loses them. The
/// run names the exact count and ends `rpo_breached` (exit 3); the old primary, started
/// again afterwards, holds every acknowledged write, the new one all but those.
#[test]
fn a_failover_after_replication_was_cut_reports_exactly_the_writes_it_lost() {
    let lab = Lab::up();
    let cut = variant(&lab, "cut", |text| {
        text.replacen(
            "[[services.db.stop]]",
            r#"[[services.db.stop]]
name = "the link between the halls fails (the replica stops receiving WAL)"
on = "target"
run = "psql -d postgres -XAtq -c \"alter system set primary_conninfo = ''\" -c 'select pg_reload_conf()'"

[[services.db.stop]]
name = "the old primary goes on taking writes alone"
sleep = "3500ms"

[[services.db.stop]]"#,
            1,
        )
    });
    let run = lab.run_file(
        cut.to_str().expect("UTF-8"),
        "b",
        &["--live", "--yes", "--mode", "failover"],
    );
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert_eq!(run.summary["outcome"], "rpo_breached", "{}", run.stderr);
    let rpo = db_rpo(&run.summary);
    let acked = rpo["last_ack_seq"].as_u64().expect("last_ack_seq");
    let read = rpo["read_seq"].as_u64().expect("read_seq");
    let lost = rpo["lost_writes"].as_u64().expect("lost_writes");
    assert_eq!(lost, acked - read, "{rpo:#}");
    assert!(
        lost >= 2,
        "3.5 s without replication at one write a second: {rpo:#}"
    );
    assert!(rpo["lost_s"].as_f64().expect("lost_s") >= 1.0, "{rpo:#}");
    assert_eq!(rpo["met"], false, "{rpo:#}");
    eprintln!(
        "postgres lab: failover after the cut lost {lost} of {acked} acknowledged writes ({} s)",
        rpo["lost_s"]
    );

    // What the databases hold: the new primary every write up to `read`, the old one
    // (started again, alone) every acknowledged write.
    let run_id = run_id(&run.dir);
    let rows = |host: &str| {
        sql(
            host,
            &format!(
                "select count(*), coalesce(max(seq), 0) from switchyard_canary where run = '{run_id}'"
            ),
        )
    };
    assert_eq!(rows(&lab.pg_b()), format!("{read}|{read}"));
    let env = std::fs::read_to_string(lab.dir.join("lab.env")).expect("lab.env");
    let bin = env
        .lines()
        .find_map(|l| l.strip_prefix("PG_BIN="))
        .expect("PG_BIN in lab.env");
    let data = lab.dir.join("pg/pg-a");
    let started = std::process::Command::new("runuser")
        .args(["-u", "postgres", "--"])
        .arg(format!("{bin}/pg_ctl"))
        .arg("-D")
        .arg(data.join("data"))
        .arg("-l")
        .arg(data.join("postgres.log"))
        .args(["-w", "-t", "60", "start"])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .expect("pg_ctl start");
    assert!(started.success(), "pg-a did not start again");
    assert_eq!(rows(&lab.pg_a()), format!("{acked}|{acked}"));
    let missing = sql(
        &lab.pg_a(),
        &format!("select count(*) from switchyard_canary where run = '{run_id}' and seq > {read}"),
    );
    assert_eq!(
        missing,
        lost.to_string(),
        "the lost writes are the ones after {read}"
    );
}
