//! The dispatcher's part of safety invariants: when a check runs, and what a breach
//! stops. A check is one task that runs every invariant's job on every host at once and
//! sends the results back over a channel; the dispatcher's loop waits for it in its
//! `select!` like for any other event.
//!
//! - After the prechecks: once every precheck job has ended (none written: at once),
//!   before any action starts. A resumed run checks at once, `after = "resume"`. Not in
//!   the rollback pass (it has no prechecks).
//! - After an action step (`stop`, `start`) has ended on every host: only a live run.
//!   While a check is due or running no new step starts; running steps go on. Steps
//!   that end while a check runs are covered by one check after it, `after` naming the
//!   last of them. In a site, only the invariants of the step's own runbook.
//! - At the end of each pass (`end`, `rollback.end`): only a live run, not after an
//!   interruption.
//!
//! In the rollback pass a breach after a step is recorded and the rollback goes on; one
//! at `rollback.end` fails the rollback (the run ends `failed`, not `rolled_back`).
//!
//! A breach is a failure of the invariant's runbook, handled by its `on_failure` before
//! any further step starts: `abort` stops (the run fails), `rollback` rolls back.
//! `pause` asks the operator as a failed step does (`retry` checks the invariants again,
//! `skip` goes on, `abort`, `rollback`); with nobody to answer (or `--yes`) it aborts and
//! the run fails. In a site it stops only its own runbook, as a failed step
//! does (after the prechecks: every runbook, as a failed precheck does).

use std::time::Duration;

use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinSet;

use crate::config::model::{OnFailure, Phase};
use crate::engine::event::Event;
use crate::engine::executor::{Executor, Finished};
use crate::engine::invariants::{self, HostHolds, HostResult, InvariantChecked};
use crate::engine::job::Job;
use crate::engine::operator::{Choice, Kind};

use super::dispatcher::Dispatcher;
use super::types::{BreachQuestion, Pending, Stop, failure};

/// The results of one check: per invariant job, how it ended.
pub(super) type CheckResults = Vec<(usize, Finished)>;

/// Where the pass stands with its invariant checks.
#[derive(Default)]
pub(super) struct Checks {
    /// The pass's invariant jobs, one per invariant and host.
    pub(super) jobs: Vec<Job>,
    /// A check to start: after what, and which origins' invariants.
    pending: Option<(String, Vec<bool>)>,
    /// The check under way, and its results when they come.
    pub(super) rx: Option<oneshot::Receiver<CheckResults>>,
    running: Option<(String, Vec<bool>)>,
    prechecks_done: bool,
    end_done: bool,
}

impl Checks {
    pub(super) fn new(jobs: Vec<Job>) -> Checks {
        Checks {
            jobs,
            ..Checks::default()
        }
    }

    /// A check is due or under way: no new step starts.
    pub(super) fn holding(&self) -> bool {
        self.pending.is_some() || self.rx.is_some()
    }

    pub(super) fn due(&mut self, after: String, origins: Vec<bool>) {
        match &mut self.pending {
            Some((a, o)) => {
                *a = after;
                for (x, y) in o.iter_mut().zip(origins) {
                    *x |= y;
                }
            }
            None => self.pending = Some((after, origins)),
        }
    }
}

/// Waits for the check under way; never, when there is none.
pub(super) async fn check_ended(rx: &mut Option<oneshot::Receiver<CheckResults>>) -> CheckResults {
    match rx {
        Some(r) => r.await.unwrap_or_default(),
        None => std::future::pending().await,
    }
}

impl<E: Executor> Dispatcher<'_, '_, E> {
    /// The runbooks whose invariants this pass checks: those with invariants and a
    /// service in its plan (a site's rollback pass switches back only some runbooks).
    fn origins_with_invariants(&self) -> Vec<bool> {
        let rb = self.plan.runbook;
        rb.origins
            .iter()
            .enumerate()
            .map(|(o, origin)| {
                !origin.invariants.is_empty()
                    && (0..rb.services.len())
                        .any(|s| rb.services[s].origin == o && self.plan.included[s])
            })
            .collect()
    }

    /// Makes the checks that are due now: after the prechecks, and (when `ending`, the
    /// pass has nothing left to do) at the end. `true` when a check was made due.
    pub(super) fn checks_due(&mut self, ending: bool) -> bool {
        if self.checks.jobs.is_empty() || self.stop == Some(Stop::Interrupted) {
            return false;
        }
        if !self.checks.prechecks_done && self.stop.is_none() && !self.rollback_pass {
            let prechecks_ended = self
                .jobs
                .iter()
                .enumerate()
                .all(|(j, job)| job.phase != Phase::Precheck || self.progress.ended[j]);
            if prechecks_ended {
                self.checks.prechecks_done = true;
                let after = if self.carry.done.is_empty() {
                    "prechecks"
                } else {
                    "resume"
                };
                let origins = self.origins_with_invariants();
                self.checks.due(after.to_string(), origins);
                return true;
            }
        }
        if ending && !self.checks.end_done && !self.executor.dry_run() && !self.cancel.is_set() {
            self.checks.end_done = true;
            let after = if self.rollback_pass {
                format!("{}end", crate::engine::drill::ROLLBACK)
            } else {
                "end".to_string()
            };
            let origins = self.origins_with_invariants();
            self.checks.due(after, origins);
            return true;
        }
        false
    }

    /// Job `j`, of an action step, ended: once its step has ended on every host, its
    /// runbook's invariants are checked before any further step starts.
    pub(super) fn check_after_action(&mut self, j: usize) {
        let job = &self.jobs[j];
        if !matches!(job.phase, Phase::Stop | Phase::Start)
            || self.executor.dry_run()
            || self.checks.jobs.is_empty()
            || !self.progress.all_ended(job.step)
            || self.stop == Some(Stop::Interrupted)
        {
            return;
        }
        let rb = self.plan.runbook;
        let origin = rb.services[self.plan.steps[job.step].service].origin;
        if rb.origins[origin].invariants.is_empty() {
            return;
        }
        let mut origins = vec![false; rb.origins.len()];
        origins[origin] = true;
        let after = job.id.clone();
        self.checks.due(after, origins);
    }

    /// Starts the check that is due, unless one is under way.
    pub(super) fn start_check(&mut self) {
        if self.checks.rx.is_some() {
            return;
        }
        let Some((after, origins)) = self.checks.pending.take() else {
            return;
        };
        let all = invariants::of_plan(self.plan.runbook);
        let jobs: Vec<(usize, Job)> = self
            .checks
            .jobs
            .iter()
            .enumerate()
            .filter(|(_, job)| job.invariant.is_some_and(|k| origins[all[k].0]))
            .map(|(k, job)| (k, job.clone()))
            .collect();
        if jobs.is_empty() {
            return;
        }
        let (tx, rx) = oneshot::channel();
        let (executor, cancel) = (self.executor.clone(), self.cancel.clone());
        tokio::spawn(async move {
            // Attempts of a check are not journalled: its event has every host's result.
            let (attempts, _) = mpsc::unbounded_channel();
            let mut set = JoinSet::new();
            for (k, job) in jobs {
                let (ex, attempts, cancel) = (executor.clone(), attempts.clone(), cancel.clone());
                // Bounded even if a transport failed to keep to the check's timeout.
                let bound = job.policy.timeout + Duration::from_secs(5);
                set.spawn(async move {
                    let limit = crate::config::duration::format(job.policy.timeout);
                    let place = job.place();
                    match tokio::time::timeout(bound, ex.execute(usize::MAX, job, attempts, cancel))
                        .await
                    {
                        Ok(f) => (k, f),
                        Err(_) => (
                            k,
                            failure(format!("{place}: timed out after {limit}, no answer")),
                        ),
                    }
                });
            }
            let mut out = Vec::new();
            while let Some(r) = set.join_next().await {
                if let Ok(r) = r {
                    out.push(r);
                }
            }
            let _ = tx.send(out);
        });
        self.checks.rx = Some(rx);
        self.checks.running = Some((after, origins));
    }

    /// The check under way came back: one `invariant_checked` per invariant, then what
    /// each breach stops.
    pub(super) fn check_done(&mut self, results: CheckResults) {
        self.checks.rx = None;
        let Some((after, origins)) = self.checks.running.take() else {
            return;
        };
        let rb = self.plan.runbook;
        let r = &self.settings.redactor;
        let mut breaches = Vec::new();
        for (k, (o, inv)) in invariants::of_plan(rb).into_iter().enumerate() {
            if !origins[o] {
                continue;
            }
            let mut hosts: Vec<HostResult> = Vec::new();
            let mut source = Vec::new();
            for (i, job) in self.checks.jobs.iter().enumerate() {
                if job.invariant != Some(k) {
                    continue;
                }
                let mut h = match results.iter().find(|(x, _)| *x == i) {
                    Some((_, f)) => invariants::host_result(job, f),
                    None => HostResult {
                        host: job.host_name.clone().unwrap_or_default(),
                        result: HostHolds::Unknown,
                        detail: "switchyard failed inside while checking it".into(),
                    },
                };
                h.detail = r.redact(&h.detail);
                hosts.push(h);
                source.push(job.source_side);
            }
            let (holds, message) =
                invariants::verdict(inv.holds_on, self.plan.mode, &mut hosts, &source);
            if let Some(m) = &message {
                let lines: Vec<String> = hosts
                    .iter()
                    .map(|h| format!("  {} {}: {}", h.host, h.result.words(), h.detail))
                    .collect();
                breaches.push((
                    o,
                    inv.name.clone(),
                    format!("invariant `{}` breached after {after}: {m}", inv.name),
                    lines.join("\n"),
                ));
            }
            self.sink.emit(Event::InvariantChecked(InvariantChecked {
                name: inv.name.clone(),
                after: after.clone(),
                holds,
                holds_on: inv.holds_on,
                runbook: rb.site.then(|| rb.origins[o].name.clone()),
                hosts,
                message: message.map(|m| r.redact(&m)),
            }));
        }
        for (o, name, message, hosts) in breaches {
            self.breach(o, &name, &after, message, hosts);
        }
    }

    /// An invariant of origin `o` was breached: a failure of that runbook, handled by
    /// its `on_failure`.
    fn breach(&mut self, o: usize, name: &str, after: &str, message: String, hosts: String) {
        // A run (or a site's runbook) that already stopped is not stopped again: its
        // check is on record, and nobody is asked about it.
        if self.stop.is_some() || self.is_cut(o) || self.cancel.is_set() {
            return;
        }
        // A rollback is the way back to safety: stopping it halfway helps nobody. Its
        // breaches are recorded, and only one left at its end fails it.
        if self.rollback_pass && !after.ends_with("end") {
            return;
        }
        let rb = self.plan.runbook;
        let Some(service) = rb.services.iter().position(|s| s.origin == o) else {
            return;
        };
        let phase = if after == "prechecks" || after == "resume" {
            Phase::Precheck
        } else {
            Phase::Start
        };
        let stop = match rb.origins[o].on_failure {
            OnFailure::Rollback => Stop::Rollback,
            OnFailure::Abort => Stop::Failed(message),
            OnFailure::Pause if !self.rollback_pass => {
                self.paused = true;
                self.questions.push_back(Pending {
                    job: usize::MAX,
                    kind: Kind::Failed,
                    failure: None,
                    breach: Some(BreachQuestion {
                        origin: o,
                        id: format!("invariant:{name}"),
                        after: after.to_string(),
                        message,
                        hosts,
                    }),
                });
                return;
            }
            OnFailure::Pause => Stop::Failed(message),
        };
        self.stop_for(service, phase, stop, false);
    }

    /// A person (or the policy, `chosen` false) answered a breach under `pause`:
    /// `retry` checks the runbook's invariants again, `skip` goes on, `abort` and
    /// `rollback` stop it as after a failed step.
    pub(super) fn breach_answered(&mut self, b: BreachQuestion, choice: Choice, chosen: bool) {
        let rb = self.plan.runbook;
        let Some(service) = rb.services.iter().position(|s| s.origin == b.origin) else {
            return;
        };
        let phase = if b.after == "prechecks" || b.after == "resume" {
            Phase::Precheck
        } else {
            Phase::Start
        };
        let stop = match choice {
            Choice::Retry => {
                let mut origins = vec![false; rb.origins.len()];
                origins[b.origin] = true;
                self.checks.due(b.after, origins);
                return;
            }
            Choice::Skip | Choice::Done => return,
            Choice::Rollback => Stop::Rollback,
            // An abort nobody chose is the breach's own: the run `failed`.
            Choice::Abort if chosen => Stop::Aborted,
            Choice::Abort => Stop::Failed(b.message),
        };
        self.stop_for(service, phase, stop, chosen);
    }
}
