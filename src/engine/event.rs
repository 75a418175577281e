//! What the engine reports, as typed, owned values. The journal, the summary, the
//! progress display and the logs are all built from these and nothing else.

use serde::Serialize;

/// How a step execution ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
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
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Passed,
    Failed,
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
            Outcome::RtoBreached => "rto_breached",
            Outcome::Aborted => "aborted",
            Outcome::RolledBack => "rolled_back",
            Outcome::Interrupted => "interrupted",
        }
    }
}

/// An RTO target against what was achieved.
#[derive(Clone, Debug, Serialize)]
pub struct Rto {
    pub target_s: f64,
    pub achieved_s: f64,
    pub met: bool,
}

#[derive(Clone, Debug, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    RunStarted {
        runbook: String,
        title: String,
        from: String,
        to: String,
        mode: &'static str,
        dry_run: bool,
        operator: String,
        clock_origin: String,
        started_at: String,
        steps: usize,
        executions: usize,
        max_parallel: usize,
    },
    /// Dry run: a host any step would touch was connected to and authenticated with.
    HostChecked {
        host: String,
        ok: bool,
        message: Option<String>,
    },
    /// Something the operator and the auditor must see: `insecure_tls`, an on_failure
    /// mode that acts as abort, a manual step confirmed by `--yes`.
    Notice { message: String },
    StepStarted {
        step: String,
        service: String,
        phase: &'static str,
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
    StepFinished {
        step: String,
        service: String,
        phase: &'static str,
        name: String,
        host: Option<String>,
        status: StepStatus,
        attempts: u32,
        exit_code: Option<i32>,
        started_at: String,
        finished_at: String,
        duration_s: f64,
        /// Why it failed (or why it was skipped), naming host, step and cause.
        message: Option<String>,
        /// Where its output is, relative to the run folder (filled in by the evidence writer).
        output: Option<String>,
        /// The captured output, redacted; written to `output/`, not into the journal.
        #[serde(skip)]
        stdout: Option<String>,
        #[serde(skip)]
        stderr: Option<String>,
        /// Time spent waiting for a person (manual steps); not machine time.
        human_wait_s: f64,
    },
    ServiceRecovered {
        service: String,
        achieved_s: f64,
        rto: Option<Rto>,
    },
    RunFinished {
        outcome: Outcome,
        finished_at: String,
        rto: Rto,
        human_wait_s: f64,
    },
}
