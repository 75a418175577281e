//! `summary.json` (spec §5, schema `switchyard.summary/v1`), built from the run's record.

use serde::Serialize;

use crate::config::model::{Mode, Phase};
use crate::engine::event::{FileHash, Outcome, Rpo, Rto, StepFinished, StepStatus};

use super::record::{Record, RunbookRecord, RunbookStatus, ServiceStatus};

#[derive(Serialize)]
pub struct Summary {
    pub schema: &'static str,
    pub tool: Tool,
    pub runbook: String,
    pub mode: Mode,
    pub dry_run: bool,
    pub from: String,
    pub to: String,
    pub operator: String,
    pub clock_origin: String,
    pub started_at: String,
    pub finished_at: String,
    pub outcome: Outcome,
    pub rto: Option<Rto>,
    pub human_wait_s: f64,
    pub services: Vec<ServiceSummary>,
    /// Dry run: the hosts connected to before any step.
    pub hosts: Vec<HostCheck>,
    pub steps: Vec<StepSummary>,
    pub notices: Vec<String>,
    pub inputs: Vec<FileHash>,
    pub journal: JournalSummary,
    /// The safety invariants checked (absent when the runbook has none).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub invariants: Vec<super::invariants::InvariantTally>,
}

#[derive(Serialize)]
pub struct Tool {
    pub name: &'static str,
    pub version: String,
}

#[derive(Serialize)]
pub struct ServiceSummary {
    pub name: String,
    pub status: ServiceStatus,
    pub rto: Option<Rto>,
    /// Its measured RPO (SPEC §8); null without a canary, and in a dry run.
    pub rpo: Option<Rpo>,
    /// Seconds from the clock's origin to the end of its last verify step.
    pub recovered_s: Option<f64>,
}

#[derive(Serialize)]
pub struct StepSummary {
    pub id: String,
    pub service: String,
    pub phase: Phase,
    pub name: String,
    pub host: Option<String>,
    pub status: StepStatus,
    pub attempts: u32,
    pub exit_code: Option<i32>,
    pub started_at: String,
    pub finished_at: String,
    pub duration_s: f64,
    pub message: Option<String>,
    pub output: Option<String>,
    /// It had started before switchyard stopped, and `resume` ran it again.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub rerun: bool,
}

#[derive(Serialize)]
pub struct HostCheck {
    pub host: String,
    pub ok: bool,
    pub message: Option<String>,
}

#[derive(Serialize)]
pub struct JournalSummary {
    pub events: u64,
    pub last_hash: String,
}

impl Summary {
    /// The summary of a run, from its record (and so from its journal alone).
    pub fn of(r: &Record) -> Summary {
        let st = &r.start;
        Summary {
            schema: "switchyard.summary/v1",
            tool: Tool {
                name: "switchyard",
                version: st.tool_version.clone(),
            },
            runbook: st.runbook.clone(),
            mode: st.mode,
            dry_run: st.dry_run,
            from: st.from.clone(),
            to: st.to.clone(),
            operator: st.operator.clone(),
            clock_origin: st.clock_origin.clone(),
            started_at: st.started_at.clone(),
            finished_at: r.finished_at.clone(),
            outcome: r.outcome,
            // A dry run times nothing.
            rto: (!st.dry_run).then(|| r.rto.clone()),
            human_wait_s: r.human_wait_s,
            services: r.services.iter().map(ServiceSummary::of).collect(),
            hosts: r
                .hosts
                .iter()
                .map(|h| HostCheck {
                    host: h.host.clone(),
                    ok: h.ok,
                    message: h.message.clone(),
                })
                .collect(),
            steps: r.steps.iter().map(|s| StepSummary::of(&s.end)).collect(),
            notices: r.notices.clone(),
            inputs: st.inputs.clone(),
            journal: JournalSummary {
                events: r.events,
                last_hash: r.last_hash.clone(),
            },
            invariants: super::invariants::tally(r),
        }
    }
}

/// `summary.json` of a site run (schema `switchyard.site-summary/v1`): the site's
/// outcome and target, and each runbook's summary with its tier, requirements and
/// status.
#[derive(Serialize)]
pub struct SiteSummary {
    pub schema: &'static str,
    pub tool: Tool,
    pub site: String,
    pub title: String,
    pub mode: Mode,
    pub dry_run: bool,
    pub from: String,
    pub to: String,
    pub operator: String,
    pub clock_origin: String,
    pub started_at: String,
    pub finished_at: String,
    pub outcome: Outcome,
    /// Achieved: when the last runbook recovered.
    pub rto: Option<Rto>,
    pub human_wait_s: f64,
    pub runbooks: Vec<RunbookSummary>,
    pub hosts: Vec<HostCheck>,
    pub notices: Vec<String>,
    pub inputs: Vec<FileHash>,
    pub journal: JournalSummary,
    /// The safety invariants checked, each naming its runbook (absent when none).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub invariants: Vec<super::invariants::InvariantTally>,
}

/// One runbook of a site run: its summary as a runbook's, with its place in the site.
#[derive(Serialize)]
pub struct RunbookSummary {
    pub runbook: String,
    pub title: String,
    pub tier: u8,
    pub requires: Vec<String>,
    pub status: RunbookStatus,
    /// Why it did not recover (its failure, what blocked it), or that it is assumed.
    pub reason: Option<String>,
    /// `achieved_s` is null and `met` false until it recovered; null in a dry run.
    pub rto: Option<RunbookRto>,
    /// Its first step's start and its last step's end; null when none ran.
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    pub human_wait_s: f64,
    pub services: Vec<ServiceSummary>,
    pub steps: Vec<StepSummary>,
}

#[derive(Serialize)]
pub struct RunbookRto {
    pub target_s: f64,
    pub achieved_s: Option<f64>,
    pub met: bool,
}

/// A run's `summary.json`: a runbook's, or a site's.
pub fn json(r: &Record) -> String {
    let text = if r.start.runbooks.is_empty() {
        serde_json::to_string_pretty(&Summary::of(r))
    } else {
        serde_json::to_string_pretty(&SiteSummary::of(r))
    };
    text.unwrap_or_default() + "\n"
}

impl SiteSummary {
    pub fn of(r: &Record) -> SiteSummary {
        let Summary {
            tool,
            runbook,
            mode,
            dry_run,
            from,
            to,
            operator,
            clock_origin,
            started_at,
            finished_at,
            outcome,
            rto,
            human_wait_s,
            hosts,
            notices,
            inputs,
            journal,
            invariants,
            ..
        } = Summary::of(r);
        SiteSummary {
            schema: "switchyard.site-summary/v1",
            tool,
            site: runbook,
            title: r.start.title.clone(),
            mode,
            dry_run,
            from,
            to,
            operator,
            clock_origin,
            started_at,
            finished_at,
            outcome,
            rto,
            human_wait_s,
            runbooks: r
                .runbooks
                .iter()
                .map(|rb| RunbookSummary::of(r, rb))
                .collect(),
            hosts,
            notices,
            inputs,
            journal,
            invariants,
        }
    }
}

impl RunbookSummary {
    fn of(r: &Record, rb: &RunbookRecord) -> RunbookSummary {
        let steps: Vec<StepSummary> = r
            .steps
            .iter()
            .filter(|s| rb.owns(&s.end.service))
            .map(|s| StepSummary::of(&s.end))
            .collect();
        let ran = || steps.iter().filter(|s| s.status != StepStatus::Skipped);
        RunbookSummary {
            runbook: rb.name.clone(),
            title: rb.title.clone(),
            tier: rb.tier,
            requires: rb.requires.clone(),
            status: rb.status,
            reason: rb.reason.clone(),
            rto: (!r.start.dry_run).then(|| RunbookRto {
                target_s: rb.target_s,
                achieved_s: rb.recovered_s,
                met: rb.rto().is_some_and(|t| t.met),
            }),
            started_at: ran().map(|s| s.started_at.clone()).min(),
            finished_at: ran().map(|s| s.finished_at.clone()).max(),
            human_wait_s: r
                .steps
                .iter()
                .filter(|s| rb.owns(&s.end.service))
                .map(|s| s.end.human_wait_s)
                .sum(),
            services: r
                .services
                .iter()
                .filter(|s| rb.owns(&s.name))
                .map(ServiceSummary::of)
                .collect(),
            steps,
        }
    }
}

impl ServiceSummary {
    fn of(s: &super::record::ServiceRecord) -> ServiceSummary {
        ServiceSummary {
            name: s.name.clone(),
            status: s.status,
            rto: s.rto(),
            rpo: s
                .canary
                .as_ref()
                .filter(|_| s.status != super::record::ServiceStatus::Planned)
                .map(super::record::CanaryRecord::rpo),
            recovered_s: s.recovered_s,
        }
    }
}

impl StepSummary {
    fn of(e: &StepFinished) -> StepSummary {
        StepSummary {
            id: e.step.clone(),
            service: e.service.clone(),
            phase: e.phase,
            name: e.name.clone(),
            host: e.host.clone(),
            status: e.status,
            attempts: e.attempts,
            exit_code: e.exit_code,
            started_at: e.started_at.clone(),
            finished_at: e.finished_at.clone(),
            duration_s: e.duration_s,
            message: e.message.clone(),
            output: e.output.clone(),
            rerun: e.rerun,
        }
    }
}
