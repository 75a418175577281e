//! The plan as an operator reads it before a switchover.

use std::fmt::Write as _;
use std::time::Duration;

use crate::config::duration::format as dur;
use crate::plan::Plan;
use crate::plan::predict::Prediction;

use super::{executions, predicted, warnings};

pub fn text(plan: &Plan<'_>) -> String {
    text_predicted(plan, None)
}

/// The plan, with the prediction from earlier runs beside the worst cases when there is
/// one; without one, exactly [`text`].
pub fn text_predicted(plan: &Plan<'_>, prediction: Option<&Prediction>) -> String {
    let rb = plan.runbook;
    let mut o = String::new();
    let _ = writeln!(o, "Plan: {} — {}", rb.name, rb.title);
    if let Some(owner) = &rb.owner {
        let _ = writeln!(o, "  owner:      {owner}");
    }
    let _ = writeln!(
        o,
        "  direction:  {} → {} ({})",
        plan.from,
        plan.to,
        plan.mode.as_str()
    );
    let _ = writeln!(
        o,
        "  RTO target: {}, worst case {}{}",
        dur(rb.rto),
        dur(plan.worst_case),
        prediction.map_or(String::new(), |p| format!(
            ", predicted {} (from {}; {} of {} steps measured)",
            dur(p.runbook),
            runs(p.runs),
            p.measured_steps(),
            plan.steps.len()
        ))
    );
    let _ = writeln!(
        o,
        "  steps:      {} in {} waves; * marks the critical path",
        plan.steps.len(),
        plan.waves.len()
    );
    for (w, wave) in plan.waves.iter().enumerate() {
        let _ = writeln!(o, "\nWave {}", w + 1);
        for &i in wave {
            write_step(&mut o, plan, i);
        }
    }
    if !plan.skipped.is_empty() {
        let _ = writeln!(o, "\nSkipped");
        for s in &plan.skipped {
            let _ = writeln!(o, "    {}  {}  ({})", s.id, s.step.name, s.reason);
        }
    }
    let path: Vec<&str> = plan
        .critical_path
        .iter()
        .map(|&i| plan.steps[i].id.as_str())
        .collect();
    let _ = writeln!(o, "\nCritical path (worst case {})", dur(plan.worst_case));
    let _ = writeln!(o, "  {}", path.join(" → "));
    if let Some(p) = prediction {
        let path: Vec<&str> = p
            .critical_path
            .iter()
            .map(|&i| plan.steps[i].id.as_str())
            .collect();
        let _ = writeln!(
            o,
            "\nPredicted critical path (predicted {}, by the steps' measured durations)",
            dur(p.runbook)
        );
        let _ = writeln!(o, "  {}", path.join(" → "));
    }
    super::invariants::text(&mut o, plan);
    write_rto(&mut o, plan, prediction);
    write_canaries(&mut o, plan);
    write_notifications(&mut o, plan);
    let mut w = warnings(plan);
    w.extend(prediction.map(|p| predicted(plan, p)).unwrap_or_default());
    if !w.is_empty() {
        o.push('\n');
        for line in w {
            let _ = writeln!(o, "warning: {line}");
        }
    }
    o
}

fn write_step(o: &mut String, plan: &Plan<'_>, i: usize) {
    let s = &plan.steps[i];
    let mark = if plan.is_critical(i) { '*' } else { ' ' };
    let _ = writeln!(
        o,
        "  {mark} {}  {}  (worst {})",
        s.id,
        s.step.name,
        dur(s.worst_case)
    );
    let execs = executions(plan, i);
    let same = execs.windows(2).all(|w| w[0].1 == w[1].1);
    if same {
        let hosts: Vec<&str> = execs.iter().filter_map(|(h, _)| *h).collect();
        let on = if hosts.is_empty() {
            "local".to_string()
        } else {
            hosts.join(", ")
        };
        write_execution(o, &on, &execs[0].1);
    } else {
        for (host, what) in &execs {
            write_execution(o, host.unwrap_or("local"), what);
        }
    }
}

/// `[hosts] command`, with the lines of a multi-line command indented under the first.
fn write_execution(o: &mut String, on: &str, what: &str) {
    let mut lines = what.trim_end().lines();
    let _ = writeln!(o, "      [{on}] {}", lines.next().unwrap_or(""));
    for line in lines {
        let _ = writeln!(o, "        {line}");
    }
}

/// Each service's RPO canary: what it writes where, and what it reads where.
fn write_canaries(o: &mut String, plan: &Plan<'_>) {
    let rb = plan.runbook;
    let all: Vec<_> = (0..rb.services.len())
        .filter_map(|i| Some((i, super::canary(plan, i)?)))
        .collect();
    if all.is_empty() {
        return;
    }
    let _ = writeln!(o, "\nRPO canaries (live runs only)");
    for (i, c) in all {
        let _ = writeln!(
            o,
            "  {}  RPO target {}; writes every {} from the last precheck to the end of the stop phase, reads after the last verify step (timeout {})",
            rb.services[i].name,
            c.rpo.map_or("none".to_string(), dur),
            dur(c.interval),
            dur(c.timeout)
        );
        write_execution(
            o,
            &format!("write on {}", c.write.hosts.join(", ")),
            &c.write.does,
        );
        write_execution(
            o,
            &format!("read on {}", c.read.hosts.join(", ")),
            &c.read.does,
        );
    }
}

/// `from 1 run`, `from 5 runs`.
/// The webhooks a run of this plan tells (`[[notify]]` of the inventory and the
/// runbooks), as written: a secret shows as its placeholder.
fn write_notifications(o: &mut String, plan: &Plan<'_>) {
    let rb = plan.runbook;
    let mut shown: Vec<String> = Vec::new();
    for n in rb.notifies() {
        let events: Vec<&str> = n.events.iter().map(|e| e.as_str()).collect();
        let line = format!(
            "  {}  ({}: {})",
            n.webhook.text,
            n.format.as_str(),
            events.join(", ")
        );
        if !shown.contains(&line) {
            shown.push(line);
        }
    }
    if shown.is_empty() {
        return;
    }
    let _ = writeln!(
        o,
        "\nNotifications (a live run tells these webhooks; a dry run only with --notify-dry-run)"
    );
    for line in shown {
        let _ = writeln!(o, "{line}");
    }
}

fn runs(n: usize) -> String {
    format!("{n} run{}", if n == 1 { "" } else { "s" })
}

fn write_rto(o: &mut String, plan: &Plan<'_>, prediction: Option<&Prediction>) {
    let rb = plan.runbook;
    // A site has a row for each of its runbooks, a runbook none for itself.
    let origins = if rb.site { &rb.origins[..] } else { &[] };
    let width = rb
        .services
        .iter()
        .map(|s| s.name.as_str().len())
        .chain(origins.iter().map(|o| o.name.len() + "runbook ".len()))
        .max()
        .unwrap_or(0)
        .max(7);
    let _ = writeln!(
        o,
        "\nRTO  {:width$}  {:>10}  {:>10}",
        "", "target", "worst case"
    );
    let verdict = |exceeded: bool, has_target: bool| match (has_target, exceeded) {
        (false, _) => "",
        (true, false) => "ok",
        (true, true) => "EXCEEDED",
    };
    // With a prediction, the verdicts (of the worst case) padded and it beside them.
    let beside = |verdict: &str, predicted: Option<(Duration, usize)>| match predicted {
        Some((d, n)) if prediction.is_some() => {
            format!("{verdict:8}  predicted {} (from {})", dur(d), runs(n))
        }
        _ => verdict.to_string(),
    };
    for (i, (svc, t)) in rb.services.iter().zip(&plan.services).enumerate() {
        let target = t.target.map_or("-".to_string(), dur);
        let p = prediction.and_then(|p| p.services[i].map(|d| (d, p.service_runs[i])));
        let line = format!(
            "     {:width$}  {target:>10}  {:>10}  {}",
            svc.name.as_str(),
            dur(t.worst_case),
            beside(verdict(t.exceeded(), t.target.is_some()), p)
        );
        let _ = writeln!(o, "{}", line.trim_end());
    }
    for (i, origin) in origins.iter().enumerate() {
        let worst = plan.origin_worst_case(i);
        let p = prediction.map(|p| (p.origins[i], p.origin_runs[i]));
        let _ = writeln!(
            o,
            "     {:width$}  {:>10}  {:>10}  {}",
            format!("runbook {}", origin.name),
            dur(origin.rto),
            dur(worst),
            beside(verdict(worst > origin.rto, true), p)
        );
    }
    let p = prediction.map(|p| (p.runbook, p.runs));
    let _ = writeln!(
        o,
        "     {:width$}  {:>10}  {:>10}  {}",
        if rb.site { "site" } else { "runbook" },
        dur(rb.rto),
        dur(plan.worst_case),
        beside(verdict(plan.rto_exceeded(), true), p)
    );
}
