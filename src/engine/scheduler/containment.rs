//! What a failure stops. In one runbook, the run: no new step starts. In a site, only
//! the runbook it belongs to, by that runbook's own `on_failure`, and the runbooks that
//! require it (also indirectly), which begin no new step and end `blocked`. Every other
//! runbook goes on: [`super::progress::Progress::cut`] releases what waited for the
//! stopped ones, so a failed system never holds back one that does not depend on it.
//! A failed precheck is the exception: no system stops until every precheck has passed,
//! so it holds back every runbook of the site, before anything has changed.

use crate::config::model::Phase;
use crate::engine::event::{Event, Halt};
use crate::engine::executor::Executor;

use super::dispatcher::Dispatcher;
use super::types::Stop;

impl<E: Executor> Dispatcher<'_, '_, E> {
    /// A failure of a step of `service` in `phase` calls for `stop`.
    pub(super) fn stop_for(&mut self, service: usize, phase: Phase, stop: Stop, chosen: bool) {
        if self.plan.runbook.site && !self.rollback_pass {
            let origin = self.plan.runbook.services[service].origin;
            // Once the whole run stops (Ctrl-C, a broken journal), the steps it stops
            // fail because of that, not of their runbook: none is stopped on its own.
            if !self.is_cut(origin) && self.stop.is_none() {
                // No system stops until every precheck has passed: a failed precheck
                // holds back the whole site, before anything has changed.
                let held = if phase == Phase::Precheck {
                    (0..self.plan.runbook.origins.len())
                        .filter(|&o| o != origin)
                        .collect()
                } else {
                    dependents(self.plan.runbook, origin)
                };
                self.halt(origin, stop, held);
            }
        } else if self.stop.is_none() || chosen {
            match stop {
                Stop::Rollback => self.stop_to_roll_back(),
                other => self.stop = Some(other),
            }
        }
    }

    /// On resume: the site's runbooks an earlier process had begun to roll back stay
    /// stopped, and roll back after this pass.
    pub(super) fn keep_rolling_back(&mut self) {
        let rb = self.plan.runbook;
        for (name, services) in &self.carry.rolling_back {
            let Some(origin) = rb.origins.iter().position(|o| &o.name == name) else {
                continue;
            };
            for (s, svc) in rb.services.iter().enumerate() {
                if services.iter().any(|n| n == svc.name.as_str()) {
                    self.stop_begun[s] = true;
                }
            }
            let held = dependents(rb, origin);
            self.halt_quietly(origin, Stop::Rollback, held);
        }
    }

    /// Whether the site's runbook `origin` starts no new step: it stopped, or a
    /// runbook it requires did.
    pub(super) fn is_cut(&self, origin: usize) -> bool {
        self.halts[origin].is_some() || self.blocked_by[origin].is_some()
    }

    /// Stops the site's runbook `origin` and blocks the runbooks `held` (those that
    /// require it). A rollback is announced with the services whose stop phase had
    /// begun.
    fn halt(&mut self, origin: usize, stop: Stop, held: Vec<usize>) {
        self.halt_quietly(origin, stop.clone(), held);
        if stop == Stop::Rollback {
            let rb = self.plan.runbook;
            let services = (0..rb.services.len())
                .filter(|&s| rb.services[s].origin == origin && self.stop_begun[s])
                .map(|s| rb.services[s].name.to_string())
                .collect();
            self.sink.emit(Event::RollbackStarted {
                services,
                runbook: Some(rb.origins[origin].name.clone()),
            });
        }
    }

    /// As [`Self::halt`], without announcing a rollback (on resume, an earlier process
    /// did).
    fn halt_quietly(&mut self, origin: usize, stop: Stop, held: Vec<usize>) {
        let rb = self.plan.runbook;
        let blocked: Vec<usize> = held.into_iter().filter(|&d| !self.is_cut(d)).collect();
        for &d in &blocked {
            self.blocked_by[d] = Some(origin);
        }
        let (how, message) = match &stop {
            Stop::Failed(m) => (Halt::Failed, m.clone()),
            Stop::Aborted => (Halt::Aborted, "the operator aborted it".to_string()),
            _ => (Halt::RolledBack, "it failed and rolls back".to_string()),
        };
        self.sink.emit(Event::RunbookStopped {
            runbook: rb.origins[origin].name.clone(),
            how,
            message: self.settings.redactor.redact(&message),
            blocked: blocked
                .iter()
                .map(|&d| rb.origins[d].name.clone())
                .collect(),
        });
        self.halts[origin] = Some(stop);
        let cut: Vec<bool> = (0..rb.origins.len()).map(|o| self.is_cut(o)).collect();
        self.progress.cut(self.plan, &cut);
    }

    /// Why a job of `service` that never started did not run.
    pub(super) fn not_run(&self, service: usize) -> String {
        let rb = self.plan.runbook;
        let origin = rb.services[service].origin;
        let name = |o: usize| rb.origins[o].name.as_str();
        match (&self.stop, &self.halts[origin], self.blocked_by[origin]) {
            (Some(stop), _, _) => not_run(stop),
            (None, Some(Stop::Failed(m)), _) => {
                format!("not run: runbook `{}` stopped because {m}", name(origin))
            }
            (None, Some(Stop::Aborted), _) => {
                format!("not run: the operator aborted runbook `{}`", name(origin))
            }
            (None, Some(_), _) => {
                format!("not run: runbook `{}` stopped to roll back", name(origin))
            }
            (None, None, Some(by)) if dependents(rb, by).contains(&origin) => format!(
                "not run: blocked, because runbook `{}`, which `{}` requires, did not recover",
                name(by),
                name(origin)
            ),
            (None, None, Some(by)) => format!(
                "not run: held back, because a precheck of runbook `{}` failed and no system stops until every precheck has passed",
                name(by)
            ),
            (None, None, None) => "not run".to_string(),
        }
    }
}

/// Why a job did not run, after `stop`.
pub(super) fn not_run(stop: &Stop) -> String {
    match stop {
        Stop::Failed(m) => format!("not run: the run stopped because {m}"),
        Stop::Interrupted => "not run: the run was interrupted".to_string(),
        Stop::Aborted => "not run: the operator aborted the run".to_string(),
        Stop::Rollback => "not run: the run stopped to roll back".to_string(),
    }
}

/// The origins that require `origin`, directly or through others, in order.
fn dependents(rb: &crate::config::Runbook, origin: usize) -> Vec<usize> {
    let mut reached = vec![false; rb.origins.len()];
    reached[origin] = true;
    // Requirements point to earlier or later origins alike: repeat until nothing changes.
    let mut changed = true;
    while changed {
        changed = false;
        for (o, r) in rb.origins.iter().enumerate() {
            if !reached[o] && r.requires.iter().any(|&q| reached[q]) {
                reached[o] = true;
                changed = true;
            }
        }
    }
    reached[origin] = false;
    (0..rb.origins.len()).filter(|&o| reached[o]).collect()
}
