//! `summary.json` (spec §5, schema `switchyard.summary/v1`), built from the events.

use serde::Serialize;

use crate::engine::event::{Event, Outcome, Rto, StepStatus};

use super::folder::Input;

#[derive(Serialize)]
pub struct Summary {
    pub schema: &'static str,
    pub tool: Tool,
    pub runbook: String,
    pub mode: String,
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
    pub inputs: Vec<Input>,
    pub journal: JournalSummary,
}

#[derive(Serialize)]
pub struct Tool {
    pub name: &'static str,
    pub version: &'static str,
}

#[derive(Serialize)]
pub struct ServiceSummary {
    pub name: String,
    /// `recovered`, `not_recovered`, or `planned` in a dry run.
    pub status: &'static str,
    pub rto: Option<Rto>,
    /// Seconds from the clock's origin to the end of its last verify step.
    pub recovered_s: Option<f64>,
}

#[derive(Serialize)]
pub struct StepSummary {
    pub id: String,
    pub service: String,
    pub phase: String,
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

/// Accumulates the summary while events arrive.
pub struct Builder {
    pub summary: Summary,
    dry_run: bool,
}

impl Builder {
    pub fn new(services: Vec<String>, inputs: Vec<Input>) -> Builder {
        Builder {
            summary: Summary {
                schema: "switchyard.summary/v1",
                tool: Tool {
                    name: "switchyard",
                    version: env!("CARGO_PKG_VERSION"),
                },
                runbook: String::new(),
                mode: String::new(),
                dry_run: false,
                from: String::new(),
                to: String::new(),
                operator: String::new(),
                clock_origin: String::new(),
                started_at: String::new(),
                finished_at: String::new(),
                outcome: Outcome::Interrupted,
                rto: None,
                human_wait_s: 0.0,
                services: services
                    .into_iter()
                    .map(|name| ServiceSummary {
                        name,
                        status: "not_recovered",
                        rto: None,
                        recovered_s: None,
                    })
                    .collect(),
                hosts: Vec::new(),
                steps: Vec::new(),
                notices: Vec::new(),
                inputs,
                journal: JournalSummary {
                    events: 0,
                    last_hash: String::new(),
                },
            },
            dry_run: false,
        }
    }

    pub fn on_event(&mut self, e: &Event) {
        let s = &mut self.summary;
        match e {
            Event::RunStarted {
                runbook,
                from,
                to,
                mode,
                dry_run,
                operator,
                clock_origin,
                started_at,
                ..
            } => {
                s.runbook = runbook.clone();
                s.from = from.clone();
                s.to = to.clone();
                s.mode = (*mode).to_string();
                s.dry_run = *dry_run;
                self.dry_run = *dry_run;
                s.operator = operator.clone();
                s.clock_origin = clock_origin.clone();
                s.started_at = started_at.clone();
                if *dry_run {
                    for svc in &mut s.services {
                        svc.status = "planned";
                    }
                }
            }
            Event::Notice { message } => s.notices.push(message.clone()),
            Event::StepFinished {
                step,
                service,
                phase,
                name,
                host,
                status,
                attempts,
                exit_code,
                started_at,
                finished_at,
                duration_s,
                message,
                output,
                ..
            } => {
                s.steps.push(StepSummary {
                    id: step.clone(),
                    service: service.clone(),
                    phase: (*phase).to_string(),
                    name: name.clone(),
                    host: host.clone(),
                    status: *status,
                    attempts: *attempts,
                    exit_code: *exit_code,
                    started_at: started_at.clone(),
                    finished_at: finished_at.clone(),
                    duration_s: *duration_s,
                    message: message.clone(),
                    output: output.clone(),
                });
            }
            Event::ServiceRecovered {
                service,
                achieved_s,
                rto,
            } => {
                if let Some(svc) = s.services.iter_mut().find(|x| &x.name == service) {
                    svc.status = "recovered";
                    svc.rto = rto.clone();
                    svc.recovered_s = Some(*achieved_s);
                }
            }
            Event::RunFinished {
                outcome,
                finished_at,
                rto,
                human_wait_s,
            } => {
                s.outcome = *outcome;
                s.finished_at = finished_at.clone();
                s.rto = Some(rto.clone());
                s.human_wait_s = *human_wait_s;
            }
            Event::HostChecked { host, ok, message } => s.hosts.push(HostCheck {
                host: host.clone(),
                ok: *ok,
                message: message.clone(),
            }),
            Event::StepStarted { .. } | Event::AttemptFinished { .. } => {}
        }
    }
}
