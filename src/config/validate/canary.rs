//! `rpo` and `[services.NAME.canary]`: the canary's hosts (its own `hosts`, or the
//! service's) must include one in each hall, its templates name known variables and
//! secrets, and an `rpo` needs a canary to measure it.

use super::context::StepCx;
use super::hosts::{self, Resolved};
use super::step::check_template;
use crate::config::canary::{self, Canary, DEFAULT_INTERVAL, DEFAULT_TIMEOUT};
use crate::config::diagnostic::{Diagnostic, Diagnostics};
use crate::config::raw::RawService;

pub(super) fn validate(
    diags: &mut Diagnostics,
    cx: &StepCx<'_>,
    svc: &RawService,
    service_hosts: Option<&Resolved>,
) -> Option<Canary> {
    let name = &svc.name.value;
    let Some(raw) = &svc.canary else {
        if let Some(rpo) = &svc.rpo {
            diags.push(canary::rpo_without_canary(name, &rpo.span));
        }
        return None;
    };
    let what = format!("the canary of service `{name}`");
    for t in raw.write.iter().chain(&raw.read) {
        check_template(diags, cx, t, true, &what);
    }
    let resolved = match (cx.inventory, &raw.hosts) {
        (Some(inv), Some(h)) => Some(hosts::resolve(diags, inv, h)),
        (_, None) => service_hosts.cloned(),
        (None, Some(_)) => None,
    };
    let hosts = match resolved {
        Some(r) => r.hosts,
        None if cx.inventory.is_some() => {
            diags.push(
                Diagnostic::error(raw.span.clone(), format!("{what} has no hosts"))
                    .with_label("expected `hosts` here or on the service")
                    .with_help("the canary writes on the service's hosts in the source hall and reads on those in the target hall"),
            );
            Vec::new()
        }
        None => Vec::new(),
    };
    if let (Some(inv), Some(halls)) = (cx.inventory, cx.halls) {
        for hall in halls {
            if !hosts.is_empty() && !hosts.iter().any(|&h| inv.hosts[h].hall == *hall) {
                diags.push(
                    Diagnostic::error(
                        raw.span.clone(),
                        format!("{what} has no host in hall `{hall}`"),
                    )
                    .with_label("its hosts are all in the other hall")
                    .with_help("the canary writes in the hall being left and reads in the one switched to, so it needs a host in each"),
                );
            }
        }
    }
    Some(Canary {
        write: raw.write.clone()?,
        read: raw.read.clone()?,
        interval: raw.interval.as_ref().map_or(DEFAULT_INTERVAL, |d| d.value),
        timeout: raw.timeout.as_ref().map_or(DEFAULT_TIMEOUT, |d| d.value),
        hosts,
        span: raw.span.clone(),
    })
}
