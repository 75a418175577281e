//! Runs one job to its end — every attempt, retry and poll — and reports back.
//!
//! Dry run and live differ in what they do only here, by the executor the run plugs in:
//! [`Live`] carries out every job; [`DryRun`] runs the read-only prechecks for real and
//! returns every other job as `planned` without touching a transport. The command line
//! decides which once ([`RunKind`]); the rest of the engine asks the executor only what
//! to record — the `dry_run` of `run_started`, and that a dry run times nothing.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::mpsc::UnboundedSender;

use crate::config::model::{Mode, Phase};
use crate::transport::http::BODY_LIMIT_MIB;
use crate::transport::{
    Cancel, Captured, CommandOutput, HttpRequest, HttpResponse, Request, TcpConnect, TransportError,
};

use super::event::StepStatus;
use super::job::{Job, Work};
use super::kind::{Effect, RunKind};

/// How a job ended, before the scheduler turns it into an event.
#[derive(Debug)]
pub struct Finished {
    pub status: StepStatus,
    pub attempts: u32,
    pub exit_code: Option<i32>,
    pub message: Option<String>,
    pub stdout: Option<Captured>,
    pub stderr: Option<Captured>,
    /// When the work ended, taken where it ended: the evidence times a step by this,
    /// not by when the scheduler got round to it. `None` for an end that is no work's
    /// (a question answered, a step given up): it ends when recorded.
    pub ended: Option<Instant>,
}

/// One attempt's result, sent to the scheduler as it happens.
#[derive(Debug)]
pub struct AttemptReport {
    pub job: usize,
    pub attempt: u32,
    pub ok: bool,
    pub exit_code: Option<i32>,
    pub message: String,
    pub duration: Duration,
}

/// An SSH host a run will touch, by name.
pub type NamedHost = (String, Arc<crate::transport::ssh::SshHost>);

pub trait Executor: Send + Sync + 'static {
    /// The kind of run this executor carries out.
    fn kind(&self) -> RunKind;

    fn dry_run(&self) -> bool {
        self.kind().is_dry_run()
    }

    /// Whether the services' RPO canaries write and read (SPEC §8): a dry run runs
    /// neither command, and shows both instead.
    fn runs_canary(&self) -> bool {
        !self.kind().is_dry_run()
    }

    /// Whether `job` is done by a person, who confirms it (the scheduler asks), rather
    /// than by this executor: a manual step.
    fn needs_person(&self, job: &Job) -> bool {
        matches!(job.work, Work::Manual { .. })
    }

    /// Before the first step: the hosts checked, and what each check found. Nothing by
    /// default: a host is connected on first use, and one that cannot be reached fails
    /// its step.
    fn prepare(
        &self,
        _hosts: Vec<NamedHost>,
    ) -> impl Future<Output = Vec<(String, Result<(), String>)>> + Send {
        std::future::ready(Vec::new())
    }

    /// Runs `job` (number `index` of the run) to its end, or until `cancel` is set.
    fn execute(
        self: Arc<Self>,
        index: usize,
        job: Job,
        attempts: UnboundedSender<AttemptReport>,
        cancel: Cancel,
    ) -> impl Future<Output = Finished> + Send;
}

/// Carries out every step.
pub struct Live {
    /// In failover an unreachable source-side host is expected, not a failure.
    pub mode: Mode,
}

/// Changes nothing: prechecks run for real, everything else is `planned`.
pub struct DryRun {
    /// As for [`Live`]: it matters to the prechecks that run for real.
    pub mode: Mode,
}

impl Executor for Live {
    fn kind(&self) -> RunKind {
        RunKind {
            effect: Effect::Live,
            mode: self.mode,
        }
    }

    async fn execute(
        self: Arc<Self>,
        index: usize,
        job: Job,
        attempts: UnboundedSender<AttemptReport>,
        cancel: Cancel,
    ) -> Finished {
        perform(index, &job, &attempts, self.kind().is_failover(), &cancel).await
    }
}

impl Executor for DryRun {
    fn kind(&self) -> RunKind {
        RunKind {
            effect: Effect::DryRun,
            mode: self.mode,
        }
    }

    /// A dry run asks nobody: manual steps are `planned` like every action.
    fn needs_person(&self, _job: &Job) -> bool {
        false
    }

    /// Connects to and authenticates with every host, all at once.
    async fn prepare(&self, hosts: Vec<NamedHost>) -> Vec<(String, Result<(), String>)> {
        {
            let mut set = tokio::task::JoinSet::new();
            for (name, host) in hosts {
                set.spawn(
                    async move { (name, host.check_async().await.map_err(|e| e.to_string())) },
                );
            }
            let mut out = Vec::new();
            while let Some(r) = set.join_next().await {
                if let Ok(r) = r {
                    out.push(r);
                }
            }
            out.sort_by(|a, b| a.0.cmp(&b.0));
            out
        }
    }

    async fn execute(
        self: Arc<Self>,
        index: usize,
        job: Job,
        attempts: UnboundedSender<AttemptReport>,
        cancel: Cancel,
    ) -> Finished {
        {
            if job.phase == Phase::Precheck && !matches!(job.work, Work::Manual { .. }) {
                return perform(index, &job, &attempts, self.kind().is_failover(), &cancel).await;
            }
            Finished {
                status: StepStatus::Planned,
                attempts: 0,
                exit_code: None,
                message: None,
                stdout: None,
                stderr: None,
                ended: Some(Instant::now()),
            }
        }
    }
}

/// One attempt, as seen by the retry and polling loop.
struct Attempt {
    ok: bool,
    exit_code: Option<i32>,
    message: String,
    /// The host could not be reached at all.
    unreachable: bool,
    stdout: Option<Captured>,
    stderr: Option<Captured>,
}

impl Attempt {
    fn ok(message: impl Into<String>) -> Attempt {
        Attempt {
            ok: true,
            exit_code: None,
            message: message.into(),
            unreachable: false,
            stdout: None,
            stderr: None,
        }
    }

    fn failed(message: impl Into<String>) -> Attempt {
        Attempt {
            ok: false,
            ..Attempt::ok(message)
        }
    }
}

/// The retry loop of actions and the polling loop of checks around single attempts.
async fn perform(
    index: usize,
    job: &Job,
    report: &UnboundedSender<AttemptReport>,
    failover: bool,
    cancel: &Cancel,
) -> Finished {
    let p = job.policy;
    let started = Instant::now();
    let deadline = p.within.map(|w| started + w);
    let mut successes = 0;
    let mut n = 0;
    loop {
        n += 1;
        let timeout = match deadline {
            Some(d) => p
                .timeout
                .min(d.saturating_duration_since(Instant::now()))
                .max(Duration::from_millis(1)),
            None => p.timeout,
        };
        let t0 = Instant::now();
        let a = attempt(&job.work, timeout, cancel).await;
        let _ = report.send(AttemptReport {
            job: index,
            attempt: n,
            ok: a.ok,
            exit_code: a.exit_code,
            message: a.message.clone(),
            duration: t0.elapsed(),
        });
        let finish = |status, a: Attempt, message: Option<String>| Finished {
            ended: Some(Instant::now()),
            status,
            attempts: n,
            exit_code: a.exit_code,
            message,
            stdout: a.stdout,
            stderr: a.stderr,
        };
        if a.unreachable && failover && job.source_side {
            let msg = format!(
                "{}: source host unreachable, as expected in failover: {}",
                job.place(),
                a.message
            );
            return finish(StepStatus::SourceUnreachable, a, Some(msg));
        }
        let failed_msg = |a: &Attempt, why: &str| format!("{}: {}{why}", job.place(), a.message);
        if cancel.is_set() {
            let msg = failed_msg(&a, "");
            return finish(StepStatus::Failed, a, Some(msg));
        }
        if p.check {
            successes = if a.ok { successes + 1 } else { 0 };
            if successes >= p.consecutive {
                return finish(StepStatus::Ok, a, None);
            }
            // `interval` runs from the start of one attempt to the start of the next; an
            // attempt that overran starts the next at the following tick.
            let now = Instant::now();
            let tick = p.interval.max(Duration::from_millis(1));
            let mut next = t0 + tick;
            while next <= now {
                next += tick;
            }
            match deadline {
                Some(d) if next < d => pause(next - now, cancel).await,
                Some(_) => {
                    let within = crate::config::duration::format(p.within.unwrap_or_default());
                    let why = if p.consecutive > 1 {
                        format!(
                            " (no {} consecutive successes within {within})",
                            p.consecutive
                        )
                    } else {
                        format!(" (no success within {within})")
                    };
                    let msg = failed_msg(&a, &why);
                    return finish(StepStatus::Failed, a, Some(msg));
                }
                None => {
                    let msg = failed_msg(&a, "");
                    let (status, message) = if a.ok {
                        (StepStatus::Ok, None)
                    } else {
                        (StepStatus::Failed, Some(msg))
                    };
                    return finish(status, a, message);
                }
            }
        } else {
            if a.ok {
                return finish(StepStatus::Ok, a, None);
            }
            if n > p.retries {
                let why = if p.retries > 0 {
                    format!(" (after {n} attempts)")
                } else {
                    String::new()
                };
                let msg = failed_msg(&a, &why);
                return finish(StepStatus::Failed, a, Some(msg));
            }
            pause(p.retry_interval, cancel).await;
        }
    }
}

/// Waits between attempts, unless the run is being stopped.
async fn pause(d: Duration, cancel: &Cancel) {
    tokio::select! {
        () = tokio::time::sleep(d) => {}
        () = cancel.wait() => {}
    }
}

const STOPPED: &str = "stopped by switchyard: the run was interrupted";

/// One attempt. Transports notice `cancel` and stop what they started; an attempt cut
/// short by it fails as stopped, whatever it found, keeping any output it gathered.
async fn attempt(work: &Work, timeout: Duration, cancel: &Cancel) -> Attempt {
    let a = match work {
        Work::Command {
            request,
            expect_exit,
            expect_stdout,
        } => judge_command(
            request.perform(timeout, cancel).await,
            timeout,
            *expect_exit,
            expect_stdout.as_deref(),
        ),
        Work::Http {
            request,
            expect_status,
            expect_body,
        } => judge_http(
            request,
            request.perform(timeout, cancel).await,
            expect_status,
            expect_body.as_deref(),
        ),
        Work::Tcp(request) => judge_tcp(request, request.perform(timeout, cancel).await),
        Work::Sleep(d) => {
            tokio::select! {
                () = tokio::time::sleep(*d) => {
                    Attempt::ok(format!("waited {}", crate::config::duration::format(*d)))
                }
                () = cancel.wait() => Attempt::failed(STOPPED),
            }
        }
        // The scheduler asks a person instead of running these (`needs_person`).
        Work::Manual { .. } => Attempt::failed("a manual step is confirmed by a person"),
    };
    if cancel.is_set() {
        return Attempt {
            stdout: a.stdout,
            stderr: a.stderr,
            ..Attempt::failed(STOPPED)
        };
    }
    a
}

fn judge_command(
    out: Result<CommandOutput, TransportError>,
    timeout: Duration,
    expect_exit: i32,
    expect_stdout: Option<&str>,
) -> Attempt {
    let out = match out {
        Ok(o) => o,
        Err(e) => {
            // Only a host that could not be reached counts as unreachable (in a failover,
            // an expected outcome on the source side); a login or session failure does not.
            let unreachable = e.is_unreachable();
            return Attempt {
                unreachable,
                ..Attempt::failed(e.to_string())
            };
        }
    };
    let stdout_text = out.stdout.text();
    let (ok, message) = if out.timed_out {
        (
            false,
            format!(
                "timed out after {} and was stopped",
                crate::config::duration::format(timeout)
            ),
        )
    } else {
        match out.exit_code {
            None => (
                false,
                "ended without an exit status (killed, or the connection was lost)".to_string(),
            ),
            Some(c) if c != expect_exit => {
                (false, format!("exited with {c}, expected {expect_exit}"))
            }
            Some(_) => match expect_stdout {
                Some(want) if !stdout_text.contains(want) => {
                    (false, format!("stdout does not contain {want:?}"))
                }
                _ => (
                    true,
                    format!("exited with {}", out.exit_code.unwrap_or_default()),
                ),
            },
        }
    };
    Attempt {
        ok,
        exit_code: out.exit_code,
        message,
        unreachable: false,
        stdout: Some(out.stdout),
        stderr: Some(out.stderr),
    }
}

/// Whether an answer passes the check's expectations (`expect_status` empty: any 2xx),
/// and the attempt's message. A request that got no whole answer fails; it never counts
/// as an unreachable host.
fn judge_http(
    req: &HttpRequest,
    answer: Result<HttpResponse, TransportError>,
    expect_status: &[u16],
    expect_body: Option<&str>,
) -> Attempt {
    let answer = match answer {
        Ok(answer) => answer,
        Err(e) => return Attempt::failed(e.to_string()),
    };
    let (ok, message) = judge_answer(req, &answer, expect_status, expect_body);
    let mut body = Captured::default();
    body.push(&answer.body);
    Attempt {
        ok,
        exit_code: None,
        message,
        unreachable: false,
        stdout: Some(body),
        stderr: None,
    }
}

fn judge_answer(
    req: &HttpRequest,
    answer: &HttpResponse,
    expect_status: &[u16],
    expect_body: Option<&str>,
) -> (bool, String) {
    let asked = req.describe();
    let status = answer.status;
    let status_ok = if expect_status.is_empty() {
        (200..300).contains(&status)
    } else {
        expect_status.contains(&status)
    };
    if !status_ok {
        let expected = if expect_status.is_empty() {
            "2xx".to_string()
        } else {
            format!("{expect_status:?}")
        };
        return (
            false,
            format!("{asked} answered {status}, expected {expected}"),
        );
    }
    let cut = if answer.cut {
        format!(" (the body was longer than {BODY_LIMIT_MIB} MiB and was cut there)")
    } else {
        String::new()
    };
    match expect_body {
        Some(want) if !String::from_utf8_lossy(&answer.body).contains(want) => {
            let part = if answer.cut { "the part read of " } else { "" };
            (
                false,
                format!("{asked} answered {status} without {want:?} in {part}its body{cut}"),
            )
        }
        _ => (true, format!("{asked} answered {status}{cut}")),
    }
}

/// A TCP check passes when the connection was made; one that was not is a failed check,
/// never an unreachable host.
fn judge_tcp(req: &TcpConnect, connected: Result<(), TransportError>) -> Attempt {
    match connected {
        Ok(()) => Attempt::ok(format!("connected to {}", req.address)),
        Err(e) => Attempt::failed(e.to_string()),
    }
}
