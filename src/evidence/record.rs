//! A run as its journal tells it: the one model that `summary.json`, the reports,
//! `verify-evidence` and `resume` are built from.
//!
//! Everything here comes from journal events and nothing else, so `switchyard report`
//! on a copied run folder rebuilds byte for byte what the run itself wrote. A journal
//! that stops before `run_finished` (the process was killed) still makes a record: the
//! outcome is `interrupted` and steps that had started but not ended say so.

use std::collections::HashMap;

use crate::engine::drill::ROLLBACK;
use crate::engine::event::{Event, Halt, Outcome, Rto, RunStarted, StepFinished, StepStatus};
use crate::engine::operator::Choice;

use super::journal::Entry;

/// What a dry run found when it logged in to a host.
#[derive(Clone, Debug)]
pub struct HostCheck {
    pub host: String,
    pub ok: bool,
    pub message: Option<String>,
}

/// One step on one host, with what it did.
#[derive(Clone, Debug)]
pub struct StepRecord {
    pub end: StepFinished,
    /// The command, URL or text (redacted), when the step started.
    pub does: Option<String>,
    pub critical: bool,
}

/// Where a service ended up.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ServiceStatus {
    Recovered,
    NotRecovered,
    /// Switched back to the hall it came from.
    RolledBack,
    /// A dry run recovers nothing.
    Planned,
}

impl ServiceStatus {
    /// As the reports print it.
    pub fn words(self) -> &'static str {
        match self {
            ServiceStatus::Recovered => "recovered",
            ServiceStatus::NotRecovered => "not recovered",
            ServiceStatus::RolledBack => "rolled back",
            ServiceStatus::Planned => "planned",
        }
    }
}

/// A service: its target and when (if) it was recovered.
#[derive(Clone, Debug)]
pub struct ServiceRecord {
    pub name: String,
    pub title: String,
    pub status: ServiceStatus,
    pub target_s: Option<f64>,
    /// Seconds from the clock's origin to the end of its last verify step.
    pub recovered_s: Option<f64>,
    /// Its RPO canary, when it has one.
    pub canary: Option<CanaryRecord>,
}

/// What a service's canary did: its acknowledged writes, how its writer stopped, and
/// the RPO measured after the read.
#[derive(Clone, Debug, Default)]
pub struct CanaryRecord {
    pub target_s: Option<f64>,
    pub acks: Vec<crate::engine::canary::Ack>,
    pub stopped: Option<crate::engine::event::CanaryStop>,
    /// Why a write or the read failed.
    pub messages: Vec<String>,
    pub rpo: Option<crate::engine::event::Rpo>,
}

impl CanaryRecord {
    /// The RPO as `summary.json` shows it: measured, or — when the run never read the
    /// canary back — what was acknowledged, with nothing read and the target not met.
    pub fn rpo(&self) -> crate::engine::event::Rpo {
        self.rpo.clone().unwrap_or_else(|| {
            let mut r = crate::engine::canary::measure(&self.acks, None, None);
            r.target_s = self.target_s;
            r
        })
    }
}

impl ServiceRecord {
    /// Target against achieved, when the service has a target and was recovered.
    pub fn rto(&self) -> Option<Rto> {
        let (target_s, achieved_s) = (self.target_s?, self.recovered_s?);
        Some(Rto {
            target_s,
            achieved_s,
            met: achieved_s <= target_s,
        })
    }
}

/// A decision a person made, or `--yes` made for them.
#[derive(Clone, Debug)]
pub struct DecisionRecord {
    pub step: String,
    pub host: Option<String>,
    pub choice: Choice,
    pub by: String,
    pub at: String,
    pub comment: Option<String>,
    pub wait_s: f64,
}

/// Where a site's runbook ended up.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RunbookStatus {
    Recovered,
    Failed,
    /// A runbook it requires did not recover: it began no new step.
    Blocked,
    /// Left out by `--only` and required: taken as recovered.
    Assumed,
    RolledBack,
    /// A dry run recovers nothing.
    Planned,
    /// The run stopped (Ctrl-C, SIGTERM, killed) before it recovered.
    Interrupted,
}

impl RunbookStatus {
    /// As the reports print it.
    pub fn words(self) -> &'static str {
        match self {
            RunbookStatus::Recovered => "recovered",
            RunbookStatus::Failed => "failed",
            RunbookStatus::Blocked => "blocked",
            RunbookStatus::Assumed => "assumed",
            RunbookStatus::RolledBack => "rolled back",
            RunbookStatus::Planned => "planned",
            RunbookStatus::Interrupted => "interrupted",
        }
    }
}

/// A runbook of a site: its place, its target, and where it ended up and why.
#[derive(Clone, Debug)]
pub struct RunbookRecord {
    pub name: String,
    pub title: String,
    pub tier: u8,
    pub requires: Vec<String>,
    pub target_s: f64,
    pub status: RunbookStatus,
    /// Why it is not recovered: its failure, what blocked it, or that it is assumed.
    pub reason: Option<String>,
    /// When its last service recovered, once all have.
    pub recovered_s: Option<f64>,
}

impl RunbookRecord {
    /// Target against achieved, once recovered.
    pub fn rto(&self) -> Option<Rto> {
        let achieved_s = self.recovered_s?;
        Some(Rto {
            target_s: self.target_s,
            achieved_s,
            met: achieved_s <= self.target_s,
        })
    }

    /// Whether `service` (as named in the run: `runbook/service`) is one of its own.
    pub fn owns(&self, service: &str) -> bool {
        service
            .strip_prefix(self.name.as_str())
            .is_some_and(|rest| rest.starts_with('/'))
    }
}

#[derive(Clone, Debug)]
pub struct Record {
    pub start: RunStarted,
    /// A site's runbooks (empty for one runbook), in the order the run began them.
    pub runbooks: Vec<RunbookRecord>,
    pub hosts: Vec<HostCheck>,
    pub notices: Vec<String>,
    /// In the order they ended.
    pub steps: Vec<StepRecord>,
    pub services: Vec<ServiceRecord>,
    pub decisions: Vec<DecisionRecord>,
    /// Every safety invariant check, in the order they were made.
    pub invariants: Vec<crate::engine::invariants::InvariantChecked>,
    pub outcome: Outcome,
    pub finished_at: String,
    pub rto: Rto,
    pub human_wait_s: f64,
    /// False when the journal stops before `run_finished`.
    pub finished: bool,
    pub events: u64,
    pub last_hash: String,
}

impl Record {
    /// The runbook's recovery time: known once the run finished with every service
    /// recovered.
    pub fn recovered_s(&self) -> Option<f64> {
        let all = self.services.iter().all(|s| s.recovered_s.is_some());
        (self.finished && all).then_some(self.rto.achieved_s)
    }

    /// Whether `s` failed and a person chose to skip it, rather than the run leaving
    /// it unrun when it stopped.
    pub fn skipped_by_person(&self, s: &StepRecord) -> bool {
        s.end.status == StepStatus::Skipped
            && self
                .decisions
                .iter()
                .any(|d| d.choice == Choice::Skip && d.step == s.end.step && d.host == s.end.host)
    }

    /// Builds the record from a journal's entries; an error if it has no `run_started`.
    pub fn from_entries(entries: &[Entry], last_hash: &str) -> Result<Record, String> {
        let Some(Event::RunStarted(start)) = entries.first().map(|e| &e.event) else {
            return Err("the journal does not begin with `run_started`".into());
        };
        let mut r = Record {
            services: start
                .services
                .iter()
                .map(|s| ServiceRecord {
                    name: s.name.clone(),
                    title: s.title.clone(),
                    status: if start.dry_run {
                        ServiceStatus::Planned
                    } else {
                        ServiceStatus::NotRecovered
                    },
                    target_s: s.rto_target_s,
                    canary: s.canary.then(|| CanaryRecord {
                        target_s: s.rpo_target_s,
                        ..CanaryRecord::default()
                    }),
                    recovered_s: None,
                })
                .collect(),
            start: start.clone(),
            runbooks: Vec::new(),
            hosts: Vec::new(),
            notices: Vec::new(),
            steps: Vec::new(),
            decisions: Vec::new(),
            invariants: Vec::new(),
            outcome: Outcome::Interrupted,
            finished_at: entries.last().map_or(String::new(), |e| e.ts.clone()),
            rto: Rto {
                target_s: start.rto_target_s,
                achieved_s: 0.0,
                met: false,
            },
            human_wait_s: 0.0,
            finished: false,
            events: entries.len() as u64,
            last_hash: last_hash.to_string(),
        };
        // The `step_started` entry of every step on a host that has not ended yet.
        let mut started: HashMap<(String, Option<String>), &Entry> = HashMap::new();
        let mut last_offset = 0.0_f64;
        // Every step's end in the order they came, and where each (step, host) is.
        let mut ends: Vec<Option<StepRecord>> = Vec::new();
        let mut ended_at: HashMap<(String, Option<String>), usize> = HashMap::new();
        // A site's runbooks that stopped on their own, and those they blocked.
        let mut halts: HashMap<String, (Halt, String)> = HashMap::new();
        let mut blocked: HashMap<String, String> = HashMap::new();
        for entry in entries {
            match &entry.event {
                Event::RunStarted(_) | Event::AttemptFinished { .. } | Event::Question { .. } => {}
                Event::Resumed {
                    at,
                    operator,
                    rerun,
                    forced,
                    signed_by,
                } => {
                    let mut note = format!("resumed at {at} by {operator}");
                    if !rerun.is_empty() {
                        note.push_str(&format!("; run again: {}", rerun.join(", ")));
                    }
                    if !forced.is_empty() {
                        note.push_str(&format!(
                            "; inputs changed since the start, accepted with --force: {}",
                            forced.join(", ")
                        ));
                    }
                    if let Some(key) = signed_by {
                        note.push_str(&format!("; the folder is signed at the end with {key}"));
                    }
                    r.notices.push(note);
                    // An interrupted run goes on: its end is the next `run_finished`.
                    r.finished = false;
                    // What stopped before is decided again: a failed step runs again,
                    // a rollback under way says so once more.
                    halts.clear();
                    blocked.clear();
                }
                Event::RunbookStopped {
                    runbook,
                    how,
                    message,
                    blocked: by_it,
                } => {
                    for b in by_it {
                        blocked.insert(b.clone(), runbook.clone());
                    }
                    halts.insert(runbook.clone(), (*how, message.clone()));
                }
                Event::RollbackStarted { services, .. } => {
                    // Switched back to where they came from: not recovered in the target
                    // hall, whatever their verify steps had shown before.
                    for s in r.services.iter_mut().filter(|s| services.contains(&s.name)) {
                        s.status = ServiceStatus::RolledBack;
                        s.recovered_s = None;
                    }
                    r.notices.push(if services.is_empty() {
                        "rollback: no service had begun to stop; nothing to switch back".into()
                    } else {
                        format!("rollback: switching back {}", services.join(", "))
                    });
                }
                Event::HostChecked { host, ok, message } => r.hosts.push(HostCheck {
                    host: host.clone(),
                    ok: *ok,
                    message: message.clone(),
                }),
                Event::Notice { message } => r.notices.push(message.clone()),
                Event::Notified {
                    webhook,
                    about,
                    ok: false,
                    message,
                    ..
                } => r.notices.push(format!(
                    "the notification of {about} to {webhook} failed: {}",
                    message.as_deref().unwrap_or("")
                )),
                Event::Notified { .. } => {}
                Event::TerminalLost { signal } => r.notices.push(format!(
                    "the operator's terminal was lost ({signal}); the run went on without it"
                )),
                Event::RtoAtRisk { .. } => {
                    if let Some(line) = entry.event.at_risk() {
                        r.notices.push(line);
                    }
                }
                Event::StepStarted { step, host, .. } => {
                    started.insert((step.clone(), host.clone()), entry);
                }
                Event::StepFinished(end) => {
                    let does = started
                        .remove(&(end.step.clone(), end.host.clone()))
                        .and_then(|e| match &e.event {
                            Event::StepStarted { does, .. } => Some(does.clone()),
                            _ => None,
                        });
                    last_offset = last_offset.max(end.start_s + end.duration_s);
                    // A step run after `resume` (again, or for the first time after an
                    // interruption skipped it) replaces its earlier end, and takes its
                    // place among the ends in the order they came.
                    let key = (end.step.clone(), end.host.clone());
                    if let Some(earlier) = ended_at.insert(key, ends.len()) {
                        ends[earlier] = None;
                    }
                    ends.push(Some(StepRecord {
                        critical: start.critical_path.contains(&end.step),
                        end: end.clone(),
                        does,
                    }));
                }
                Event::Decision {
                    step,
                    host,
                    choice,
                    by,
                    at,
                    comment,
                    wait_s,
                    ..
                } => r.decisions.push(DecisionRecord {
                    step: step.clone(),
                    host: host.clone(),
                    choice: *choice,
                    by: by.clone(),
                    at: at.clone(),
                    comment: comment.clone(),
                    wait_s: *wait_s,
                }),
                Event::InvariantChecked(c) => r.invariants.push(c.clone()),
                Event::ServiceRecovered {
                    service,
                    achieved_s,
                    ..
                } => {
                    // A verify that ended after the run decided to roll back does not
                    // make a service that is being switched back recovered.
                    if let Some(s) = r
                        .services
                        .iter_mut()
                        .find(|s| &s.name == service && s.status != ServiceStatus::RolledBack)
                    {
                        s.status = ServiceStatus::Recovered;
                        s.recovered_s = Some(*achieved_s);
                    }
                }
                Event::CanaryWritten { .. } => {
                    if let Some((service, ack)) = crate::engine::canary::Ack::written(&entry.event)
                        && let Some(c) = canary_of(&mut r.services, service)
                    {
                        // A resumed writer goes on after the last acknowledged write.
                        c.acks.retain(|a| a.seq < ack.seq);
                        c.acks.push(ack);
                    }
                }
                Event::CanaryStopped {
                    service,
                    why,
                    message,
                    ..
                } => {
                    if let Some(c) = canary_of(&mut r.services, service) {
                        c.stopped = Some(*why);
                        c.messages.extend(message.clone());
                    }
                }
                Event::CanaryRead {
                    service,
                    message,
                    rpo,
                } => {
                    if let Some(c) = canary_of(&mut r.services, service) {
                        c.rpo = Some(rpo.clone());
                        c.messages.extend(message.clone());
                    }
                }
                Event::RunFinished {
                    outcome,
                    finished_at,
                    rto,
                    human_wait_s,
                } => {
                    r.outcome = *outcome;
                    r.finished_at = finished_at.clone();
                    if let Some(rto) = rto {
                        r.rto = rto.clone();
                    }
                    r.human_wait_s = *human_wait_s;
                    r.finished = true;
                }
            }
        }
        r.steps = ends.into_iter().flatten().collect();
        r.runbooks = runbooks(&r, &halts, &blocked);
        if !r.finished {
            r.rto.achieved_s = last_offset;
            r.steps.extend(unended(
                started.values(),
                &r.finished_at,
                &start.critical_path,
            ));
        }
        Ok(r)
    }
}

/// A site's runbooks as the run left them, from what stopped or blocked them and from
/// their services and steps.
fn runbooks(
    r: &Record,
    halts: &HashMap<String, (Halt, String)>,
    blocked: &HashMap<String, String>,
) -> Vec<RunbookRecord> {
    r.start
        .runbooks
        .iter()
        .map(|t| {
            let mut rb = RunbookRecord {
                name: t.name.clone(),
                title: t.title.clone(),
                tier: t.tier,
                requires: t.requires.clone(),
                target_s: t.rto_target_s,
                status: RunbookStatus::Recovered,
                reason: None,
                recovered_s: None,
            };
            let services: Vec<&ServiceRecord> =
                r.services.iter().filter(|s| rb.owns(&s.name)).collect();
            let all_recovered = services.iter().all(|s| s.recovered_s.is_some());
            if all_recovered {
                rb.recovered_s = services
                    .iter()
                    .filter_map(|s| s.recovered_s)
                    .reduce(f64::max);
            }
            (rb.status, rb.reason) = status(r, &rb, t.assumed, halts, blocked, all_recovered);
            if rb.status != RunbookStatus::Recovered {
                rb.recovered_s = None;
            }
            rb
        })
        .collect()
}

/// Where runbook `rb` ended up, and why when it did not recover.
fn status(
    r: &Record,
    rb: &RunbookRecord,
    assumed: bool,
    halts: &HashMap<String, (Halt, String)>,
    blocked: &HashMap<String, String>,
    all_recovered: bool,
) -> (RunbookStatus, Option<String>) {
    let stopped_early = !r.finished || r.outcome == Outcome::Interrupted;
    let ours = |s: &&StepRecord| rb.owns(&s.end.service);
    let first_failure = || {
        r.steps
            .iter()
            .filter(ours)
            .find(|s| s.end.status == StepStatus::Failed)
            .and_then(|s| s.end.message.clone())
    };
    if assumed {
        let why = "left out by --only; a runbook of the run requires it: taken as recovered";
        return (RunbookStatus::Assumed, Some(why.into()));
    }
    if r.start.dry_run {
        return (RunbookStatus::Planned, None);
    }
    if let Some((how, message)) = halts.get(&rb.name) {
        return match how {
            Halt::Failed => (RunbookStatus::Failed, Some(message.clone())),
            Halt::Aborted => (RunbookStatus::Failed, Some(format!("aborted: {message}"))),
            Halt::RolledBack => {
                let back: Vec<&StepRecord> = r
                    .steps
                    .iter()
                    .filter(|s| s.end.step.starts_with(ROLLBACK) && rb.owns(&s.end.service))
                    .collect();
                if back.iter().any(|s| s.end.status == StepStatus::Failed) {
                    (
                        RunbookStatus::Failed,
                        Some(format!("{message}; its rollback failed")),
                    )
                } else if stopped_early {
                    (
                        RunbookStatus::Interrupted,
                        Some(format!("{message}; the run stopped during its rollback")),
                    )
                } else {
                    (RunbookStatus::RolledBack, Some(message.clone()))
                }
            }
        };
    }
    if let Some(by) = blocked.get(&rb.name) {
        let why = if requires(r, &rb.name, by) {
            format!("requires `{by}`, which did not recover: began no new step")
        } else {
            format!(
                "held back: a precheck of `{by}` failed, and no system stops until every precheck has passed"
            )
        };
        return (RunbookStatus::Blocked, Some(why));
    }
    match (all_recovered, stopped_early) {
        (true, _) => (RunbookStatus::Recovered, None),
        (false, true) => (
            RunbookStatus::Interrupted,
            Some("the run stopped before it recovered".into()),
        ),
        (false, false) => (
            RunbookStatus::Failed,
            Some(first_failure().unwrap_or_else(|| "not every service recovered".into())),
        ),
    }
}

/// Whether runbook `a` of the site requires `b`, directly or through others.
fn requires(r: &Record, a: &str, b: &str) -> bool {
    let mut seen = vec![a];
    let mut i = 0;
    while let Some(&name) = seen.get(i) {
        i += 1;
        let Some(t) = r.start.runbooks.iter().find(|t| t.name == name) else {
            continue;
        };
        for q in &t.requires {
            if q == b {
                return true;
            }
            if !seen.contains(&q.as_str()) {
                seen.push(q);
            }
        }
    }
    false
}

/// Steps whose start is in the journal but not their end: the process stopped during them.
fn unended<'e>(
    started: impl Iterator<Item = &'e &'e Entry>,
    at: &str,
    critical_path: &[String],
) -> Vec<StepRecord> {
    let mut out: Vec<_> = started
        .filter_map(|entry| {
            let Event::StepStarted {
                step,
                service,
                phase,
                name,
                host,
                does,
            } = &entry.event
            else {
                return None;
            };
            Some((
                entry.seq,
                StepRecord {
                    end: StepFinished {
                        started_at: entry.ts.clone(),
                        finished_at: at.to_string(),
                        message: Some(
                            "started, but the journal has no end for it: switchyard stopped during it"
                                .into(),
                        ),
                        ..StepFinished::skipped(
                            step.clone(),
                            service.clone(),
                            *phase,
                            name.clone(),
                            host.clone(),
                        )
                    },
                    does: Some(does.clone()),
                    critical: critical_path.contains(step),
                },
            ))
        })
        .collect();
    out.sort_by_key(|(seq, _)| *seq);
    out.into_iter().map(|(_, s)| s).collect()
}

/// The canary record of service `name`, if it has a canary.
fn canary_of<'r>(services: &'r mut [ServiceRecord], name: &str) -> Option<&'r mut CanaryRecord> {
    services
        .iter_mut()
        .find(|s| s.name == name)
        .and_then(|s| s.canary.as_mut())
}
