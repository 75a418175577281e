//! The one owner of run state. A loop starts each job the moment its step's
//! dependencies are met (bounded by `max_parallel`, each host's `max_sessions` and each
//! step's `serial`), and waits in one `tokio::select!` for job results, attempt reports
//! and Ctrl-C/SIGTERM. Executors run the jobs and report back; only this loop changes
//! state and emits events.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::Instant;

use petgraph::Direction as Dir;
use petgraph::graph::NodeIndex;
use time::OffsetDateTime;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::mpsc;
use tokio::task::JoinSet;

use crate::config::model::OnFailure;
use crate::plan::{Node, Plan};

use super::event::{Event, InputFile, Outcome, Rto, RunStarted, ServiceTarget, StepFinished, StepStatus};
use super::executor::{Executor, Finished};
use super::job::Job;
use super::secrets::Redactor;
use super::stopwatch::{Stopwatch, timestamp};

/// What the run needs besides the plan and its jobs.
pub struct Settings {
    pub max_parallel: usize,
    pub operator: String,
    pub clock: Stopwatch,
    pub redactor: Redactor,
    /// SHA-256 of the plan's JSON rendering, so the evidence names the exact plan.
    pub plan_hash: String,
    /// The input files as copied into the run folder.
    pub inputs: Vec<InputFile>,
}

/// Why no new job starts any more.
#[derive(Clone, Debug)]
enum Stop {
    Failed(String),
    Interrupted,
}

struct State {
    waiting: Vec<usize>,
    ready: VecDeque<usize>,
    step_jobs: Vec<Vec<usize>>,
    next: Vec<usize>,
    running: Vec<usize>,
    done: Vec<usize>,
    failed: Vec<bool>,
    host_busy: HashMap<usize, usize>,
    started: Vec<Option<(OffsetDateTime, Instant)>>,
    total_running: usize,
    stop: Option<Stop>,
}

fn secs(d: std::time::Duration) -> f64 {
    (d.as_secs_f64() * 1000.0).round() / 1000.0
}

/// Runs every job of `plan` and returns how the run ended. `emit` receives every event.
pub async fn run<E: Executor>(
    plan: &Plan<'_>,
    jobs: Vec<Job>,
    hosts: Vec<super::executor::NamedHost>,
    executor: Arc<E>,
    settings: &Settings,
    emit: &mut dyn FnMut(Event),
) -> Outcome {
    let rb = plan.runbook;
    let g = &plan.graph;
    let dry_run = executor.dry_run();
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
        total_running: 0,
        stop: None,
    };
    for (j, job) in jobs.iter().enumerate() {
        st.step_jobs[job.step].push(j);
    }
    emit(Event::RunStarted(run_started(plan, &jobs, dry_run, settings)));
    if rb.on_failure != OnFailure::Abort {
        emit(Event::Notice {
            message: format!(
                "on_failure = \"{}\" acts as \"abort\" in this version: a failed step stops the run",
                rb.on_failure.as_str()
            ),
        });
    }
    for w in crate::plan::render::warnings(plan) {
        if w.contains("insecure_tls") {
            emit(Event::Notice { message: w });
        }
    }
    let mut unreachable = false;
    for (host, result) in executor.prepare(hosts).await {
        unreachable |= result.is_err();
        emit(Event::HostChecked {
            host,
            ok: result.is_ok(),
            message: result.err().map(|m| settings.redactor.redact(&m)),
        });
    }
    let roots: Vec<NodeIndex> = g
        .node_indices()
        .filter(|n| st.waiting[n.index()] == 0)
        .collect();
    for n in roots {
        reached(plan, &mut st, n);
    }
    let (tx, mut attempts) = mpsc::unbounded_channel();
    let mut set: JoinSet<(usize, Finished)> = JoinSet::new();
    let mut sigint = signal(SignalKind::interrupt()).ok();
    let mut sigterm = signal(SignalKind::terminate()).ok();
    let mut human_wait = std::time::Duration::ZERO;
    let mut recovered: Vec<Option<f64>> = vec![None; rb.services.len()];
    loop {
        if st.stop.is_none() {
            start_ready(
                plan, &jobs, &mut st, &executor, &tx, &mut set, settings, emit,
            );
        }
        if set.is_empty() {
            break;
        }
        tokio::select! {
            Some(joined) = set.join_next() => {
                let Ok((j, finished)) = joined else { continue };
                human_wait += finished.human_wait;
                finish_job(plan, &jobs, &mut st, j, finished, settings, emit);
                let step = jobs[j].step;
                if st.done[step] == st.step_jobs[step].len() && !st.failed[step] {
                    let svc = plan.steps[step].service;
                    if !dry_run && plan.services[svc].recovery_step == Some(step) {
                        let achieved = secs(settings.clock.since_origin());
                        recovered[svc] = Some(achieved);
                        emit(Event::ServiceRecovered {
                            service: rb.services[svc].name.to_string(),
                            achieved_s: achieved,
                            rto: rb.services[svc].rto.map(|t| Rto { target_s: secs(t), achieved_s: achieved, met: achieved <= secs(t) }),
                        });
                    }
                }
            }
            Some(a) = attempts.recv() => {
                let job = &jobs[a.job];
                emit(Event::AttemptFinished {
                    step: job.id.clone(),
                    host: job.host_name.clone(),
                    attempt: a.attempt,
                    ok: a.ok,
                    exit_code: a.exit_code,
                    message: settings.redactor.redact(&a.message),
                    duration_s: secs(a.duration),
                });
            }
            Some(()) = recv(&mut sigint) => {
                if matches!(st.stop, Some(Stop::Interrupted)) {
                    set.abort_all();
                    break;
                }
                st.stop = Some(Stop::Interrupted);
                emit(Event::Notice { message: "interrupted: no new step starts; running steps finish (press Ctrl-C again to stop at once)".into() });
            }
            Some(()) = recv(&mut sigterm) => {
                st.stop = Some(Stop::Interrupted);
                emit(Event::Notice { message: "SIGTERM: no new step starts; running steps finish".into() });
            }
        }
    }
    skip_the_rest(&jobs, &st, settings, emit);
    let achieved = recovered
        .iter()
        .flatten()
        .copied()
        .fold(None, |m: Option<f64>, a| Some(m.map_or(a, |m| m.max(a))))
        .unwrap_or_else(|| secs(settings.clock.since_origin()));
    let target = secs(rb.rto);
    let any_service_missed = rb
        .services
        .iter()
        .zip(&recovered)
        .any(|(s, r)| matches!((s.rto, r), (Some(t), Some(a)) if *a > secs(t)));
    // The runbook is recovered when every service of the run is; a run that stopped
    // before that has not met its target, however early it stopped.
    let all_recovered = dry_run
        || plan
            .included
            .iter()
            .zip(&recovered)
            .zip(&plan.services)
            .all(|((inc, r), t)| !inc || r.is_some() || t.recovery_step.is_none());
    let met = all_recovered && achieved <= target;
    let outcome = match &st.stop {
        Some(Stop::Interrupted) => Outcome::Interrupted,
        Some(Stop::Failed(_)) => Outcome::Failed,
        None if unreachable => Outcome::Failed,
        None if !dry_run && (!met || any_service_missed) => Outcome::RtoBreached,
        None => Outcome::Passed,
    };
    emit(Event::RunFinished {
        outcome,
        finished_at: timestamp(settings.clock.now()),
        rto: Rto {
            target_s: target,
            achieved_s: achieved,
            met,
        },
        human_wait_s: secs(human_wait),
    });
    outcome
}

fn run_started(plan: &Plan<'_>, jobs: &[Job], dry_run: bool, settings: &Settings) -> RunStarted {
    let rb = plan.runbook;
    RunStarted {
        runbook: rb.name.clone(),
        title: rb.title.clone(),
        owner: rb.owner.clone(),
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        plan_hash: settings.plan_hash.clone(),
        from: plan.from.to_string(),
        to: plan.to.to_string(),
        mode: plan.mode.as_str().to_string(),
        dry_run,
        operator: settings.operator.clone(),
        clock_origin: timestamp(settings.clock.origin),
        started_at: timestamp(settings.clock.started),
        rto_target_s: secs(rb.rto),
        services: rb
            .services
            .iter()
            .zip(&plan.included)
            .filter(|(_, keep)| **keep)
            .map(|(s, _)| ServiceTarget {
                name: s.name.to_string(),
                title: s.title.clone(),
                rto_target_s: s.rto.map(secs),
            })
            .collect(),
        critical_path: plan
            .critical_path
            .iter()
            .map(|&i| plan.steps[i].id.clone())
            .collect(),
        inputs: settings.inputs.clone(),
        steps: plan.steps.len(),
        executions: jobs.len(),
        max_parallel: settings.max_parallel,
    }
}

async fn recv(s: &mut Option<tokio::signal::unix::Signal>) -> Option<()> {
    match s {
        Some(s) => s.recv().await,
        None => std::future::pending().await,
    }
}

/// A node whose dependencies are all met: a step becomes ready, a gate passes at once.
fn reached(plan: &Plan<'_>, st: &mut State, node: NodeIndex) {
    match plan.graph[node] {
        Node::Step(i) => st.ready.push_back(i),
        _ => release(plan, st, node),
    }
}

/// `node` is done: whatever waited only for it is reached.
fn release(plan: &Plan<'_>, st: &mut State, node: NodeIndex) {
    let g = &plan.graph;
    for next in g.neighbors_directed(node, Dir::Outgoing) {
        st.waiting[next.index()] -= 1;
        if st.waiting[next.index()] == 0 {
            reached(plan, st, next);
        }
    }
}

#[expect(
    clippy::too_many_arguments,
    reason = "the loop's state, passed explicitly rather than hidden in a struct of references"
)]
fn start_ready<E: Executor>(
    plan: &Plan<'_>,
    jobs: &[Job],
    st: &mut State,
    executor: &Arc<E>,
    tx: &mpsc::UnboundedSender<super::executor::AttemptReport>,
    set: &mut JoinSet<(usize, Finished)>,
    settings: &Settings,
    emit: &mut dyn FnMut(Event),
) {
    let inv = &plan.runbook.inventory;
    let mut still = VecDeque::new();
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
            // Start the job first: writing the event (an fsync) must not delay it.
            tracing::debug!(job = j, step = %job.id, host = ?job.host_name, running = st.total_running, "job started");
            let (ex, owned, tx) = (executor.clone(), job.clone(), tx.clone());
            set.spawn(async move { (j, ex.execute(j, owned, tx).await) });
            emit(Event::StepStarted {
                step: job.id.clone(),
                service: job.service.clone(),
                phase: job.phase.as_str().to_string(),
                name: job.name.clone(),
                host: job.host_name.clone(),
                does: job.does.clone(),
            });
        }
        if st.next[step] < st.step_jobs[step].len() {
            still.push_back(step);
        }
    }
    st.ready = still;
}

fn finish_job(
    plan: &Plan<'_>,
    jobs: &[Job],
    st: &mut State,
    j: usize,
    f: Finished,
    settings: &Settings,
    emit: &mut dyn FnMut(Event),
) {
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
    let continue_on_error = plan.steps[step].step.continue_on_error;
    if f.status == StepStatus::Failed && !continue_on_error {
        st.failed[step] = true;
        if st.stop.is_none() {
            st.stop = Some(Stop::Failed(f.message.clone().unwrap_or_default()));
        }
    }
    let r = &settings.redactor;
    let stdout = f.stdout.map(|c| r.redact(&c.text()));
    let stderr = f.stderr.map(|c| r.redact(&c.text()));
    emit(Event::StepFinished(StepFinished {
        step: job.id.clone(),
        service: job.service.clone(),
        phase: job.phase.as_str().to_string(),
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
        excerpt: (f.status == StepStatus::Failed)
            .then(|| excerpt(stdout.as_deref(), stderr.as_deref()))
            .flatten(),
        stdout,
        stderr,
        human_wait_s: secs(f.human_wait),
    }));
    if st.done[step] == st.step_jobs[step].len() && !st.failed[step] {
        release(plan, st, plan.steps[step].node);
    }
}

/// Every job that never started is recorded as skipped, with the reason.
fn skip_the_rest(jobs: &[Job], st: &State, settings: &Settings, emit: &mut dyn FnMut(Event)) {
    let reason = match &st.stop {
        Some(Stop::Failed(m)) => format!("not run: the run stopped because {m}"),
        Some(Stop::Interrupted) => "not run: the run was interrupted".to_string(),
        None => "not run".to_string(),
    };
    let now = timestamp(settings.clock.now());
    let since_origin = secs(settings.clock.since_origin());
    for (j, job) in jobs.iter().enumerate() {
        if st.started[j].is_some() {
            continue;
        }
        emit(Event::StepFinished(StepFinished {
            step: job.id.clone(),
            service: job.service.clone(),
            phase: job.phase.as_str().to_string(),
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
            excerpt: None,
            stdout: None,
            stderr: None,
            human_wait_s: 0.0,
        }));
    }
}

/// The last lines a failed step printed (stderr, else stdout), for the reports: enough
/// to see the cause without opening `output/`.
fn excerpt(stdout: Option<&str>, stderr: Option<&str>) -> Option<String> {
    const LINES: usize = 20;
    const BYTES: usize = 2048;
    let text = [stderr, stdout]
        .into_iter()
        .flatten()
        .map(str::trim_end)
        .find(|t| !t.is_empty())?;
    let from = text
        .rmatch_indices('\n')
        .nth(LINES - 1)
        .map_or(0, |(i, _)| i + 1);
    let mut from = from.max(text.len().saturating_sub(BYTES));
    while !text.is_char_boundary(from) {
        from += 1;
    }
    Some(text[from..].to_string())
}
