//! Safety invariants at run time: the jobs of a check (one per invariant and host), and
//! the verdict over the hosts' results. The dispatcher decides when a check runs
//! (`scheduler/invariants.rs`); this module knows only what one check means.
//!
//! A host *holds* when its command exits as expected and its output matches (or its
//! HTTP answer or TCP connect passes): the job ended `ok`. It does *not* hold when the
//! check ran and failed. It is *unknown* when it could not be asked: not reached, or no
//! answer within the check's `timeout`. In failover mode an unknown host of the source
//! hall is left out of the count (that hall is presumed lost); any other unknown host
//! is a breach, whatever the count.

use serde::{Deserialize, Serialize};

use crate::config::Runbook;
use crate::config::invariant::{HoldsOn, Invariant};
use crate::config::model::Mode;
use crate::plan::Plan;
use crate::plan::bindings::Bindings;
use crate::transport::Transports;

use super::event::StepStatus;
use super::executor::Finished;
use super::job::{Job, Policy, work_of};

/// What one host's check found.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HostHolds {
    Holds,
    Not,
    Unknown,
}

impl HostHolds {
    /// As the lines and reports say it.
    pub fn words(self) -> &'static str {
        match self {
            HostHolds::Holds => "holds",
            HostHolds::Not => "does not hold",
            HostHolds::Unknown => "unknown",
        }
    }
}

/// One host's part of a check.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HostResult {
    pub host: String,
    pub result: HostHolds,
    /// What the check found: "exited with 0", why it failed, why it is unknown, and
    /// whether an unknown host was left out of the count.
    pub detail: String,
}

/// The `invariant_checked` event: one invariant, checked once, on all its hosts.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InvariantChecked {
    pub name: String,
    /// `prechecks`, the id of the action step whose end triggered the check, `end` (of
    /// the switchover pass), `rollback.end`, or `resume` (a resumed run, at once).
    pub after: String,
    pub holds: bool,
    pub holds_on: HoldsOn,
    /// A site's runbook the invariant belongs to; absent for a single runbook.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runbook: Option<String>,
    pub hosts: Vec<HostResult>,
    /// Why it does not hold, in one line; absent when it holds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// Every invariant of the plan's runbooks, with the index of its origin, in order.
pub fn of_plan(rb: &Runbook) -> Vec<(usize, &Invariant)> {
    rb.origins
        .iter()
        .enumerate()
        .flat_map(|(o, origin)| origin.invariants.iter().map(move |i| (o, i)))
        .collect()
}

/// The jobs of a check of every invariant of `plan`: one per invariant and host, each
/// carrying the index of its invariant (see [`of_plan`]). A check is read-only: its
/// jobs are `precheck` jobs, which a dry run runs for real too.
pub fn jobs(
    plan: &Plan<'_>,
    transports: &Transports,
    secrets: &crate::engine::secrets::Values,
    run_id: Option<&str>,
) -> Vec<Job> {
    let rb = plan.runbook;
    let mut out = Vec::new();
    for (k, (o, inv)) in of_plan(rb).into_iter().enumerate() {
        // Templates mean the runbook's own variables: bind to one of its services.
        let Some(service) = rb.services.iter().position(|s| s.origin == o) else {
            continue;
        };
        for &h in &inv.step.hosts {
            let host = &rb.inventory.hosts[h];
            let bind = |secrets| Bindings::of(plan, service, Some(h), secrets, run_id);
            let (real, shown) = (bind(Some(&secrets[o])), bind(None));
            let work = work_of(&inv.step, &real, &shown, transports, rb, Some(h));
            let does = crate::plan::render::describe_action(&inv.step.action, &shown);
            out.push(Job {
                step: 0,
                host: Some(h),
                id: format!("invariant:{}", inv.name),
                service: String::new(),
                name: inv.name.clone(),
                phase: inv.step.phase,
                host_name: Some(host.name.to_string()),
                does,
                work,
                policy: Policy::of(&inv.step),
                source_side: host.hall == plan.from,
                invariant: Some(k),
            });
        }
    }
    out
}

/// One host's result from how its job ended.
pub fn host_result(job: &Job, f: &Finished) -> HostResult {
    let host = job.host_name.clone().unwrap_or_default();
    let message = f.message.clone().unwrap_or_default();
    // "step invariant:NAME on HOST: why" — the event says which invariant and host.
    let why = message
        .strip_prefix(&format!("{}: ", job.place()))
        .unwrap_or(&message)
        .to_string();
    let (result, detail) = match f.status {
        StepStatus::Ok => (HostHolds::Holds, "the check passed".to_string()),
        StepStatus::SourceUnreachable => (HostHolds::Unknown, why),
        StepStatus::Failed if unknown(&why) => (HostHolds::Unknown, why),
        _ => (HostHolds::Not, why),
    };
    HostResult {
        host,
        result,
        detail,
    }
}

/// Whether a failed check could not ask its host at all: not reached, not logged in
/// to, or no answer in time.
fn unknown(why: &str) -> bool {
    const CANNOT_ASK: [&str; 6] = [
        "cannot connect to",
        "no connection to",
        "host key of",
        "authentication as",
        "SSH session to",
        "stopped by switchyard",
    ];
    CANNOT_ASK.iter().any(|p| why.starts_with(p))
        || why.starts_with("timed out after")
        || why.contains("ended without an exit status")
        || why.contains("timed out")
}

/// The verdict over the hosts' results: whether it holds, and if not, why. `source`:
/// per host, whether it is in the hall being left; in `failover` those hosts' unknown
/// results are left out of the count (their detail says so).
pub fn verdict(
    holds_on: HoldsOn,
    mode: Mode,
    hosts: &mut [HostResult],
    source: &[bool],
) -> (bool, Option<String>) {
    let mut counted = 0;
    let mut holding = 0;
    let mut unknown = Vec::new();
    for (h, &src) in hosts.iter_mut().zip(source) {
        match h.result {
            HostHolds::Holds => {
                counted += 1;
                holding += 1;
            }
            HostHolds::Not => counted += 1,
            HostHolds::Unknown if mode == Mode::Failover && src => {
                h.detail = format!(
                    "{}; a source host in failover: left out of the count",
                    h.detail
                );
            }
            HostHolds::Unknown => unknown.push(h.host.clone()),
        }
    }
    let rule = holds_on.satisfied(holding, counted);
    let holders: Vec<&str> = hosts
        .iter()
        .filter(|h| h.result == HostHolds::Holds)
        .map(|h| h.host.as_str())
        .collect();
    let mut why = Vec::new();
    if !rule {
        why.push(format!(
            "{holding} of {counted} hosts hold ({}), expected {}",
            if holders.is_empty() {
                "none".to_string()
            } else {
                holders.join(", ")
            },
            holds_on.as_str()
        ));
    }
    if !unknown.is_empty() {
        why.push(format!(
            "unknown on {} (an unknown host is a breach{})",
            unknown.join(", "),
            if mode == Mode::Failover {
                " unless it is a source host in failover"
            } else {
                ""
            }
        ));
    }
    let message = (!why.is_empty()).then(|| why.join("; "));
    (message.is_none(), message)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hosts(results: &[HostHolds]) -> Vec<HostResult> {
        results
            .iter()
            .enumerate()
            .map(|(i, &r)| HostResult {
                host: format!("h{i}"),
                result: r,
                detail: String::new(),
            })
            .collect()
    }

    #[test]
    fn holds_on_counts_the_hosts_that_hold() {
        use HostHolds::{Holds as H, Not as N};
        // (rule, results, holds)
        let table: &[(HoldsOn, &[HostHolds], bool)] = &[
            (HoldsOn::AtMostOne, &[N, N], true),
            (HoldsOn::AtMostOne, &[H, N], true),
            (HoldsOn::AtMostOne, &[H, H], false),
            (HoldsOn::ExactlyOne, &[N, N], false),
            (HoldsOn::ExactlyOne, &[H, N], true),
            (HoldsOn::ExactlyOne, &[H, H], false),
            (HoldsOn::AtLeastOne, &[N, N], false),
            (HoldsOn::AtLeastOne, &[N, H], true),
            (HoldsOn::AtLeastOne, &[H, H], true),
            (HoldsOn::All, &[H, H], true),
            (HoldsOn::All, &[H, N], false),
            (HoldsOn::None, &[N, N], true),
            (HoldsOn::None, &[N, H], false),
        ];
        for (rule, results, want) in table {
            let mut h = hosts(results);
            let (holds, message) = verdict(*rule, Mode::Switchover, &mut h, &[false, false]);
            assert_eq!(holds, *want, "{rule:?} {results:?}");
            assert_eq!(message.is_none(), *want);
        }
        let mut h = hosts(&[H, H]);
        let (_, message) = verdict(HoldsOn::AtMostOne, Mode::Switchover, &mut h, &[true, false]);
        assert_eq!(
            message.as_deref(),
            Some("2 of 2 hosts hold (h0, h1), expected at_most_one")
        );
    }

    #[test]
    fn an_unknown_host_is_a_breach_but_a_lost_source_in_failover() {
        use HostHolds::{Holds as H, Unknown as U};
        // Unknown source host (h0): a breach in switchover, left out in failover.
        let mut h = hosts(&[U, H]);
        let (holds, message) = verdict(
            HoldsOn::ExactlyOne,
            Mode::Switchover,
            &mut h,
            &[true, false],
        );
        assert!(!holds);
        assert!(message.unwrap().starts_with("unknown on h0"));
        let mut h = hosts(&[U, H]);
        let (holds, _) = verdict(HoldsOn::ExactlyOne, Mode::Failover, &mut h, &[true, false]);
        assert!(holds);
        assert!(h[0].detail.contains("left out of the count"));
        // An unknown target host is a breach in failover too.
        let mut h = hosts(&[H, U]);
        let (holds, _) = verdict(HoldsOn::ExactlyOne, Mode::Failover, &mut h, &[true, false]);
        assert!(!holds);
        // Both a broken rule and an unknown host are said.
        let mut h = hosts(&[H, H, U]);
        let (_, message) = verdict(
            HoldsOn::AtMostOne,
            Mode::Switchover,
            &mut h,
            &[true, false, false],
        );
        assert_eq!(
            message.as_deref(),
            Some(
                "2 of 2 hosts hold (h0, h1), expected at_most_one; unknown on h2 (an unknown host is a breach)"
            )
        );
        // `all` over the hosts counted: the lost source is not among them.
        let mut h = hosts(&[U, H]);
        assert!(verdict(HoldsOn::All, Mode::Failover, &mut h, &[true, false]).0);
    }
}
