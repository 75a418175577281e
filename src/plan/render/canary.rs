//! A service's RPO canary as a plan shows it (SPEC §8): the write and the read, each
//! with the hosts it runs on, resolved, secrets redacted, `{{canary.seq}}` as written
//! and `{{run.id}}` as written (a plan belongs to no run).

use crate::config::inventory::HostIdx;
use crate::plan::Plan;
use crate::plan::bindings::{self, Bindings};

/// One command of a canary: the hosts it runs on and what it does.
pub struct Shown<'p> {
    pub hosts: Vec<&'p str>,
    pub does: String,
}

pub struct CanaryShown<'p> {
    pub write: Shown<'p>,
    pub read: Shown<'p>,
    pub interval: std::time::Duration,
    pub timeout: std::time::Duration,
    pub rpo: Option<std::time::Duration>,
}

/// Service `svc`'s canary in `plan`, if it has one and the plan includes it.
pub fn canary<'p>(plan: &'p Plan<'_>, svc: usize) -> Option<CanaryShown<'p>> {
    let rb = plan.runbook;
    let s = &rb.services[svc];
    let c = s.canary.as_ref()?;
    if !plan.included.get(svc).copied().unwrap_or(false) {
        return None;
    }
    let shown = |t: &crate::config::template::Template, hall: &str| {
        let hosts: Vec<HostIdx> = c
            .hosts
            .iter()
            .copied()
            .filter(|&h| rb.inventory.hosts[h].hall.as_str() == hall)
            .collect();
        let b = Bindings::of(plan, svc, hosts.first().copied(), None, None);
        Shown {
            hosts: hosts
                .iter()
                .map(|&h| rb.inventory.hosts[h].name.as_str())
                .collect(),
            does: bindings::shown(&t.render(&b, true)),
        }
    };
    Some(CanaryShown {
        write: shown(&c.write, plan.from.as_str()),
        read: shown(&c.read, plan.to.as_str()),
        interval: c.interval,
        timeout: c.timeout,
        rpo: s.rpo,
    })
}
