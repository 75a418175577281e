//! The measured RPO (SPEC §8): a service's canary writes on the source while the
//! service runs there, reads on the target after its last verify step, and the evidence
//! says what was lost. The "database" is a file: `primary.log` takes the writes, a step
//! copies (all or part of) it to `replica.log`, and the read prints its last line.

use std::path::Path;

use serde_json::Value;

use crate::support::evidence::{assert_intact, assert_rebuilds, read};
use crate::support::runs::{kill_when, resume};
use crate::support::util::{LIVE, LOCAL_INVENTORY, Test, run_dir, summary};

/// A runbook whose `db` has a canary with `rpo`, `canary` (extra canary keys) and a
/// start step that replicates with `replicate`.
fn runbook(rpo: &str, canary: &str, stop: &str, replicate: &str) -> String {
    format!(
        r#"
[services.db]
hosts = ["tag:node"]
rpo = "{rpo}"

[services.db.canary]
write = "echo {{{{canary.seq}}}} >> primary.log"
read = "tail -n 1 replica.log 2>/dev/null || echo 0"
interval = "100ms"
{canary}

[[services.db.precheck]]
run = "true"

[[services.db.stop]]
name = "stop primary"
run = "{stop}"

[[services.db.start]]
name = "replicate"
on = "target"
run = "{replicate}"

[[services.db.verify]]
on = "target"
run = "test -s replica.log"
"#
    )
}

/// Replication after a pause: a write still under way when the writer stopped (the
/// file "database" never refuses one, as a stopped server would) lands first.
const SETTLED: &str = "sleep 0.3 && cp primary.log replica.log";

fn project(body: &str) -> Test {
    Test::new()
        .file("inventory/site.toml", LOCAL_INVENTORY)
        .runbook(body)
}

fn events(dir: &Path) -> Vec<Value> {
    read(dir, "journal.jsonl")
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).expect("journal line"))
        .collect()
}

fn of<'e>(events: &'e [Value], kind: &str) -> Vec<&'e Value> {
    events.iter().filter(|e| e["event"] == kind).collect()
}

fn rpo(dir: &Path) -> Value {
    let s = summary(dir);
    let db = s["services"]
        .as_array()
        .expect("services")
        .iter()
        .find(|x| x["name"] == "db")
        .expect("db")
        .clone();
    db["rpo"].clone()
}

#[test]
fn canary_nothing_lost_meets_a_zero_rpo() {
    let out = project(&runbook("0s", "", "sleep 0.4", SETTLED))
        .args(LIVE)
        .run()
        .code(0);
    let dir = run_dir(&out);
    let ev = events(&dir);
    let written = of(&ev, "canary_written");
    assert!(!written.is_empty(), "no write acknowledged");
    // Contiguous from 1.
    for (i, w) in written.iter().enumerate() {
        assert_eq!(w["canary_seq"], i as u64 + 1);
    }
    let last = written.last().expect("a write")["canary_seq"]
        .as_u64()
        .expect("seq");
    let stopped = of(&ev, "canary_stopped");
    assert_eq!(stopped.len(), 1, "{stopped:?}");
    assert_eq!(stopped[0]["why"], "stop_phase_finished");
    assert_eq!(stopped[0]["last_seq"], last);
    let primary = read(&out.root, "primary.log");
    assert_eq!(
        primary.lines().count() as u64,
        last,
        "every write is acknowledged once"
    );
    let r = rpo(&dir);
    assert_eq!(r["target_s"], 0.0);
    assert_eq!(r["last_ack_seq"], last);
    assert_eq!(r["read_seq"], last);
    assert_eq!(r["lost_writes"], 0);
    assert_eq!(r["lost_s"], 0.0);
    assert_eq!(r["met"], true);
    assert_eq!(summary(&dir)["outcome"], "passed");
    let md = read(&dir, "report.md");
    assert!(
        md.contains("## RPO: data lost, measured by the canary"),
        "{md}"
    );
    assert_intact(&dir);
}

#[test]
fn canary_the_write_before_the_stop_phase_is_journalled_before_its_first_step() {
    // A long interval: without the write before the stop phase, the stop step would
    // start right after write 1.
    let body = runbook("1h", "", "true", "cp primary.log replica.log")
        .replace("interval = \"100ms\"", "interval = \"30s\"");
    let out = project(&body).args(LIVE).run().code(0);
    let dir = run_dir(&out);
    let ev = events(&dir);
    let before = ev
        .iter()
        .position(|e| e["event"] == "canary_written" && e["before_stop"] == true)
        .expect("a write before the stop phase");
    let stop = ev
        .iter()
        .position(|e| e["event"] == "step_started" && e["step"] == "db.stop.1")
        .expect("stop started");
    assert!(
        before < stop,
        "the stop step started before the canary's write"
    );
    // The writer began once the precheck passed, not before.
    let precheck = ev
        .iter()
        .position(|e| e["event"] == "step_finished" && e["step"] == "db.precheck.1")
        .expect("precheck");
    let first = ev
        .iter()
        .position(|e| e["event"] == "canary_written")
        .expect("first write");
    assert!(precheck < first);
    // The read follows the recovery, which it does not delay.
    let recovered = ev
        .iter()
        .position(|e| e["event"] == "service_recovered")
        .expect("recovered");
    let read_at = ev
        .iter()
        .position(|e| e["event"] == "canary_read")
        .expect("read");
    assert!(recovered < read_at);
    // A 30 s interval did not hold the run for 30 s.
    let s = summary(&dir);
    assert!(s["rto"]["achieved_s"].as_f64().expect("achieved") < 20.0);
}

/// Replication cut after write 3: every later acknowledged write is lost.
#[test]
fn canary_replication_cut_short_loses_the_writes_after_it_and_breaches_a_zero_rpo() {
    let out = project(&runbook(
        "0s",
        "",
        "sleep 0.6",
        "head -n 3 primary.log > replica.log",
    ))
    .args(LIVE)
    .run()
    .code(3);
    let dir = run_dir(&out);
    let ev = events(&dir);
    let written = of(&ev, "canary_written");
    let last = written.last().expect("writes")["canary_seq"]
        .as_u64()
        .expect("seq");
    assert!(last > 3, "too few writes to lose any: {last}");
    let r = rpo(&dir);
    assert_eq!(r["read_seq"], 3);
    assert_eq!(r["last_ack_seq"], last);
    assert_eq!(r["lost_writes"], last - 3);
    let at = |seq: u64| written[seq as usize - 1]["at_s"].as_f64().expect("at_s");
    let lost_s = r["lost_s"].as_f64().expect("lost_s");
    assert!((lost_s - (at(last) - at(4))).abs() < 0.0015, "{lost_s}");
    assert!(lost_s > 0.0);
    assert_eq!(r["last_ack_at"], written[last as usize - 1]["at"]);
    assert_eq!(r["met"], false);
    let s = summary(&dir);
    assert_eq!(s["outcome"], "rpo_breached");
    assert!(
        out.stdout.contains("rpo_breached: evidence in"),
        "{}",
        out.stdout
    );
    let junit = read(&dir, "junit.xml");
    assert!(junit.contains("RPO MISSED"), "{junit}");
    let html = read(&dir, "report.html");
    assert!(html.contains("RPO: data lost") && html.contains("MISSED"));
    assert!(read(&dir, "report.md").contains("RPO MISSED"));
    assert_intact(&dir);
    // Every report is rebuilt byte for byte from the journal alone.
    assert_rebuilds(&dir);
}

#[test]
fn canary_a_target_longer_than_the_loss_is_met_despite_lost_writes() {
    let out = project(&runbook(
        "1h",
        "",
        "sleep 0.5",
        "head -n 2 primary.log > replica.log",
    ))
    .args(LIVE)
    .run()
    .code(0);
    let dir = run_dir(&out);
    let r = rpo(&dir);
    assert!(r["lost_writes"].as_u64().expect("lost") > 0, "{r}");
    assert_eq!(r["target_s"], 3600.0);
    assert_eq!(r["met"], true);
    assert_eq!(summary(&dir)["outcome"], "passed");
}

#[test]
fn canary_a_hanging_write_is_stopped_by_its_timeout_and_ends_the_writer() {
    let body = runbook("1h", "timeout = \"300ms\"", "true", "echo 0 > replica.log")
        .replace("echo {{canary.seq}} >> primary.log", "sleep 30");
    let started = std::time::Instant::now();
    let out = project(&body).args(LIVE).run().code(0);
    assert!(
        started.elapsed().as_secs() < 20,
        "the hanging write held the run"
    );
    let dir = run_dir(&out);
    let ev = events(&dir);
    assert!(of(&ev, "canary_written").is_empty());
    let stopped = of(&ev, "canary_stopped");
    assert_eq!(stopped.len(), 1, "{stopped:?}");
    assert_eq!(stopped[0]["why"], "write_failed");
    assert_eq!(stopped[0]["failed_seq"], 1);
    let message = stopped[0]["message"].as_str().expect("message");
    assert!(
        message.contains("node-a") && message.contains("timed out"),
        "{message}"
    );
    // Not a step failure: every step passed.
    assert_eq!(summary(&dir)["outcome"], "passed");
}

#[test]
fn canary_a_hanging_read_leaves_the_rpo_unknown_and_missed() {
    let body = runbook(
        "1h",
        "timeout = \"300ms\"",
        "true",
        "cp primary.log replica.log",
    )
    .replace("tail -n 1 replica.log 2>/dev/null || echo 0", "sleep 30");
    let out = project(&body).args(LIVE).run().code(3);
    let dir = run_dir(&out);
    let ev = events(&dir);
    let read_ev = of(&ev, "canary_read");
    assert_eq!(read_ev.len(), 1);
    let message = read_ev[0]["message"].as_str().expect("message");
    assert!(
        message.contains("node-b") && message.contains("timed out"),
        "{message}"
    );
    let r = rpo(&dir);
    assert_eq!(r["read_seq"], Value::Null);
    assert_eq!(r["met"], false);
    assert_eq!(summary(&dir)["outcome"], "rpo_breached");
}

#[test]
fn canary_a_read_that_prints_no_number_is_recorded_as_unknown() {
    let body = runbook("1h", "", "true", "cp primary.log replica.log")
        .replace("tail -n 1 replica.log 2>/dev/null || echo 0", "echo nope");
    let out = project(&body).args(LIVE).run().code(3);
    let dir = run_dir(&out);
    let ev = events(&dir);
    let message = of(&ev, "canary_read")[0]["message"]
        .as_str()
        .expect("message")
        .to_string();
    assert!(
        message.contains("node-b") && message.contains("\"nope\""),
        "{message}"
    );
}

#[test]
fn canary_a_dry_run_writes_nothing_and_shows_both_commands() {
    let out = project(&runbook("0s", "", "true", "cp primary.log replica.log"))
        .args(&["--no-progress", "run", "runbooks/test.toml", "--to", "b"])
        .run()
        .code(0);
    let dir = run_dir(&out);
    assert!(!out.root.join("primary.log").exists(), "the dry run wrote");
    assert!(
        out.stderr.contains("echo {{canary.seq}} >> primary.log")
            && out.stderr.contains("tail -n 1 replica.log"),
        "{}",
        out.stderr
    );
    let ev = events(&dir);
    assert!(of(&ev, "canary_written").is_empty());
    assert_eq!(rpo(&dir), Value::Null);
}

#[test]
fn canary_plan_shows_both_commands() {
    let body = runbook("0s", "", "true", "cp primary.log replica.log");
    let out = project(&body)
        .args(&["plan", "runbooks/test.toml", "--to", "b"])
        .run()
        .code(0);
    assert!(
        out.stdout.contains("echo {{canary.seq}} >> primary.log"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("tail -n 1 replica.log"),
        "{}",
        out.stdout
    );
    let json = project(&body)
        .args(&[
            "plan",
            "runbooks/test.toml",
            "--to",
            "b",
            "--format",
            "json",
        ])
        .run()
        .code(0)
        .json();
    let c = &json["services"][0]["canary"];
    assert_eq!(c["write"]["hosts"][0], "node-a", "{json}");
    assert_eq!(c["read"]["hosts"][0], "node-b", "{json}");
    assert_eq!(c["write"]["does"], "echo {{canary.seq}} >> primary.log");
    assert_eq!(c["rpo_s"], 0.0);
}

#[test]
fn canary_run_id_is_the_run_folders_name() {
    let body = runbook(
        "1h",
        "",
        "echo {{run.id}} > run-id.txt",
        "cp primary.log replica.log",
    );
    let out = project(&body).args(LIVE).run().code(0);
    let dir = run_dir(&out);
    let id = std::fs::read_to_string(out.root.join("run-id.txt")).expect("run-id.txt");
    let name = dir.file_name().expect("name").to_str().expect("utf8");
    assert_eq!(id.trim(), name);
    // The evidence shows the command as it ran.
    assert!(
        read(&dir, "journal.jsonl").contains(&format!("echo {name} > run-id.txt")),
        "the journal does not show the run id"
    );
}

#[test]
fn canary_resume_after_sigkill_keeps_the_acknowledged_writes() {
    let t = project(&runbook("1h", "", "sleep 3", SETTLED));
    // Killed while the writer writes during the stop phase, after a few writes.
    let dir = kill_when(&t, LIVE, "db.stop.1", |j| {
        j.matches("\"canary_written\"").count() >= 4
    });
    let before: Vec<u64> = of(&events(&dir), "canary_written")
        .iter()
        .map(|w| w["canary_seq"].as_u64().expect("seq"))
        .collect();
    resume(&dir).code(0);
    let ev = events(&dir);
    let seqs: Vec<u64> = of(&ev, "canary_written")
        .iter()
        .map(|w| w["canary_seq"].as_u64().expect("seq"))
        .collect();
    assert_eq!(seqs[..before.len()], before[..], "the journal lost writes");
    // The resumed writer goes on after the last acknowledged write.
    for pair in seqs.windows(2) {
        assert_eq!(pair[1], pair[0] + 1, "{seqs:?}");
    }
    let r = rpo(&dir);
    assert_eq!(r["last_ack_seq"], *seqs.last().expect("seq"));
    assert_eq!(r["lost_writes"], 0);
    assert_intact(&dir);
}

/// The source refuses write 4 (as a stopping database would): the writer stops there,
/// recorded, and writes 1–3 are the acknowledged ones.
#[test]
fn canary_a_refused_write_stops_the_writer_and_is_not_a_step_failure() {
    let body = runbook("0s", "", "sleep 0.6", "cp primary.log replica.log").replace(
        "echo {{canary.seq}} >> primary.log",
        "test {{canary.seq}} -le 3 && echo {{canary.seq}} >> primary.log",
    );
    let out = project(&body).args(LIVE).run().code(0);
    let dir = run_dir(&out);
    let ev = events(&dir);
    let seqs: Vec<u64> = of(&ev, "canary_written")
        .iter()
        .map(|w| w["canary_seq"].as_u64().expect("seq"))
        .collect();
    assert_eq!(seqs, [1, 2, 3]);
    let stopped = of(&ev, "canary_stopped");
    assert_eq!(stopped.len(), 1);
    assert_eq!(stopped[0]["why"], "write_failed");
    assert_eq!(stopped[0]["failed_seq"], 4);
    assert_eq!(stopped[0]["last_seq"], 3);
    assert!(
        stopped[0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("node-a") && m.contains("exited with 1")),
        "{}",
        stopped[0]
    );
    let r = rpo(&dir);
    assert_eq!(
        (r["last_ack_seq"].as_u64(), r["read_seq"].as_u64()),
        (Some(3), Some(3))
    );
    assert_eq!(r["met"], true);
}

/// Without a stop step the writer stops when the service's first start step begins.
#[test]
fn canary_without_a_stop_phase_stops_writing_when_the_start_phase_begins() {
    let body = runbook("0s", "", "true", SETTLED).replace(
        "[[services.db.stop]]\nname = \"stop primary\"\nrun = \"true\"\n",
        "",
    );
    assert!(!body.contains("services.db.stop"), "{body}");
    let out = project(&body).args(LIVE).run().code(0);
    let dir = run_dir(&out);
    let ev = events(&dir);
    let stopped = ev
        .iter()
        .position(|e| e["event"] == "canary_stopped")
        .expect("stopped");
    assert_eq!(ev[stopped]["why"], "no_stop_phase");
    let start = ev
        .iter()
        .position(|e| e["event"] == "step_started" && e["step"] == "db.start.1")
        .expect("start");
    assert!(start < stopped);
    assert!(!of(&ev, "canary_written").is_empty());
    assert_eq!(rpo(&dir)["met"], true);
}

#[test]
fn canary_secrets_are_redacted_in_what_it_shows() {
    let body = format!(
        "[secrets]\ntoken = {{ env = \"CANARY_TOKEN\" }}\n{}",
        runbook("1h", "", "true", "cp primary.log replica.log").replace(
            "echo {{canary.seq}} >> primary.log",
            "test {{secrets.token}} = hunter2-secret && echo {{canary.seq}} >> primary.log",
        )
    );
    let dry = project(&body)
        .env("CANARY_TOKEN", "hunter2-secret")
        .args(&["--no-progress", "run", "runbooks/test.toml", "--to", "b"])
        .run()
        .code(0);
    assert!(dry.stderr.contains("[REDACTED:token]"), "{}", dry.stderr);
    let live = project(&body)
        .env("CANARY_TOKEN", "hunter2-secret")
        .args(LIVE)
        .run()
        .code(0);
    let dir = run_dir(&live);
    // The secret reached the host: the writes were acknowledged.
    assert!(!of(&events(&dir), "canary_written").is_empty());
    for text in [dry.stderr, live.stderr, read(&dir, "journal.jsonl")] {
        assert!(!text.contains("hunter2-secret"), "{text}");
    }
}

#[test]
fn canary_a_failed_precheck_starts_no_writer() {
    let body = runbook("0s", "", "true", "cp primary.log replica.log").replace(
        "[[services.db.precheck]]\nrun = \"true\"",
        "[[services.db.precheck]]\nrun = \"false\"",
    );
    let out = project(&body).args(LIVE).run();
    assert_ne!(out.code, 0, "{}", out.stderr);
    let dir = run_dir(&out);
    assert!(!out.root.join("primary.log").exists(), "the canary wrote");
    let ev = events(&dir);
    assert!(of(&ev, "canary_written").is_empty() && of(&ev, "canary_stopped").is_empty());
    let r = rpo(&dir);
    assert_eq!(
        (r["last_ack_seq"].as_u64(), r["met"].as_bool()),
        (Some(0), Some(false))
    );
}

/// In a site, each runbook's canary is its own: a loss in one makes the site
/// `rpo_breached` and names that runbook's service, while the other's RPO is met.
#[test]
fn canary_in_a_site_each_runbook_measures_its_own_service() {
    let rb = |name: &str, replicate: &str| {
        format!(
            r#"[runbook]
name = "{name}"
rto = "1h"
inventory = ["../inventory/site.toml"]

[services.db]
hosts = ["tag:node"]
rpo = "0s"
[services.db.canary]
write = "echo {{{{canary.seq}}}} >> {{{{runbook}}}}-primary.log"
read = "tail -n 1 {{{{runbook}}}}-replica.log"
interval = "100ms"
[[services.db.precheck]]
run = "true"
[[services.db.stop]]
run = "sleep 0.5"
[[services.db.start]]
on = "target"
run = "{replicate}"
[[services.db.verify]]
on = "target"
run = "true"
"#
        )
    };
    let out = Test::new()
        .file("inventory/site.toml", LOCAL_INVENTORY)
        .file(
            "runbooks/ledger.toml",
            rb("ledger", "sleep 0.3 && cp ledger-primary.log ledger-replica.log"),
        )
        .file(
            "runbooks/shop.toml",
            rb("shop", "head -n 1 shop-primary.log > shop-replica.log"),
        )
        .file(
            "sites/town.toml",
            "[site]\nname = \"town\"\nrto = \"1h\"\nrunbooks = [\"../runbooks/*.toml\"]\n[systems.ledger]\n[systems.shop]\n",
        )
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
        .code(3);
    let dir = run_dir(&out);
    let s = summary(&dir);
    assert_eq!(s["outcome"], "rpo_breached", "{s}");
    let rpo_of = |runbook: &str| {
        let r = s["runbooks"]
            .as_array()
            .expect("runbooks")
            .iter()
            .find(|r| r["runbook"] == runbook)
            .expect("runbook");
        r["services"][0]["rpo"].clone()
    };
    assert_eq!(rpo_of("ledger")["met"], true, "{s}");
    assert_eq!(rpo_of("ledger")["lost_writes"], 0);
    assert_eq!(rpo_of("shop")["met"], false);
    assert_eq!(rpo_of("shop")["read_seq"], 1);
    let md = read(&dir, "report.md");
    assert!(
        md.contains("| shop/db | 0.00 s |") && md.contains("**MISSED**"),
        "{md}"
    );
    assert_intact(&dir);
}

/// A write that hangs holds the first stop step back for one `interval` at most, not
/// for the write's `timeout`.
#[test]
fn canary_a_hanging_write_delays_the_stop_phase_by_one_interval_at_most() {
    let body = runbook("1h", "timeout = \"4s\"", "true", "echo 0 > replica.log")
        .replace("interval = \"100ms\"", "interval = \"300ms\"")
        .replace("echo {{canary.seq}} >> primary.log", "sleep 30");
    let out = project(&body).args(LIVE).run().code(0);
    let dir = run_dir(&out);
    let s = summary(&dir);
    let ev = events(&dir);
    let end = |id: &str| {
        ev.iter()
            .filter(|e| e["event"] == "step_finished")
            .find(|e| e["step"] == id)
            .expect("step_finished")
            .clone()
    };
    let (stop, precheck) = (end("db.stop.1"), end("db.precheck.1"));
    let waited = stop["start_s"].as_f64().expect("start_s")
        - (precheck["start_s"].as_f64().expect("start_s")
            + precheck["duration_s"].as_f64().expect("duration_s"));
    assert!(
        (0.25..2.0).contains(&waited),
        "the stop step waited {waited} s"
    );
    // Recovered long before the hanging write's timeout ended it.
    assert!(
        s["rto"]["achieved_s"].as_f64().expect("achieved") < 3.0,
        "{s}"
    );
    let ev = events(&dir);
    let stopped = of(&ev, "canary_stopped");
    assert_eq!(stopped[0]["why"], "write_failed");
    assert!(of(&ev, "canary_written").is_empty());
}
