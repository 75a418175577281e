//! Safety invariants end to end on local hosts: a flag file per host stands for "this
//! host is a writable primary". The checks run after the prechecks, after every action
//! step and at the end; a breach stops the run before any further step.

use std::path::Path;

use serde_json::Value;

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
