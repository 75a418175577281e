//! What every report says alike: the verdict, how a recovery time is judged, the words
//! for statuses and seconds, and the order of the steps.

use crate::engine::event::{Outcome, StepStatus};
use crate::evidence::record::{Record, StepRecord};

/// The verdict in a few words, for a banner or a headline.
pub fn verdict(r: &Record) -> &'static str {
    match (r.outcome, r.start.dry_run) {
        (Outcome::Passed, true) => "DRY RUN PASSED",
        (Outcome::Passed, false) => "PASSED",
        (Outcome::Failed, _) => "FAILED",
        (Outcome::RtoBreached, _) => "RTO MISSED",
        (Outcome::Aborted, _) => "ABORTED",
        (Outcome::RolledBack, _) => "ROLLED BACK",
        (Outcome::Interrupted, _) => "INTERRUPTED",
    }
}

/// One sentence that says what the verdict means.
pub fn verdict_sentence(r: &Record) -> String {
    let failed = r
        .steps
        .iter()
        .filter(|s| s.end.status == StepStatus::Failed)
        .count();
    let missed = r
        .services
        .iter()
        .filter(|s| s.rto().is_some_and(|t| !t.met))
        .count();
    // A step a person skipped did not succeed: the sentence must not say it did.
    let skipped = r.steps.iter().filter(|s| r.skipped_by_person(s)).count();
    let every_step = if skipped == 0 {
        "Every step succeeded".to_string()
    } else {
        format!("Every step succeeded or was skipped by the operator ({skipped} skipped)")
    };
    match r.outcome {
        Outcome::Passed if r.start.dry_run => {
            "Every host was reached and every precheck passed; nothing was changed.".into()
        }
        Outcome::Passed => format!(
            "{every_step} and every RTO target was met: recovered in {} against a target of {}.",
            secs(r.rto.achieved_s),
            secs(r.rto.target_s)
        ),
        Outcome::RtoBreached => format!(
            "{every_step}, but {}: recovered in {} against a target of {}.",
            if missed > 0 {
                format!("{missed} service target(s) were missed")
            } else {
                "the runbook's target was missed".to_string()
            },
            secs(r.rto.achieved_s),
            secs(r.rto.target_s)
        ),
        Outcome::Failed => format!("{failed} step execution(s) failed and the run stopped."),
        Outcome::Aborted => "The operator aborted the run.".into(),
        Outcome::RolledBack => {
            "The run failed and every service it had begun to stop was switched back.".into()
        }
        Outcome::Interrupted if !r.finished => {
            "The journal ends before the run did: switchyard was stopped during it.".into()
        }
        Outcome::Interrupted => "The run was interrupted before it finished.".into(),
    }
}

/// How a report judges a recovery time against its target.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Judgement {
    /// A dry run times nothing.
    NotTimed,
    Met,
    Missed,
    NotRecovered,
    NoTarget,
}

impl Judgement {
    pub fn of(r: &Record, target: Option<f64>, achieved: Option<f64>) -> Judgement {
        match (target, achieved) {
            _ if r.start.dry_run => Judgement::NotTimed,
            (Some(t), Some(a)) if a <= t => Judgement::Met,
            (Some(_), Some(_)) => Judgement::Missed,
            (Some(_), None) => Judgement::NotRecovered,
            (None, _) => Judgement::NoTarget,
        }
    }

    /// The words in a report's RTO table.
    pub fn words(self) -> &'static str {
        match self {
            Judgement::NotTimed => "not timed (dry run)",
            Judgement::Met => "met",
            Judgement::Missed => "MISSED",
            Judgement::NotRecovered => "not recovered",
            Judgement::NoTarget => "no target of its own",
        }
    }
}

/// Seconds as people read them: `0.42 s`, `12.3 s`, `4 min 05 s`.
pub fn secs(s: f64) -> String {
    if s < 1.0 {
        format!("{s:.2} s")
    } else if s < 60.0 {
        format!("{s:.1} s")
    } else {
        let whole = s.round() as u64;
        format!("{} min {:02} s", whole / 60, whole % 60)
    }
}

/// A step status as the reports print it.
pub fn status_word(s: StepStatus) -> &'static str {
    match s {
        StepStatus::Ok => "ok",
        StepStatus::Failed => "failed",
        StepStatus::Skipped => "skipped",
        StepStatus::Planned => "planned",
        StepStatus::SourceUnreachable => "source unreachable",
    }
}

/// The steps whose details (command, message, last lines of output) a report shows,
/// under their heading: those that failed, and those a person skipped after they failed.
pub fn detailed(r: &Record) -> [(&'static str, Vec<&StepRecord>); 2] {
    let steps = by_start(r);
    let failed = steps
        .iter()
        .copied()
        .filter(|s| s.end.status == StepStatus::Failed)
        .collect();
    let skipped = steps
        .into_iter()
        .filter(|s| r.skipped_by_person(s))
        .collect();
    [
        ("Failed steps", failed),
        ("Steps skipped after they failed", skipped),
    ]
}

/// Steps in the order they started (then by id and host), as a timeline reads.
pub fn by_start(r: &Record) -> Vec<&StepRecord> {
    let mut steps: Vec<&StepRecord> = r.steps.iter().collect();
    steps.sort_by(|a, b| {
        a.end
            .start_s
            .total_cmp(&b.end.start_s)
            .then_with(|| a.end.step.cmp(&b.end.step))
            .then_with(|| a.end.host.cmp(&b.end.host))
    });
    steps
}
