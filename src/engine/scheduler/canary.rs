//! The dispatcher's part of the measured RPO (SPEC §8). Per service with a canary:
//!
//! - the writer starts once every precheck of the pass has passed (never in a dry run),
//!   and writes every `interval` (from the start of one write to the start of the next);
//! - a stop step of the service that may start waits, unannounced, until a write begun
//!   after it became ready has come back: that write is journalled (`before_stop`) before
//!   the step's `step_started`;
//! - the writer stops when every stop step of the service has ended (or, without one,
//!   when its first start or verify step begins), at the first write not acknowledged,
//!   or when the run stops;
//! - after the service has recovered (its last verify step), the read runs once.
//!
//! Writes and the read run in tasks of their own ([`crate::engine::canary`]) and come
//! back over a channel as [`Report`]s, like every other event of the pass.

use std::time::Instant;

use tokio::sync::mpsc;

use crate::config::model::Phase;
use crate::engine::canary::{self, Ack, Prepared, Report};
use crate::engine::event::{CanaryStop, Event};
use crate::engine::executor::Executor;
use crate::engine::stopwatch::{secs, timestamp};

use super::dispatcher::Dispatcher;

/// Where one service's canary stands.
pub(super) struct Writer {
    pub(super) p: Prepared,
    pub(super) acks: Vec<Ack>,
    state: State,
    next_seq: u64,
    /// A write is under way (its sequence number).
    in_flight: Option<u64>,
    /// When the next write is due.
    due: Option<tokio::time::Instant>,
    /// Stop jobs that wait for the write numbered so (or a later one) to come back.
    held: Vec<usize>,
    hold_for: Option<u64>,
    /// The held jobs start then at the latest: one `interval` (or `timeout`, if
    /// shorter) after they became ready, whether or not the write came back.
    hold_until: Option<tokio::time::Instant>,
    /// The extra write before the stop phase has been made.
    stop_write_done: bool,
    reading: bool,
    /// Stopped while a write was under way: `canary_stopped` waits for that write, so
    /// that its `last_seq` is the last write acknowledged.
    stopping: Option<CanaryStop>,
    /// Missed its target (or could not tell).
    pub(super) missed: bool,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    NotStarted,
    Writing,
    Stopped,
}

/// What a pass's canaries start from.
pub(super) struct Canaries {
    pub(super) writers: Vec<Writer>,
    pub(super) tx: mpsc::UnboundedSender<Report>,
    /// Every precheck passed: the writers have been started (or had nothing to do).
    begun: bool,
}

impl Canaries {
    /// The index of service `svc`'s writer, if it has a canary.
    fn of_service(&self, svc: usize) -> Option<usize> {
        self.writers.iter().position(|w| w.p.service == svc)
    }

    pub(super) fn new(
        prepared: Vec<Prepared>,
        carried: &[(String, Vec<Ack>, bool)],
    ) -> (Canaries, mpsc::UnboundedReceiver<Report>) {
        let (tx, rx) = mpsc::unbounded_channel();
        let writers = prepared
            .into_iter()
            .map(|p| {
                let carry = carried.iter().find(|(n, ..)| *n == p.name);
                let acks = carry.map(|(_, a, _)| a.clone()).unwrap_or_default();
                let stopped = carry.is_some_and(|(.., s)| *s);
                Writer {
                    next_seq: acks.last().map_or(1, |a| a.seq + 1),
                    acks,
                    state: if stopped {
                        State::Stopped
                    } else {
                        State::NotStarted
                    },
                    in_flight: None,
                    due: None,
                    held: Vec::new(),
                    hold_for: None,
                    hold_until: None,
                    stop_write_done: stopped,
                    reading: false,
                    stopping: None,
                    missed: false,
                    p,
                }
            })
            .collect();
        (
            Canaries {
                writers,
                tx,
                begun: false,
            },
            rx,
        )
    }

    /// The earliest write due, or the end of a hold.
    pub(super) fn due(&self) -> Option<tokio::time::Instant> {
        let writes = self
            .writers
            .iter()
            .filter(|w| w.state == State::Writing && w.in_flight.is_none())
            .filter_map(|w| w.due);
        let holds = self
            .writers
            .iter()
            .filter(|w| !w.held.is_empty())
            .filter_map(|w| w.hold_until);
        writes.chain(holds).min()
    }

    /// A write or the read is under way, or a stop job waits for one.
    pub(super) fn busy(&self) -> bool {
        self.writers
            .iter()
            .any(|w| w.in_flight.is_some() || w.reading || !w.held.is_empty())
    }
}

impl<E: Executor> Dispatcher<'_, '_, E> {
    /// Before any job starts: a dry run says what its canaries would do.
    pub(super) fn canary_plan(&mut self) {
        if self.executor.runs_canary() {
            return;
        }
        for w in &self.canaries.writers {
            let r = &self.settings.redactor;
            let hosts = |s: &[canary::Shot]| {
                s.iter()
                    .map(|s| s.host.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            self.sink.emit(Event::Notice {
                message: r.redact(&format!(
                    "dry run: the canary of `{}` would write `{}` on {} every {} once the prechecks pass, and read `{}` on {} after its last verify step",
                    w.p.name,
                    w.p.write_does,
                    hosts(&w.p.writes),
                    crate::config::duration::format(w.p.interval),
                    w.p.read_does,
                    hosts(&w.p.reads),
                )),
            });
        }
        self.canaries.begun = true;
    }

    /// Starts the writers once every precheck has passed; stops them all when the run
    /// stops.
    pub(super) fn canary_tick(&mut self) {
        if self.stop.is_some() {
            for i in 0..self.canaries.writers.len() {
                self.canary_stop(i, CanaryStop::RunStopped, None, None);
            }
            return;
        }
        // A writer whose runbook a site cut.
        for i in 0..self.canaries.writers.len() {
            let w = &self.canaries.writers[i];
            if w.state == State::Writing
                && self.is_cut(self.plan.runbook.services[w.p.service].origin)
            {
                self.canary_stop(i, CanaryStop::RunStopped, None, None);
            }
        }
        if self.canaries.begun || self.canaries.writers.is_empty() {
            return;
        }
        let passed = self.jobs.iter().enumerate().all(|(j, job)| {
            job.phase != Phase::Precheck
                || (self.progress.ended[j] && !self.progress.failed[job.step])
        });
        if !passed {
            return;
        }
        self.canaries.begun = true;
        let now = tokio::time::Instant::now();
        for i in 0..self.canaries.writers.len() {
            let w = &mut self.canaries.writers[i];
            if w.state != State::NotStarted {
                continue;
            }
            w.state = State::Writing;
            w.due = Some(now);
            // Resumed after its stop phase was over: it writes no more.
            if let Some(why) = self.canary_over(i, None) {
                self.canary_stop(i, why, None, None);
            }
        }
    }

    /// Whether job `j` must wait for a canary write before it starts: the service's
    /// first stop step, while its writer has not yet made the write before the stop
    /// phase. The write is asked for now.
    pub(super) fn canary_holds(&mut self, j: usize) -> bool {
        let job = &self.jobs[j];
        if job.phase != Phase::Stop {
            return false;
        }
        let svc = self.plan.steps[job.step].service;
        let Some(i) = self.canaries.of_service(svc) else {
            return false;
        };
        let w = &mut self.canaries.writers[i];
        if w.state != State::Writing || w.stop_write_done {
            return false;
        }
        w.held.push(j);
        if w.hold_for.is_none() {
            // The write under way, or else one that begins now: the step waits for one
            // write at most.
            w.hold_for = Some(w.in_flight.unwrap_or(w.next_seq));
            w.hold_until = Some(tokio::time::Instant::now() + w.p.interval.min(w.p.timeout));
            if w.in_flight.is_none() {
                w.due = Some(tokio::time::Instant::now());
            }
        }
        true
    }

    /// Begins every write that is due; held jobs whose hold is over start.
    pub(super) fn canary_due(&mut self) {
        let now = tokio::time::Instant::now();
        for i in 0..self.canaries.writers.len() {
            let w = &self.canaries.writers[i];
            if !w.held.is_empty() && w.hold_until.is_some_and(|t| t <= now) {
                self.canary_release(i);
            }
        }
        for (i, w) in self.canaries.writers.iter_mut().enumerate() {
            if w.state != State::Writing || w.in_flight.is_some() || w.due.is_none_or(|d| d > now) {
                continue;
            }
            let seq = w.next_seq;
            w.next_seq += 1;
            w.in_flight = Some(seq);
            w.due = Some(now + w.p.interval);
            let (p, tx, cancel) = (w.p.clone(), self.canaries.tx.clone(), self.cancel.clone());
            tokio::spawn(async move { canary::write(&p, i, seq, cancel, tx).await });
        }
    }

    /// A canary task came back.
    pub(super) fn canary_report(&mut self, r: Report) {
        match r {
            Report::Wrote {
                canary: i,
                seq,
                result,
                ended,
            } => self.canary_wrote(i, seq, result, ended),
            Report::Read { canary: i, result } => self.canary_read_back(i, result),
        }
    }

    fn canary_wrote(&mut self, i: usize, seq: u64, result: Result<(), String>, ended: Instant) {
        let w = &mut self.canaries.writers[i];
        w.in_flight = None;
        let mut stopping = w.stopping.take();
        let before_stop = w.hold_for.is_some_and(|h| seq >= h);
        match result {
            Ok(()) => {
                let clock = &self.settings.clock;
                let ack = Ack {
                    seq,
                    at: timestamp(clock.wall_at(ended)),
                    at_s: secs(clock.since_origin_at(ended)),
                };
                w.acks.push(ack.clone());
                self.sink.emit(Event::CanaryWritten {
                    service: w.p.name.clone(),
                    canary_seq: seq,
                    at: ack.at,
                    at_s: ack.at_s,
                    before_stop,
                });
            }
            Err(why) => {
                let message = self
                    .settings
                    .redactor
                    .redact(&format!("canary write {seq}: {why}"));
                if stopping.take().is_some() {
                    // It was stopping anyway; the failure is what the journal says.
                    self.canary_stopped(i, CanaryStop::WriteFailed, Some(seq), Some(message));
                } else {
                    self.canary_stop(i, CanaryStop::WriteFailed, Some(seq), Some(message));
                }
            }
        }
        if let Some(why) = stopping {
            self.canary_stopped(i, why, None, None);
        }
        let w = &mut self.canaries.writers[i];
        if w.hold_for.is_some() && (before_stop || w.state == State::Stopped) {
            self.canary_release(i);
        } else if w.hold_for.is_some() {
            // The write under way had begun before the stop step was ready: the next one
            // begins at once.
            w.due = Some(tokio::time::Instant::now());
        }
    }

    /// The stop jobs held for service `i`'s write start now.
    fn canary_release(&mut self, i: usize) {
        let w = &mut self.canaries.writers[i];
        w.stop_write_done = true;
        w.hold_for = None;
        w.hold_until = None;
        let held = std::mem::take(&mut w.held);
        // After the run stopped, a held step never starts: it is recorded as not run,
        // and its service's stop phase has not begun.
        if !held.is_empty() && self.stop.is_none() {
            self.launch(held);
        }
    }

    /// Stops writer `i` (once), saying why in the journal.
    fn canary_stop(
        &mut self,
        i: usize,
        why: CanaryStop,
        failed_seq: Option<u64>,
        message: Option<String>,
    ) {
        let w = &mut self.canaries.writers[i];
        if w.state == State::Stopped
            || (w.state == State::NotStarted && why == CanaryStop::RunStopped)
        {
            w.state = State::Stopped;
            if !w.held.is_empty() && w.in_flight.is_none() {
                self.canary_release(i);
            }
            return;
        }
        w.state = State::Stopped;
        w.due = None;
        if w.in_flight.is_some() {
            w.stopping = Some(why);
            return;
        }
        self.canary_stopped(i, why, failed_seq, message);
    }

    /// Says in the journal that writer `i` stopped; stop jobs held for it start.
    fn canary_stopped(
        &mut self,
        i: usize,
        why: CanaryStop,
        failed_seq: Option<u64>,
        message: Option<String>,
    ) {
        let w = &self.canaries.writers[i];
        self.sink.emit(Event::CanaryStopped {
            service: w.p.name.clone(),
            why,
            last_seq: w.acks.last().map_or(0, |a| a.seq),
            failed_seq,
            message,
        });
        let w = &self.canaries.writers[i];
        if !w.held.is_empty() && w.in_flight.is_none() {
            self.canary_release(i);
        }
    }

    /// After job `j` started or ended: the writer of its service stops once the
    /// service's stop phase has finished (or, without one, would have).
    pub(super) fn canary_after(&mut self, j: usize) {
        let job = &self.jobs[j];
        let svc = self.plan.steps[job.step].service;
        let Some(i) = self.canaries.of_service(svc) else {
            return;
        };
        if self.canaries.writers[i].state != State::Writing {
            return;
        }
        if let Some(why) = self.canary_over(i, Some(j)) {
            self.canary_stop(i, why, None, None);
        }
    }

    /// Why writer `i` must stop now, if it must: its service's stop phase has finished
    /// (or, without one, its start or verify phase has begun — with job `j`, say), or a
    /// site cut its runbook.
    fn canary_over(&self, i: usize, j: Option<usize>) -> Option<CanaryStop> {
        let svc = self.canaries.writers[i].p.service;
        if self.is_cut(self.plan.runbook.services[svc].origin) {
            return Some(CanaryStop::RunStopped);
        }
        let mine = |k: &usize| self.plan.steps[self.jobs[*k].step].service == svc;
        let mut stops = (0..self.jobs.len())
            .filter(mine)
            .filter(|&k| self.jobs[k].phase == Phase::Stop)
            .peekable();
        if stops.peek().is_some() {
            let mut stops = stops;
            return stops
                .all(|k| self.progress.ended[k])
                .then_some(CanaryStop::StopPhaseFinished);
        }
        let begun = |k: usize| {
            matches!(self.jobs[k].phase, Phase::Start | Phase::Verify)
                && (Some(k) == j || self.progress.started[k].is_some() || self.progress.ended[k])
        };
        (0..self.jobs.len())
            .filter(mine)
            .any(begun)
            .then_some(CanaryStop::NoStopPhase)
    }

    /// After the pass's loop: a writer still writing (its service never got to the end
    /// of its stop phase) stops with the run.
    pub(super) fn canary_finish(&mut self) {
        for i in 0..self.canaries.writers.len() {
            if self.canaries.writers[i].state == State::Writing {
                self.canary_stop(i, CanaryStop::RunStopped, None, None);
            }
        }
    }

    /// Service `svc` has recovered: its canary reads what reached the target.
    pub(super) fn canary_read(&mut self, svc: usize) {
        if !self.executor.runs_canary() {
            return;
        }
        let Some(i) = self.canaries.of_service(svc) else {
            return;
        };
        let w = &mut self.canaries.writers[i];
        if w.reading {
            return;
        }
        w.reading = true;
        let (p, tx, cancel) = (w.p.clone(), self.canaries.tx.clone(), self.cancel.clone());
        tokio::spawn(async move { canary::read(&p, i, cancel, tx).await });
    }

    fn canary_read_back(&mut self, i: usize, result: Result<u64, String>) {
        let w = &mut self.canaries.writers[i];
        w.reading = false;
        let (read_seq, message) = match result {
            Ok(n) => (Some(n), None),
            Err(why) => (
                None,
                Some(
                    self.settings
                        .redactor
                        .redact(&format!("canary read: {why}")),
                ),
            ),
        };
        let rpo = canary::measure(&w.acks, read_seq, w.p.target);
        w.missed = !rpo.met;
        self.sink.emit(Event::CanaryRead {
            service: w.p.name.clone(),
            message,
            rpo,
        });
    }

    /// Per service of the runbook: its canary measured a missed RPO.
    pub(super) fn rpo_missed(&self) -> Vec<bool> {
        let mut out = vec![false; self.plan.runbook.services.len()];
        for w in &self.canaries.writers {
            out[w.p.service] = w.missed;
        }
        out
    }
}
