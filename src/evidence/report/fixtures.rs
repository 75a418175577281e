//! A site run's record for the reports' unit tests: one system of each kind.
//!
//! Site `town`, target 10 min, from hall a to hall b. Tier 0: `base` recovered within
//! its target, `dns` failed while stopping. Tier 1: `late` recovered after its target,
//! `lab` assumed (left out by `--only`). Tier 2: `app` (requires `dns`) blocked. Tier 3:
//! `back` rolled back.

use crate::config::model::{Mode, Phase};
use crate::engine::event::{Outcome, Rto, RunStarted, RunbookTarget, StepFinished, StepStatus};
use crate::evidence::record::{
    Record, RunbookRecord, RunbookStatus, ServiceRecord, ServiceStatus, StepRecord,
};

pub(super) const BLOCKED: &str = "requires `dns`, which did not recover: began no new step";
pub(super) const ASSUMED: &str =
    "left out by --only; a runbook of the run requires it: taken as recovered";

fn step(id: &str, phase: Phase, host: &str, status: StepStatus, start_s: f64) -> StepRecord {
    let service = id
        .trim_start_matches("rollback.")
        .split('.')
        .next()
        .unwrap_or_default()
        .to_string();
    let failed = status == StepStatus::Failed;
    StepRecord {
        end: StepFinished {
            status,
            attempts: u32::from(status != StepStatus::Skipped),
            exit_code: failed.then_some(1),
            started_at: "2026-01-01T00:00:00.000Z".into(),
            finished_at: "2026-01-01T00:00:01.000Z".into(),
            start_s,
            duration_s: 1.0,
            message: match status {
                StepStatus::Failed => Some(format!("{id} failed on {host}: exited with 1")),
                StepStatus::Skipped => Some(format!("not run: blocked: {BLOCKED}")),
                _ => None,
            },
            excerpt: failed.then(|| "refused <&>".into()),
            ..StepFinished::skipped(
                id.into(),
                service,
                phase,
                format!("{phase} it"),
                Some(host.into()),
            )
        },
        does: Some("echo does".into()),
        critical: false,
    }
}

fn runbook(
    name: &str,
    tier: u8,
    requires: &[&str],
    target_s: f64,
    status: RunbookStatus,
    reason: Option<&str>,
    recovered_s: Option<f64>,
) -> RunbookRecord {
    RunbookRecord {
        name: name.into(),
        title: format!("The {name} <system>"),
        tier,
        requires: requires.iter().map(|r| r.to_string()).collect(),
        target_s,
        status,
        reason: reason.map(Into::into),
        recovered_s,
    }
}

fn service(
    name: &str,
    status: ServiceStatus,
    target_s: Option<f64>,
    at: Option<f64>,
) -> ServiceRecord {
    ServiceRecord {
        name: name.into(),
        title: name.into(),
        status,
        target_s,
        recovered_s: at,
        canary: None,
    }
}

pub(super) fn site_record() -> Record {
    use RunbookStatus as R;
    use StepStatus::{Failed, Ok, Skipped};
    let runbooks = vec![
        runbook(
            "dns",
            0,
            &[],
            60.0,
            R::Failed,
            Some("dns/svc.stop.1 failed on dns-a: exited with 1"),
            None,
        ),
        runbook("base", 0, &[], 60.0, R::Recovered, None, Some(4.0)),
        runbook("late", 1, &[], 2.0, R::Recovered, None, Some(3.0)),
        runbook("lab", 1, &[], 60.0, R::Assumed, Some(ASSUMED), None),
        runbook("app", 2, &["dns"], 60.0, R::Blocked, Some(BLOCKED), None),
        runbook(
            "back",
            3,
            &[],
            60.0,
            R::RolledBack,
            Some("back/svc.start.1 failed on back-b: exited with 1"),
            None,
        ),
    ];
    let start = RunStarted {
        runbook: "town".into(),
        title: "Town <all>".into(),
        owner: None,
        tool_version: "0.1.0".into(),
        plan_hash: "abc".into(),
        from: "a".into(),
        to: "b".into(),
        mode: Mode::Switchover,
        dry_run: false,
        operator: "me@here".into(),
        clock_origin: "2026-01-01T00:00:00.000Z".into(),
        started_at: "2026-01-01T00:00:00.000Z".into(),
        rto_target_s: 600.0,
        services: Vec::new(),
        critical_path: Vec::new(),
        inputs: Vec::new(),
        runbook_file: "sites/town.toml".into(),
        inventory_files: Vec::new(),
        only: Vec::new(),
        steps: 12,
        executions: 12,
        max_parallel: 8,
        runbooks: runbooks
            .iter()
            .map(|rb| RunbookTarget {
                name: rb.name.clone(),
                title: rb.title.clone(),
                tier: rb.tier,
                requires: rb.requires.clone(),
                rto_target_s: rb.target_s,
                plan_hash: None,
                assumed: rb.status == R::Assumed,
            })
            .collect(),
        signed_by: None,
    };
    Record {
        start,
        runbooks,
        hosts: Vec::new(),
        notices: vec!["rollback: switching back back/svc".into()],
        steps: vec![
            step("dns/svc.precheck.1", Phase::Precheck, "dns-b", Ok, 0.0),
            step("base/svc.precheck.1", Phase::Precheck, "base-b", Ok, 0.0),
            step("late/svc.precheck.1", Phase::Precheck, "late-b", Ok, 0.0),
            step("app/svc.precheck.1", Phase::Precheck, "app-b", Ok, 0.0),
            step("back/svc.precheck.1", Phase::Precheck, "back-b", Ok, 0.0),
            step("app/svc.stop.1", Phase::Stop, "app-a", Ok, 1.0),
            step("dns/svc.stop.1", Phase::Stop, "dns-a", Failed, 2.0),
            step("base/svc.start.1", Phase::Start, "base-b", Ok, 2.0),
            step("late/svc.start.1", Phase::Start, "late-b", Ok, 2.0),
            step("back/svc.start.1", Phase::Start, "back-b", Failed, 1.0),
            step("rollback.back/svc.start.1", Phase::Start, "back-a", Ok, 2.0),
            step("base/svc.verify.1", Phase::Verify, "base-b", Ok, 3.0),
            step("app/svc.start.1", Phase::Start, "app-b", Skipped, 3.0),
        ],
        services: vec![
            service("dns/svc", ServiceStatus::NotRecovered, None, None),
            service("base/svc", ServiceStatus::Recovered, Some(30.0), Some(4.0)),
            service("late/svc", ServiceStatus::Recovered, None, Some(3.0)),
            service("app/svc", ServiceStatus::NotRecovered, Some(30.0), None),
            service("back/svc", ServiceStatus::RolledBack, None, None),
        ],
        decisions: Vec::new(),
        invariants: Vec::new(),
        outcome: Outcome::Failed,
        finished_at: "2026-01-01T00:00:05.000Z".into(),
        rto: Rto {
            target_s: 600.0,
            achieved_s: 4.0,
            met: false,
        },
        human_wait_s: 0.0,
        finished: true,
        events: 40,
        last_hash: "ff".into(),
    }
}
