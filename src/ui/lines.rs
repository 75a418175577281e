//! One plain line per event, for logs, CI and terminals alike.

use crate::engine::event::{Event, Outcome, StepStatus};
use crate::engine::operator::{self, Choice, Kind};

/// Where the run's questions can be answered, which is what a question's line tells the
/// person reading it.
#[derive(Clone, Debug)]
pub enum Asked {
    /// At this terminal, by typing the choice (`switchyard answer` works too).
    Terminal,
    /// With `switchyard answer RUN_DIR` (a live run without a terminal that waits for
    /// answers, or a run followed with `watch`).
    Answer { run_dir: String },
    /// Nowhere: nobody is at a terminal and the run does not wait; the policy decides.
    Nobody,
}

/// A question's lines: what happened, and how to answer it where it is read.
pub fn question_line(elapsed_s: f64, event: &Event, asked: &Asked) -> Option<String> {
    question(&format!("[{elapsed_s:>8.1}s]"), event, asked)
}

fn question(at: &str, event: &Event, asked: &Asked) -> Option<String> {
    let Event::Question {
        step,
        host,
        kind,
        text,
        choices,
    } = event
    else {
        return None;
    };
    let what = match kind {
        Kind::Manual => "MANUAL STEP",
        Kind::Failed => "STEP FAILED",
    };
    let on = host.as_ref().map_or(String::new(), |h| format!(" on {h}"));
    let text = text
        .lines()
        .map(|l| format!("    {l}"))
        .collect::<Vec<_>>()
        .join("\n");
    let words =
        |word: fn(Choice) -> &'static str| choices.iter().map(|c| word(*c)).collect::<Vec<_>>();
    let how = match asked {
        Asked::Terminal => format!(
            "type one of: {} (and a comment, if any), then Enter",
            words(Choice::as_str).join(", ")
        ),
        Asked::Answer { run_dir } => format!(
            "answer with: switchyard answer {run_dir} {} [--comment TEXT]",
            words(operator::word).join("|")
        ),
        Asked::Nobody => "nobody can answer here: the run decides as its policy says".into(),
    };
    Some(format!("{at} {what} {step}{on}:\n{text}\n  → {how}"))
}

/// The line for `event`, or `None` for events not worth a line of their own.
pub fn line(elapsed_s: f64, event: &Event) -> Option<String> {
    let at = format!("[{elapsed_s:>8.1}s]");
    let on = |host: &Option<String>| host.as_ref().map_or(String::new(), |h| format!(" on {h}"));
    Some(match event {
        Event::RunStarted(r) => format!(
            "{at} {} {}: {} → {} ({}), {} steps, {} executions",
            if r.dry_run { "DRY RUN of" } else { "LIVE" },
            if r.runbooks.is_empty() {
                r.runbook.clone()
            } else {
                let n = r.runbooks.iter().filter(|rb| !rb.assumed).count();
                format!("site {} ({n} runbooks)", r.runbook)
            },
            r.from,
            r.to,
            r.mode.as_str(),
            r.steps,
            r.executions
        ),
        Event::Notice { message } => format!("{at} note: {message}"),
        Event::RtoAtRisk { .. } => format!("{at} {}", event.at_risk()?),
        Event::Notified {
            webhook,
            about,
            ok: false,
            message,
            ..
        } => format!(
            "{at} notification of {about} to {webhook} failed: {}",
            message.as_deref().unwrap_or("")
        ),
        Event::Notified { .. } => return None,
        Event::TerminalLost { signal } => {
            format!("{at} terminal lost ({signal}): the run goes on, recorded in the journal")
        }
        Event::HostChecked { host, ok: true, .. } => format!("{at} reached {host}"),
        Event::HostChecked { host, message, .. } => {
            format!(
                "{at} UNREACHABLE {host}: {}",
                message.as_deref().unwrap_or("")
            )
        }
        Event::StepStarted {
            step,
            name,
            host,
            does,
            ..
        } if name == does => format!("{at} start   {step}{}: {does}", on(host)),
        Event::StepStarted {
            step,
            name,
            host,
            does,
            ..
        } => format!("{at} start   {step}{} — {name}: {does}", on(host)),
        Event::AttemptFinished {
            ok: false,
            step,
            host,
            attempt,
            message,
            ..
        } => {
            format!(
                "{at} attempt {attempt} of {step}{} failed: {message}",
                on(host)
            )
        }
        Event::AttemptFinished { .. } => return None,
        Event::CanaryWritten {
            service,
            canary_seq: seq,
            before_stop,
            ..
        } => format!(
            "{at} canary  {service}: write {seq} acknowledged{}",
            if *before_stop {
                " (before the stop phase)"
            } else {
                ""
            }
        ),
        Event::CanaryStopped {
            service,
            why,
            last_seq,
            message,
            ..
        } => format!(
            "{at} canary  {service}: writer stopped ({}) after write {last_seq}{}",
            serde_json::to_value(why)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default(),
            message.as_ref().map_or(String::new(), |m| format!(": {m}"))
        ),
        Event::CanaryRead {
            service,
            message,
            rpo,
        } => format!(
            "{at} canary  {service}: read {} of {} acknowledged, {} lost ({:.1}s){}{}",
            rpo.read_seq
                .map_or("nothing".to_string(), |n| n.to_string()),
            rpo.last_ack_seq,
            rpo.lost_writes,
            rpo.lost_s,
            if rpo.met { "" } else { ": RPO MISSED" },
            message
                .as_ref()
                .map_or(String::new(), |m| format!(" — {m}"))
        ),
        Event::StepFinished(f) => {
            let word = match f.status {
                StepStatus::Ok => "ok     ",
                StepStatus::Failed => "FAILED ",
                StepStatus::Skipped => "skipped",
                StepStatus::Planned => "planned",
                StepStatus::SourceUnreachable => "unreachable (source, failover)",
            };
            let why = f
                .message
                .as_ref()
                .map_or(String::new(), |m| format!(": {m}"));
            format!(
                "{at} {word} {}{} ({:.1}s){why}",
                f.step,
                on(&f.host),
                f.duration_s
            )
        }
        Event::InvariantChecked(c) => crate::ui::invariant_line::line(&at, c),
        Event::ServiceRecovered {
            service,
            achieved_s,
            rto,
        } => match rto {
            Some(r) => format!(
                "{at} recovered {service} at {achieved_s:.1}s (RTO {:.0}s: {})",
                r.target_s,
                if r.met { "met" } else { "MISSED" }
            ),
            None => format!("{at} recovered {service} at {achieved_s:.1}s"),
        },
        Event::Question { .. } => question(&at, event, &Asked::Terminal)?,
        Event::Resumed { rerun, .. } => format!(
            "{at} resumed: {} step execution(s) that had started are run again",
            rerun.len()
        ),
        Event::RollbackStarted { services, .. } => {
            format!("{at} ROLLBACK of: {}", services.join(", "))
        }
        Event::RunbookStopped {
            runbook,
            how,
            message,
            blocked,
        } => {
            let blocked = if blocked.is_empty() {
                String::new()
            } else {
                format!("; blocked, as they require it: {}", blocked.join(", "))
            };
            let how = match how {
                crate::engine::event::Halt::Failed => "FAILED",
                crate::engine::event::Halt::Aborted => "ABORTED",
                crate::engine::event::Halt::RolledBack => "FAILED, rolling back",
            };
            format!("{at} runbook {runbook} {how}: {message}{blocked}; the others go on")
        }
        Event::Decision {
            step,
            host,
            choice,
            by,
            comment,
            ..
        } => {
            let note = comment
                .as_ref()
                .map_or(String::new(), |c| format!(" — {c}"));
            format!(
                "{at} decided {} for {step}{} by {by}{note}",
                choice.as_str(),
                on(host)
            )
        }
        Event::RunFinished {
            outcome, rto: None, ..
        } => format!(
            "{at} {} (dry run: nothing was changed, nothing was timed)",
            outcome.as_str()
        ),
        Event::RunFinished {
            outcome,
            rto: Some(rto),
            ..
        } => match outcome {
            Outcome::Passed | Outcome::RtoBreached | Outcome::RpoBreached => format!(
                "{at} {}: RTO {:.0}s, achieved {:.1}s ({})",
                outcome.as_str(),
                rto.target_s,
                rto.achieved_s,
                if rto.met { "met" } else { "MISSED" }
            ),
            _ => format!(
                "{at} {}: not recovered (RTO {:.0}s)",
                outcome.as_str(),
                rto.target_s
            ),
        },
    })
}
