//! The pass itself: its inputs and outputs, and the loop that owns its state.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use petgraph::Direction as Dir;
use petgraph::graph::NodeIndex;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::mpsc;

use crate::engine::event::{Event, FileHash};
use crate::engine::executor::{AttemptReport, Executor};
use crate::engine::job::Job;
use crate::engine::operator::{self};
use crate::engine::secrets::Redactor;
use crate::engine::sink::Sink;
use crate::engine::stopwatch::Stopwatch;
use crate::plan::Plan;
use crate::transport::Cancel;

use super::people::{ask, by_policy, ended, expire, resolve};
use super::running::Running;
use super::state::{State, reached, secs, skip_the_rest, start_ready};
use super::stopping::{abandon, interrupt, stop_running};

/// What the run needs besides the plan and its jobs.
pub struct Settings {
    pub max_parallel: usize,
    pub operator: String,
    pub clock: Stopwatch,
    pub redactor: Redactor,
    /// SHA-256 of the plan's JSON rendering, so the evidence names the exact plan.
    pub plan_hash: String,
    /// The input files as copied into the run folder.
    pub inputs: Vec<FileHash>,
    /// `--yes`: nobody is asked; manual steps are confirmed in the operator's name.
    pub assume_yes: bool,
    /// After the first Ctrl-C or SIGTERM, how long running steps may go on.
    pub grace: Duration,
    /// What `resume` needs to load the run again (see [`super::event::RunStarted`]).
    pub runbook_file: String,
    pub inventory_files: Vec<String>,
    pub only: Vec<String>,
    /// Said in the evidence right after the run starts (a stale lock taken over).
    pub notices: Vec<String>,
}

/// What a pass starts from: jobs already done (by an earlier process, or not to run),
/// jobs to flag as run again, and services already recovered.
#[derive(Debug, Default)]
pub struct Carry {
    /// `(step id, host)` of jobs not to run.
    pub done: HashSet<(String, Option<String>)>,
    /// `(step id, host)` of jobs that had started before a crash.
    pub rerun: HashSet<(String, Option<String>)>,
    /// Recovery time (s) of services recovered before a crash, by name.
    pub recovered: HashMap<String, f64>,
    pub human_wait: Duration,
    /// The services a rollback had begun to switch back, when the run was stopped
    /// during its rollback: the run goes on with the rollback, never the switchover.
    pub rollback: Option<Vec<String>>,
}

/// Why no new job starts any more.
#[derive(Clone, Debug, PartialEq)]
pub enum Stop {
    Failed(String),
    Interrupted,
    Aborted,
    Rollback,
}

/// How a pass ended.
#[derive(Debug)]
pub struct Pass {
    pub stop: Option<Stop>,
    /// Per service of the runbook: its recovery time (s), if recovered.
    pub recovered: Vec<Option<f64>>,
    /// Per service of the runbook: whether any of its stop steps started.
    pub stop_begun: Vec<bool>,
    pub human_wait: Duration,
}

/// What a pass reads from outside and writes to.
pub struct Io<'a> {
    pub sink: &'a mut dyn Sink,
    /// Lines the operator typed; `None` when nobody can answer.
    pub input: Option<mpsc::UnboundedReceiver<String>>,
}

/// Carries out every job of `plan` that `carry` does not mark done.
pub async fn pass<E: Executor>(
    plan: &Plan<'_>,
    jobs: Vec<Job>,
    executor: Arc<E>,
    settings: &Settings,
    carry: &Carry,
    io: &mut Io<'_>,
    recovery: bool,
) -> Pass {
    let rb = plan.runbook;
    let g = &plan.graph;
    let mut st = State {
        waiting: g
            .node_indices()
            .map(|n| g.neighbors_directed(n, Dir::Incoming).count())
            .collect(),
        ready: VecDeque::new(),
        step_jobs: vec![Vec::new(); plan.steps.len()],
        next: vec![0; plan.steps.len()],
        running: vec![0; plan.steps.len()],
        done: vec![0; plan.steps.len()],
        failed: vec![false; plan.steps.len()],
        host_busy: HashMap::new(),
        started: vec![None; jobs.len()],
        ended: vec![false; jobs.len()],
        total_running: 0,
        stop: None,
        questions: VecDeque::new(),
        open: None,
        open_deadline: None,
        paused: false,
        waits: HashMap::new(),
        human_wait: carry.human_wait,
        stop_begun: vec![false; rb.services.len()],
        recovered: rb
            .services
            .iter()
            .map(|s| carry.recovered.get(s.name.as_str()).copied())
            .collect(),
        times_nothing: recovery || executor.dry_run(),
        rollback_pass: recovery,
        cancel: Cancel::default(),
    };
    for (j, job) in jobs.iter().enumerate() {
        if carry
            .done
            .contains(&(job.id.clone(), job.host_name.clone()))
        {
            st.ended[j] = true;
        } else {
            st.step_jobs[job.step].push(j);
        }
    }
    let roots: Vec<NodeIndex> = g
        .node_indices()
        .filter(|n| st.waiting[n.index()] == 0)
        .collect();
    for n in roots {
        reached(plan, &mut st, n);
    }
    let (tx, mut attempts) = mpsc::unbounded_channel();
    let mut set = Running::default();
    let mut sigint = signal(SignalKind::interrupt()).ok();
    let mut sigterm = signal(SignalKind::terminate()).ok();
    let mut grace_ends: Option<tokio::time::Instant> = None;
    let mut interrupted = false;
    let emit = &mut *io.sink;
    loop {
        if let Some(why) = emit.broken()
            && st.stop.is_none()
        {
            st.stop = Some(Stop::Failed(why));
        }
        if st.stop.is_none() && !st.paused {
            start_ready(
                plan, &jobs, &mut st, &executor, &tx, &mut set, settings, emit,
            );
        }
        if st.open.is_none()
            && let Some(p) = st.questions.pop_front()
        {
            ask(&jobs, &mut st, p, settings, io.input.is_some(), emit);
        }
        if st.open.is_some() && io.input.is_none() {
            let (answer, by) = by_policy(&st, settings);
            resolve(
                plan, &jobs, &mut st, answer, by, settings, carry, &executor, &tx, &mut set, emit,
            );
            continue;
        }
        if set.is_empty() && st.open.is_none() && st.questions.is_empty() {
            break;
        }
        // Nothing stays off the disk while the pass waits.
        emit.flush();
        let expiry = at(st.open_deadline);
        let grace = at(grace_ends);
        tokio::select! {
            () = expiry => {
                if let Some((j, finished)) = expire(&jobs, &mut st) {
                    ended(plan, &jobs, &mut st, j, finished, settings, carry, emit);
                }
            }
            Some((j, finished)) = set.next(|j| jobs[j].place()) => {
                // A job's attempts were reported before it ended: record them first.
                while let Ok(a) = attempts.try_recv() {
                    emit.emit(attempt_event(&jobs, a, &settings.redactor));
                }
                ended(plan, &jobs, &mut st, j, finished, settings, carry, emit);
            }
            Some(a) = attempts.recv() => emit.emit(attempt_event(&jobs, a, &settings.redactor)),
            line = recv_line(&mut io.input) => {
                match line {
                    Some(line) => {
                        let Some((p, _)) = &st.open else { continue };
                        match operator::parse(p.kind, &line) {
                            Ok(answer) => resolve(
                                plan, &jobs, &mut st, answer, &settings.operator, settings, carry,
                                &executor, &tx, &mut set, emit,
                            ),
                            Err(help) => emit.emit(Event::Notice { message: help }),
                        }
                    }
                    // The terminal closed: nobody can answer any more.
                    None => io.input = None,
                }
            }
            Some(()) = recv(&mut sigint) => {
                match (interrupted, st.cancel.is_set()) {
                    (false, _) => {
                        interrupted = true;
                        grace_ends = Some(interrupt(&jobs, &mut st, "Ctrl-C", settings, emit));
                    }
                    (true, false) => {
                        grace_ends = None;
                        stop_running(&jobs, &mut st, "Ctrl-C again", settings, emit);
                    }
                    // A third: stop waiting for the stopped steps to end.
                    (true, true) => {
                        abandon(&jobs, &mut st, &mut set, settings, emit);
                        break;
                    }
                }
            }
            Some(()) = recv(&mut sigterm) => {
                if !interrupted {
                    interrupted = true;
                    grace_ends = Some(interrupt(&jobs, &mut st, "SIGTERM", settings, emit));
                } else if !st.cancel.is_set() {
                    grace_ends = None;
                    stop_running(&jobs, &mut st, "SIGTERM again", settings, emit);
                }
            }
            () = grace => {
                grace_ends = None;
                let why = format!(
                    "still running {} after the interruption",
                    crate::config::duration::format(settings.grace)
                );
                stop_running(&jobs, &mut st, &why, settings, emit);
            }
        }
    }
    skip_the_rest(&jobs, &st, settings, emit);
    Pass {
        stop: st.stop,
        recovered: st.recovered,
        stop_begun: st.stop_begun,
        human_wait: st.human_wait,
    }
}

/// Ready at `t`; never when there is none.
async fn at(t: Option<tokio::time::Instant>) {
    match t {
        Some(t) => tokio::time::sleep_until(t).await,
        None => std::future::pending().await,
    }
}

pub(super) async fn recv(s: &mut Option<tokio::signal::unix::Signal>) -> Option<()> {
    match s {
        Some(s) => s.recv().await,
        None => std::future::pending().await,
    }
}

pub(super) async fn recv_line(
    input: &mut Option<mpsc::UnboundedReceiver<String>>,
) -> Option<String> {
    match input {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

pub(super) fn attempt_event(jobs: &[Job], a: AttemptReport, r: &Redactor) -> Event {
    let job = &jobs[a.job];
    Event::AttemptFinished {
        step: job.id.clone(),
        host: job.host_name.clone(),
        attempt: a.attempt,
        ok: a.ok,
        exit_code: a.exit_code,
        message: r.redact(&a.message),
        duration_s: secs(a.duration),
    }
}
