//! What a pass is given and gives back, and the values its modules share: settings,
//! what a resumed run carries over, why a pass stopped, and a question waiting for a
//! person. A leaf: it imports nothing of the scheduler.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use tokio::sync::mpsc;

use crate::engine::event::{Event, FileHash, Halt};
use crate::engine::executor::Finished;
use crate::engine::operator::Kind;
use crate::engine::secrets::Redactor;
use crate::engine::sink::Sink;
use crate::engine::stopwatch::Stopwatch;

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
    /// `--wait-for-answer`: with nobody at a terminal, each question waits this long
    /// for `switchyard answer` (with a terminal, for either) before acting as `abort`.
    pub wait_for_answer: Option<Duration>,
    /// What `resume` needs to load the run again (see [`crate::engine::event::RunStarted`]).
    pub runbook_file: String,
    pub inventory_files: Vec<String>,
    pub only: Vec<String>,
    /// Said in the evidence right after the run starts (a stale lock taken over).
    pub notices: Vec<String>,
    /// The fingerprint of the key that signs the run folder at the end (`--sign-with`).
    pub signed_by: Option<String>,
    /// Per step of the plan: what it is expected to take (its median measured duration
    /// in the evidence, else its worst case), for the RTO-at-risk projection; empty for
    /// no projection.
    pub expected: Vec<Duration>,
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
    /// In a site: the runbooks that had begun to roll back while the others went on,
    /// each with its services whose stop phase had begun. They stay stopped, and roll
    /// back after the switchover pass.
    pub rolling_back: Vec<(String, Vec<String>)>,
    /// In a site: the runbooks the switchover pass had stopped, as the journal said last
    /// (since the last resume). When only the rollback goes on, they stay as they were.
    pub halted: Vec<Halted>,
    /// Per service with a canary, by name: its acknowledged writes as journalled, and
    /// whether its writer had stopped.
    pub canary: Vec<(String, Vec<crate::engine::canary::Ack>, bool)>,
}

/// A site's runbook that stopped on its own, as its `runbook_stopped` event said.
#[derive(Clone, Debug)]
pub struct Halted {
    pub runbook: String,
    pub how: Halt,
    pub message: String,
    pub blocked: Vec<String>,
}

impl Halted {
    /// Its `runbook_stopped` event, said again.
    pub fn event(&self) -> Event {
        Event::RunbookStopped {
            runbook: self.runbook.clone(),
            how: self.how,
            message: self.message.clone(),
            blocked: self.blocked.clone(),
        }
    }

    /// Why it stopped, as the pass says it.
    pub fn stop(&self) -> Stop {
        match self.how {
            Halt::Failed => Stop::Failed(self.message.clone()),
            Halt::Aborted => Stop::Aborted,
            Halt::RolledBack => Stop::Rollback,
        }
    }
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
    /// Per origin (a site's runbook): why it stopped on its own, if it did.
    pub halts: Vec<Option<Stop>>,
    /// Per service of the runbook: its canary measured a missed RPO (or could not tell).
    pub rpo_missed: Vec<bool>,
}

/// What a pass reads from outside and writes to.
pub struct Io<'a> {
    pub sink: &'a mut dyn Sink,
    /// Lines the operator typed; `None` when nobody can answer.
    pub input: Option<mpsc::UnboundedReceiver<String>>,
    /// The SIGHUP listener: a hangup is recorded, and the run goes on.
    pub hangup: crate::engine::hangup::Hangup,
    /// Answers sent by `switchyard answer` (a live run's socket); `None` when there is
    /// no such socket.
    pub answers: Option<mpsc::UnboundedReceiver<crate::engine::operator::Remote>>,
}

/// A person's answer the pass waits for.
pub(super) struct Pending {
    pub(super) job: usize,
    pub(super) kind: Kind,
    /// A failed job's result, held until the answer says what to do with it.
    pub(super) failure: Option<Finished>,
    /// A breached safety invariant under `on_failure = "pause"`: then `job` means
    /// nothing (see `invariants.rs`).
    pub(super) breach: Option<BreachQuestion>,
}

/// What a person is asked about a breached invariant, and what a `retry` checks again.
pub(super) struct BreachQuestion {
    pub(super) origin: usize,
    /// `invariant:NAME`, as the question and the decision name it.
    pub(super) id: String,
    pub(super) after: String,
    pub(super) message: String,
    /// Every host's result, one per line.
    pub(super) hosts: String,
}

/// A failed end with `message`, for a job that has no result of its own.
pub(super) fn failure(message: String) -> Finished {
    Finished {
        status: crate::engine::event::StepStatus::Failed,
        attempts: 0,
        exit_code: None,
        message: Some(message),
        stdout: None,
        stderr: None,
        ended: None,
    }
}
