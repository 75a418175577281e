//! The pass's state and the bookkeeping on it: which steps are ready, starting jobs
//! within the limits, recording their ends, releasing what waited for them.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use petgraph::Direction as Dir;
use petgraph::graph::NodeIndex;
use time::OffsetDateTime;
use tokio::sync::mpsc;

use crate::config::model::{OnFailure, Phase};
use crate::engine::event::{Event, StepFinished, StepStatus};
use crate::engine::executor::{AttemptReport, Executor, Finished};
use crate::engine::job::Job;
use crate::engine::operator::Kind;
use crate::engine::sink::Sink;
use crate::engine::stopwatch::timestamp;
use crate::plan::{Node, Plan};
use crate::transport::Cancel;

use super::pass::{Carry, Settings, Stop};
use super::running::Running;

/// A person's answer the pass waits for.
pub(super) struct Pending {
    pub(super) job: usize,
    pub(super) kind: Kind,
    /// A failed job's result, held until the answer says what to do with it.
    pub(super) failure: Option<Finished>,
}

pub(super) struct State {
    pub(super) waiting: Vec<usize>,
    pub(super) ready: VecDeque<usize>,
    pub(super) step_jobs: Vec<Vec<usize>>,
    pub(super) next: Vec<usize>,
    pub(super) running: Vec<usize>,
    pub(super) done: Vec<usize>,
    pub(super) failed: Vec<bool>,
    pub(super) host_busy: HashMap<usize, usize>,
    pub(super) started: Vec<Option<(OffsetDateTime, Instant)>>,
    pub(super) ended: Vec<bool>,
    pub(super) total_running: usize,
    pub(super) stop: Option<Stop>,
    pub(super) questions: VecDeque<Pending>,
    pub(super) open: Option<(Pending, Instant)>,
    /// When the open question's step fails unanswered (a manual step's `timeout`).
    pub(super) open_deadline: Option<tokio::time::Instant>,
    /// While a failed step waits for its answer, no new job starts.
    pub(super) paused: bool,
    /// How long each manual job waited for its person.
    pub(super) waits: HashMap<usize, Duration>,
    pub(super) human_wait: Duration,
    pub(super) stop_begun: Vec<bool>,
    /// Per service: its recovery time (s), once recovered.
    pub(super) recovered: Vec<Option<f64>>,
    /// Set to stop every running job now.
    pub(super) cancel: Cancel,
    /// A dry run and a rollback pass recover nothing: one plans, the other undoes.
    pub(super) times_nothing: bool,
    /// This pass is the rollback: a failure in it cannot start another.
    pub(super) rollback_pass: bool,
}

pub(super) use crate::engine::stopwatch::secs;

pub(super) fn failure(message: String) -> Finished {
    Finished {
        status: StepStatus::Failed,
        attempts: 0,
        exit_code: None,
        message: Some(message),
        stdout: None,
        stderr: None,
    }
}

pub(super) fn on(host: &Option<String>) -> String {
    host.as_ref().map_or(String::new(), |h| format!(" on {h}"))
}

/// Once a service's recovery step has ended on every host, the service is recovered:
/// its time is machine time, without what the run waited for people.
pub(super) fn note_recovery(
    plan: &Plan<'_>,
    jobs: &[Job],
    st: &mut State,
    j: usize,
    settings: &Settings,
    emit: &mut dyn Sink,
) {
    let step = jobs[j].step;
    if st.times_nothing {
        return;
    }
    let svc = plan.steps[step].service;
    let all_done = st.step_jobs[step].iter().all(|&k| st.ended[k]);
    if !all_done || st.failed[step] || plan.services[svc].recovery_step != Some(step) {
        return;
    }
    if st.recovered[svc].is_some() || jobs[j].phase == Phase::Precheck {
        return;
    }
    let achieved = secs(settings.clock.since_origin().saturating_sub(st.human_wait));
    st.recovered[svc] = Some(achieved);
    let s = &plan.runbook.services[svc];
    emit.emit(Event::ServiceRecovered {
        service: s.name.to_string(),
        achieved_s: achieved,
        rto: s.rto.map(|t| crate::engine::event::Rto {
            target_s: secs(t),
            achieved_s: achieved,
            met: achieved <= secs(t),
        }),
    });
}

/// A node whose dependencies are all met: a step becomes ready (or, with nothing left
/// to run, is done at once), a gate passes at once.
pub(super) fn reached(plan: &Plan<'_>, st: &mut State, node: NodeIndex) {
    match plan.graph[node] {
        Node::Step(i) if !st.step_jobs[i].is_empty() => st.ready.push_back(i),
        _ => release(plan, st, node),
    }
}

/// `node` is done: whatever waited only for it is reached.
pub(super) fn release(plan: &Plan<'_>, st: &mut State, node: NodeIndex) {
    let g = &plan.graph;
    for next in g.neighbors_directed(node, Dir::Outgoing) {
        st.waiting[next.index()] -= 1;
        if st.waiting[next.index()] == 0 {
            reached(plan, st, next);
        }
    }
}

pub(super) fn complete_if_done(plan: &Plan<'_>, st: &mut State, step: usize) {
    if st.done[step] == st.step_jobs[step].len() && !st.failed[step] {
        release(plan, st, plan.steps[step].node);
    }
}

#[expect(
    clippy::too_many_arguments,
    reason = "the loop's state, passed explicitly rather than hidden in a struct of references"
)]
pub(super) fn start_ready<E: Executor>(
    plan: &Plan<'_>,
    jobs: &[Job],
    st: &mut State,
    executor: &Arc<E>,
    tx: &mpsc::UnboundedSender<AttemptReport>,
    set: &mut Running,
    settings: &Settings,
    emit: &mut dyn Sink,
) {
    let inv = &plan.runbook.inventory;
    let mut still = VecDeque::new();
    let mut started = Vec::new();
    while let Some(step) = st.ready.pop_front() {
        let serial = plan.steps[step]
            .step
            .serial
            .map_or(usize::MAX, |s| s as usize);
        while st.next[step] < st.step_jobs[step].len()
            && st.total_running < settings.max_parallel
            && st.running[step] < serial
        {
            let j = st.step_jobs[step][st.next[step]];
            let job = &jobs[j];
            if let Some(h) = job.host {
                let busy = st.host_busy.entry(h).or_default();
                if *busy >= inv.hosts[h].ssh.max_sessions as usize {
                    break;
                }
                *busy += 1;
            }
            st.next[step] += 1;
            st.running[step] += 1;
            st.total_running += 1;
            st.started[j] = Some((settings.clock.now(), Instant::now()));
            if job.phase == Phase::Stop {
                st.stop_begun[plan.steps[step].service] = true;
            }
            tracing::debug!(job = j, step = %job.id, host = ?job.host_name, running = st.total_running, "job started");
            started.push(j);
        }
        if st.next[step] < st.step_jobs[step].len() {
            still.push_back(step);
        }
    }
    st.ready = still;
    if started.is_empty() {
        return;
    }
    // The wave's `step_started` lines, and every event before them (the ends that
    // released the wave), are on disk with one flush before any of its jobs starts: a
    // command never runs without a trace, whenever switchyard dies.
    for &j in &started {
        let job = &jobs[j];
        emit.emit(Event::StepStarted {
            step: job.id.clone(),
            service: job.service.clone(),
            phase: job.phase,
            name: job.name.clone(),
            host: job.host_name.clone(),
            does: job.does.clone(),
        });
    }
    emit.flush();
    let broken = emit.broken();
    for j in started {
        let job = &jobs[j];
        // Its time runs from now, not from before the flush.
        st.started[j] = Some((settings.clock.now(), Instant::now()));
        if let Some(why) = &broken {
            let f = failure(format!("{}: not started: {why}", job.place()));
            set.spawn(j, std::future::ready(f));
        } else if executor.needs_person(job) {
            st.questions.push_back(Pending {
                job: j,
                kind: Kind::Manual,
                failure: None,
            });
        } else {
            let (ex, owned, tx, cancel) =
                (executor.clone(), job.clone(), tx.clone(), st.cancel.clone());
            set.spawn(j, ex.execute(j, owned, tx, cancel));
        }
    }
}

#[expect(
    clippy::too_many_arguments,
    reason = "the loop's state, passed explicitly rather than hidden in a struct of references"
)]
pub(super) fn finish_job(
    plan: &Plan<'_>,
    jobs: &[Job],
    st: &mut State,
    j: usize,
    f: Finished,
    settings: &Settings,
    carry: &Carry,
    emit: &mut dyn Sink,
) {
    let step = jobs[j].step;
    let continue_on_error = plan.steps[step].step.continue_on_error;
    if f.status == StepStatus::Failed && !continue_on_error {
        st.failed[step] = true;
        if st.stop.is_none() {
            match plan.runbook.on_failure {
                OnFailure::Rollback => stop_to_roll_back(plan, st, emit),
                _ => st.stop = Some(Stop::Failed(f.message.clone().unwrap_or_default())),
            }
        }
    }
    let rerun = carry
        .rerun
        .contains(&(jobs[j].id.clone(), jobs[j].host_name.clone()));
    record(jobs, st, j, f, settings, rerun, emit);
    note_recovery(plan, jobs, st, j, settings, emit);
    complete_if_done(plan, st, step);
}

/// The run stops to switch back. The switchover pass says so in the journal at once,
/// naming the services whose stop phase had begun (final now: no new step starts), so
/// that a run killed before its rollback pass resumes the rollback, never the switchover.
/// A failure of the rollback pass itself only stops it: the run has failed.
pub(super) fn stop_to_roll_back(plan: &Plan<'_>, st: &mut State, emit: &mut dyn Sink) {
    if st.stop == Some(Stop::Rollback) {
        return;
    }
    st.stop = Some(Stop::Rollback);
    if st.rollback_pass {
        return;
    }
    let services = plan
        .runbook
        .services
        .iter()
        .zip(&st.stop_begun)
        .filter(|(_, begun)| **begun)
        .map(|(s, _)| s.name.to_string())
        .collect();
    emit.emit(Event::RollbackStarted { services });
}

/// Frees the job's slots and emits its `step_finished`.
pub(super) fn record(
    jobs: &[Job],
    st: &mut State,
    j: usize,
    f: Finished,
    settings: &Settings,
    rerun: bool,
    emit: &mut dyn Sink,
) {
    if st.ended[j] {
        return;
    }
    st.ended[j] = true;
    let job = &jobs[j];
    let step = job.step;
    st.running[step] -= 1;
    st.total_running -= 1;
    st.done[step] += 1;
    if let Some(h) = job.host
        && let Some(b) = st.host_busy.get_mut(&h)
    {
        *b -= 1;
    }
    let (started_at, t0) = st.started[j].unwrap_or((settings.clock.now(), Instant::now()));
    tracing::debug!(job = j, step = %job.id, status = ?f.status, attempts = f.attempts, elapsed = ?t0.elapsed(), "job finished");
    let r = &settings.redactor;
    let stdout = f.stdout.as_ref().map(|c| r.output(c));
    let stderr = f.stderr.as_ref().map(|c| r.output(c));
    // A step skipped here failed first, and a person chose to go on without it: its
    // last lines say why it failed, as a failed step's do.
    let excerpt = matches!(f.status, StepStatus::Failed | StepStatus::Skipped)
        .then(|| crate::transport::excerpt(stdout.as_deref(), stderr.as_deref()))
        .flatten();
    emit.emit(Event::StepFinished(StepFinished {
        step: job.id.clone(),
        service: job.service.clone(),
        phase: job.phase,
        name: job.name.clone(),
        host: job.host_name.clone(),
        status: f.status,
        attempts: f.attempts,
        exit_code: f.exit_code,
        started_at: timestamp(started_at),
        finished_at: timestamp(settings.clock.now()),
        start_s: secs(settings.clock.since_origin_at(t0)),
        duration_s: secs(t0.elapsed()),
        message: f.message.as_deref().map(|m| r.redact(m)),
        output: None,
        files: Vec::new(),
        excerpt,
        stdout,
        stderr,
        human_wait_s: secs(st.waits.remove(&j).unwrap_or_default()),
        rerun,
    }));
}

/// Every job that never started is recorded as skipped, with the reason.
pub(super) fn skip_the_rest(jobs: &[Job], st: &State, settings: &Settings, emit: &mut dyn Sink) {
    let reason = match &st.stop {
        Some(Stop::Failed(m)) => format!("not run: the run stopped because {m}"),
        Some(Stop::Interrupted) => "not run: the run was interrupted".to_string(),
        Some(Stop::Aborted) => "not run: the operator aborted the run".to_string(),
        Some(Stop::Rollback) => "not run: the run stopped to roll back".to_string(),
        None => "not run".to_string(),
    };
    let now = timestamp(settings.clock.now());
    let since_origin = secs(settings.clock.since_origin());
    for (j, job) in jobs.iter().enumerate() {
        if st.started[j].is_some() || st.ended[j] {
            continue;
        }
        emit.emit(Event::StepFinished(StepFinished {
            step: job.id.clone(),
            service: job.service.clone(),
            phase: job.phase,
            name: job.name.clone(),
            host: job.host_name.clone(),
            status: StepStatus::Skipped,
            attempts: 0,
            exit_code: None,
            started_at: now.clone(),
            finished_at: now.clone(),
            start_s: since_origin,
            duration_s: 0.0,
            message: Some(settings.redactor.redact(&reason)),
            output: None,
            files: Vec::new(),
            excerpt: None,
            stdout: None,
            stderr: None,
            human_wait_s: 0.0,
            rerun: false,
        }));
    }
}
