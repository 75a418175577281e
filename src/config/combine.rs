//! A site's runbooks as one [`Runbook`], so that the plan, the engine and the evidence
//! serve a site exactly as they serve one runbook.
//!
//! - Every runbook becomes an [`Origin`](super::runbook::Origin): its variables, secrets, `on_failure`, target,
//!   tier and requirements stay its own.
//! - Services are named `runbook/service` (so step ids are `runbook/service.phase.N`),
//!   and their hosts point into one merged inventory.
//! - `requires` becomes ordinary dependencies between services: the services of R that
//!   depend on nothing within R (R's *first* services) depend on the services of each
//!   required runbook that nothing within it depends on (its *last* ones). The order
//!   rules then give what a site promises, through the chains inside each runbook: R
//!   starts after every service of the runbooks it requires has verified, and those stop
//!   only after every service of R has stopped. One dependency per pair of end services,
//!   not one per pair of services, keeps a large site's graph small.
//! - The site-wide precheck barrier needs nothing more: the first order rule already
//!   holds every stop until every precheck of the one runbook has passed.

use super::ids::ServiceId;
use super::inventory::Inventory;
use super::runbook::{Origin, Runbook, Service};
use super::site::Site;

/// The systems `only` selects (indices into [`Site::systems`], in site order) as one
/// runbook. A required runbook left out is taken as already recovered: nothing waits
/// for it.
pub fn combine(site: &Site, only: &[usize]) -> Runbook {
    let inventories: Vec<&Inventory> = only
        .iter()
        .map(|&i| &*site.systems[i].runbook.inventory)
        .collect();
    let (inventory, moved) = Inventory::merged(&inventories);
    let position = |system: usize| only.iter().position(|&i| i == system);
    let mut origins = Vec::with_capacity(only.len());
    let mut services = Vec::new();
    // Where each runbook's services are among the site's.
    let mut ranges = Vec::with_capacity(only.len());
    for (o, &i) in only.iter().enumerate() {
        let system = &site.systems[i];
        let rb = &system.runbook;
        let base = services.len();
        let mut origin = rb.origins[0].clone();
        for inv in &mut origin.invariants {
            for h in &mut inv.step.hosts {
                *h = moved[o][*h];
            }
        }
        origin.tier = system.tier;
        origin.requires = system
            .requires
            .iter()
            .filter_map(|&r| position(r))
            .collect();
        origin.assumes = system
            .requires
            .iter()
            .filter(|&&r| position(r).is_none())
            .map(|&r| site.systems[r].runbook.name.clone())
            .collect();
        origins.push(origin);
        for svc in &rb.services {
            services.push(moved_service(svc, &rb.name, o, base, &moved[o]));
        }
        ranges.push(base..services.len());
    }
    let ends: Vec<Ends> = ranges.into_iter().map(|r| Ends::of(&services, r)).collect();
    for (o, origin) in origins.iter().enumerate() {
        for &r in &origin.requires {
            for &svc in &ends[o].first {
                services[svc].depends_on.extend(&ends[r].last);
            }
        }
    }
    let first = &site.systems[only[0]].runbook;
    Runbook {
        name: site.name.clone(),
        title: site.title.clone(),
        owner: None,
        description: None,
        rto: site.rto,
        drill_every: site.drill_every,
        halls: first.halls.clone(),
        max_parallel: site.max_parallel.unwrap_or_else(|| {
            only.iter()
                .map(|&i| site.systems[i].runbook.max_parallel)
                .max()
                .unwrap_or(32)
        }),
        assumed: assumed(site, only),
        origins,
        site: true,
        services,
        inventory: inventory.into(),
        file: site.file,
    }
}

/// The runbooks a selected one requires that `only` leaves out, in site order, each as
/// its own origin without requirements.
fn assumed(site: &Site, only: &[usize]) -> Vec<Origin> {
    let mut left_out: Vec<usize> = only
        .iter()
        .flat_map(|&i| &site.systems[i].requires)
        .copied()
        .filter(|r| !only.contains(r))
        .collect();
    left_out.sort_unstable();
    left_out.dedup();
    left_out
        .into_iter()
        .map(|r| {
            let system = &site.systems[r];
            let mut origin = system.runbook.origins[0].clone();
            origin.tier = system.tier;
            origin
        })
        .collect()
}

/// A runbook's service as part of the site: named `runbook/service`, its dependencies
/// and hosts renumbered.
fn moved_service(
    svc: &Service,
    runbook: &str,
    origin: usize,
    base: usize,
    hosts: &[usize],
) -> Service {
    let mut moved = svc.clone();
    moved.name = ServiceId::new(format!("{runbook}/{}", svc.name));
    moved.origin = origin;
    for d in &mut moved.depends_on {
        *d += base;
    }
    for phase in &mut moved.phases {
        for step in phase {
            for h in &mut step.hosts {
                *h = hosts[*h];
            }
        }
    }
    for h in moved.canary.iter_mut().flat_map(|c| &mut c.hosts) {
        *h = hosts[*h];
    }
    moved
}

/// A runbook's first services (depending on nothing within it) and last ones (nothing
/// within it depends on them), as indices into the site's services.
struct Ends {
    first: Vec<usize>,
    last: Vec<usize>,
}

impl Ends {
    fn of(services: &[Service], range: std::ops::Range<usize>) -> Ends {
        let mut depended = vec![false; range.len()];
        for s in range.clone() {
            for &d in &services[s].depends_on {
                depended[d - range.start] = true;
            }
        }
        Ends {
            first: range
                .clone()
                .filter(|&s| services[s].depends_on.is_empty())
                .collect(),
            last: range
                .clone()
                .filter(|&s| !depended[s - range.start])
                .collect(),
        }
    }
}
