//! What the engine reports, as typed, owned values. The journal, the summary, the
//! progress display and the logs are all built from these and nothing else.

use serde::{Deserialize, Serialize};

use crate::config::model::{Mode, Phase};

use super::operator::{AnswerFrom, Choice, Kind};

/// How a step execution ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepStatus {
    Ok,
    Failed,
    /// Not run: the run stopped before it, or an earlier failure ruled it out.
    Skipped,
    /// Dry run: what would have been done, not done.
    Planned,
    /// Failover: the source host could not be reached, as expected of a lost hall.
    SourceUnreachable,
}

/// How the run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Passed,
    Failed,
    /// A service's canary measured more data lost than its `rpo` accepts (or could not
    /// tell how much): ranks above `rto_breached`.
    RpoBreached,
    RtoBreached,
    Aborted,
    RolledBack,
    Interrupted,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Passed => "passed",
            Outcome::Failed => "failed",
            Outcome::RpoBreached => "rpo_breached",
            Outcome::RtoBreached => "rto_breached",
            Outcome::Aborted => "aborted",
            Outcome::RolledBack => "rolled_back",
            Outcome::Interrupted => "interrupted",
        }
    }
}

/// Why a runbook of a site stopped on its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Halt {
    Failed,
    Aborted,
    RolledBack,
}

/// An RTO target against what was achieved.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Rto {
    pub target_s: f64,
    pub achieved_s: f64,
    pub met: bool,
}

/// A service's measured RPO (SPEC §8), as `summary.json` shows it in `services[].rpo`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Rpo {
    /// The service's `rpo`; `None` when it has a canary but no target.
    pub target_s: Option<f64>,
    /// The last write acknowledged (0: none) and when.
    pub last_ack_seq: u64,
    pub last_ack_at: Option<String>,
    /// The highest sequence number read back on the target; `None` when the read failed.
    pub read_seq: Option<u64>,
    /// Acknowledged writes missing from the target.
    pub lost_writes: u64,
    /// From the first lost write's acknowledgement to the last acknowledged one.
    pub lost_s: f64,
    pub met: bool,
}

/// Why a service's canary writer stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CanaryStop {
    /// Every stop step of the service ended.
    StopPhaseFinished,
    /// The service has no stop step in this plan: its first start or verify step began.
    NoStopPhase,
    /// A write was not acknowledged (recorded, not a step failure).
    WriteFailed,
    /// The run stopped (a failure, an abort, an interruption) before either.
    RunStopped,
}

/// A service of the run and its own RTO target, as the plan had it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ServiceTarget {
    pub name: String,
    pub title: String,
    pub rto_target_s: Option<f64>,
    /// Its `rpo`, when it has a canary with a target (absent in older journals).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rpo_target_s: Option<f64>,
    /// It has a canary (absent in older journals: none).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub canary: bool,
}

/// A file of the run folder (an input as copied, a step's output) with the hash of its
/// bytes, as the journal records it for `verify-evidence`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FileHash {
    /// Relative to the run folder (`inputs/…`, `output/…`).
    pub path: String,
    pub sha256: String,
}

/// The events of a run. They own their data and serialize into the journal as they are;
/// reading the journal back gives the same values, which is how `report`, `resume` and
/// `verify-evidence` rebuild a run from the journal alone.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// Everything the evidence needs to know about the run before its first step.
    RunStarted(RunStarted),
    /// Dry run: a host any step would touch was connected to and authenticated with.
    HostChecked {
        host: String,
        ok: bool,
        message: Option<String>,
    },
    /// Something the operator and the auditor must see: `insecure_tls`, an on_failure
    /// mode that acts as abort, a manual step confirmed by `--yes`.
    Notice { message: String },
    /// The operator's terminal hung up (`SIGHUP`): the run goes on, nothing running is
    /// touched, and nothing more is written to the terminal.
    TerminalLost { signal: String },
    /// A live run's projected recovery first went past a target (SPEC §10 "RTO at
    /// risk"): the elapsed time plus the rest of the critical path, measured durations
    /// where the evidence had them, worst cases otherwise. Said once per service and
    /// once per runbook (`service` is then `None`); it changes nothing in the run.
    RtoAtRisk {
        /// The runbook: in a site, the service's own runbook.
        runbook: String,
        service: Option<String>,
        projected_s: f64,
        target_s: f64,
        /// When, on the RTO clock.
        at_s: f64,
        /// What pushes it: the longest-running step, or the next one to start.
        because: String,
    },
    StepStarted {
        step: String,
        service: String,
        phase: Phase,
        name: String,
        host: Option<String>,
        /// The command, URL or text, secrets redacted.
        does: String,
    },
    AttemptFinished {
        step: String,
        host: Option<String>,
        attempt: u32,
        ok: bool,
        exit_code: Option<i32>,
        message: String,
        duration_s: f64,
    },
    /// One step on one host ended: done, failed, skipped or (dry run) planned.
    StepFinished(StepFinished),
    /// The run waits for a person: a manual step to confirm, or a failed step to
    /// decide about (`on_failure = "pause"`).
    Question {
        step: String,
        host: Option<String>,
        /// `manual` or `failed`.
        kind: Kind,
        /// The instruction, or why the step failed and its last lines of output.
        text: String,
        /// What may be answered, e.g. `done`, `abort`.
        choices: Vec<Choice>,
    },
    /// `switchyard resume` continued the run in this folder: the chain goes on.
    Resumed {
        at: String,
        operator: String,
        /// Steps (`id@host`) that had started but not ended, and run again.
        rerun: Vec<String>,
        /// Inputs whose files changed since the run started, accepted by `--force`.
        forced: Vec<String>,
        /// The fingerprint (`SHA256:...`) of the key that signs the run folder at the end.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        signed_by: Option<String>,
    },
    /// The run stopped and switches back the services whose stop phase had begun. In a
    /// site, `runbook` names the one runbook that rolls back; the others go on.
    RollbackStarted {
        services: Vec<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        runbook: Option<String>,
    },
    /// In a site: a runbook's failure stopped it, and only it. The runbooks that
    /// require it, also indirectly, begin no new step and end `blocked`.
    RunbookStopped {
        runbook: String,
        /// `failed`, `aborted` or `rolled_back` (the rollback is under way).
        how: Halt,
        message: String,
        blocked: Vec<String>,
    },
    /// A person decided: confirmed a manual step, or chose what to do about a failed
    /// step. Who, when, what, and how long the run waited for it.
    Decision {
        step: String,
        host: Option<String>,
        choice: Choice,
        /// `user@host`, or `--yes` when no person was asked.
        by: String,
        at: String,
        comment: Option<String>,
        wait_s: f64,
        /// Where the answer came from: `terminal` or `answer` (`switchyard answer`);
        /// absent when nobody answered (the policy, `--yes`) and in older journals.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        from: Option<AnswerFrom>,
    },
    /// A safety invariant was checked (see `engine/invariants.rs`).
    InvariantChecked(crate::engine::invariants::InvariantChecked),
    ServiceRecovered {
        service: String,
        achieved_s: f64,
        rto: Option<Rto>,
    },
    /// A canary write was acknowledged by every source host of the service's canary.
    CanaryWritten {
        service: String,
        /// The write's `{{canary.seq}}` (named apart from the journal's own `seq`).
        canary_seq: u64,
        /// When it was acknowledged, and that in seconds since the RTO clock's origin.
        at: String,
        at_s: f64,
        /// It is the write made just before the service's stop phase, which waited for it.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        before_stop: bool,
    },
    /// A service's canary writer stopped; `last_seq` is the last write acknowledged.
    CanaryStopped {
        service: String,
        why: CanaryStop,
        last_seq: u64,
        /// A failed write: its sequence number, and why, naming the host.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        failed_seq: Option<u64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        message: Option<String>,
    },
    /// After the service's last verify step: what the canary read back on the target,
    /// and the RPO measured from it.
    CanaryRead {
        service: String,
        /// Why the read gave no sequence number, naming host and cause.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        message: Option<String>,
        rpo: Rpo,
    },
    /// A webhook (`[[notify]]`) was told of an event, or could not be. Recorded when
    /// the delivery ended, off the run's critical path: the deliveries of the run's last
    /// events follow its `run_finished`.
    Notified {
        /// The webhook's scheme and host (`https://chat.example/…`); its path may hold a
        /// token and is never written.
        webhook: String,
        /// The event it was told of (`question`, `run_finished`, …).
        about: String,
        ok: bool,
        /// The webhook's HTTP status, when it answered.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        status: Option<u16>,
        /// Why it was not delivered.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        message: Option<String>,
        duration_s: f64,
    },
    RunFinished {
        outcome: Outcome,
        finished_at: String,
        /// The runbook's target against its recovery time; `None` in a dry run, which
        /// times nothing.
        rto: Option<Rto>,
        human_wait_s: f64,
    },
}

/// The first event of a run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunStarted {
    pub runbook: String,
    pub title: String,
    pub owner: Option<String>,
    pub tool_version: String,
    /// SHA-256 of the plan as `switchyard plan --format json` prints it, without a
    /// predicted RTO.
    pub plan_hash: String,
    pub from: String,
    pub to: String,
    pub mode: Mode,
    pub dry_run: bool,
    pub operator: String,
    pub clock_origin: String,
    pub started_at: String,
    pub rto_target_s: f64,
    pub services: Vec<ServiceTarget>,
    /// Step ids on the plan's critical path, in order.
    pub critical_path: Vec<String>,
    pub inputs: Vec<FileHash>,
    /// The runbook file and `--inventory` files as given, and `--only`: what `resume`
    /// loads again.
    pub runbook_file: String,
    pub inventory_files: Vec<String>,
    pub only: Vec<String>,
    pub steps: usize,
    pub executions: usize,
    pub max_parallel: usize,
    /// A site's runbooks, those `--only` left out but required (`assumed`) included.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub runbooks: Vec<RunbookTarget>,
    /// The fingerprint (`SHA256:...`) of the key that signs the run folder at the end
    /// (`--sign-with`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signed_by: Option<String>,
}

/// A runbook of a site, as the run began.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunbookTarget {
    pub name: String,
    pub title: String,
    pub tier: u8,
    pub requires: Vec<String>,
    pub rto_target_s: f64,
    /// SHA-256 of this runbook's own plan for the run's direction and mode, alone (the
    /// run's `plan_hash` is the whole site's); absent in older journals.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan_hash: Option<String>,
    /// Left out by `--only` but required by a runbook of the run: taken as recovered.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub assumed: bool,
}

/// The end of one step on one host.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StepFinished {
    pub step: String,
    pub service: String,
    pub phase: Phase,
    pub name: String,
    pub host: Option<String>,
    pub status: StepStatus,
    pub attempts: u32,
    pub exit_code: Option<i32>,
    pub started_at: String,
    pub finished_at: String,
    /// When it started, in seconds since the RTO clock's origin (monotonic).
    pub start_s: f64,
    pub duration_s: f64,
    /// Why it failed (or why it was skipped), naming host, step and cause.
    pub message: Option<String>,
    /// Where its output is, relative to the run folder (filled in by the evidence writer).
    pub output: Option<String>,
    /// The output files written for it, with their hashes (filled in by the evidence
    /// writer).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<FileHash>,
    /// A failed step's last lines of output, redacted, for the reports.
    pub excerpt: Option<String>,
    /// The captured output, redacted; written to `output/`, not into the journal.
    #[serde(skip)]
    pub stdout: Option<String>,
    #[serde(skip)]
    pub stderr: Option<String>,
    /// Time spent waiting for a person (manual steps); not machine time.
    pub human_wait_s: f64,
    /// It had started before switchyard stopped, and `resume` ran it again.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub rerun: bool,
}

impl StepFinished {
    /// A step that did no work, recorded as skipped (never started, or cut off by a
    /// stop); the caller says when and why.
    pub fn skipped(
        step: String,
        service: String,
        phase: Phase,
        name: String,
        host: Option<String>,
    ) -> StepFinished {
        StepFinished {
            step,
            service,
            phase,
            name,
            host,
            status: StepStatus::Skipped,
            attempts: 0,
            exit_code: None,
            started_at: String::new(),
            finished_at: String::new(),
            start_s: 0.0,
            duration_s: 0.0,
            message: None,
            output: None,
            files: Vec::new(),
            excerpt: None,
            stdout: None,
            stderr: None,
            human_wait_s: 0.0,
            rerun: false,
        }
    }
}

impl Event {
    /// Whether the event may follow the run's `run_finished`: the results of the
    /// notifications of the run's last events come in after it.
    pub fn may_trail_the_end(&self) -> bool {
        matches!(self, Event::Notified { .. })
    }

    /// The run's last event, not counting those that may trail its end.
    pub fn last_of_run<'e, I>(events: I) -> Option<&'e Event>
    where
        I: DoubleEndedIterator<Item = &'e Event>,
    {
        events.rev().find(|e| !e.may_trail_the_end())
    }

    /// What an `rto_at_risk` event says, for the display and the reports: "RTO AT RISK: db
    /// projected 12m 30s against 10m at 3m 10s (step db.start.1 running 6m 2s)".
    pub fn at_risk(&self) -> Option<String> {
        let Event::RtoAtRisk {
            runbook,
            service,
            projected_s,
            target_s,
            at_s,
            because,
        } = self
        else {
            return None;
        };
        let d = |s: f64| {
            crate::config::duration::format(std::time::Duration::from_secs(
                s.max(0.0).round() as u64
            ))
        };
        let who = match service {
            Some(s) => s.clone(),
            None => format!("runbook {runbook}"),
        };
        Some(format!(
            "RTO AT RISK: {who} projected {} against {} at {} ({because})",
            d(*projected_s),
            d(*target_s),
            d(*at_s)
        ))
    }
}
