//! `history` (and, later, `status`): the runs of a runbook found in the evidence
//! folders, read through their journals and checked as `verify-evidence` checks them.

use crate::support::util::{LOCAL_INVENTORY, Output, Test, run_dir};

/// A runbook `name` of one service on the local `node` hosts.
fn runbook(name: &str, start: &str) -> String {
    format!(
        r#"[runbook]
name = "{name}"
rto = "1h"
inventory = ["../inventory/site.toml"]

[services.svc]
hosts = ["tag:node"]
[[services.svc.start]]
run = "{start}"
[[services.svc.verify]]
run = "true"
"#
    )
}

fn project() -> Test {
    Test::new()
        .file("inventory/site.toml", LOCAL_INVENTORY)
        .file("runbooks/alpha.toml", runbook("alpha", "true"))
        .file("runbooks/beta.toml", runbook("beta", "true"))
        .file(
            "sites/town.toml",
            "[site]\nname = \"town\"\nrto = \"2h\"\nrunbooks = [\"../runbooks/*.toml\"]\n",
        )
}

fn live(root: &std::path::Path, file: &str, to: &str, code: i32) -> Output {
    Test::reuse(root)
        .args(&["--no-progress", "run", file, "--to", to, "--live", "--yes"])
        .run()
        .code(code)
}

fn history(root: &std::path::Path, name: &str) -> serde_json::Value {
    Test::reuse(root)
        .args(&["history", name, "--format", "json"])
        .run()
        .code(0)
        .json()
}

#[test]
fn history_lists_runs_oldest_first_with_site_runs_and_untrusted_folders() {
    let first = project()
        .args(&["--no-progress", "run", "runbooks/alpha.toml", "--to", "b"])
        .run()
        .code(0);
    let root = first.root.clone();
    let dry = run_dir(&first);
    let to_b = run_dir(&live(&root, "runbooks/alpha.toml", "b", 0));
    let site = run_dir(&live(&root, "sites/town.toml", "a", 0));
    let back = run_dir(&live(&root, "runbooks/beta.toml", "b", 0));

    let h = history(&root, "alpha");
    assert_eq!(h["schema"], "switchyard.history/v1");
    let runs = h["runs"].as_array().expect("runs");
    assert_eq!(runs.len(), 3, "{h:#}");
    let folder = |i: usize| root.join(runs[i]["folder"].as_str().expect("folder"));
    assert_eq!(folder(0), dry);
    assert_eq!(runs[0]["dry_run"], true);
    assert_eq!(folder(1), to_b);
    assert_eq!(runs[1]["dry_run"], false);
    assert_eq!(
        (&runs[1]["from"], &runs[1]["to"]),
        (&"a".into(), &"b".into())
    );
    assert_eq!(runs[1]["outcome"], "passed");
    assert_eq!(runs[1]["trusted"], true);
    assert!(runs[1]["recovered_s"].as_f64().is_some(), "{h:#}");
    assert_eq!(runs[1]["services"][0]["name"], "svc");
    // The site's run counts for alpha, with alpha's own entry.
    assert_eq!(folder(2), site);
    assert_eq!(runs[2]["site"], "town");
    assert_eq!(runs[2]["outcome"], "passed");
    assert_eq!(runs[2]["rto_target_s"], 3600.0);
    assert_eq!(runs[2]["services"][0]["name"], "svc");
    // beta's own run is not alpha's.
    let beta = history(&root, "beta");
    assert_eq!(beta["runs"].as_array().expect("runs").len(), 2, "{beta:#}");
    assert_eq!(
        root.join(beta["runs"][1]["folder"].as_str().expect("f")),
        back
    );

    // Tampering with a journal makes its folder untrusted.
    let journal = to_b.join("journal.jsonl");
    let text = std::fs::read_to_string(&journal).expect("journal");
    std::fs::write(&journal, text.replacen("\"passed\"", "\"failed\"", 1)).expect("write");
    let h = history(&root, "alpha");
    assert_eq!(h["runs"][1]["trusted"], false, "{h:#}");
    let text = Test::reuse(&root).args(&["history", "alpha"]).run().code(0);
    assert!(text.stdout.contains("UNTRUSTED"), "{}", text.stdout);
    assert!(text.stdout.contains("untrusted: "), "{}", text.stdout);
    assert!(
        text.stdout.starts_with("alpha: 3 runs\n"),
        "{}",
        text.stdout
    );
}

fn status(root: &std::path::Path, args: &[&str], code: i32) -> serde_json::Value {
    Test::reuse(root)
        .args(&["status", "--format", "json"])
        .args(args)
        .run()
        .code(code)
        .json()
}

/// alpha's state in each direction, a→b then b→a.
fn states(s: &serde_json::Value, name: &str) -> Vec<String> {
    let mut v: Vec<(String, String)> = s["directions"]
        .as_array()
        .expect("directions")
        .iter()
        .filter(|d| d["runbook"] == name)
        .map(|d| {
            (
                format!(
                    "{}{}",
                    d["from"].as_str().expect("f"),
                    d["to"].as_str().expect("t")
                ),
                d["state"].as_str().expect("state").to_string(),
            )
        })
        .collect();
    v.sort();
    v.into_iter().map(|(_, s)| s).collect()
}

#[test]
fn status_goes_from_never_to_ok_and_on_to_changed_overdue_failing_and_untrusted() {
    let out = project()
        .file(
            "runbooks/alpha.toml",
            runbook("alpha", "true").replace("rto = \"1h\"", "rto = \"1h\"\ndrill_every = \"30d\""),
        )
        .args(&["status", "runbooks/alpha.toml", "--format", "json"])
        .run()
        .code(1);
    let root = out.root.clone();
    let s = out.json();
    assert_eq!(s["schema"], "switchyard.status/v1");
    assert_eq!(states(&s, "alpha"), ["never", "never"]);
    live(&root, "runbooks/alpha.toml", "b", 0);
    assert_eq!(
        states(&status(&root, &["runbooks/alpha.toml"], 1), "alpha"),
        ["ok", "never"]
    );
    let back = run_dir(&live(&root, "runbooks/alpha.toml", "a", 0));
    let s = status(&root, &["runbooks/alpha.toml"], 0);
    assert_eq!(states(&s, "alpha"), ["ok", "ok"]);
    assert!(s["directions"][0]["due"].as_str().is_some(), "{s:#}");
    let text = Test::reuse(&root)
        .args(&["status", "runbooks/alpha.toml"])
        .run()
        .code(0);
    assert!(
        text.stdout.contains("2 of 2 directions ok"),
        "{}",
        text.stdout
    );

    // Overdue once drill_every has run out.
    let s = status(
        &root,
        &["runbooks/alpha.toml", "--at", "2999-01-01T00:00:00Z"],
        1,
    );
    assert_eq!(states(&s, "alpha"), ["overdue", "overdue"]);
    Test::reuse(&root)
        .args(&["status", "runbooks/alpha.toml", "--at", "yesterday"])
        .run()
        .code(2);

    // Changed after an edit to the inventory (a host more in hall b changes the plan
    // to b, not the way back), then to the runbook.
    let inventory = root.join("inventory/site.toml");
    std::fs::write(&inventory, LOCAL_INVENTORY.replace("[hosts.node-b]", "[hosts.node-c]\ntransport = \"local\"\nhall = \"b\"\ntags = [\"node\"]\n[hosts.node-b]")).expect("write");
    assert_eq!(
        states(&status(&root, &["runbooks/alpha.toml"], 1), "alpha"),
        ["changed", "ok"]
    );
    std::fs::write(&inventory, LOCAL_INVENTORY).expect("write");
    assert_eq!(
        states(&status(&root, &["runbooks/alpha.toml"], 0), "alpha"),
        ["ok", "ok"]
    );
    std::fs::write(
        root.join("runbooks/alpha.toml"),
        runbook("alpha", "true && true"),
    )
    .expect("write");
    assert_eq!(
        states(&status(&root, &["runbooks/alpha.toml"], 1), "alpha"),
        ["changed", "changed"]
    );

    // Failing after a failed drill (to b); tampered evidence (the way back) stops counting.
    std::fs::write(root.join("runbooks/alpha.toml"), runbook("alpha", "false")).expect("write");
    live(&root, "runbooks/alpha.toml", "b", 1);
    let journal = back.join("journal.jsonl");
    let text = std::fs::read_to_string(&journal).expect("journal");
    std::fs::write(&journal, text.replacen("\"passed\"", "\"failed\"", 1)).expect("write");
    let s = status(&root, &["runbooks/alpha.toml"], 1);
    assert_eq!(states(&s, "alpha"), ["failing", "never"], "{s:#}");
    assert_eq!(
        s["untrusted"].as_array().expect("untrusted").len(),
        1,
        "{s:#}"
    );
    assert_eq!(
        s["directions"][0]["state"], "never",
        "worst first, in the order of the states"
    );
}

#[test]
fn status_counts_a_site_run_for_each_of_its_runbooks() {
    let out = project()
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
        .code(0);
    let root = out.root.clone();
    live(&root, "sites/town.toml", "a", 0);
    let s = status(&root, &[], 0);
    assert_eq!(states(&s, "alpha"), ["ok", "ok"], "{s:#}");
    assert_eq!(states(&s, "beta"), ["ok", "ok"], "{s:#}");
    assert_eq!(s["directions"][0]["last_pass"]["site"], "town");
    // The site file as the target: its runbooks.
    let s = status(&root, &["sites/town.toml"], 0);
    assert_eq!(s["directions"].as_array().expect("d").len(), 4);
}
