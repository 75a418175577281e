//! The safety invariants of a run as the reports and `summary.json` show them: per
//! invariant, how many checks were made and how many held, and every breach in full.
//! Built from the record's `invariant_checked` events alone.

use serde::Serialize;

use crate::config::invariant::HoldsOn;
use crate::engine::invariants::HostResult;

use super::record::Record;

/// One invariant over the run (`summary.json`'s `invariants`).
#[derive(Clone, Debug, Serialize)]
pub struct InvariantTally {
    pub name: String,
    /// A site's runbook it belongs to; absent for a single runbook.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub runbook: Option<String>,
    pub holds_on: HoldsOn,
    /// How many times it was checked, and when (`after` of each check, in order).
    pub checks: usize,
    pub checked_after: Vec<String>,
    /// Every check that found it breached, in order.
    pub breaches: Vec<Breach>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Breach {
    pub after: String,
    pub message: String,
    pub hosts: Vec<HostResult>,
}

/// Every invariant checked in the run, in the order each was first checked.
pub fn tally(r: &Record) -> Vec<InvariantTally> {
    let mut out: Vec<InvariantTally> = Vec::new();
    for c in &r.invariants {
        let i = match out
            .iter()
            .position(|t| t.name == c.name && t.runbook == c.runbook)
        {
            Some(i) => i,
            None => {
                out.push(InvariantTally {
                    name: c.name.clone(),
                    runbook: c.runbook.clone(),
                    holds_on: c.holds_on,
                    checks: 0,
                    checked_after: Vec::new(),
                    breaches: Vec::new(),
                });
                out.len() - 1
            }
        };
        let t = &mut out[i];
        t.checks += 1;
        t.checked_after.push(c.after.clone());
        if !c.holds {
            t.breaches.push(Breach {
                after: c.after.clone(),
                message: c.message.clone().unwrap_or_default(),
                hosts: c.hosts.clone(),
            });
        }
    }
    out
}

/// The first breach of the run, in one sentence, for a report's verdict.
pub fn first_breach(r: &Record) -> Option<String> {
    r.invariants.iter().find(|c| !c.holds).map(|c| {
        format!(
            "Safety invariant `{}` was breached after {}: {}.",
            c.name,
            c.after,
            c.message.as_deref().unwrap_or("")
        )
    })
}
