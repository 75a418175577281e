//! The plan's safety invariants: what each checks, on which hosts, and when — after the
//! prechecks, after every action step of its runbook, at the end (a dry run: once,
//! after the prechecks). Text and JSON say the same.

use std::fmt::Write as _;

use serde::Serialize;

use crate::config::duration::{format as dur, secs};
use crate::config::model::Phase;
use crate::plan::Plan;
use crate::plan::bindings::Bindings;

use super::describe_action;

#[derive(Serialize)]
pub struct InvariantDoc<'a> {
    name: &'a str,
    /// A site's runbook it belongs to; absent for a single runbook.
    #[serde(skip_serializing_if = "Option::is_none")]
    runbook: Option<&'a str>,
    holds_on: &'static str,
    kind: &'static str,
    timeout_s: f64,
    /// When a live run checks it, in order: `prechecks`, each action step, `end`.
    checked_after: Vec<String>,
    executions: Vec<InvariantExecution<'a>>,
}

#[derive(Serialize)]
pub struct InvariantExecution<'a> {
    host: &'a str,
    hall: &'a str,
    does: String,
}

/// Every invariant of the plan's runbooks, as the JSON plan lists them.
pub fn docs<'a>(plan: &Plan<'a>) -> Vec<InvariantDoc<'a>> {
    let rb = plan.runbook;
    let mut out = Vec::new();
    for (o, origin) in rb.origins.iter().enumerate() {
        let Some(service) = rb.services.iter().position(|s| s.origin == o) else {
            continue;
        };
        for inv in &origin.invariants {
            let mut after = vec!["prechecks".to_string()];
            after.extend(
                plan.waves
                    .iter()
                    .flatten()
                    .map(|&i| &plan.steps[i])
                    .filter(|s| {
                        matches!(s.step.phase, Phase::Stop | Phase::Start)
                            && rb.services[s.service].origin == o
                    })
                    .map(|s| s.id.clone()),
            );
            after.push("end".into());
            out.push(InvariantDoc {
                name: &inv.name,
                runbook: rb.site.then_some(origin.name.as_str()),
                holds_on: inv.holds_on.as_str(),
                kind: inv.step.action.kind(),
                timeout_s: secs(inv.step.timeout),
                checked_after: after,
                executions: inv
                    .step
                    .hosts
                    .iter()
                    .map(|&h| {
                        let host = &rb.inventory.hosts[h];
                        let b = Bindings::of(plan, service, Some(h), None, None);
                        InvariantExecution {
                            host: host.name.as_str(),
                            hall: host.hall.as_str(),
                            does: describe_action(&inv.step.action, &b),
                        }
                    })
                    .collect(),
            });
        }
    }
    out
}

/// The plan text's `Safety invariants` section; nothing when there are none.
pub fn text(o: &mut String, plan: &Plan<'_>) {
    let docs = docs(plan);
    if docs.is_empty() {
        return;
    }
    let _ = writeln!(
        o,
        "\nSafety invariants (checked after the prechecks, after every stop and start step, and at the end; a dry run checks once, after the prechecks)"
    );
    for d in &docs {
        let name = match d.runbook {
            Some(rb) => format!("{rb}: {}", d.name),
            None => d.name.to_string(),
        };
        let _ = writeln!(
            o,
            "  {name}  ({}, {} per host, timeout {})",
            d.holds_on,
            d.kind,
            dur(std::time::Duration::from_secs_f64(d.timeout_s))
        );
        for e in &d.executions {
            let _ = writeln!(o, "      {} ({}): {}", e.host, e.hall, e.does);
        }
        let _ = writeln!(o, "      checked after: {}", d.checked_after.join(", "));
    }
}
