//! The one owner of a pass's state. A loop starts each job the moment its step's
//! dependencies are met (bounded by `max_parallel`, each host's `max_sessions` and each
//! step's `serial`), and waits in one `tokio::select!` for job results, attempt reports,
//! the operator's answers, Ctrl-C/SIGTERM and the grace period after them. Executors run
//! the jobs and report back; only this loop changes state and emits events.
//!
//! A *pass* is one plan carried out: the switchover itself, or the rollback after it.
//! [`super::drill`] strings passes into a run.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use petgraph::Direction as Dir;
use petgraph::graph::NodeIndex;
use time::OffsetDateTime;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::mpsc;
use tokio::task::JoinSet;

use crate::config::model::{OnFailure, Phase};
use crate::plan::{Node, Plan};

use super::event::{Event, InputFile, StepFinished, StepStatus};
use super::executor::{AttemptReport, Executor, Finished};
use super::job::Job;
use super::operator::{self, Answer, Choice, Kind};
use super::secrets::Redactor;
use super::stopwatch::{Stopwatch, timestamp};
use crate::transport::Cancel;

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

/// A person's answer the pass waits for.
struct Pending {
    job: usize,
    kind: Kind,
    /// A failed job's result, held until the answer says what to do with it.
    failure: Option<Finished>,
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
    ended: Vec<bool>,
    total_running: usize,
    stop: Option<Stop>,
    questions: VecDeque<Pending>,
    open: Option<(Pending, Instant)>,
    /// When the open question's step fails unanswered (a manual step's `timeout`).
    open_deadline: Option<tokio::time::Instant>,
    /// While a failed step waits for its answer, no new job starts.
    paused: bool,
    /// How long each manual job waited for its person.
    waits: HashMap<usize, Duration>,
    human_wait: Duration,
    stop_begun: Vec<bool>,
    /// Per service: its recovery time (s), once recovered.
    recovered: Vec<Option<f64>>,
    /// Set to stop every running job now.
    cancel: Cancel,
    /// A dry run and a rollback pass recover nothing: one plans, the other undoes.
    times_nothing: bool,
}

fn secs(d: Duration) -> f64 {
    (d.as_secs_f64() * 1000.0).round() / 1000.0
}

/// What a pass reads from outside and writes to.
pub struct Io<'a> {
    pub emit: &'a mut dyn FnMut(Event),
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
    let mut set: JoinSet<(usize, Finished)> = JoinSet::new();
    let mut sigint = signal(SignalKind::interrupt()).ok();
    let mut sigterm = signal(SignalKind::terminate()).ok();
    let mut grace_ends: Option<tokio::time::Instant> = None;
    let mut interrupted = false;
    let emit = &mut *io.emit;
    loop {
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
        let expiry = async {
            match st.open_deadline {
                Some(t) => tokio::time::sleep_until(t).await,
                None => std::future::pending().await,
            }
        };
        let grace = async {
            match grace_ends {
                Some(t) => tokio::time::sleep_until(t).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            () = expiry => {
                if let Some((j, finished)) = expire(&jobs, &mut st) {
                    ended(plan, &jobs, &mut st, j, finished, settings, carry, emit);
                }
            }
            Some(joined) = set.join_next() => {
                let Ok((j, finished)) = joined else { continue };
                ended(plan, &jobs, &mut st, j, finished, settings, carry, emit);
            }
            Some(a) = attempts.recv() => emit(attempt_event(&jobs, a, &settings.redactor)),
            line = recv_line(&mut io.input) => {
                match line {
                    Some(line) => {
                        let Some((p, _)) = &st.open else { continue };
                        match operator::parse(p.kind, &line) {
                            Ok(answer) => resolve(
                                plan, &jobs, &mut st, answer, &settings.operator, settings, carry,
                                &executor, &tx, &mut set, emit,
                            ),
                            Err(help) => emit(Event::Notice { message: help }),
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

async fn recv(s: &mut Option<tokio::signal::unix::Signal>) -> Option<()> {
    match s {
        Some(s) => s.recv().await,
        None => std::future::pending().await,
    }
}

async fn recv_line(input: &mut Option<mpsc::UnboundedReceiver<String>>) -> Option<String> {
    match input {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

fn attempt_event(jobs: &[Job], a: AttemptReport, r: &Redactor) -> Event {
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

/// Once a service's recovery step has ended on every host, the service is recovered:
/// its time is machine time, without what the run waited for people.
fn note_recovery(
    plan: &Plan<'_>,
    jobs: &[Job],
    st: &mut State,
    j: usize,
    settings: &Settings,
    emit: &mut dyn FnMut(Event),
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
    emit(Event::ServiceRecovered {
        service: s.name.to_string(),
        achieved_s: achieved,
        rto: s.rto.map(|t| super::event::Rto {
            target_s: secs(t),
            achieved_s: achieved,
            met: achieved <= secs(t),
        }),
    });
}

/// The first Ctrl-C or SIGTERM: no new step starts; running ones get a grace period.
fn interrupt(
    jobs: &[Job],
    st: &mut State,
    what: &str,
    settings: &Settings,
    emit: &mut dyn FnMut(Event),
) -> tokio::time::Instant {
    st.stop = Some(Stop::Interrupted);
    cancel_questions(
        jobs,
        st,
        "the run was interrupted before anyone answered",
        settings,
        emit,
    );
    emit(Event::Notice {
        message: format!(
            "{what}: no new step starts; running steps get {} to finish, then they are stopped (Ctrl-C again stops at once)",
            crate::config::duration::format(settings.grace)
        ),
    });
    tokio::time::Instant::now() + settings.grace
}

/// Tells every running job to stop now (their commands are killed, locally or on the
/// remote host); they end as failed and the loop records them as they come back.
fn stop_running(
    jobs: &[Job],
    st: &mut State,
    why: &str,
    settings: &Settings,
    emit: &mut dyn FnMut(Event),
) {
    st.stop = Some(Stop::Interrupted);
    cancel_questions(
        jobs,
        st,
        "the run was interrupted before anyone answered",
        settings,
        emit,
    );
    emit(Event::Notice {
        message: format!(
            "{why}: stopping the {} running step(s) now",
            st.total_running
        ),
    });
    st.cancel.set();
}

/// Gives up on jobs that were told to stop and have not ended: each is recorded as
/// failed. Their commands were told to stop; this only stops waiting for them.
fn abandon(
    jobs: &[Job],
    st: &mut State,
    set: &mut JoinSet<(usize, Finished)>,
    settings: &Settings,
    emit: &mut dyn FnMut(Event),
) {
    set.abort_all();
    for j in 0..jobs.len() {
        if st.started[j].is_some() && !st.ended[j] {
            let f = failure(format!(
                "step {}{}: stopped by switchyard; its end was not awaited (Ctrl-C a third time)",
                jobs[j].id,
                on(&jobs[j].host_name)
            ));
            record(jobs, st, j, f, settings, false, emit);
        }
    }
}

/// Questions nobody will answer now: their jobs end as failed.
fn cancel_questions(
    jobs: &[Job],
    st: &mut State,
    why: &str,
    settings: &Settings,
    emit: &mut dyn FnMut(Event),
) {
    let open = st.open.take().map(|(p, _)| p);
    for p in open.into_iter().chain(std::mem::take(&mut st.questions)) {
        let f = p.failure.unwrap_or_else(|| failure(why.to_string()));
        record(jobs, st, p.job, f, settings, false, emit);
    }
    st.paused = false;
}

fn failure(message: String) -> Finished {
    Finished {
        status: StepStatus::Failed,
        attempts: 0,
        exit_code: None,
        message: Some(message),
        stdout: None,
        stderr: None,
    }
}

fn on(host: &Option<String>) -> String {
    host.as_ref().map_or(String::new(), |h| format!(" on {h}"))
}

/// Opens a question: the display shows it, the operator (or the policy) answers.
fn ask(
    jobs: &[Job],
    st: &mut State,
    p: Pending,
    settings: &Settings,
    someone_there: bool,
    emit: &mut dyn FnMut(Event),
) {
    let job = &jobs[p.job];
    let r = &settings.redactor;
    let failure = p.failure.as_ref().map(|f| {
        (
            r.redact(f.message.as_deref().unwrap_or("failed")),
            crate::transport::excerpt(&f.stdout, &f.stderr).map(|x| r.redact(&x)),
        )
    });
    let text = operator::text(
        p.kind,
        job,
        failure.as_ref().map(|(m, x)| (m.as_str(), x.as_deref())),
    );
    if someone_there {
        emit(Event::Question {
            step: job.id.clone(),
            host: job.host_name.clone(),
            kind: p.kind.as_str().to_string(),
            text,
            choices: p
                .kind
                .choices()
                .iter()
                .map(|c| c.as_str().to_string())
                .collect(),
        });
    }
    st.open_deadline = match (&job.work, p.kind) {
        (super::job::Work::Manual { limit: Some(l), .. }, Kind::Manual) => {
            Some(tokio::time::Instant::now() + *l)
        }
        _ => None,
    };
    st.open = Some((p, Instant::now()));
}

/// A manual step's `timeout` passed without an answer: it fails, and `on_failure`
/// decides what follows, as after any failed step.
fn expire(jobs: &[Job], st: &mut State) -> Option<(usize, Finished)> {
    let (p, asked) = st.open.take()?;
    st.open_deadline = None;
    st.human_wait += asked.elapsed();
    let job = &jobs[p.job];
    let limit = match &job.work {
        super::job::Work::Manual { limit: Some(l), .. } => *l,
        _ => asked.elapsed(),
    };
    Some((
        p.job,
        failure(format!(
            "step {}{}: nobody confirmed it within {} (its timeout)",
            job.id,
            on(&job.host_name),
            crate::config::duration::format(limit)
        )),
    ))
}

/// Who answers when nobody can be asked.
const POLICY: &str = "switchyard (nobody at a terminal, or --yes)";

/// The answer when nobody can be asked: `--yes` confirms manual steps; a pause aborts.
fn by_policy(st: &State, settings: &Settings) -> (Answer, &'static str) {
    let manual = matches!(&st.open, Some((p, _)) if p.kind == Kind::Manual);
    let by = if manual && settings.assume_yes {
        "--yes"
    } else {
        POLICY
    };
    let answer = match (manual, settings.assume_yes) {
        (true, true) => Answer {
            choice: Choice::Done,
            comment: Some("confirmed automatically by --yes".into()),
        },
        (true, false) => Answer {
            choice: Choice::Abort,
            comment: Some("a manual step needs an operator at a terminal (or --yes)".into()),
        },
        (false, _) => Answer {
            choice: Choice::Abort,
            comment: Some(
                "on_failure = \"pause\" with nobody at a terminal (or with --yes): abort".into(),
            ),
        },
    };
    (answer, by)
}

#[expect(
    clippy::too_many_arguments,
    reason = "the loop's state, passed explicitly rather than hidden in a struct of references"
)]
fn resolve<E: Executor>(
    plan: &Plan<'_>,
    jobs: &[Job],
    st: &mut State,
    answer: Answer,
    by: &str,
    settings: &Settings,
    carry: &Carry,
    executor: &Arc<E>,
    tx: &mpsc::UnboundedSender<AttemptReport>,
    set: &mut JoinSet<(usize, Finished)>,
    emit: &mut dyn FnMut(Event),
) {
    let Some((p, asked)) = st.open.take() else {
        return;
    };
    st.open_deadline = None;
    let waited = asked.elapsed();
    st.human_wait += waited;
    if p.kind == Kind::Manual {
        st.waits.insert(p.job, waited);
    }
    let job = &jobs[p.job];
    emit(Event::Decision {
        step: job.id.clone(),
        host: job.host_name.clone(),
        choice: answer.choice.as_str().to_string(),
        by: by.to_string(),
        at: timestamp(settings.clock.now()),
        comment: answer.comment.clone(),
        wait_s: secs(waited),
    });
    let note = answer
        .comment
        .as_ref()
        .map_or(String::new(), |c| format!(": {c}"));
    match (answer.choice, p.failure) {
        (Choice::Done, _) => {
            let f = Finished {
                status: StepStatus::Ok,
                attempts: 1,
                exit_code: None,
                message: Some(format!("confirmed by {by}{note}")),
                stdout: None,
                stderr: None,
            };
            finish_job(plan, jobs, st, p.job, f, settings, carry, emit);
        }
        (Choice::Retry, Some(_)) => {
            st.paused = false;
            let (ex, owned, tx, cancel) =
                (executor.clone(), job.clone(), tx.clone(), st.cancel.clone());
            let j = p.job;
            set.spawn(async move { (j, ex.execute(j, owned, tx, cancel).await) });
        }
        (Choice::Skip, Some(mut f)) => {
            st.paused = false;
            f.message = Some(format!(
                "{} — skipped by {by}{note}; the run went on",
                f.message.unwrap_or_default()
            ));
            record(jobs, st, p.job, f, settings, false, emit);
            complete_if_done(plan, st, job.step);
        }
        (choice, failure) => {
            st.paused = false;
            let f = failure.unwrap_or_else(|| {
                self::failure(format!(
                    "step {}{}: not confirmed ({} by {by}{note})",
                    job.id,
                    on(&job.host_name),
                    choice.as_str()
                ))
            });
            finish_job(plan, jobs, st, p.job, f, settings, carry, emit);
            // An abort nobody chose is the failure's own: the run `failed`.
            if choice == Choice::Rollback {
                st.stop = Some(Stop::Rollback);
            } else if by != POLICY {
                st.stop = Some(Stop::Aborted);
            }
        }
    }
}

/// A job came back (or a manual step expired): under `on_failure = "pause"` a failure
/// waits for a person; anything else is recorded.
#[expect(
    clippy::too_many_arguments,
    reason = "the loop's state, passed explicitly rather than hidden in a struct of references"
)]
fn ended(
    plan: &Plan<'_>,
    jobs: &[Job],
    st: &mut State,
    j: usize,
    finished: Finished,
    settings: &Settings,
    carry: &Carry,
    emit: &mut dyn FnMut(Event),
) {
    let step = jobs[j].step;
    let pause = finished.status == StepStatus::Failed
        && !plan.steps[step].step.continue_on_error
        && plan.runbook.on_failure == OnFailure::Pause
        && st.stop.is_none();
    if pause {
        st.paused = true;
        st.questions.push_back(Pending {
            job: j,
            kind: Kind::Failed,
            failure: Some(finished),
        });
    } else {
        finish_job(plan, jobs, st, j, finished, settings, carry, emit);
    }
}

/// A node whose dependencies are all met: a step becomes ready (or, with nothing left
/// to run, is done at once), a gate passes at once.
fn reached(plan: &Plan<'_>, st: &mut State, node: NodeIndex) {
    match plan.graph[node] {
        Node::Step(i) if !st.step_jobs[i].is_empty() => st.ready.push_back(i),
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

fn complete_if_done(plan: &Plan<'_>, st: &mut State, step: usize) {
    if st.done[step] == st.step_jobs[step].len() && !st.failed[step] {
        release(plan, st, plan.steps[step].node);
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
    tx: &mpsc::UnboundedSender<AttemptReport>,
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
            if job.phase == Phase::Stop {
                st.stop_begun[plan.steps[step].service] = true;
            }
            tracing::debug!(job = j, step = %job.id, host = ?job.host_name, running = st.total_running, "job started");
            if executor.needs_person(job) {
                st.questions.push_back(Pending {
                    job: j,
                    kind: Kind::Manual,
                    failure: None,
                });
            } else {
                // Start the job first: writing the event (an fsync) must not delay it.
                let (ex, owned, tx, cancel) =
                    (executor.clone(), job.clone(), tx.clone(), st.cancel.clone());
                set.spawn(async move { (j, ex.execute(j, owned, tx, cancel).await) });
            }
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

#[expect(
    clippy::too_many_arguments,
    reason = "the loop's state, passed explicitly rather than hidden in a struct of references"
)]
fn finish_job(
    plan: &Plan<'_>,
    jobs: &[Job],
    st: &mut State,
    j: usize,
    f: Finished,
    settings: &Settings,
    carry: &Carry,
    emit: &mut dyn FnMut(Event),
) {
    let step = jobs[j].step;
    let continue_on_error = plan.steps[step].step.continue_on_error;
    if f.status == StepStatus::Failed && !continue_on_error {
        st.failed[step] = true;
        if st.stop.is_none() {
            st.stop = Some(match plan.runbook.on_failure {
                OnFailure::Rollback => Stop::Rollback,
                _ => Stop::Failed(f.message.clone().unwrap_or_default()),
            });
        }
    }
    let rerun = carry
        .rerun
        .contains(&(jobs[j].id.clone(), jobs[j].host_name.clone()));
    record(jobs, st, j, f, settings, rerun, emit);
    note_recovery(plan, jobs, st, j, settings, emit);
    complete_if_done(plan, st, step);
}

/// Frees the job's slots and emits its `step_finished`.
fn record(
    jobs: &[Job],
    st: &mut State,
    j: usize,
    f: Finished,
    settings: &Settings,
    rerun: bool,
    emit: &mut dyn FnMut(Event),
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
    let excerpt = (f.status == StepStatus::Failed)
        .then(|| crate::transport::excerpt(&f.stdout, &f.stderr))
        .flatten()
        .map(|x| r.redact(&x));
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
        excerpt,
        stdout: f.stdout.map(|c| r.redact(&c.text())),
        stderr: f.stderr.map(|c| r.redact(&c.text())),
        human_wait_s: secs(st.waits.remove(&j).unwrap_or_default()),
        rerun,
    }));
}

/// Every job that never started is recorded as skipped, with the reason.
fn skip_the_rest(jobs: &[Job], st: &State, settings: &Settings, emit: &mut dyn FnMut(Event)) {
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
            rerun: false,
        }));
    }
}
