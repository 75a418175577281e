//! `contrib/`: the systemd units of the nightly job are valid for systemd itself, and
//! the commands they run work on a real project.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::util::{LOCAL_INVENTORY, Test};

fn contrib(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("contrib")
        .join(rel)
}

fn text(rel: &str) -> String {
    std::fs::read_to_string(contrib(rel)).expect("contrib file")
}

/// `systemd-analyze verify` on the service and timer, with the binary path pointing at
/// this build (it checks that the command exists). It says nothing when they are valid;
/// an unknown key or section, a bad time, a missing binary is printed.
#[test]
fn the_systemd_units_verify() {
    let dir = tempfile::tempdir().expect("tempdir");
    let service = text("systemd/switchyard-drill.service").replace(
        "/usr/local/bin/switchyard",
        env!("CARGO_BIN_EXE_switchyard"),
    );
    std::fs::write(dir.path().join("switchyard-drill.service"), service).expect("write");
    std::fs::write(
        dir.path().join("switchyard-drill.timer"),
        text("systemd/switchyard-drill.timer"),
    )
    .expect("write");
    let out = Command::new("systemd-analyze")
        .arg("verify")
        .arg(dir.path().join("switchyard-drill.service"))
        .arg(dir.path().join("switchyard-drill.timer"))
        .output()
        .expect("systemd-analyze (scripts/test installs systemd)");
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{said}");
    assert!(said.trim().is_empty(), "systemd-analyze objects:\n{said}");
}

/// The tmpfiles.d lines have the shape `TYPE PATH MODE USER GROUP AGE` and make the lock
/// folder the way docs/evidence.md asks (root-owned, sticky, shared).
#[test]
fn the_tmpfiles_lines_make_the_lock_folder_shared_and_sticky() {
    let conf = text("systemd/switchyard.conf");
    let lines: Vec<Vec<&str>> = conf
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert!(lines.iter().all(|l| l.len() == 6), "{conf}");
    assert!(
        lines.contains(&vec![
            "d",
            "/run/lock/switchyard",
            "1777",
            "root",
            "root",
            "-"
        ]),
        "{conf}"
    );
}

/// A runbook `alpha` on the local hosts, due every 30 days.
const ALPHA: &str = r#"[runbook]
name = "alpha"
rto = "1h"
drill_every = "30d"
inventory = ["../inventory/site.toml"]

[services.svc]
hosts = ["tag:node"]
[[services.svc.start]]
run = "true"
[[services.svc.verify]]
run = "true"
"#;

fn promtool(args: &[&str], stdin: Option<&str>) -> (bool, String) {
    use std::io::Write;
    let mut child = Command::new("promtool")
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("promtool (scripts/test installs prometheus)");
    let mut input = child.stdin.take().expect("stdin");
    input
        .write_all(stdin.unwrap_or_default().as_bytes())
        .expect("write");
    drop(input);
    let out = child.wait_with_output().expect("promtool ends");
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), said)
}

/// The metrics `status --format prometheus` writes, as `promtool test rules` input series:
/// each sample held for three hours at one-minute steps.
fn input_series(metrics: &str) -> String {
    metrics
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let (series, value) = l.rsplit_once(' ').expect("a sample line");
            format!("      - series: '{series}'\n        values: '{value}x180'\n")
        })
        .collect()
}

/// promtool accepts the rules and the metrics, and the rules, evaluated over what
/// `status` really wrote for an overdue runbook, fire the overdue alert for that
/// direction only, and nothing for the direction never drilled before its day is up.
#[test]
fn the_alert_rules_fire_on_the_metrics_status_writes() {
    let rules = contrib("prometheus/switchyard.rules.yml");
    let (ok, said) = promtool(&["check", "rules", &rules.display().to_string()], None);
    assert!(ok, "{said}");

    let drilled = Test::new()
        .file("inventory/site.toml", LOCAL_INVENTORY)
        .file("runbooks/alpha.toml", ALPHA)
        .args(&[
            "--no-progress",
            "run",
            "runbooks/alpha.toml",
            "--to",
            "b",
            "--live",
            "--yes",
        ])
        .run()
        .code(0);
    let later = (time::OffsetDateTime::now_utc() + time::Duration::days(60))
        .format(&time::format_description::well_known::Rfc3339)
        .expect("time");
    let metrics = Test::reuse(&drilled.root)
        .args(&["status", "--format", "prometheus", "--at", &later])
        .run()
        .code(1)
        .stdout;
    let (ok, said) = promtool(&["check", "metrics"], Some(&metrics));
    assert!(ok, "{said}\n{metrics}");

    let test = format!(
        r#"rule_files:
  - {rules}
evaluation_interval: 1m
tests:
  - interval: 1m
    input_series:
{series}    alert_rule_test:
      - eval_time: 2h
        alertname: SwitchyardDrillOverdue
        exp_alerts:
          - exp_labels:
              severity: warning
              runbook: alpha
              direction: a->b
              state: overdue
            exp_annotations:
              summary: "DR drill overdue: alpha (a->b)"
              description: "The last passing live drill of alpha in direction a->b is older than its drill_every. Plan a live drill; `switchyard status alpha` shows the due date."
      - eval_time: 2h
        alertname: SwitchyardNeverDrilled
        exp_alerts: []
      - eval_time: 2h
        alertname: SwitchyardDrillFailing
        exp_alerts: []
      - eval_time: 2h
        alertname: SwitchyardUntrustedEvidence
        exp_alerts: []
"#,
        rules = rules.display(),
        series = input_series(&metrics),
    );
    let file = drilled.root.join("rules.test.yml");
    std::fs::write(&file, test).expect("write");
    let (ok, said) = promtool(&["test", "rules", &file.display().to_string()], None);
    assert!(ok, "{said}\n{metrics}");
}

/// The service's own command lines — the nightly dry run, then the register into the
/// textfile folder — run as written on a real project.
#[test]
fn the_nightly_job_runs_its_dry_run_and_writes_the_register() {
    let t = Test::new()
        .file("inventory/site.toml", LOCAL_INVENTORY)
        .file("runbooks/alpha.toml", ALPHA)
        .file(
            "sites/town.toml",
            "[site]\nname = \"town\"\nrto = \"2h\"\nrunbooks = [\"../runbooks/*.toml\"]\n",
        );
    let root = t.path().to_path_buf();
    let textfile = root.join("textfile/switchyard.prom");
    std::fs::create_dir_all(textfile.parent().expect("parent")).expect("mkdir");
    let unit = text("systemd/switchyard-drill.service");
    let command = |key: &str| -> Vec<String> {
        let line = unit
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .unwrap_or_else(|| panic!("{key} in the unit"));
        line.trim_start_matches('-')
            .replace(
                "/usr/local/bin/switchyard",
                env!("CARGO_BIN_EXE_switchyard"),
            )
            .replace("${SITE}", "sites/town.toml")
            .replace("${TO}", "b")
            .replace("${TEXTFILE}", &textfile.display().to_string())
            .split_whitespace()
            .map(str::to_string)
            .collect()
    };
    let run = |argv: Vec<String>| {
        Command::new(&argv[0])
            .args(&argv[1..])
            .current_dir(&root)
            .output()
            .expect("runs")
    };
    let dry = run(command("ExecStart="));
    assert_eq!(dry.status.code(), Some(0), "{dry:?}");
    let nightly: Vec<_> = std::fs::read_dir(root.join("evidence-nightly"))
        .expect("evidence-nightly/")
        .collect();
    assert_eq!(nightly.len(), 1, "one dry run folder");
    assert!(!root.join("evidence").exists(), "dry runs stay apart");
    let register = run(command("ExecStopPost="));
    assert_eq!(register.status.code(), Some(1), "never drilled: not ok");
    let written = std::fs::read_to_string(&textfile).expect("the textfile");
    assert!(
        written.contains(
            r#"switchyard_runbook_state{runbook="alpha",direction="a->b",state="never"} 1"#
        ),
        "{written}"
    );
    drop(t);
}
