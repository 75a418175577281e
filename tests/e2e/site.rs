//! Sites (several runbooks switched as one run) over real OpenSSH servers on loopback:
//! the order `requires` gives across runbooks, tiers under a tight `max_parallel`, the
//! locks of every runbook, and `--only`.

use std::path::Path;

use serde_json::Value;

use crate::support::sshd::{INVENTORY_HEAD, Sshd};
use crate::support::util::{Test, run_dir, summary};

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
    let log = log.display();
    format!(
        r#"[runbook]
name = "{name}"
rto = "1h"
inventory = ["../inventory/site.toml"]
on_failure = "abort"

[services.svc]
hosts = ["tag:{name}"]
[[services.svc.precheck]]
run = "echo precheck {{{{runbook}}}} {{{{host.name}}}} | tee -a {log}"
[[services.svc.stop]]
on = "source"
run = "echo stop {{{{runbook}}}} {{{{host.name}}}} >> {log}"
[[services.svc.start]]
run = "echo start {{{{runbook}}}}/{{{{service}}}} {{{{host.name}}}} >> {log}"
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
    let mut args = vec![
        "--no-progress",
        "run",
        "sites/town.toml",
        "--to",
        "b",
        "--live",
        "--yes",
    ];
    args.extend(extra);
    t.args(&args).run()
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
    let (t, log) = project(
        &servers,
        "[systems.database]\nrequires = [\"directory\"]\n[systems.payroll]\nrequires = [\"database\"]\n",
    );
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
    let steps: Vec<String> = summary(&dir)["steps"]
        .as_array()
        .expect("steps")
        .iter()
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
    assert!(
        s["steps"]
            .as_array()
            .expect("steps")
            .iter()
            .all(|st| st["id"].as_str().is_some_and(|id| id.starts_with("app/"))),
        "{s}"
    );
}
