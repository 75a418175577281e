//! What every report says alike: the verdict, how a recovery time is judged, the words
//! for statuses and seconds, and the order of the steps.

use crate::engine::event::{Outcome, StepStatus};
use crate::evidence::record::{Record, RunbookRecord, RunbookStatus, StepRecord};

/// The verdict in a few words, for a banner or a headline.
pub fn verdict(r: &Record) -> &'static str {
    match (r.outcome, r.start.dry_run) {
        (Outcome::Passed, true) => "DRY RUN PASSED",
        (Outcome::Passed, false) => "PASSED",
        (Outcome::Failed, _) => "FAILED",
        (Outcome::RtoBreached, _) => "RTO MISSED",
        (Outcome::RpoBreached, _) => "RPO MISSED",
        (Outcome::Aborted, _) => "ABORTED",
        (Outcome::RolledBack, _) => "ROLLED BACK",
        (Outcome::Interrupted, _) => "INTERRUPTED",
    }
}

/// One sentence that says what the verdict means.
pub fn verdict_sentence(r: &Record) -> String {
    if !r.runbooks.is_empty() {
        return site_sentence(r);
    }
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
        // A breached invariant stopped a run in which no step failed.
        Outcome::Failed | Outcome::Aborted | Outcome::RolledBack
            if failed == 0
                && let Some(breach) = crate::evidence::invariants::first_breach(r) =>
        {
            let then = match r.outcome {
                Outcome::RolledBack => "every service it had begun to stop was switched back",
                Outcome::Aborted => "the run was aborted",
                _ => "the run stopped",
            };
            format!("{breach} No further step started; {then}.")
        }
        Outcome::RpoBreached => {
            let lost: Vec<String> = r
                .services
                .iter()
                .filter_map(|s| Some((s, s.canary.as_ref()?.rpo())))
                .filter(|(_, rpo)| !rpo.met)
                .map(|(s, rpo)| match rpo.read_seq {
                    Some(_) => format!(
                        "{} lost {} acknowledged write(s) ({})",
                        s.name,
                        rpo.lost_writes,
                        secs(rpo.lost_s)
                    ),
                    None => format!("{}'s data loss could not be measured", s.name),
                })
                .collect();
            format!(
                "{every_step}, but an RPO target was missed: {}. Recovered in {} against a target of {}.",
                lost.join("; "),
                secs(r.rto.achieved_s),
                secs(r.rto.target_s)
            )
        }
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

/// A site's verdict: what became of its systems, then what the run's outcome means.
fn site_sentence(r: &Record) -> String {
    let tally = systems_tally(r);
    let failed = r
        .steps
        .iter()
        .filter(|s| s.end.status == StepStatus::Failed)
        .count();
    let timed = format!(
        "the site recovered in {} against its target of {}",
        secs(r.rto.achieved_s),
        secs(r.rto.target_s)
    );
    match r.outcome {
        Outcome::Passed if r.start.dry_run => format!(
            "{tally}. Every host was reached and every precheck passed; nothing was changed."
        ),
        Outcome::Passed => format!("{tally}: {timed}."),
        Outcome::RtoBreached if !r.rto.met => {
            format!("{tally}: {timed}, so the site's target was missed.")
        }
        Outcome::RtoBreached => format!("{tally}: {timed}, but a service's target was missed."),
        Outcome::RpoBreached => {
            format!("{tally}: {timed}, but a service lost more data than its RPO accepts.")
        }
        Outcome::Failed => format!(
            "{tally}. {failed} step execution(s) failed; the systems that do not require \
             a failed one went on."
        ),
        Outcome::Aborted => format!("{tally}. The operator aborted the run."),
        Outcome::RolledBack => {
            format!(
                "{tally}. A failed system was switched back to hall {}.",
                r.start.from
            )
        }
        Outcome::Interrupted if !r.finished => format!(
            "{tally}. The journal ends before the run did: switchyard was stopped during it."
        ),
        Outcome::Interrupted => format!("{tally}. The run was interrupted before it finished."),
    }
}

/// How a site's system ended, at a glance: the colour and marker the reports give it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Standing {
    /// Recovered within its target.
    Met,
    /// Recovered, after its target.
    Late,
    /// Not recovered: failed, blocked, or the run stopped first.
    Down,
    /// Not switched by this run: assumed, or switched back.
    Aside,
    /// A dry run recovers nothing.
    Planned,
}

impl Standing {
    pub fn of(rb: &RunbookRecord) -> Standing {
        match rb.status {
            RunbookStatus::Recovered if rb.rto().is_none_or(|t| t.met) => Standing::Met,
            RunbookStatus::Recovered => Standing::Late,
            RunbookStatus::Failed | RunbookStatus::Blocked | RunbookStatus::Interrupted => {
                Standing::Down
            }
            RunbookStatus::Assumed | RunbookStatus::RolledBack => Standing::Aside,
            RunbookStatus::Planned => Standing::Planned,
        }
    }

    /// Its CSS class (and `data-standing`).
    pub fn key(self) -> &'static str {
        match self {
            Standing::Met => "met",
            Standing::Late => "late",
            Standing::Down => "down",
            Standing::Aside => "aside",
            Standing::Planned => "planned",
        }
    }
}

/// A system's status as the systems table prints it: a marker that tells it apart
/// without colour, and its words.
pub fn system_status(rb: &RunbookRecord) -> String {
    let marker = match rb.status {
        RunbookStatus::Recovered if Standing::of(rb) == Standing::Met => "✓",
        RunbookStatus::Recovered => "▲",
        RunbookStatus::Failed => "✕",
        RunbookStatus::Blocked => "⊘",
        RunbookStatus::Interrupted => "■",
        RunbookStatus::Assumed => "○",
        RunbookStatus::RolledBack => "↶",
        RunbookStatus::Planned => "◇",
    };
    let late = if Standing::of(rb) == Standing::Late {
        ", target missed"
    } else {
        ""
    };
    format!("{marker} {}{late}", rb.status.words())
}

/// Whether a system met its target, in the systems table's words.
pub fn system_result(r: &Record, rb: &RunbookRecord) -> &'static str {
    match rb.status {
        _ if r.start.dry_run => Judgement::NotTimed.words(),
        RunbookStatus::Assumed => "not run (assumed)",
        _ => Judgement::of(r, Some(rb.target_s), rb.recovered_s).words(),
    }
}

/// A site's systems grouped by tier, tier 0 first, each tier's by name.
pub fn by_tier(r: &Record) -> Vec<(u8, Vec<&RunbookRecord>)> {
    let mut groups: Vec<(u8, Vec<&RunbookRecord>)> = Vec::new();
    for rb in lanes(r) {
        match groups.last_mut() {
            Some((tier, rbs)) if *tier == rb.tier => rbs.push(rb),
            _ => groups.push((rb.tier, vec![rb])),
        }
    }
    groups
}

/// A site's systems by tier, then name: the order of the table and the timeline's lanes.
pub fn lanes(r: &Record) -> Vec<&RunbookRecord> {
    let mut rbs: Vec<&RunbookRecord> = r.runbooks.iter().collect();
    rbs.sort_by(|a, b| a.tier.cmp(&b.tier).then_with(|| a.name.cmp(&b.name)));
    rbs
}

/// How many systems ended which way, e.g. `4 systems: 1 recovered within target ·
/// 1 failed · 1 blocked · 1 assumed`.
pub fn systems_tally(r: &Record) -> String {
    let count = |f: &dyn Fn(&RunbookRecord) -> bool| r.runbooks.iter().filter(|x| f(x)).count();
    let is = |s: RunbookStatus| move |x: &RunbookRecord| x.status == s;
    let parts = [
        (
            count(&|x| Standing::of(x) == Standing::Met),
            "recovered within target",
        ),
        (
            count(&|x| Standing::of(x) == Standing::Late),
            "recovered late",
        ),
        (count(&is(RunbookStatus::Failed)), "failed"),
        (count(&is(RunbookStatus::Blocked)), "blocked"),
        (count(&is(RunbookStatus::RolledBack)), "rolled back"),
        (count(&is(RunbookStatus::Interrupted)), "interrupted"),
        (count(&is(RunbookStatus::Assumed)), "assumed"),
        (count(&is(RunbookStatus::Planned)), "planned"),
    ];
    let said: Vec<String> = parts
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, words)| format!("{n} {words}"))
        .collect();
    let n = r.runbooks.len();
    format!(
        "{n} system{}: {}",
        if n == 1 { "" } else { "s" },
        said.join(" · ")
    )
}

/// A site's step id without its runbook's name: `svc.start.1` for `dns/svc.start.1`,
/// `rollback.svc.start.1` for `rollback.dns/svc.start.1`. Unambiguous within the runbook.
pub fn own_id<'a>(rb: &RunbookRecord, id: &'a str) -> std::borrow::Cow<'a, str> {
    let prefix = format!("{}/", rb.name);
    match id.strip_prefix(crate::engine::drill::ROLLBACK) {
        Some(rest) => match rest.strip_prefix(&prefix) {
            Some(own) => format!("{}{own}", crate::engine::drill::ROLLBACK).into(),
            None => id.into(),
        },
        None => id.strip_prefix(&prefix).unwrap_or(id).into(),
    }
}
