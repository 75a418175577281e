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

#[test]
fn a_step_running_past_its_measured_duration_puts_its_service_at_risk_as_it_runs() {
    let t = Test::new();
    let dur = t.path().join("dur");
    let body = format!(
        "[services.db]\nhosts = [\"tag:node\"]\nrto = \"2s\"\n[[services.db.start]]\nrun = \"sleep $(cat {})\"\ntimeout = \"10s\"\n",
        dur.display()
    );
    let t = t
        .file("inventory/site.toml", LOCAL_INVENTORY)
        .runbook(&body);
    let dir = t.path().to_path_buf();
    let run = || {
        Test::reuse(&dir)
            .args(&["run", "runbooks/test.toml", "--to", "b", "--live", "--yes"])
            .run()
    };
    // A first run measures the step at a tenth of a second: it passes.
    std::fs::write(&dur, "0.1").expect("dur");
    let first = run().code(0);
    assert_eq!(summary(&run_dir(&first))["outcome"], "passed");
    // The second expects that much, so its projection starts well under 2s; the step
    // now takes 3s, and past 2s of it the service is at risk while it still runs.
    std::fs::write(&dur, "3").expect("dur");
    let second = run().code(3);
    let ev = events(&run_dir(&second));
    let risk: Vec<&Value> = ev.iter().filter(|e| e["event"] == "rto_at_risk").collect();
    assert_eq!(risk.len(), 1, "{risk:#?}");
    let r = risk[0];
    assert_eq!(r["service"], "db");
    let at = r["at_s"].as_f64().unwrap();
    let end = ev
        .iter()
        .filter(|e| e["event"] == "step_finished" && e["step"] == "db.start.1")
        .map(|e| e["start_s"].as_f64().unwrap() + e["duration_s"].as_f64().unwrap())
        .fold(0.0, f64::max);
    assert!(at >= 2.0 && at < end, "at {at}, the step ended at {end}");
    assert!(
        r["because"]
            .as_str()
            .unwrap()
            .starts_with("step db.start.1 running")
    );
}
