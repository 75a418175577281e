//! The one owner of a pass's state, modelled on cargo-nextest's runner loop: the loop
//! starts what may start, then waits in one `select!` for the next internal event — a
//! job ended, an attempt reported, a line the operator typed, a signal, a deadline —
//! and [`Dispatcher::handle`] carries it out. Only this type changes the pass's state
//! and emits events; executors run the jobs and report back over channels.
//!
//! A job ends in one place, [`Dispatcher::end`], however it ends: run to its end,
//! skipped by the operator, or given up when the run stops.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::signal::unix::{Signal, SignalKind, signal};
use tokio::sync::mpsc;

use crate::config::model::{OnFailure, Phase};
use crate::engine::event::{Event, Rto, StepFinished, StepStatus};
use crate::engine::executor::{AttemptReport, Executor, Finished};
use crate::engine::hangup::Hangup;
use crate::engine::job::Job;
use crate::engine::operator::{self, Choice, Kind};
use crate::engine::sink::Sink;
use crate::engine::stopwatch::{secs, timestamp};
use crate::plan::Plan;
use crate::transport::Cancel;

use super::canary::Canaries;
use super::invariants::{CheckResults, Checks, check_ended};
use super::progress::Progress;
use super::risk::Risk;
use super::running::Running;
use super::types::{Carry, Io, Pass, Pending, Settings, Stop, failure};

/// Carries out every job of `plan` that `carry` does not mark done. `role`: the
/// switchover (with its services' RPO canaries), or the rollback after a failed one.
pub async fn pass<E: Executor>(
    plan: &Plan<'_>,
    jobs: Vec<Job>,
    executor: Arc<E>,
    settings: &Settings,
    carry: &Carry,
    io: &mut Io<'_>,
    role: Role,
) -> Pass {
    let (rollback_pass, canaries) = match role {
        Role::Switchover(canaries) => (false, canaries),
        Role::Rollback => (true, Vec::new()),
    };
    let (tx, attempts) = mpsc::unbounded_channel();
    let (canaries, canary) = Canaries::new(canaries, &carry.canary);
    let mut inbox = Inbox {
        attempts,
        canary,
        input: io.input.take(),
        answers: io.answers.take(),
        sigint: signal(SignalKind::interrupt()).ok(),
        sigterm: signal(SignalKind::terminate()).ok(),
        hangup: std::mem::take(&mut io.hangup),
    };
    // A safety invariant's jobs are not steps of the plan: the checks run them.
    let (checks, jobs): (Vec<Job>, Vec<Job>) =
        jobs.into_iter().partition(|j| j.invariant.is_some());
    let mut d = Dispatcher::new(plan, jobs, executor, settings, carry, &mut *io.sink, tx);
    d.checks = Checks::new(checks);
    d.times_nothing = rollback_pass || d.executor.dry_run();
    d.rollback_pass = rollback_pass;
    d.canaries = canaries;
    d.canary_plan();
    d.keep_rolling_back();
    d.run(&mut inbox).await;
    let rpo_missed = d.rpo_missed();
    // The terminal stays for the next pass (the rollback).
    io.input = inbox.input;
    io.answers = inbox.answers;
    io.hangup = inbox.hangup;
    Pass {
        stop: d.stop,
        recovered: d.recovered,
        stop_begun: d.stop_begun,
        human_wait: d.human_wait,
        rpo_missed,
        halts: d.halts,
    }
}

/// Which pass this is.
pub enum Role {
    /// The switchover, with the canaries of its services (SPEC §8).
    Switchover(Vec<crate::engine::canary::Prepared>),
    /// Switching back after a failed switchover: no canary runs.
    Rollback,
}

/// Where the pass's internal events come from, apart from its own jobs.
struct Inbox {
    attempts: mpsc::UnboundedReceiver<AttemptReport>,
    /// What the canaries' writes and reads came back with.
    canary: mpsc::UnboundedReceiver<crate::engine::canary::Report>,
    /// Lines the operator types; `None` when nobody can answer.
    input: Option<mpsc::UnboundedReceiver<String>>,
    /// Answers from `switchyard answer`; `None` without its socket.
    answers: Option<mpsc::UnboundedReceiver<operator::Remote>>,
    sigint: Option<Signal>,
    sigterm: Option<Signal>,
    /// SIGHUP: the terminal is gone, the run goes on.
    hangup: Hangup,
}

/// What the pass waits for.
enum Internal {
    /// A job ended; the attempts it reported just before come with it.
    JobEnded(usize, Finished, Vec<AttemptReport>),
    Attempt(AttemptReport),
    /// A line the operator typed.
    Line(String),
    /// An answer sent by `switchyard answer`.
    Remote(operator::Remote),
    /// The open question waited `--wait-for-answer` without an answer.
    AnswerTimedOut,
    /// The terminal closed: nobody can answer any more.
    InputClosed,
    Interrupt,
    Terminate,
    /// The terminal hung up (SIGHUP).
    Hangup,
    /// The open question's time ran out (a manual step's `timeout`).
    QuestionExpired,
    /// The grace period after Ctrl-C or SIGTERM is over.
    GraceOver,
    /// The safety invariants' check under way came back.
    CheckEnded(CheckResults),
    /// A canary write is due.
    CanaryDue,
    /// Time to project the recoveries again (RTO at risk).
    RiskDue,
    /// A canary write or read came back.
    Canary(crate::engine::canary::Report),
}

/// How a job ends, for [`Dispatcher::end`].
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Ending {
    /// It ran to its end (or a person confirmed or refused it): a failure stops the
    /// run, a success may recover its service, and its step may release what waits.
    Finished,
    /// It failed and the operator chose to go on without it.
    SkippedByOperator,
    /// The run stopped before it could end (an unanswered question, Ctrl-C thrice).
    GivenUp,
    /// It failed (or was not confirmed) and a person chose to abort or roll back.
    Chosen(Choice),
}

impl Ending {
    /// Whether the job ran to an end that counts: a failure stops what it stops.
    fn ran(self) -> bool {
        matches!(self, Ending::Finished | Ending::Chosen(_))
    }
}

pub(super) struct Dispatcher<'a, 'p, E: Executor> {
    pub(super) plan: &'a Plan<'p>,
    pub(super) jobs: Vec<Job>,
    pub(super) executor: Arc<E>,
    pub(super) settings: &'a Settings,
    pub(super) carry: &'a Carry,
    pub(super) sink: &'a mut dyn Sink,
    pub(super) progress: Progress,
    pub(super) running: Running,
    attempts: mpsc::UnboundedSender<AttemptReport>,
    /// Set to stop every running job now.
    pub(super) cancel: Cancel,
    pub(super) stop: Option<Stop>,
    pub(super) questions: VecDeque<Pending>,
    pub(super) open: Option<(Pending, Instant)>,
    /// When the open question's step fails unanswered (a manual step's `timeout`).
    pub(super) open_deadline: Option<tokio::time::Instant>,
    /// Whether a person is asked the open question (else the policy answers it).
    pub(super) asking: bool,
    /// When the open question acts as `abort` unanswered (`--wait-for-answer`).
    pub(super) answer_deadline: Option<tokio::time::Instant>,
    /// While a failed step waits for its answer, no new job starts.
    pub(super) paused: bool,
    /// How long each manual job waited for its person.
    pub(super) waits: HashMap<usize, Duration>,
    pub(super) human_wait: Duration,
    /// Per service of the runbook: whether any of its stop steps started.
    pub(super) stop_begun: Vec<bool>,
    /// Per origin (a site's runbook): why it stopped on its own, if it did.
    pub(super) halts: Vec<Option<Stop>>,
    /// Per origin: the stopped runbook it requires, which blocks it.
    pub(super) blocked_by: Vec<Option<usize>>,
    /// Per service of the runbook: its recovery time (s), once recovered.
    pub(super) recovered: Vec<Option<f64>>,
    /// A dry run and a rollback pass recover nothing: one plans, the other undoes.
    pub(super) times_nothing: bool,
    /// This pass is the rollback: a failure in it cannot start another.
    pub(super) rollback_pass: bool,
    pub(super) interrupted: bool,
    pub(super) grace_ends: Option<tokio::time::Instant>,
    /// The safety invariants' checks (`invariants.rs`).
    pub(super) checks: Checks,
    /// The services' RPO canaries (`canary.rs`).
    pub(super) canaries: Canaries,
    /// What the RTO-at-risk projection has said (`risk.rs`).
    pub(super) risk: Risk,
}

impl<'a, 'p, E: Executor> Dispatcher<'a, 'p, E> {
    fn new(
        plan: &'a Plan<'p>,
        jobs: Vec<Job>,
        executor: Arc<E>,
        settings: &'a Settings,
        carry: &'a Carry,
        sink: &'a mut dyn Sink,
        attempts: mpsc::UnboundedSender<AttemptReport>,
    ) -> Self {
        let rb = plan.runbook;
        let progress = Progress::new(plan, &jobs, |job| {
            carry
                .done
                .contains(&(job.id.clone(), job.host_name.clone()))
        });
        Dispatcher {
            plan,
            jobs,
            executor,
            settings,
            carry,
            sink,
            progress,
            running: Running::default(),
            attempts,
            cancel: Cancel::default(),
            stop: None,
            questions: VecDeque::new(),
            open: None,
            open_deadline: None,
            asking: false,
            answer_deadline: None,
            paused: false,
            waits: HashMap::new(),
            human_wait: carry.human_wait,
            stop_begun: vec![false; rb.services.len()],
            halts: vec![None; rb.origins.len()],
            blocked_by: vec![None; rb.origins.len()],
            recovered: rb
                .services
                .iter()
                .map(|s| carry.recovered.get(s.name.as_str()).copied())
                .collect(),
            times_nothing: false,
            rollback_pass: false,
            interrupted: false,
            grace_ends: None,
            checks: Checks::default(),
            canaries: Canaries::new(Vec::new(), &[]).0,
            risk: Risk::default(),
        }
    }

    /// The loop: start what may start, ask what must be asked, wait for the next event.
    async fn run(&mut self, inbox: &mut Inbox) {
        loop {
            if let Some(why) = self.sink.broken()
                && self.stop.is_none()
            {
                self.stop = Some(Stop::Failed(why));
            }
            self.checks_due(false);
            self.start_check();
            self.canary_tick();
            if self.stop.is_none() && !self.paused && !self.checks.holding() {
                self.start_ready();
            }
            // Someone may answer: at the terminal, or with `switchyard answer` when the
            // run waits for it (`--wait-for-answer`).
            let someone_there = inbox.input.is_some()
                || (inbox.answers.is_some() && self.settings.wait_for_answer.is_some());
            self.open_next_question(someone_there);
            if self.open.is_some() && !(someone_there && self.asking) {
                let (answer, by) = self.by_policy();
                self.resolve(answer, by, None);
                continue;
            }
            if self.running.is_empty()
                && self.open.is_none()
                && self.questions.is_empty()
                && !self.checks.holding()
                && !self.canaries.busy()
            {
                // The pass is over once its last check has come back.
                if self.checks_due(true) {
                    continue;
                }
                break;
            }
            self.rto_watch();
            // Nothing stays off the disk while the pass waits.
            self.sink.flush();
            let event = self.next_event(inbox).await;
            if !self.handle(event) {
                break;
            }
        }
        self.canary_finish();
        self.skip_the_rest();
    }

    async fn next_event(&mut self, inbox: &mut Inbox) -> Internal {
        let expiry = at(self.open_deadline);
        let unanswered = at(self.answer_deadline);
        let grace = at(self.grace_ends);
        let canary_due = at(self.canaries.due());
        let risk_due = at(self.risk.due);
        let jobs = &self.jobs;
        tokio::select! {
            () = expiry => Internal::QuestionExpired,
            () = unanswered => Internal::AnswerTimedOut,
            () = canary_due => Internal::CanaryDue,
            () = risk_due => Internal::RiskDue,
            Some(r) = inbox.canary.recv() => Internal::Canary(r),
            Some((j, finished)) = self.running.next(|j| jobs[j].place()) => {
                let mut before = Vec::new();
                while let Ok(a) = inbox.attempts.try_recv() {
                    before.push(a);
                }
                Internal::JobEnded(j, finished, before)
            }
            Some(a) = inbox.attempts.recv() => Internal::Attempt(a),
            line = recv_line(&mut inbox.input) => match line {
                Some(line) => Internal::Line(line),
                None => {
                    inbox.input = None;
                    Internal::InputClosed
                }
            },
            remote = recv_remote(&mut inbox.answers) => match remote {
                Some(r) => Internal::Remote(r),
                None => {
                    inbox.answers = None;
                    Internal::InputClosed
                }
            },
            Some(()) = recv(&mut inbox.sigint) => Internal::Interrupt,
            Some(()) = recv(&mut inbox.sigterm) => Internal::Terminate,
            () = inbox.hangup.recv() => Internal::Hangup,
            () = grace => Internal::GraceOver,
            results = check_ended(&mut self.checks.rx) => Internal::CheckEnded(results),
        }
    }

    /// Carries out one event; `false` when the pass must stop waiting at once.
    fn handle(&mut self, event: Internal) -> bool {
        match event {
            Internal::QuestionExpired => {
                if let Some((j, finished)) = self.expire() {
                    self.job_ended(j, finished);
                }
            }
            Internal::JobEnded(j, finished, before) => {
                // A job's attempts were reported before it ended: record them first.
                for a in before {
                    self.attempt(a);
                }
                self.job_ended(j, finished);
            }
            Internal::Attempt(a) => self.attempt(a),
            Internal::CanaryDue => self.canary_due(),
            Internal::Canary(r) => self.canary_report(r),
            Internal::Line(line) => self.answer_line(&line),
            Internal::Remote(r) => self.answer_remote(r),
            Internal::AnswerTimedOut => self.unanswered(),
            // The loop projects again before it waits.
            Internal::InputClosed | Internal::RiskDue => {}
            Internal::Interrupt => match (self.interrupted, self.cancel.is_set()) {
                (false, _) => self.interrupt("Ctrl-C"),
                (true, false) => self.stop_running("Ctrl-C again"),
                // A third: stop waiting for the stopped steps to end.
                (true, true) => {
                    self.abandon();
                    return false;
                }
            },
            Internal::Terminate => {
                if !self.interrupted {
                    self.interrupt("SIGTERM");
                } else if !self.cancel.is_set() {
                    self.stop_running("SIGTERM again");
                }
            }
            // Said at once, on disk; nothing else changes: no step is stopped, no
            // question answered (a closed terminal's stdin answers by its own EOF).
            Internal::Hangup => {
                self.sink.emit(Hangup::event());
                self.sink.flush();
            }
            Internal::CheckEnded(results) => self.check_done(results),
            Internal::GraceOver => {
                let why = format!(
                    "still running {} after the interruption",
                    crate::config::duration::format(self.settings.grace)
                );
                self.stop_running(&why);
            }
        }
        true
    }

    /// Starts every job that may start: their `step_started` lines, and every event
    /// before them (the ends that released them), are on disk with one flush before
    /// any of them starts, so a command never runs without a trace.
    fn start_ready(&mut self) {
        let started = self.progress.take_ready(
            self.plan,
            &self.jobs,
            self.settings.max_parallel,
            &self.settings.clock,
        );
        // A service's first stop step waits for the canary's write before the stop phase.
        let started: Vec<usize> = started
            .into_iter()
            .filter(|&j| !self.canary_holds(j))
            .collect();
        // Due at once: the writes the held steps wait for.
        self.canary_due();
        self.launch(started);
    }

    /// Announces and starts jobs that `take_ready` took.
    pub(super) fn launch(&mut self, started: Vec<usize>) {
        if started.is_empty() {
            return;
        }
        for &j in &started {
            let job = &self.jobs[j];
            tracing::debug!(job = j, step = %job.id, host = ?job.host_name, running = self.progress.running(), "job started");
            if job.phase == Phase::Stop {
                self.stop_begun[self.plan.steps[job.step].service] = true;
            }
            self.sink.emit(Event::StepStarted {
                step: job.id.clone(),
                service: job.service.clone(),
                phase: job.phase,
                name: job.name.clone(),
                host: job.host_name.clone(),
                does: job.does.clone(),
            });
        }
        self.sink.flush();
        let broken = self.sink.broken();
        for j in started {
            // Its time runs from now, not from before the flush.
            self.progress.started[j] = Some((self.settings.clock.now(), Instant::now()));
            if let Some(why) = &broken {
                let f = failure(format!("{}: not started: {why}", self.jobs[j].place()));
                self.running.spawn(j, std::future::ready(f));
            } else if self.executor.needs_person(&self.jobs[j]) {
                self.questions.push_back(Pending {
                    job: j,
                    kind: Kind::Manual,
                    failure: None,
                    breach: None,
                });
            } else {
                self.spawn(j);
            }
            self.canary_after(j);
        }
    }

    /// Runs job `j` (again, after a retry) on the executor.
    pub(super) fn spawn(&mut self, j: usize) {
        let (ex, job, tx, cancel) = (
            self.executor.clone(),
            self.jobs[j].clone(),
            self.attempts.clone(),
            self.cancel.clone(),
        );
        self.running.spawn(j, ex.execute(j, job, tx, cancel));
    }

    /// A job came back (or its question expired): under `on_failure = "pause"` a
    /// failure waits for a person; anything else ends it.
    pub(super) fn job_ended(&mut self, j: usize, finished: Finished) {
        let step = &self.plan.steps[self.jobs[j].step];
        let pause = finished.status == StepStatus::Failed
            && !step.step.continue_on_error
            && self.plan.runbook.origin(step.service).on_failure == OnFailure::Pause
            && self.stop.is_none()
            && !self.is_cut(self.plan.runbook.services[step.service].origin);
        if pause {
            self.paused = true;
            self.questions.push_back(Pending {
                job: j,
                kind: Kind::Failed,
                failure: Some(finished),
                breach: None,
            });
        } else {
            self.end(j, finished, Ending::Finished);
        }
    }

    /// The one place a job ends: its slots are freed, its `step_finished` is emitted, a
    /// failure may then stop the run, its service may be recovered, and its step may
    /// release what waited for it.
    pub(super) fn end(&mut self, j: usize, f: Finished, how: Ending) {
        let step = self.jobs[j].step;
        let service = self.plan.steps[step].service;
        let counts =
            f.status == StepStatus::Failed && !self.plan.steps[step].step.continue_on_error;
        let stop = (how.ran() && counts).then(|| {
            match (how, &self.plan.runbook.origin(service).on_failure) {
                (Ending::Chosen(Choice::Rollback), _) | (Ending::Finished, OnFailure::Rollback) => {
                    Stop::Rollback
                }
                (Ending::Chosen(_), _) => Stop::Aborted,
                _ => Stop::Failed(f.message.clone().unwrap_or_default()),
            }
        });
        if stop.is_some() {
            self.progress.failed[step] = true;
        }
        // What the failure stops (`runbook_stopped`, `rollback_started`) is journalled
        // after the failure itself: a run killed in between resumes with the failure on
        // record, and one killed after it finds the failure there too.
        let phase = self.jobs[j].phase;
        let stop_for = |d: &mut Self| {
            if let Some(stop) = stop {
                d.stop_for(service, phase, stop, matches!(how, Ending::Chosen(_)));
            }
        };
        let job = &self.jobs[j];
        let rerun = how.ran()
            && self
                .carry
                .rerun
                .contains(&(job.id.clone(), job.host_name.clone()));
        let started = self.progress.started[j].map_or_else(Instant::now, |(_, t0)| t0);
        // Timed to where the work ended, however long the pass took to get to it.
        let ended = f.ended.unwrap_or_else(Instant::now).max(started);
        if !self.progress.end(&self.jobs, j, ended) {
            stop_for(self);
            return;
        }
        self.record(j, f, rerun, ended);
        self.canary_after(j);
        stop_for(self);
        if how.ran() {
            self.note_recovery(j);
        }
        if how != Ending::GivenUp {
            self.progress.complete_if_done(self.plan, step);
            self.check_after_action(j);
        }
    }

    /// Emits job `j`'s `step_finished`, its output redacted, timed to `t1`, when its
    /// work ended.
    fn record(&mut self, j: usize, f: Finished, rerun: bool, t1: Instant) {
        let job = &self.jobs[j];
        let clock = &self.settings.clock;
        let (started_at, t0) = self.progress.started[j].unwrap_or((clock.now(), Instant::now()));
        tracing::debug!(job = j, step = %job.id, status = ?f.status, attempts = f.attempts, elapsed = ?(t1 - t0), "job finished");
        let r = &self.settings.redactor;
        let stdout = f.stdout.as_ref().map(|c| r.output(c));
        let stderr = f.stderr.as_ref().map(|c| r.output(c));
        // A step the operator skipped keeps why it failed, as a failed one does.
        let excerpt = matches!(f.status, StepStatus::Failed | StepStatus::Skipped)
            .then(|| crate::transport::excerpt(stdout.as_deref(), stderr.as_deref()))
            .flatten();
        let event = Event::StepFinished(StepFinished {
            step: job.id.clone(),
            service: job.service.clone(),
            phase: job.phase,
            name: job.name.clone(),
            host: job.host_name.clone(),
            status: f.status,
            attempts: f.attempts,
            exit_code: f.exit_code,
            started_at: timestamp(started_at),
            finished_at: timestamp(clock.wall_at(t1)),
            start_s: secs(clock.since_origin_at(t0)),
            duration_s: secs(t1 - t0),
            message: f.message.as_deref().map(|m| r.redact(m)),
            output: None,
            files: Vec::new(),
            excerpt,
            stdout,
            stderr,
            human_wait_s: secs(self.waits.remove(&j).unwrap_or_default()),
            rerun,
        });
        self.sink.emit(event);
    }

    /// Once a service's recovery step has ended on every host, the service is
    /// recovered when the last of that work ended: its time is machine time, without
    /// what the run waited for people.
    fn note_recovery(&mut self, j: usize) {
        let step = self.jobs[j].step;
        let svc = self.plan.steps[step].service;
        if self.times_nothing
            || !self.progress.all_ended(step)
            || self.progress.failed[step]
            || self.plan.services[svc].recovery_step != Some(step)
            || self.recovered[svc].is_some()
            || self.jobs[j].phase == Phase::Precheck
        {
            return;
        }
        let clock = &self.settings.clock;
        let ended = self.progress.last_end(step).unwrap_or_else(Instant::now);
        let achieved = secs(clock.since_origin_at(ended).saturating_sub(self.human_wait));
        self.recovered[svc] = Some(achieved);
        let s = &self.plan.runbook.services[svc];
        self.sink.emit(Event::ServiceRecovered {
            service: s.name.to_string(),
            achieved_s: achieved,
            rto: s.rto.map(|t| Rto {
                target_s: secs(t),
                achieved_s: achieved,
                met: achieved <= secs(t),
            }),
        });
        // Timed above, so the read adds nothing to the recovery time.
        self.canary_read(svc);
    }

    /// The run stops to switch back. The switchover pass says so in the journal at
    /// once, naming the services whose stop phase had begun (final now: no new step
    /// starts), so that a run killed before its rollback pass resumes the rollback,
    /// never the switchover. A failure of the rollback pass itself only stops it.
    pub(super) fn stop_to_roll_back(&mut self) {
        if self.stop == Some(Stop::Rollback) {
            return;
        }
        self.stop = Some(Stop::Rollback);
        if self.rollback_pass {
            return;
        }
        let services = self
            .plan
            .runbook
            .services
            .iter()
            .zip(&self.stop_begun)
            .filter(|(_, begun)| **begun)
            .map(|(s, _)| s.name.to_string())
            .collect();
        self.sink.emit(Event::RollbackStarted {
            services,
            runbook: None,
        });
    }

    fn attempt(&mut self, a: AttemptReport) {
        let job = &self.jobs[a.job];
        let event = Event::AttemptFinished {
            step: job.id.clone(),
            host: job.host_name.clone(),
            attempt: a.attempt,
            ok: a.ok,
            exit_code: a.exit_code,
            message: self.settings.redactor.redact(&a.message),
            duration_s: secs(a.duration),
        };
        self.sink.emit(event);
    }

    /// A line the operator typed, as an answer to the open question.
    fn answer_line(&mut self, line: &str) {
        let Some((p, _)) = &self.open else {
            return;
        };
        match operator::parse(p.kind, line) {
            Ok(answer) => {
                let settings = self.settings;
                self.resolve(
                    answer,
                    &settings.operator,
                    Some(operator::AnswerFrom::Terminal),
                );
            }
            Err(help) => self.sink.emit(Event::Notice { message: help }),
        }
    }

    /// Every job that never started is recorded as skipped, with the reason.
    fn skip_the_rest(&mut self) {
        let clock = &self.settings.clock;
        let now = timestamp(clock.now());
        let since_origin = secs(clock.since_origin());
        for (j, job) in self.jobs.iter().enumerate() {
            if self.progress.started[j].is_some() || self.progress.ended[j] {
                continue;
            }
            let reason = self.not_run(self.plan.steps[job.step].service);
            let message = self.settings.redactor.redact(&reason);
            self.sink.emit(Event::StepFinished(StepFinished {
                started_at: now.clone(),
                finished_at: now.clone(),
                start_s: since_origin,
                message: Some(message),
                ..StepFinished::skipped(
                    job.id.clone(),
                    job.service.clone(),
                    job.phase,
                    job.name.clone(),
                    job.host_name.clone(),
                )
            }));
        }
    }
}

/// Ready at `t`; never when there is none.
async fn at(t: Option<tokio::time::Instant>) {
    match t {
        Some(t) => tokio::time::sleep_until(t).await,
        None => std::future::pending().await,
    }
}

async fn recv(s: &mut Option<Signal>) -> Option<()> {
    match s {
        Some(s) => s.recv().await,
        None => std::future::pending().await,
    }
}

async fn recv_remote(
    answers: &mut Option<mpsc::UnboundedReceiver<operator::Remote>>,
) -> Option<operator::Remote> {
    match answers {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

async fn recv_line(input: &mut Option<mpsc::UnboundedReceiver<String>>) -> Option<String> {
    match input {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}
