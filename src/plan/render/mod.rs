//! The plan as people and programs read it: text, JSON, DOT and Mermaid.

mod graph;
mod json;
mod text;

pub use graph::{dot, mermaid};
pub use json::json;
pub use text::text;

use crate::config::duration;
use crate::config::runbook::Action;
use crate::plan::Plan;
use crate::plan::bindings::Bindings;

/// What one execution of a step does, fully resolved, secrets redacted.
pub fn describe(plan: &Plan<'_>, step: usize, host: Option<usize>) -> String {
    let s = &plan.steps[step];
    let rb = plan.runbook;
    let b = Bindings {
        runbook: rb,
        service: rb.services[s.service].name.as_str(),
        host: host.map(|h| &rb.inventory.hosts[h]),
        source: plan.from.as_str(),
        target: plan.to.as_str(),
        mode: plan.mode,
        secrets: None,
    };
    match &s.step.action {
        Action::Run(t) | Action::Local(t) => t.render(&b, true),
        Action::Tcp(t) => format!("connect to {}", t.render(&b, false)),
        Action::Manual(t) => format!("ask the operator: {}", t.render(&b, false)),
        Action::Sleep(d) => format!("wait {}", duration::format(*d)),
        Action::Http(h) => {
            let mut out = format!("{} {}", h.method, h.url.render(&b, false));
            let status = if h.expect_status.is_empty() {
                "2xx".to_string()
            } else {
                h.expect_status
                    .iter()
                    .map(u16::to_string)
                    .collect::<Vec<_>>()
                    .join("|")
            };
            out.push_str(&format!(" → expect {status}"));
            if let Some(body) = &h.expect_body {
                out.push_str(&format!(", body contains {:?}", body.render(&b, false)));
            }
            if h.insecure_tls {
                out.push_str(" (TLS NOT VERIFIED)");
            }
            out
        }
    }
}

/// Each execution of a step: the host it runs on (if any) and what it does.
pub fn executions<'p>(plan: &'p Plan<'_>, step: usize) -> Vec<(Option<&'p str>, String)> {
    let s = &plan.steps[step];
    if s.hosts.is_empty() {
        return vec![(None, describe(plan, step, None))];
    }
    s.hosts
        .iter()
        .map(|&h| {
            (
                Some(plan.runbook.inventory.hosts[h].name.as_str()),
                describe(plan, step, Some(h)),
            )
        })
        .collect()
}

/// Everything about the plan that an operator should look at before running it.
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
    if plan.rto_exceeded() {
        out.push(format!(
            "runbook `{}`: worst case {} exceeds its RTO target of {}",
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
