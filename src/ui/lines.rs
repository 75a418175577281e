//! One plain line per event, for logs, CI and terminals alike.

use crate::engine::event::{Event, StepStatus};

/// The line for `event`, or `None` for events not worth a line of their own.
pub fn line(elapsed_s: f64, event: &Event) -> Option<String> {
    let at = format!("[{elapsed_s:>8.1}s]");
    let on = |host: &Option<String>| host.as_ref().map_or(String::new(), |h| format!(" on {h}"));
    Some(match event {
        Event::RunStarted {
            runbook,
            from,
            to,
            mode,
            dry_run,
            steps,
            executions,
            ..
        } => format!(
            "{at} {} {runbook}: {from} → {to} ({mode}), {steps} steps, {executions} executions",
            if *dry_run { "DRY RUN of" } else { "LIVE" }
        ),
        Event::Notice { message } => format!("{at} note: {message}"),
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
                "{at} retry   {step}{} attempt {attempt}: {message}",
                on(host)
            )
        }
        Event::AttemptFinished { .. } => return None,
        Event::StepFinished {
            step,
            host,
            status,
            duration_s,
            message,
            ..
        } => {
            let word = match status {
                StepStatus::Ok => "ok     ",
                StepStatus::Failed => "FAILED ",
                StepStatus::Skipped => "skipped",
                StepStatus::Planned => "planned",
                StepStatus::SourceUnreachable => "unreachable (source, failover)",
            };
            let why = message.as_ref().map_or(String::new(), |m| format!(": {m}"));
            format!("{at} {word} {step}{} ({duration_s:.1}s){why}", on(host))
        }
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
        Event::RunFinished { outcome, rto, .. } => format!(
            "{at} {}: RTO {:.0}s, achieved {:.1}s ({})",
            outcome.as_str(),
            rto.target_s,
            rto.achieved_s,
            if rto.met { "met" } else { "MISSED" }
        ),
    })
}
