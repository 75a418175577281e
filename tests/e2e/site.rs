//! Sites (several runbooks switched as one run) over real OpenSSH servers on loopback:
//! the order `requires` gives across runbooks, tiers under a tight `max_parallel`, the
//! locks of every runbook, `--only`, failures contained to their runbook, resume after
//! switchyard was killed (mid switchover, and while one runbook rolls back), failover
//! with the source hall lost, and the PostgreSQL lab as one system of a site.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;

use crate::support::evidence::assert_intact;
use crate::support::pglab::{self, Lab};
use crate::support::runs::{kill_when, resume};
use crate::support::sshd::{INVENTORY_HEAD, Sshd};
use crate::support::util::{Test, run_dir, summary};

/// A live run of the site of [`project`] to hall b, without asking, with plain lines.
const LIVE: &[&str] = &[
    "--no-progress",
    "run",
    "sites/town.toml",
    "--to",
    "b",
    "--live",
    "--yes",
];

/// `directory` <- `database` <- `payroll`: the body of a site file for a chain of three.
const CHAIN: &str = "[systems.database]\nrequires = [\"directory\"]\n[systems.payroll]\nrequires = [\"database\"]\n";

/// One SSH host per hall per system, each its own sshd: `NAME-a` and `NAME-b`, tagged
/// `NAME`.
fn inventory(systems: &[(&str, &Sshd, &Sshd)]) -> String {
    let mut out = INVENTORY_HEAD.to_string();
    for (name, a, b) in systems {
        out += &a.inventory_host(&format!("{name}-a"), "a", name);
        out += &b.inventory_host(&format!("{name}-b"), "b", name);
    }
    out
}

/// A runbook of one service whose steps append `STEP RUNBOOK HOST` lines to `log`.
fn runbook(name: &str, log: &Path) -> String {
    runbook_failing(name, log, "abort", "")
}

/// A runbook as [`runbook`] whose `phase` step fails with `on_failure`: `stop` in hall
/// a, `precheck` and `start` in hall b (so that a rollback's start in hall a succeeds); an empty
/// `phase` fails nowhere.
fn runbook_failing(name: &str, log: &Path, on_failure: &str, phase: &str) -> String {
    runbook_with(name, log, on_failure, phase, ("", ""))
}

/// As [`runbook_failing`], with `then.1` (shell) appended to the command of its
/// `then.0` step (`stop` or `start`), after it wrote its line to the log.
fn runbook_with(
    name: &str,
    log: &Path,
    on_failure: &str,
    phase: &str,
    then: (&str, &str),
) -> String {
    let log = log.display();
    let tail = |p: &str| if p == then.0 { then.1 } else { "" };
    let (stop_tail, start_tail) = (tail("stop"), tail("start"));
    let fail = |p: &str| match (p == phase, p) {
        (true, "stop") => "case {{host.name}} in *-a) echo refused >&2; exit 1;; esac; ",
        (true, _) => "case {{host.name}} in *-b) echo refused >&2; exit 1;; esac; ",
        (false, _) => "",
    };
    let (precheck, stop, start) = (fail("precheck"), fail("stop"), fail("start"));
    format!(
        r#"[runbook]
name = "{name}"
rto = "1h"
inventory = ["../inventory/site.toml"]
on_failure = "{on_failure}"

[services.svc]
hosts = ["tag:{name}"]
[[services.svc.precheck]]
run = "{precheck}echo precheck {{{{runbook}}}} {{{{host.name}}}} | tee -a {log}"
[[services.svc.stop]]
on = "source"
run = "{stop}echo stop {{{{runbook}}}} {{{{host.name}}}} >> {log}{stop_tail}"
[[services.svc.start]]
run = "{start}echo start {{{{runbook}}}}/{{{{service}}}} {{{{host.name}}}} >> {log}{start_tail}"
[[services.svc.verify]]
run = "grep -q 'start {{{{runbook}}}}/svc {{{{host.name}}}}' {log}"
"#
    )
}

/// A project with a site over `names` (each a runbook) and `systems` as the body of the
/// site file after its `[site]` table.
fn project(servers: &[(&str, &Sshd, &Sshd)], site: &str) -> (Test, std::path::PathBuf) {
    let mut t = Test::new().file("inventory/site.toml", inventory(servers));
    let log = t.path().join("log");
    for (name, _, _) in servers {
        t = t.file(&format!("runbooks/{name}.toml"), runbook(name, &log));
    }
    let t = t.file(
        "sites/town.toml",
        format!(
            "[site]\nname = \"town\"\nrto = \"2h\"\nrunbooks = [\"../runbooks/*.toml\"]\n{site}"
        ),
    );
    (t, log)
}

fn live(t: Test, extra: &[&str]) -> crate::support::util::Output {
    t.args(LIVE).args(extra).run()
}

/// The log's lines of one kind (`stop`, `start`, ...), in the order they were written.
fn lines(log: &Path, kind: &str) -> Vec<String> {
    std::fs::read_to_string(log)
        .expect("log")
        .lines()
        .filter(|l| l.starts_with(kind))
        .map(|l| l.split_whitespace().nth(1).unwrap_or("").to_string())
        .collect()
}

fn position(v: &[String], x: &str) -> usize {
    v.iter()
        .position(|s| s == x || s.starts_with(&format!("{x}/")))
        .unwrap_or_else(|| panic!("{x} not in {v:?}"))
}

#[test]
fn a_chain_of_requires_stops_dependents_first_and_starts_requirements_first() {
    let s: Vec<Sshd> = (0..6).map(|_| Sshd::start()).collect();
    let servers = [
        ("directory", &s[0], &s[1]),
        ("database", &s[2], &s[3]),
        ("payroll", &s[4], &s[5]),
    ];
    let (t, log) = project(&servers, CHAIN);
    let out = live(t, &[]).code(0);
    let stops = lines(&log, "stop");
    let starts = lines(&log, "start");
    assert!(
        position(&stops, "payroll") < position(&stops, "database"),
        "{stops:?}"
    );
    assert!(
        position(&stops, "database") < position(&stops, "directory"),
        "{stops:?}"
    );
    assert!(
        position(&starts, "directory") < position(&starts, "database"),
        "{starts:?}"
    );
    assert!(
        position(&starts, "database") < position(&starts, "payroll"),
        "{starts:?}"
    );
    // Every precheck of every runbook passed before the first stop anywhere.
    let text = std::fs::read_to_string(&log).expect("log");
    let first_stop = text.find("stop ").expect("a stop");
    assert_eq!(text[..first_stop].matches("precheck ").count(), 3, "{text}");
    // {{service}} is the runbook's own name for it; the evidence says runbook/service.
    assert!(text.contains("start payroll/svc payroll-b"), "{text}");
    let dir = run_dir(&out);
    let name = dir.file_name().and_then(|n| n.to_str()).unwrap_or("");
    assert!(name.starts_with("site-town-a-to-b-"), "{name}");
    let sum = summary(&dir);
    assert_eq!(sum["schema"], "switchyard.site-summary/v1", "{sum}");
    let steps: Vec<String> = sum["runbooks"]
        .as_array()
        .expect("runbooks")
        .iter()
        .flat_map(|r| r["steps"].as_array().expect("steps").iter())
        .map(|s| s["id"].as_str().unwrap_or("").to_string())
        .collect();
    assert!(
        steps.contains(&"payroll/svc.start.1".to_string()),
        "{steps:?}"
    );
}

#[test]
fn a_diamond_starts_its_top_after_both_sides_and_independent_systems_overlap() {
    let s: Vec<Sshd> = (0..8).map(|_| Sshd::start()).collect();
    let servers = [
        ("base", &s[0], &s[1]),
        ("left", &s[2], &s[3]),
        ("right", &s[4], &s[5]),
        ("top", &s[6], &s[7]),
    ];
    let (t, log) = project(
        &servers,
        "[systems.left]\nrequires = [\"base\"]\n[systems.right]\nrequires = [\"base\"]\n[systems.top]\nrequires = [\"left\", \"right\"]\n",
    );
    // The output owns the project folder (and the log in it).
    let _out = live(t, &[]).code(0);
    let starts = lines(&log, "start");
    for side in ["left", "right"] {
        assert!(
            position(&starts, "base") < position(&starts, side),
            "{starts:?}"
        );
        assert!(
            position(&starts, side) < position(&starts, "top"),
            "{starts:?}"
        );
    }
    let stops = lines(&log, "stop");
    assert_eq!(position(&stops, "top"), 0, "{stops:?}");
    assert_eq!(position(&stops, "base"), 3, "{stops:?}");
}

#[test]
fn with_one_step_at_a_time_the_lower_tier_goes_first() {
    let s: Vec<Sshd> = (0..4).map(|_| Sshd::start()).collect();
    let servers = [("alpha", &s[0], &s[1]), ("zulu", &s[2], &s[3])];
    // Independent runbooks; zulu is listed second but has the lower tier.
    let (t, log) = project(
        &servers,
        "max_parallel = 1\n[systems.alpha]\ntier = 5\n[systems.zulu]\ntier = 0\n",
    );
    let out = live(t, &[]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    for kind in ["precheck", "stop", "start"] {
        let order = lines(&log, kind);
        assert_eq!(position(&order, "zulu"), 0, "{kind}: {order:?}");
    }
}

#[test]
fn a_site_run_takes_the_lock_of_every_runbook() {
    let s: Vec<Sshd> = (0..4).map(|_| Sshd::start()).collect();
    let servers = [("one", &s[0], &s[1]), ("two", &s[2], &s[3])];
    let (t, _log) = project(&servers, "");
    // A live run of runbook `two` holds its lock (a run of the runbook alone takes it
    // the same way): the site must not start.
    let locks = t.path().join(".locks");
    std::fs::create_dir_all(&locks).expect("lock dir");
    let file = std::fs::File::create(locks.join("two.lock")).expect("lock file");
    let _held = nix::fcntl::Flock::lock(file, nix::fcntl::FlockArg::LockExclusiveNonblock)
        .map_err(|(_, e)| e)
        .expect("flock");
    let log = t.path().join("log");
    let out = live(t, &[]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("another live run of `two` holds the lock"),
        "{}",
        out.stderr
    );
    assert!(!log.exists(), "a step ran");
}

#[test]
fn only_runs_the_named_runbooks_and_takes_a_left_out_requirement_as_recovered() {
    let s: Vec<Sshd> = (0..4).map(|_| Sshd::start()).collect();
    let servers = [("base", &s[0], &s[1]), ("app", &s[2], &s[3])];
    let (t, log) = project(&servers, "[systems.app]\nrequires = [\"base\"]\n");
    let out = live(t, &["--only", "app"]).code(0);
    let text = std::fs::read_to_string(&log).expect("log");
    assert!(!text.contains("base"), "{text}");
    assert!(text.contains("start app/svc app-b"), "{text}");
    let s: Value = summary(&run_dir(&out));
    assert_eq!(status_of(&s, "app"), "recovered", "{s}");
    assert_eq!(status_of(&s, "base"), "assumed", "{s}");
    let base = runbook_entry(&s, "base");
    assert!(base["steps"].as_array().is_some_and(Vec::is_empty), "{s}");
    assert!(
        base["reason"]
            .as_str()
            .is_some_and(|r| r.contains("--only")),
        "{s}"
    );
    assert_eq!(runbook_entry(&s, "app")["requires"][0], "base", "{s}");
}

/// The site summary's entry for runbook `name`.
fn runbook_entry<'v>(s: &'v Value, name: &str) -> &'v Value {
    s["runbooks"]
        .as_array()
        .and_then(|rs| rs.iter().find(|r| r["runbook"] == name))
        .unwrap_or_else(|| panic!("no runbook {name} in {s}"))
}

fn status_of<'v>(s: &'v Value, name: &str) -> &'v str {
    runbook_entry(s, name)["status"].as_str().unwrap_or("")
}

/// Four systems: `app` requires `dns`, which requires `base`; `other` stands alone.
/// `dns` fails in `phase` with `on_failure`.
fn contained(on_failure: &str, phase: &str) -> (Test, std::path::PathBuf, [Sshd; 8]) {
    let s: [Sshd; 8] = std::array::from_fn(|_| Sshd::start());
    let servers = [
        ("app", &s[0], &s[1]),
        ("base", &s[2], &s[3]),
        ("dns", &s[4], &s[5]),
        ("other", &s[6], &s[7]),
    ];
    let (t, log) = project(
        &servers,
        "[systems.app]\nrequires = [\"dns\"]\n[systems.dns]\nrequires = [\"base\"]\n",
    );
    let t = t.file(
        "runbooks/dns.toml",
        runbook_failing("dns", &log, on_failure, phase),
    );
    (t, log, s)
}

#[test]
fn a_failed_runbook_blocks_its_dependents_and_the_others_recover() {
    // dns fails while stopping: base, which dns requires, waited for that stop, and
    // must still go on; app, which requires dns, must not start.
    let (t, log, _servers) = contained("abort", "stop");
    let out = live(t, &[]);
    assert_eq!(out.code, 1, "{}\n{}", out.stdout, out.stderr);
    let starts = lines(&log, "start");
    assert!(starts.iter().any(|s| s == "base/svc"), "{starts:?}");
    assert!(starts.iter().any(|s| s == "other/svc"), "{starts:?}");
    assert!(
        !starts
            .iter()
            .any(|s| s.starts_with("app") || s.starts_with("dns")),
        "{starts:?}"
    );
    let s = summary(&run_dir(&out));
    assert_eq!(s["outcome"], "failed", "{s}");
    assert_eq!(status_of(&s, "dns"), "failed", "{s}");
    assert!(
        runbook_entry(&s, "dns")["reason"]
            .as_str()
            .is_some_and(|r| r.contains("dns-a")),
        "{s}"
    );
    assert_eq!(status_of(&s, "app"), "blocked", "{s}");
    assert_eq!(status_of(&s, "base"), "recovered", "{s}");
    assert_eq!(status_of(&s, "other"), "recovered", "{s}");
    assert!(runbook_entry(&s, "base")["rto"]["met"] == true, "{s}");
    // app's start is recorded as not run, and says why.
    let app_start = runbook_entry(&s, "app")["steps"]
        .as_array()
        .and_then(|st| st.iter().find(|x| x["phase"] == "start"))
        .cloned()
        .expect("app's start step");
    assert_eq!(app_start["status"], "skipped", "{s}");
    assert!(
        app_start["message"]
            .as_str()
            .is_some_and(|m| m.contains("blocked") && m.contains("`dns`")),
        "{app_start}"
    );
    assert!(out.stderr.contains("runbook dns FAILED"), "{}", out.stderr);
    // stdout ends with one line per system, lowest tier first.
    assert!(
        out.stdout
            .lines()
            .any(|l| l.contains("app") && l.contains("blocked") && l.contains("requires `dns`")),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .lines()
            .any(|l| l.contains("other") && l.contains("recovered") && l.contains("(met)")),
        "{}",
        out.stdout
    );
}

#[test]
fn a_runbook_that_rolls_back_goes_back_alone() {
    let (t, log, _servers) = contained("rollback", "start");
    let out = live(t, &[]);
    assert_eq!(out.code, 1, "{}\n{}", out.stdout, out.stderr);
    let text = std::fs::read_to_string(&log).expect("log");
    // Switched back: dns started again in hall a, by the rollback pass.
    assert!(text.contains("start dns/svc dns-a"), "{text}");
    assert!(text.contains("start other/svc other-b"), "{text}");
    assert!(!text.contains("start app/svc"), "{text}");
    let s = summary(&run_dir(&out));
    assert_eq!(s["outcome"], "rolled_back", "{s}");
    assert_eq!(status_of(&s, "dns"), "rolled_back", "{s}");
    assert_eq!(status_of(&s, "app"), "blocked", "{s}");
    assert_eq!(status_of(&s, "base"), "recovered", "{s}");
    assert_eq!(status_of(&s, "other"), "recovered", "{s}");
    let dns_steps = runbook_entry(&s, "dns")["steps"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(
        dns_steps.iter().any(|x| x["id"]
            .as_str()
            .is_some_and(|id| id.starts_with("rollback.dns/"))
            && x["status"] == "ok"),
        "{s}"
    );
}

#[test]
fn a_failed_precheck_holds_back_every_system_before_anything_stops() {
    let (t, log, _servers) = contained("abort", "precheck");
    let out = live(t, &[]);
    assert_eq!(out.code, 1, "{}\n{}", out.stdout, out.stderr);
    let stops = lines(&log, "stop");
    assert!(stops.is_empty(), "something stopped: {stops:?}");
    let s = summary(&run_dir(&out));
    assert_eq!(s["outcome"], "failed", "{s}");
    assert_eq!(status_of(&s, "dns"), "failed", "{s}");
    for other in ["app", "base", "other"] {
        assert_eq!(status_of(&s, other), "blocked", "{s}");
    }
    // `other` needs nothing of dns: it was held back by the barrier, not by `requires`.
    assert!(
        runbook_entry(&s, "other")["reason"]
            .as_str()
            .is_some_and(|r| r.contains("held back") && r.contains("`dns`")),
        "{s}"
    );
    assert!(
        runbook_entry(&s, "app")["reason"]
            .as_str()
            .is_some_and(|r| r.contains("requires `dns`")),
        "{s}"
    );
}

#[test]
fn a_runbook_recovered_after_its_own_target_breaches_the_site_run() {
    let s: Vec<Sshd> = (0..4).map(|_| Sshd::start()).collect();
    let servers = [("quick", &s[0], &s[1]), ("slow", &s[2], &s[3])];
    let (t, log) = project(&servers, "");
    // `slow` has a target of one second and cannot meet it; the site's 2h is met.
    let slow = runbook("slow", &log)
        .replace("rto = \"1h\"", "rto = \"1s\"")
        .replace(
            "[[services.svc.verify]]\nrun = \"",
            "[[services.svc.verify]]\nrun = \"sleep 1.5; ",
        );
    let t = t.file("runbooks/slow.toml", slow);
    let out = live(t, &[]);
    assert_eq!(out.code, 3, "{}\n{}", out.stdout, out.stderr);
    let s = summary(&run_dir(&out));
    assert_eq!(s["outcome"], "rto_breached", "{s}");
    assert_eq!(s["rto"]["met"], true, "{s}");
    assert_eq!(status_of(&s, "slow"), "recovered", "{s}");
    assert_eq!(runbook_entry(&s, "slow")["rto"]["met"], false, "{s}");
    assert_eq!(runbook_entry(&s, "quick")["rto"]["met"], true, "{s}");
    assert!(
        out.stdout
            .lines()
            .any(|l| l.contains("slow") && l.contains("MISSED")),
        "{}",
        out.stdout
    );
}

/// Shell for [`runbook_with`]: on the host in hall b, touch `started`, then wait until
/// `go` exists.
fn waits(started: &Path, go: &Path) -> String {
    format!(
        "; case {{{{host.name}}}} in *-b) touch {}; while [ ! -e {} ]; do sleep 0.1; done;; esac",
        started.display(),
        go.display()
    )
}

/// How many of the log's lines are `line`.
fn count(log: &Path, line: &str) -> usize {
    std::fs::read_to_string(log)
        .expect("log")
        .lines()
        .filter(|l| *l == line)
        .count()
}

fn journal(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("journal.jsonl")).expect("journal")
}

/// The entry of step `id` in the site summary's runbook `runbook`.
#[track_caller]
fn step_of<'v>(s: &'v Value, runbook: &str, id: &str) -> &'v Value {
    runbook_entry(s, runbook)["steps"]
        .as_array()
        .and_then(|st| st.iter().find(|x| x["id"] == id))
        .unwrap_or_else(|| panic!("no step {id} in runbook {runbook}: {s}"))
}

#[test]
fn a_killed_site_run_resumes_without_running_finished_steps_again() {
    let s: [Sshd; 6] = std::array::from_fn(|_| Sshd::start());
    let servers = [
        ("directory", &s[0], &s[1]),
        ("database", &s[2], &s[3]),
        ("payroll", &s[4], &s[5]),
    ];
    let (t, log) = project(&servers, CHAIN);
    // The middle runbook's start marks that it runs, then waits: killed then.
    let (started, go) = (t.path().join("started"), t.path().join("go"));
    let t = t.file(
        "runbooks/database.toml",
        runbook_with(
            "database",
            &log,
            "abort",
            "",
            ("start", &waits(&started, &go)),
        ),
    );
    let dir = kill_when(&t, LIVE, "database/svc.start.1", |_| started.exists());
    let before = journal(&dir);
    assert!(!before.contains(r#""event":"run_finished""#), "{before}");
    assert!(!log.exists() || count(&log, "start payroll/svc payroll-b") == 0);
    std::fs::write(&go, "").expect("go marker");
    let out = resume(&dir).code(0);
    assert!(out.stderr.contains("resumed"), "{}", out.stderr);

    // Every step that had finished ran once; the one cut off ran again.
    let text = std::fs::read_to_string(&log).expect("log");
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for line in text.lines() {
        *counts.entry(line).or_default() += 1;
    }
    assert_eq!(counts.len(), 9, "3 prechecks, 3 stops, 3 starts:\n{text}");
    for (line, n) in &counts {
        let want = if *line == "start database/svc database-b" {
            2
        } else {
            1
        };
        assert_eq!(*n, want, "{line}:\n{text}");
    }
    // The order across runbooks still holds for what ran after the resume.
    assert_eq!(
        lines(&log, "start"),
        [
            "directory/svc",
            "database/svc",
            "database/svc",
            "payroll/svc"
        ],
        "{text}"
    );

    let s = summary(&dir);
    assert_eq!(s["outcome"], "passed", "{s}");
    for name in ["directory", "database", "payroll"] {
        assert_eq!(status_of(&s, name), "recovered", "{s}");
        assert_eq!(runbook_entry(&s, name)["rto"]["met"], true, "{s}");
        for step in runbook_entry(&s, name)["steps"].as_array().expect("steps") {
            let rerun = step["id"] == "database/svc.start.1";
            assert_eq!(step["status"], "ok", "{step}");
            assert_eq!(
                step["rerun"],
                if rerun {
                    Value::Bool(true)
                } else {
                    Value::Null
                },
                "{step}"
            );
        }
    }
    assert_eq!(
        step_of(&s, "database", "database/svc.start.1")["rerun"],
        true,
        "{s}"
    );
    // The RTO clock keeps its origin; the journal says it resumed, and its chain goes on.
    let origin = before
        .lines()
        .next()
        .and_then(|l| serde_json::from_str::<Value>(l).ok())
        .map(|e| e["clock_origin"].clone())
        .expect("run_started");
    assert_eq!(s["clock_origin"], origin, "{s}");
    let after = journal(&dir);
    // (A line torn by the kill is cut off.)
    let whole = &before[..before.rfind('\n').map_or(0, |i| i + 1)];
    assert!(after.starts_with(whole), "the journal was rewritten");
    assert_eq!(after.matches(r#""event":"resumed""#).count(), 1, "{after}");
    assert!(
        after.contains(r#""rerun":["database/svc.start.1@database-b"]"#),
        "{after}"
    );
    assert_intact(&dir);
}

#[test]
fn a_site_run_killed_while_one_runbook_rolls_back_resumes_its_rollback_and_the_others() {
    // `roller` fails to start in hall b and rolls back alone; `app` requires it and ends
    // blocked; `slow`, on its own, still starts (and waits) when switchyard is killed.
    let s: [Sshd; 6] = std::array::from_fn(|_| Sshd::start());
    let servers = [
        ("app", &s[0], &s[1]),
        ("roller", &s[2], &s[3]),
        ("slow", &s[4], &s[5]),
    ];
    let (t, log) = project(&servers, "[systems.app]\nrequires = [\"roller\"]\n");
    let (started, go) = (t.path().join("started"), t.path().join("go"));
    let t = t
        .file(
            "runbooks/roller.toml",
            runbook_failing("roller", &log, "rollback", "start"),
        )
        .file(
            "runbooks/slow.toml",
            runbook_with("slow", &log, "abort", "", ("start", &waits(&started, &go))),
        );
    let dir = kill_when(&t, LIVE, "slow/svc.start.1", |j| {
        started.exists() && j.contains(r#""event":"rollback_started""#)
    });
    let before = journal(&dir);
    assert!(
        !before.contains(r#""step":"rollback."#),
        "the rollback pass had begun: {before}"
    );
    std::fs::write(&go, "").expect("go marker");
    let out = resume(&dir).code(1);
    let text = std::fs::read_to_string(&log).expect("log");
    // roller was not switched forward again (its start fails before it writes a line:
    // the journal counts it), but rolled back, hall b to hall a.
    let after = journal(&dir);
    assert_eq!(
        after
            .matches(r#""event":"step_started","step":"roller/svc.start.1""#)
            .count(),
        1,
        "{after}"
    );
    assert_eq!(count(&log, "stop roller roller-b"), 1, "{text}");
    assert_eq!(count(&log, "start roller/svc roller-a"), 1, "{text}");
    // slow's cut-off start ran again and it recovered; app never started.
    assert_eq!(count(&log, "start slow/svc slow-b"), 2, "{text}");
    assert!(!text.contains("start app/"), "{text}");
    for stop in ["stop app app-a", "stop roller roller-a", "stop slow slow-a"] {
        assert_eq!(count(&log, stop), 1, "{stop}: {text}");
    }

    let s = summary(&dir);
    assert_eq!(s["outcome"], "rolled_back", "{s}\n{}", out.stderr);
    assert_eq!(status_of(&s, "roller"), "rolled_back", "{s}");
    assert_eq!(status_of(&s, "app"), "blocked", "{s}");
    assert_eq!(status_of(&s, "slow"), "recovered", "{s}");
    // The switchover's failed start keeps its end: it was not run again.
    let forward = step_of(&s, "roller", "roller/svc.start.1");
    assert_eq!(forward["status"], "failed", "{forward}");
    assert_eq!(forward["rerun"], Value::Null, "{forward}");
    for id in ["rollback.roller/svc.stop.1", "rollback.roller/svc.start.1"] {
        assert_eq!(step_of(&s, "roller", id)["status"], "ok", "{id}: {s}");
    }
    let slow = step_of(&s, "slow", "slow/svc.start.1");
    assert_eq!(
        (&slow["status"], &slow["rerun"]),
        (&"ok".into(), &true.into())
    );
    assert!(
        after.contains(r#""rerun":["slow/svc.start.1@slow-b"]"#),
        "the resumed event names only what runs again: {after}"
    );
    assert_eq!(after.matches(r#""event":"rollback_started""#).count(), 1);
    assert_intact(&dir);
}

#[test]
fn a_site_run_killed_during_a_runbooks_rollback_resumes_the_rollback() {
    // `roller` fails to start in hall b and rolls back once the others have ended: the
    // rollback's stop in hall b waits, and switchyard is killed then. `app` requires
    // `roller`; `broken` fails (abort) on its own; `other` recovers.
    let s: [Sshd; 8] = std::array::from_fn(|_| Sshd::start());
    let servers = [
        ("app", &s[0], &s[1]),
        ("broken", &s[2], &s[3]),
        ("other", &s[4], &s[5]),
        ("roller", &s[6], &s[7]),
    ];
    let (t, log) = project(&servers, "[systems.app]\nrequires = [\"roller\"]\n");
    let (started, go) = (t.path().join("started"), t.path().join("go"));
    let t = t
        .file(
            "runbooks/broken.toml",
            runbook_failing("broken", &log, "abort", "start"),
        )
        .file(
            "runbooks/roller.toml",
            runbook_with(
                "roller",
                &log,
                "rollback",
                "start",
                ("stop", &waits(&started, &go)),
            ),
        );
    let dir = kill_when(&t, LIVE, "rollback.roller/svc.stop.1", |_| started.exists());
    std::fs::write(&go, "").expect("go marker");
    let out = resume(&dir).code(1);
    let text = std::fs::read_to_string(&log).expect("log");
    // The rollback goes on where it was cut off; nothing switches forward again.
    assert_eq!(count(&log, "stop roller roller-b"), 2, "{text}");
    assert_eq!(count(&log, "start roller/svc roller-a"), 1, "{text}");
    assert_eq!(count(&log, "start other/svc other-b"), 1, "{text}");
    assert_eq!(count(&log, "stop roller roller-a"), 1, "{text}");
    assert!(!text.contains("start app/"), "{text}");

    let s = summary(&dir);
    // What the switchover pass stopped stays as it was: the worst of it is the outcome.
    assert_eq!(s["outcome"], "failed", "{s}\n{}", out.stderr);
    assert_eq!(status_of(&s, "broken"), "failed", "{s}");
    assert_eq!(status_of(&s, "roller"), "rolled_back", "{s}");
    assert_eq!(status_of(&s, "app"), "blocked", "{s}");
    assert_eq!(status_of(&s, "other"), "recovered", "{s}");
    let back = step_of(&s, "roller", "rollback.roller/svc.stop.1");
    assert_eq!(
        (&back["status"], &back["rerun"]),
        (&"ok".into(), &true.into())
    );
    assert_eq!(
        step_of(&s, "roller", "rollback.roller/svc.start.1")["status"],
        "ok",
        "{s}"
    );
    let forward = step_of(&s, "roller", "roller/svc.start.1");
    assert_eq!(forward["status"], "failed", "{forward}");
    assert_eq!(forward["rerun"], Value::Null, "{forward}");
    let after = journal(&dir);
    assert!(
        after.contains(r#""rerun":["rollback.roller/svc.stop.1@roller-b"]"#),
        "the resumed event names only what runs again: {after}"
    );
    assert_eq!(after.matches(r#""event":"rollback_started""#).count(), 1);
    assert_intact(&dir);
}

#[test]
fn a_site_fails_over_with_the_source_hall_lost() {
    let a: [Sshd; 3] = std::array::from_fn(|_| Sshd::start());
    let b: [Sshd; 3] = std::array::from_fn(|_| Sshd::start());
    let servers = [
        ("directory", &a[0], &b[0]),
        ("database", &a[1], &b[1]),
        ("payroll", &a[2], &b[2]),
    ];
    let (mut t, log) = project(&servers, CHAIN);
    // Each runbook also checks its source side first: failover skips that.
    for (name, _, _) in &servers {
        let precheck = format!(
            "\n[[services.svc.precheck]]\nname = \"source is primary\"\non = \"source\"\nrun = \"echo source-check {name} >> {}\"\n",
            log.display()
        );
        let text = runbook(name, &log) + &precheck;
        t = t.file(&format!("runbooks/{name}.toml"), text);
    }
    // Hall a is lost: nothing listens at its hosts' addresses any more.
    drop(a);
    let out = live(t, &["--mode", "failover"]).code(0);
    let text = std::fs::read_to_string(&log).expect("log");
    assert!(!text.contains("source-check"), "{text}");
    assert!(!text.contains("stop "), "{text}");
    assert_eq!(
        lines(&log, "start"),
        ["directory/svc", "database/svc", "payroll/svc"],
        "{text}"
    );
    let s = summary(&run_dir(&out));
    assert_eq!(s["outcome"], "passed", "{s}");
    assert_eq!(s["mode"], "failover", "{s}");
    for host in s["hosts"].as_array().expect("hosts") {
        let lost = host["host"].as_str().is_some_and(|h| h.ends_with("-a"));
        let message = host["message"].as_str().unwrap_or_default();
        assert_eq!(
            message.starts_with("source host unreachable, as expected in failover: "),
            lost,
            "{host}"
        );
    }
    for name in ["directory", "database", "payroll"] {
        assert_eq!(status_of(&s, name), "recovered", "{s}");
        let stop = step_of(&s, name, &format!("{name}/svc.stop.1"));
        assert_eq!(stop["status"], "source_unreachable", "{stop}");
        assert_eq!(stop["host"], format!("{name}-a"), "{stop}");
        assert_eq!(
            step_of(&s, name, &format!("{name}/svc.start.1"))["status"],
            "ok",
            "{s}"
        );
        let ids: Vec<&str> = runbook_entry(&s, name)["steps"]
            .as_array()
            .expect("steps")
            .iter()
            .filter_map(|x| x["id"].as_str())
            .collect();
        assert!(
            !ids.contains(&format!("{name}/svc.precheck.2").as_str()),
            "a source precheck ran: {ids:?}"
        );
    }
    assert_intact(&run_dir(&out));
}

#[test]
fn the_postgres_lab_switches_as_one_system_of_a_site_before_an_app_that_requires_it() {
    let lab = Lab::up();
    let lb = lab.lb();
    let (app_a, app_b) = (Sshd::start(), Sshd::start());
    // The site: the repository's postgres runbook as it is, with the lab's inventory
    // where it looks for it, and `app`, which requires it: its start writes through
    // the load balancer and says which server took the write.
    let root = Path::new(pglab::ROOT);
    let t = Test::new()
        .file(
            "runbooks/postgres.toml",
            std::fs::read(root.join("runbooks/postgres.toml")).expect("postgres runbook"),
        )
        .file(
            "lab/postgres/inventory.toml",
            std::fs::read(lab.inventory()).expect("the lab's inventory"),
        )
        .file("inventory/site.toml", inventory(&[("app", &app_a, &app_b)]));
    let log = t.path().join("log");
    let sql = |what: &str| {
        format!(
            "psql -h {lb} -p 5432 -U postgres -d drill -XAtq -v ON_ERROR_STOP=1 -c \\\"{what}\\\""
        )
    };
    let app = format!(
        r#"[runbook]
name = "app"
rto = "30m"
inventory = ["../inventory/site.toml"]
on_failure = "abort"

[services.svc]
hosts = ["tag:app"]
[[services.svc.stop]]
run = "echo stop app {{{{host.name}}}} >> {log}"
[[services.svc.start]]
run = "{insert} >> {log}"
[[services.svc.verify]]
run = "{read}"
expect_stdout = "1"
"#,
        log = log.display(),
        insert = sql(
            "insert into ledger (note) values ('app started') returning 'start app: ' || current_setting('cluster_name')"
        ),
        read = sql("select count(*) from ledger where note = 'app started'"),
    );
    let t = t.file("runbooks/app.toml", app).file(
        "sites/lab.toml",
        "[site]\nname = \"lab\"\nrto = \"1h\"\nrunbooks = [\"../runbooks/*.toml\"]\n[systems.app]\nrequires = [\"postgres\"]\n",
    );

    assert_eq!(pglab::sql(&lab.pg_b(), "select pg_is_in_recovery()"), "t");
    assert_eq!(pglab::health(&lb), "pg-a (hall a)");
    let before = pglab::write_rows(&lb, "before the site switchover #", 200);

    let out = t
        .args(&[
            "--no-progress",
            "run",
            "sites/lab.toml",
            "--to",
            "b",
            "--live",
            "--yes",
        ])
        .run();
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let dir = run_dir(&out);
    let s = summary(&dir);
    assert_eq!(s["schema"], "switchyard.site-summary/v1", "{s}");
    assert_eq!(s["outcome"], "passed", "{s}");
    for name in ["postgres", "app"] {
        assert_eq!(status_of(&s, name), "recovered", "{s}");
        for step in runbook_entry(&s, name)["steps"].as_array().expect("steps") {
            assert_eq!(step["status"], "ok", "{step}");
        }
    }
    // pg-b was promoted, pg-a is down, nginx sends clients to pg-b; every row is there.
    assert_eq!(pglab::sql(&lab.pg_b(), "select pg_is_in_recovery()"), "f");
    assert!(
        pglab::psql(&lab.pg_a(), "select 1").is_err(),
        "the old primary still accepts connections"
    );
    assert_eq!(pglab::health(&lb), "pg-b (hall b)");
    assert_eq!(pglab::notes(&lb, "before the site switchover #"), before);
    assert_eq!(
        pglab::sql(&lb, "select note from ledger where id <= 3 order by id"),
        "opening balance\nfirst transfer\nsecond transfer"
    );
    // app stopped before the database it requires, and started once that was promoted
    // and nginx pointed at it.
    let text = std::fs::read_to_string(&log).expect("log");
    assert_eq!(text, "stop app app-a\nstart app: pg-b\n", "{text}");
    let j = journal(&dir);
    let at = |needle: &str| {
        j.find(needle)
            .unwrap_or_else(|| panic!("{needle} not in the journal:\n{j}"))
    };
    assert!(
        at(r#""event":"step_finished","step":"app/svc.stop.1""#)
            < at(r#""event":"step_started","step":"postgres/db.stop.1""#)
    );
    assert!(
        at(r#""event":"step_finished","step":"postgres/lb.verify.2""#)
            < at(r#""event":"step_started","step":"app/svc.start.1""#)
    );
    assert_intact(&dir);
}

#[test]
fn a_dry_run_of_a_site_runs_every_precheck_and_changes_nothing() {
    let s: [Sshd; 6] = std::array::from_fn(|_| Sshd::start());
    let servers = [
        ("directory", &s[0], &s[1]),
        ("database", &s[2], &s[3]),
        ("payroll", &s[4], &s[5]),
    ];
    let (t, log) = project(&servers, CHAIN);
    let out = t
        .args(&["--no-progress", "run", "sites/town.toml", "--to", "b"])
        .run();
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stderr
            .contains("DRY RUN of site town (3 runbooks): a → b"),
        "{}",
        out.stderr
    );
    // The prechecks ran for real, on the target hall; nothing stopped or started.
    assert_eq!(lines(&log, "precheck").len(), 3);
    assert!(lines(&log, "stop").is_empty() && lines(&log, "start").is_empty());
    let s = summary(&run_dir(&out));
    assert_eq!(s["schema"], "switchyard.site-summary/v1", "{s}");
    assert_eq!(s["dry_run"], true, "{s}");
    assert_eq!(s["outcome"], "passed", "{s}");
    assert!(s["rto"].is_null(), "a dry run times nothing: {s}");
    // Every host of both halls was logged in to.
    assert_eq!(s["hosts"].as_array().map(Vec::len), Some(6), "{s}");
    for name in ["directory", "database", "payroll"] {
        assert_eq!(status_of(&s, name), "planned", "{s}");
        for step in runbook_entry(&s, name)["steps"].as_array().expect("steps") {
            let want = if step["phase"] == "precheck" {
                "ok"
            } else {
                "planned"
            };
            assert_eq!(step["status"], want, "{step}");
        }
    }
}

#[test]
fn a_site_run_stopped_by_ctrl_c_resumes_to_the_end() {
    let s: [Sshd; 6] = std::array::from_fn(|_| Sshd::start());
    let servers = [
        ("directory", &s[0], &s[1]),
        ("database", &s[2], &s[3]),
        ("payroll", &s[4], &s[5]),
    ];
    let (t, log) = project(&servers, CHAIN);
    let (started, go) = (t.path().join("started"), t.path().join("go"));
    let t = t.file(
        "runbooks/database.toml",
        runbook_with(
            "database",
            &log,
            "abort",
            "",
            ("start", &waits(&started, &go)),
        ),
    );
    let args: Vec<&str> = LIVE.iter().copied().chain(["--grace", "0s"]).collect();
    let (dir, out) = crate::support::runs::signal_when(
        &t,
        &args,
        "database/svc.start.1",
        |_| started.exists(),
        nix::sys::signal::Signal::SIGINT,
    );
    assert_eq!(out.status.code(), Some(130), "{out:?}");
    let s = summary(&dir);
    assert_eq!(s["outcome"], "interrupted", "{s}");
    assert_eq!(status_of(&s, "directory"), "recovered", "{s}");
    assert_eq!(status_of(&s, "database"), "interrupted", "{s}");
    assert_eq!(status_of(&s, "payroll"), "interrupted", "{s}");
    std::fs::write(&go, "").expect("go marker");
    resume(&dir).code(0);
    let s = summary(&dir);
    assert_eq!(s["outcome"], "passed", "{s}");
    for name in ["directory", "database", "payroll"] {
        assert_eq!(status_of(&s, name), "recovered", "{s}");
    }
    assert_eq!(count(&log, "start directory/svc directory-b"), 1);
    assert_eq!(count(&log, "start payroll/svc payroll-b"), 1);
    assert_intact(&dir);
}
