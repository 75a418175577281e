//! RTO at risk (SPEC §10): a live run projects each service's recovery while it goes on
//! and says once when a projection first exceeds its target.

use std::path::Path;

use serde_json::Value;

use crate::support::evidence::{assert_intact, read};
use crate::support::util::{LOCAL_INVENTORY, Test, run_dir, summary};

fn events(dir: &Path) -> Vec<Value> {
    read(dir, "journal.jsonl")
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).expect("journal line"))
        .collect()
}

fn live(body: &str) -> (crate::support::util::Output, std::path::PathBuf) {
    let t = Test::new()
        .file("inventory/site.toml", LOCAL_INVENTORY)
        .runbook(body);
    let out = t
        .args(&["run", "runbooks/test.toml", "--to", "b", "--live", "--yes"])
        .run();
    let dir = run_dir(&out);
    (out, dir)
}

#[test]
fn a_step_running_past_a_small_target_is_said_once_while_the_run_goes_on() {
    let body = "[services.db]\nhosts = [\"tag:node\"]\nrto = \"1s\"\n[[services.db.start]]\nrun = \"sleep 3\"\ntimeout = \"10s\"\n[[services.db.verify]]\nrun = \"true\"\ntimeout = \"10s\"\n";
    let (out, dir) = live(body);
    let out = out.code(3);
    assert_eq!(summary(&dir)["outcome"], "rto_breached");
    let ev = events(&dir);
    let risk: Vec<&Value> = ev
        .iter()
        .filter(|e| e["event"] == "rto_at_risk" && e["service"] == "db")
        .collect();
    assert_eq!(risk.len(), 1, "{ev:#?}");
    let r = risk[0];
    assert_eq!(r["target_s"], 1.0);
    assert!(r["projected_s"].as_f64().unwrap() > 1.0);
    // Said while the step ran, before it ended.
    let end = ev
        .iter()
        .find(|e| e["event"] == "step_finished" && e["step"] == "db.start.1")
        .expect("db.start.1 ended");
    let ended_at = end["start_s"].as_f64().unwrap() + end["duration_s"].as_f64().unwrap();
    assert!(r["at_s"].as_f64().unwrap() < ended_at, "{r} vs {end}");
    // The run went on: the verify step ran after it.
    assert!(
        ev.iter()
            .any(|e| e["event"] == "step_finished" && e["step"] == "db.verify.1")
    );
    let shown = format!("{}{}", out.stdout, out.stderr);
    assert!(shown.contains("RTO AT RISK: db projected"), "{shown}");
    assert!(read(&dir, "report.md").contains("RTO AT RISK: db projected"));
    assert_intact(&dir);
}

#[test]
fn generous_targets_are_never_at_risk() {
    let body = "[services.db]\nhosts = [\"tag:node\"]\nrto = \"1h\"\n[[services.db.start]]\nrun = \"sleep 1\"\ntimeout = \"10s\"\n";
    let (out, dir) = live(body);
    let out = out.code(0);
    assert!(!read(&dir, "journal.jsonl").contains("rto_at_risk"));
    assert!(!format!("{}{}", out.stdout, out.stderr).contains("RTO AT RISK"));
}
