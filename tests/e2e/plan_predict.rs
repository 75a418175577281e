//! `plan`'s predicted RTO (spec §7): from the passing live runs of the same runbook,
//! direction and mode whose evidence verifies, each step at the median of its last five
//! measured durations, a step never measured at its worst case.
//!
//! Real live runs on local hosts, whose step durations are then set to known figures:
//! each journal is rewritten and chained again, and `switchyard report` rebuilds the
//! summary and reports from it, so that every folder still verifies.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::support::util::{LOCAL_INVENTORY, Test, run_dir};

/// `db` (stop, start, verify) and `cache` on a parallel branch, both needed by `app`.
/// `app.start.1` fails while `ROOT/fail` exists. `extra` goes at the end.
fn runbook(root: &Path, extra: &str) -> String {
    format!(
        r#"[runbook]
name = "pay"
rto = "2m"
inventory = ["../inventory/site.toml"]
on_failure = "abort"

[services.db]
hosts = ["tag:node"]
[[services.db.stop]]
run = "true"
timeout = "1m"
[[services.db.start]]
run = "true"
timeout = "2m"
[[services.db.verify]]
run = "true"
timeout = "30s"

[services.cache]
hosts = ["tag:node"]
[[services.cache.start]]
run = "true"
timeout = "5m"

[services.app]
rto = "2m10s"
hosts = ["tag:node"]
depends_on = ["db", "cache"]
[[services.app.start]]
run = "test ! -e {root}/fail"
timeout = "1m"
[[services.app.verify]]
run = "true"
timeout = "1m"
{extra}"#,
        root = root.display()
    )
}

const STEPS: [&str; 6] = [
    "db.stop.1",
    "db.start.1",
    "db.verify.1",
    "cache.start.1",
    "app.start.1",
    "app.verify.1",
];

fn sy(root: &Path, args: &[&str]) -> crate::support::util::Output {
    Test::reuse(root).args(args).run()
}

/// A run to `to` (live or not), its durations set to `secs` (in [`STEPS`] order).
fn run(root: &Path, to: &str, live: bool, code: i32, secs: [f64; 6]) -> PathBuf {
    let mut args = vec![
        "--no-progress",
        "run",
        "runbooks/pay.toml",
        "--to",
        to,
        "--yes",
    ];
    if live {
        args.push("--live");
    }
    let out = sy(root, &args);
    assert_eq!(out.code, code, "{}\n{}", out.stdout, out.stderr);
    let dir = run_dir(&out);
    set_durations(&dir, &STEPS.iter().copied().zip(secs).collect());
    dir
}

/// Sets each step's `duration_s` in the journal (on every host), then as [`rewrite`].
fn set_durations(dir: &Path, secs: &HashMap<&str, f64>) {
    rewrite(dir, |v| {
        if let Some(&d) = secs.get(v["step"].as_str().expect("step")) {
            v["duration_s"] = d.into();
        }
    });
}

/// Changes each `step_finished` line of the journal with `edit`, chains it again,
/// rebuilds the summary and the reports, and checks that the folder verifies.
fn rewrite(dir: &Path, edit: impl Fn(&mut serde_json::Map<String, Value>)) {
    let path = dir.join("journal.jsonl");
    let text = std::fs::read_to_string(&path).expect("journal");
    let mut prev = "0".repeat(64);
    let mut out = String::new();
    for line in text.lines() {
        let mut v: serde_json::Map<String, Value> = serde_json::from_str(line).expect("line");
        if v["event"] == "step_finished" {
            edit(&mut v);
        }
        v.remove("hash");
        v["prev"] = prev.clone().into();
        let content = Value::Object(v).to_string();
        let mut h = Sha256::new();
        h.update(prev.as_bytes());
        h.update(content.as_bytes());
        prev = hex::encode(h.finalize());
        out.push_str(&format!(
            "{},\"hash\":\"{prev}\"}}\n",
            &content[..content.len() - 1]
        ));
    }
    std::fs::write(&path, out).expect("write journal");
    let d = dir.to_str().expect("utf-8");
    for (format, file) in [
        ("json", "summary.json"),
        ("html", "report.html"),
        ("md", "report.md"),
        ("junit", "junit.xml"),
    ] {
        let target = dir.join(file);
        let target = target.to_str().expect("utf-8");
        let out = sy(dir, &["report", d, "--format", format, "--output", target]);
        assert_eq!(out.code, 0, "{}", out.stderr);
    }
    let v = sy(dir, &["verify-evidence", d]);
    assert_eq!(v.code, 0, "{}\n{}", v.stdout, v.stderr);
}

fn plan(root: &Path, extra: &[&str]) -> crate::support::util::Output {
    let mut args = vec!["plan", "runbooks/pay.toml", "--to", "b"];
    args.extend(extra);
    sy(root, &args).code(0)
}

#[test]
fn plan_predicts_rto_from_passing_live_runs_that_verify() {
    let t = Test::new().file("inventory/site.toml", LOCAL_INVENTORY);
    let root = t.path().to_path_buf();
    let t = t.file("runbooks/pay.toml", runbook(&root, ""));
    std::fs::create_dir_all(root.join("empty")).expect("mkdir");

    // No evidence: no prediction.
    let bare_text = plan(&root, &[]).stdout;
    assert!(!bare_text.contains("predicted"), "{bare_text}");
    let bare = plan(&root, &["--format", "json"]).json();
    assert!(bare.get("predicted_s").is_none(), "{bare:#}");

    // Six passing live runs a → b; the oldest is not among the last five.
    let big = [1000.0; 6];
    run(&root, "b", true, 0, big);
    let mut last = PathBuf::new();
    for secs in [
        // db.stop db.start db.verify cache.start app.start app.verify
        [10.0, 5.0, 2.0, 20.0, 7.0, 1.0],
        [30.0, 5.0, 4.0, 25.0, 9.0, 3.0],
        [20.0, 6.0, 3.0, 30.0, 8.0, 2.0],
        [50.0, 4.0, 1.0, 10.0, 6.0, 5.0],
        [40.0, 5.0, 5.0, 15.0, 10.0, 4.0],
    ] {
        last = run(&root, "b", true, 0, secs);
    }
    // None of these counts, each newer than the six: a failed live run (db's steps
    // passed in it), a dry run, a live run the other way, and a passing run whose
    // folder was tampered with.
    std::fs::write(root.join("fail"), "").expect("fail");
    run(&root, "b", true, 1, big);
    std::fs::remove_file(root.join("fail")).expect("rm fail");
    run(&root, "b", false, 0, big);
    run(&root, "a", true, 0, big);
    let tampered = run(&root, "b", true, 0, big);
    let md = tampered.join("report.md");
    let mut text = std::fs::read_to_string(&md).expect("report.md");
    text.push_str("\nall fine\n");
    std::fs::write(&md, text).expect("tamper");
    let v = sy(
        &root,
        &["verify-evidence", tampered.to_str().expect("utf-8")],
    );
    assert_ne!(v.code, 0, "the tampered folder verifies:\n{}", v.stdout);

    // By hand, the medians of the five runs: db.stop {10,30,20,50,40} = 30, db.start
    // {5,5,6,4,5} = 5, db.verify {2,4,3,1,5} = 3, cache.start {20,25,30,10,15} = 20,
    // app.start {7,9,8,6,10} = 8, app.verify {1,3,2,5,4} = 3.
    // db: 30 + 5 + 3 = 38. cache (parallel, off the critical path): 20.
    // app: after both, max(38, 20) + 8 + 3 = 49. The runbook: 49.
    let j = plan(&root, &["--format", "json"]).json();
    let predicted = |name: &str| {
        j["services"]
            .as_array()
            .expect("services")
            .iter()
            .find(|s| s["name"] == name)
            .expect(name)["predicted_s"]
            .clone()
    };
    assert_eq!(j["predicted_s"], 49.0, "{j:#}");
    assert_eq!(predicted("db"), 38.0);
    assert_eq!(predicted("cache"), 20.0);
    assert_eq!(predicted("app"), 49.0);
    // Within every target: no warning about a prediction.
    assert!(
        !j["warnings"].to_string().contains("predicted"),
        "{:#}",
        j["warnings"]
    );

    // The plan's hash is the plan without the prediction: what the run recorded, and
    // `status` finds the drill current.
    let mut stripped = j.clone();
    strip(&mut stripped);
    assert_eq!(stripped, bare);
    let bare_json = plan(&root, &["--format", "json", "--evidence-dir", "empty"]).stdout;
    let journal = std::fs::read_to_string(last.join("journal.jsonl")).expect("journal");
    let started: Value = serde_json::from_str(journal.lines().next().expect("line")).expect("j");
    let hash = hex::encode(Sha256::digest(bare_json.as_bytes()));
    assert_eq!(started["plan_hash"], hash.as_str());
    let status = sy(&root, &["status", "runbooks/pay.toml", "--format", "json"]).json();
    assert!(
        status.to_string().contains("\"state\":\"ok\""),
        "{status:#}"
    );

    // The text: beside the worst cases, and for the runbook.
    let text = plan(&root, &[]).stdout;
    assert!(
        text.contains("predicted 49s (from 5 runs; 6 of 6 steps measured)"),
        "{text}"
    );
    assert!(text.contains("predicted 38s (from 5 runs)"), "{text}");
    assert!(text.contains("predicted 20s (from 5 runs)"), "{text}");
    assert!(
        text.contains("Predicted critical path (predicted 49s, by the steps' measured durations)\n  db.stop.1 → db.start.1 → db.verify.1 → app.start.1 → app.verify.1"),
        "{text}"
    );

    // A step added since, never measured, counts at its worst case (90s): app and the
    // runbook 49 + 90 = 139s, over app's target (2m10s) and the runbook's (2m).
    let _t = t.file(
        "runbooks/pay.toml",
        runbook(
            &root,
            "[[services.app.verify]]\nrun = \"true\"\ntimeout = \"90s\"\n",
        ),
    );
    let j = plan(&root, &["--format", "json"]).json();
    assert_eq!(j["predicted_s"], 139.0, "{j:#}");
    assert_eq!(j["services"][2]["predicted_s"], 139.0, "{j:#}");
    let warnings = j["warnings"].to_string();
    assert!(
        warnings.contains(
            "service `app`: predicted 2m 19s (from 5 runs) exceeds its RTO target of 2m 10s"
        ),
        "{warnings}"
    );
    assert!(
        warnings
            .contains("runbook `pay`: predicted 2m 19s (from 5 runs) exceeds its RTO target of 2m"),
        "{warnings}"
    );
    let text = plan(&root, &[]).stdout;
    assert!(
        text.contains("warning: service `app`: predicted 2m 19s (from 5 runs) exceeds its RTO target of 2m 10s"),
        "{text}"
    );
    assert!(text.contains("6 of 7 steps measured"), "{text}");

    // The other way: only the one run b → a, every step at 1000s.
    let back = sy(
        &root,
        &["plan", "runbooks/pay.toml", "--to", "a", "--format", "json"],
    )
    .code(0)
    .json();
    assert_eq!(back["services"][0]["predicted_s"], 3000.0, "{back:#}");
}

/// The plan JSON without what the prediction adds.
fn strip(v: &mut Value) {
    if let Value::Object(m) = v {
        m.remove("predicted_s");
        if let Some(Value::Array(w)) = m.get_mut("warnings") {
            w.retain(|x| !x.to_string().contains("predicted"));
        }
        for x in m.values_mut() {
            strip(x);
        }
    } else if let Value::Array(a) = v {
        a.iter_mut().for_each(strip);
    }
}

/// A runbook `name` of one service on the local `node` hosts.
fn small(name: &str) -> String {
    format!(
        "[runbook]\nname = \"{name}\"\nrto = \"1h\"\ninventory = [\"../inventory/site.toml\"]\n\n[services.svc]\nhosts = [\"tag:node\"]\n[[services.svc.start]]\nrun = \"true\"\n[[services.svc.verify]]\nrun = \"true\"\n"
    )
}

#[test]
fn plan_predicts_a_runbook_from_site_runs_and_a_site_from_its_runbooks_runs() {
    let t = Test::new()
        .file("inventory/site.toml", LOCAL_INVENTORY)
        .file("runbooks/alpha.toml", small("alpha"))
        .file("runbooks/beta.toml", small("beta"))
        .file(
            "sites/town.toml",
            "[site]\nname = \"town\"\nrto = \"2h\"\nrunbooks = [\"../runbooks/*.toml\"]\n",
        );
    let root = t.path();
    let live = |file: &str| {
        let out = sy(
            root,
            &["--no-progress", "run", file, "--to", "b", "--live", "--yes"],
        );
        assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
        run_dir(&out)
    };
    let alone = live("runbooks/alpha.toml");
    set_durations(
        &alone,
        &HashMap::from([("svc.start.1", 20.0), ("svc.verify.1", 4.0)]),
    );
    let site = live("sites/town.toml");
    set_durations(
        &site,
        &HashMap::from([
            ("alpha/svc.start.1", 10.0),
            ("alpha/svc.verify.1", 2.0),
            ("beta/svc.start.1", 7.0),
            ("beta/svc.verify.1", 1.0),
        ]),
    );
    // alpha: start {20, 10} = 15, verify {4, 2} = 3: 18s from both runs.
    let j = sy(
        root,
        &[
            "plan",
            "runbooks/alpha.toml",
            "--to",
            "b",
            "--format",
            "json",
        ],
    )
    .code(0)
    .json();
    assert_eq!(j["predicted_s"], 18.0, "{j:#}");
    let text = sy(root, &["plan", "runbooks/alpha.toml", "--to", "b"])
        .code(0)
        .stdout;
    assert!(
        text.contains("predicted 18s (from 2 runs; 2 of 2 steps measured)"),
        "{text}"
    );
    // The site: alpha 18s as above, beta 7 + 1 = 8s from the site's run alone; they do
    // not wait for each other, so the site's is 18s.
    let j = sy(
        root,
        &["plan", "sites/town.toml", "--to", "b", "--format", "json"],
    )
    .code(0)
    .json();
    assert_eq!(j["predicted_s"], 18.0, "{j:#}");
    assert_eq!(j["runbooks"][0]["name"], "alpha");
    assert_eq!(j["runbooks"][0]["predicted_s"], 18.0, "{j:#}");
    assert_eq!(j["runbooks"][1]["predicted_s"], 8.0, "{j:#}");
    assert_eq!(j["services"][1]["name"], "beta/svc");
    assert_eq!(j["services"][1]["predicted_s"], 8.0, "{j:#}");
    let text = sy(root, &["plan", "sites/town.toml", "--to", "b"])
        .code(0)
        .stdout;
    assert!(text.contains("predicted 8s (from 1 run)"), "{text}");
    assert!(
        text.contains("predicted 18s (from 2 runs; 4 of 4 steps measured)"),
        "{text}"
    );
}

#[test]
fn plan_measures_a_step_on_several_hosts_from_its_first_start_to_its_last_end() {
    let t = Test::new().file("inventory/site.toml", LOCAL_INVENTORY).file(
        "runbooks/duo.toml",
        "[runbook]\nname = \"duo\"\nrto = \"1h\"\ninventory = [\"../inventory/site.toml\"]\n\n\
         [services.svc]\nhosts = [\"tag:node\"]\n[[services.svc.start]]\nrun = \"true\"\non = \"both\"\nserial = 1\n",
    );
    let root = t.path();
    let out = sy(
        root,
        &[
            "--no-progress",
            "run",
            "runbooks/duo.toml",
            "--to",
            "b",
            "--live",
            "--yes",
        ],
    );
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    // node-a from 1s to 6s, node-b from 6.5s to 13.75s: 12.75s from first start to last end.
    rewrite(&run_dir(&out), |v| {
        let (start, d) = match v["host"].as_str() {
            Some("node-a") => (1.0, 5.0),
            Some("node-b") => (6.5, 7.25),
            other => panic!("host {other:?}"),
        };
        v["start_s"] = start.into();
        v["duration_s"] = d.into();
    });
    let j = sy(
        root,
        &["plan", "runbooks/duo.toml", "--to", "b", "--format", "json"],
    )
    .code(0)
    .json();
    assert_eq!(j["predicted_s"], 12.75, "{j:#}");
}
