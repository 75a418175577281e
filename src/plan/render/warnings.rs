//! What an operator should look at before a run: worst cases over their RTO targets
//! (a service's, a site's runbook's, the runbook's or site's own), TLS that is not
//! verified, manual steps; and predictions from earlier runs over those targets.

use std::time::Duration;

use crate::config::duration;
use crate::config::runbook::Action;
use crate::plan::Plan;
use crate::plan::predict::Prediction;

/// One warning per step that skips TLS verification; a run also records these as notices.
pub fn insecure_tls(plan: &Plan<'_>) -> Vec<String> {
    plan.steps
        .iter()
        .filter(|s| matches!(&s.step.action, Action::Http(h) if h.insecure_tls))
        .map(|s| {
            format!(
                "step {}: `insecure_tls = true`: the server's TLS certificate will not be verified",
                s.id
            )
        })
        .collect()
}

/// Everything about the plan that an operator should look at before running it.
pub fn warnings(plan: &Plan<'_>) -> Vec<String> {
    let rb = plan.runbook;
    let mut out = Vec::new();
    for (svc, t) in rb.services.iter().zip(&plan.services) {
        if let (true, Some(target)) = (t.exceeded(), t.target) {
            out.push(format!(
                "service `{}`: worst case {} exceeds its RTO target of {}",
                svc.name,
                duration::format(t.worst_case),
                duration::format(target)
            ));
        }
    }
    // A site's runbooks each against their own target, counted from the site run's start.
    let origins = if rb.site { &rb.origins[..] } else { &[] };
    for (o, origin) in origins.iter().enumerate() {
        let worst = plan.origin_worst_case(o);
        if worst > origin.rto {
            out.push(format!(
                "runbook `{}`: worst case {} exceeds its RTO target of {}",
                origin.name,
                duration::format(worst),
                duration::format(origin.rto)
            ));
        }
    }
    if plan.rto_exceeded() {
        out.push(format!(
            "{} `{}`: worst case {} exceeds its RTO target of {}",
            if rb.site { "site" } else { "runbook" },
            rb.name,
            duration::format(plan.worst_case),
            duration::format(rb.rto)
        ));
    }
    out.extend(insecure_tls(plan));
    let manual = plan
        .steps
        .iter()
        .filter(|s| matches!(s.step.action, Action::Manual(_)))
        .count();
    if manual > 0 {
        out.push(format!(
            "{manual} manual step{} for an operator; that wait is not in the worst case",
            if manual == 1 { " waits" } else { "s wait" }
        ));
    }
    out
}

/// A prediction over an RTO target: a service's, a site's runbook's, the runbook's or
/// site's own. A prediction over its target is a drill telling that the target is not
/// met in practice, whatever the worst case says.
pub fn predicted(plan: &Plan<'_>, p: &Prediction) -> Vec<String> {
    let rb = plan.runbook;
    let line = |what: String, predicted: Duration, target: Duration, runs: usize| {
        format!(
            "{what}: predicted {} (from {runs} run{}) exceeds its RTO target of {}",
            duration::format(predicted),
            if runs == 1 { "" } else { "s" },
            duration::format(target)
        )
    };
    let mut out = Vec::new();
    for ((svc, t), (predicted, runs)) in rb
        .services
        .iter()
        .zip(&plan.services)
        .zip(p.services.iter().zip(&p.service_runs))
    {
        if let (Some(target), Some(predicted)) = (t.target, *predicted)
            && predicted > target
        {
            out.push(line(
                format!("service `{}`", svc.name),
                predicted,
                target,
                *runs,
            ));
        }
    }
    if rb.site {
        for (o, origin) in rb.origins.iter().enumerate() {
            if p.origins[o] > origin.rto {
                out.push(line(
                    format!("runbook `{}`", origin.name),
                    p.origins[o],
                    origin.rto,
                    p.origin_runs[o],
                ));
            }
        }
    }
    if p.runbook > rb.rto {
        let what = if rb.site { "site" } else { "runbook" };
        out.push(line(
            format!("{what} `{}`", rb.name),
            p.runbook,
            rb.rto,
            p.runs,
        ));
    }
    out
}
