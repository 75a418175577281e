//! Hosts: which two halls the runbook switches between, the hosts a list of selectors
//! stands for, and where each step runs (once per host or once on none, and whether
//! every hall it can run in has a host for it).

use crate::config::action_kind::{ActionKind, Runs};
use crate::config::diagnostic::{Diagnostic, Diagnostics};
use crate::config::ids::HallId;
use crate::config::inventory::{HostIdx, Inventory};
use crate::config::model::On;
use crate::config::raw::{RawAction, RawHeader, RawService, RawStep};
use crate::config::reader::{list_and, list_or, one_of};
use crate::config::source::{Sp, Span};
use crate::config::template::Template;

use super::context::StepCx;

/// The two halls the runbook switches between: its `halls`, or else the inventory's
/// only two.
pub(super) fn runbook_halls(
    diags: &mut Diagnostics,
    header: Option<&RawHeader>,
    inv: &Inventory,
    top: &Span,
) -> Option<[HallId; 2]> {
    let known = inv.hall_names();
    let Some(given) = header.and_then(|h| h.halls.as_ref()) else {
        if let [a, b] = known[..] {
            return Some([HallId::new(a), HallId::new(b)]);
        }
        if !known.is_empty() {
            diags.push(
                Diagnostic::error(header.map_or(top.clone(), |h| h.span.clone()), format!(
                    "the inventory has {} halls, so the runbook must say which two it switches between",
                    known.len()
                ))
                .with_label(format!("add `halls = [\"...\", \"...\"]` with two of {}", list_and(&known))),
            );
        }
        return None;
    };
    let mut ok = true;
    for h in &given.value {
        if !known.contains(&h.value.as_str()) {
            ok = false;
            diags.push(
                Diagnostic::error(
                    h.span.clone(),
                    format!("hall `{}` is not in the inventory", h.value),
                )
                .with_label(format!("expected {}", one_of(&known)))
                .suggest(&h.value, known.iter().copied()),
            );
        }
    }
    match &given.value[..] {
        [a, b] if a.value != b.value => {
            ok.then(|| [HallId::new(a.value.clone()), HallId::new(b.value.clone())])
        }
        [a, b] => {
            diags.push(
                Diagnostic::error(b.span.clone(), format!("`halls` names `{}` twice", a.value))
                    .with_label("expected two different halls, like [\"a\", \"b\"]"),
            );
            None
        }
        other => {
            diags.push(
                Diagnostic::error(
                    given.span.clone(),
                    format!("`halls` must name exactly two halls, not {}", other.len()),
                )
                .with_label("a runbook switches between two halls, like [\"a\", \"b\"]"),
            );
            None
        }
    }
}

/// The hosts a list of selectors stands for.
#[derive(Clone, Debug)]
pub(super) struct Resolved {
    pub(super) hosts: Vec<HostIdx>,
    /// Every selector resolved; when not, the problem is reported and `hosts` is partial.
    pub(super) complete: bool,
}

/// Resolves selectors to hosts, reporting each that matches nothing.
pub(super) fn resolve(
    diags: &mut Diagnostics,
    inv: &Inventory,
    selectors: &Sp<Vec<Sp<String>>>,
) -> Resolved {
    let mut out = Resolved {
        hosts: Vec::new(),
        complete: true,
    };
    if selectors.value.is_empty() {
        diags.push(
            Diagnostic::error(selectors.span.clone(), "`hosts` is empty").with_label(
                "expected at least one selector: a host name, `tag:NAME` or `group:NAME`",
            ),
        );
        out.complete = false;
    }
    for sel in &selectors.value {
        match inv.select(sel) {
            Ok(h) => out.hosts.extend(h),
            Err(d) => {
                diags.push(*d);
                out.complete = false;
            }
        }
    }
    out.hosts.sort_unstable();
    out.hosts.dedup();
    out
}

/// Where a step runs: its side of the switchover, and whether once per selected host.
#[derive(Clone, Copy, Debug)]
pub(super) struct Placement {
    pub(super) on: On,
    pub(super) kind: ActionKind,
    pub(super) per_host: bool,
}

/// A step runs once per host as its kind says (see [`Runs`]), never with `on = "local"`.
pub(super) fn placement(action: &RawAction, on: On) -> Placement {
    let kind = action.kind();
    let per_host = on != On::Local
        && match kind.runs() {
            Runs::PerHost => true,
            Runs::PerHostIfTargetUsesHost => action.template().is_some_and(Template::uses_host),
            Runs::Once => false,
        };
    Placement { on, kind, per_host }
}

/// The hosts a step runs on (none unless it runs once per host), from its own selectors
/// or its service's; reports selectors that match nothing, halls without a host for the
/// step, and `hosts` or `serial` on a step that runs once.
pub(super) fn step_hosts(
    diags: &mut Diagnostics,
    cx: &StepCx<'_>,
    svc: &RawService,
    service_hosts: Option<&Resolved>,
    raw: &RawStep,
    place: Placement,
    what: &str,
) -> Vec<HostIdx> {
    let Placement { on, kind, per_host } = place;
    let resolved = match (&raw.hosts, cx.inventory) {
        (Some(h), Some(inv)) => Some(resolve(diags, inv, h)),
        (Some(_), None) => None,
        (None, _) => service_hosts.cloned(),
    };
    let hosts = resolved
        .as_ref()
        .map(|r| r.hosts.clone())
        .unwrap_or_default();
    // Judge where the step runs only when its hosts were read and resolved in full;
    // otherwise the problem is already reported and a second error would mislead.
    let hosts_known = raw.clean && resolved.as_ref().is_none_or(|r| r.complete);
    if per_host {
        if hosts_known {
            check_halls(diags, cx, what, raw, on, &hosts, svc);
        }
    } else if let Some(h) = &raw.hosts {
        let why = if on == On::Local {
            "it runs on the machine running switchyard (`on = \"local\"`)".to_string()
        } else {
            format!("a `{kind}` step runs once, on no host")
        };
        let targeted = list_or(&ActionKind::running(Runs::PerHostIfTargetUsesHost));
        diags.push(Diagnostic::error(h.span.clone(), format!("`hosts` has no effect on {what}")).with_label(format!("remove it: {why}")).with_help(format!("an {targeted} step runs once per host only when its target uses `{{{{host.address}}}}` or another `host.*` placeholder")));
    }
    if let (Some(s), false) = (&raw.serial, per_host) {
        diags.push(
            Diagnostic::error(s.span.clone(), format!("`serial` has no effect on {what}"))
                .with_label("it runs once, not once per host"),
        );
    }
    if per_host { hosts } else { Vec::new() }
}

/// A step that runs on hosts must find hosts in every hall it can run in: the runbook is
/// symmetric, so `source` and `target` are each of its two halls in one direction or the other.
fn check_halls(
    diags: &mut Diagnostics,
    cx: &StepCx<'_>,
    what: &str,
    raw: &RawStep,
    on: On,
    hosts: &[HostIdx],
    svc: &RawService,
) {
    let (Some(inv), Some(halls)) = (cx.inventory, cx.halls) else {
        return;
    };
    if hosts.is_empty() {
        if raw.hosts.is_none() && svc.hosts.is_none() {
            diags.push(
                Diagnostic::error(raw.span.clone(), format!("{what} runs on hosts, but neither it nor service `{}` names any", svc.name.value))
                    .with_label("add `hosts = [...]` to the step or the service, or use `local = ...` / `on = \"local\"`"),
            );
        }
        return;
    }
    // `on = "both"` runs on its hosts in either hall: some host, in any hall, is enough.
    if on == On::Both {
        return;
    }
    for (i, hall) in halls.iter().enumerate() {
        if hosts.iter().any(|&h| &inv.hosts[h].hall == hall) {
            continue;
        }
        let other = &halls[1 - i];
        let side = match on {
            On::Source => format!("the source, which is `{hall}` when switching {hall} → {other}"),
            On::Target | On::Both | On::Local => {
                format!("the target, which is `{hall}` when switching {other} → {hall}")
            }
        };
        let found: Vec<&str> = hosts.iter().map(|&h| inv.hosts[h].name.as_str()).collect();
        let span = raw.hosts.as_ref().map_or(
            svc.hosts
                .as_ref()
                .map_or(raw.span.clone(), |h| h.span.clone()),
            |h| h.span.clone(),
        );
        diags.push(
            Diagnostic::error(span, format!("{what} needs hosts in hall `{hall}`, but its selectors match none there"))
                .with_label(format!("matches only {}", list_and(&found)))
                .with_help(format!("the step runs on {side}; a runbook switches both ways, so each hall needs a host for it")),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{HEADER, accepted, error, one_step};

    /// A service that names no hosts, with one `stop` step.
    fn hostless(step: &str) -> String {
        format!("{HEADER}[services.db]\n[[services.db.stop]]\n{step}\n")
    }

    #[test]
    fn halls_the_runbook_switches_between() {
        let table: &[(&str, &str)] = &[
            (
                "[\"a\", \"c\"]",
                "hall `c` is not in the inventory: expected one of `a` or `b`",
            ),
            (
                "[\"a\", \"a\"]",
                "`halls` names `a` twice: expected two different halls, like [\"a\", \"b\"]",
            ),
            (
                "[\"a\"]",
                "`halls` must name exactly two halls, not 1: a runbook switches between two halls, like [\"a\", \"b\"]",
            ),
        ];
        let step = one_step("stop", "run = \"x\"");
        for (halls, expected) in table {
            let rb = step.replacen(
                "rto = \"30m\"\n",
                &format!("rto = \"30m\"\nhalls = {halls}\n"),
                1,
            );
            assert_eq!(error(&rb), *expected, "{halls}");
        }
        let rb = step.replacen(
            "rto = \"30m\"\n",
            "rto = \"30m\"\nhalls = [\"b\", \"a\"]\n",
            1,
        );
        assert_eq!(accepted(&rb).halls.map(|h| h.to_string()), ["b", "a"]);
        assert_eq!(accepted(&step).halls.map(|h| h.to_string()), ["a", "b"]);
    }

    #[test]
    fn rejects() {
        let table: &[(String, &str)] = &[
            (
                one_step("stop", "run = \"x\"\nhosts = []"),
                "`hosts` is empty: expected at least one selector: a host name, `tag:NAME` or `group:NAME`",
            ),
            (
                one_step("stop", "run = \"x\"\nhosts = [\"db-a1\"]"),
                "step db.stop.1 needs hosts in hall `b`, but its selectors match none there: matches only `db-a1`",
            ),
            (
                one_step(
                    "stop",
                    "run = \"x\"\non = \"target\"\nhosts = [\"db-b1\", \"web-b1\"]",
                ),
                "step db.stop.1 needs hosts in hall `a`, but its selectors match none there: matches only `db-b1` and `web-b1`",
            ),
            (
                hostless("run = \"x\""),
                "step db.stop.1 runs on hosts, but neither it nor service `db` names any: add `hosts = [...]` to the step or the service, or use `local = ...` / `on = \"local\"`",
            ),
            (
                one_step("start", "local = \"x\"\nhosts = [\"tag:db\"]"),
                "`hosts` has no effect on step db.start.1: remove it: a `local` step runs once, on no host",
            ),
            (
                one_step("verify", "tcp = \"db:5432\"\nhosts = [\"tag:db\"]"),
                "`hosts` has no effect on step db.verify.1: remove it: a `tcp` step runs once, on no host",
            ),
            (
                one_step("stop", "run = \"x\"\non = \"local\"\nhosts = [\"tag:db\"]"),
                "`hosts` has no effect on step db.stop.1: remove it: it runs on the machine running switchyard (`on = \"local\"`)",
            ),
            (
                one_step("stop", "manual = \"x\"\nserial = 1"),
                "`serial` has no effect on step db.stop.1: it runs once, not once per host",
            ),
        ];
        for (runbook, expected) in table {
            assert_eq!(error(runbook), *expected, "{runbook}");
        }
    }

    #[test]
    fn where_steps_run() {
        // The step, whether it runs once per host, and on which hosts.
        let table: &[(String, bool, &[&str])] = &[
            (one_step("stop", "run = \"x\""), true, &["db-a1", "db-b1"]),
            (
                one_step("stop", "run = \"x\"\nhosts = [\"group:front\"]"),
                true,
                &["app-a1", "app-b1", "web-a1", "web-b1"],
            ),
            (
                one_step("stop", "run = \"x\"\non = \"both\"\nhosts = [\"db-a1\"]"),
                true,
                &["db-a1"],
            ),
            (
                one_step("verify", "http = \"http://{{host.address}}/\""),
                true,
                &["db-a1", "db-b1"],
            ),
            (
                one_step("verify", "tcp = \"{{host.address}}:5432\""),
                true,
                &["db-a1", "db-b1"],
            ),
            (one_step("verify", "http = \"http://vip/\""), false, &[]),
            (one_step("verify", "tcp = \"vip:5432\""), false, &[]),
            (one_step("stop", "run = \"x\"\non = \"local\""), false, &[]),
            (one_step("stop", "local = \"x\""), false, &[]),
            (one_step("stop", "manual = \"x\""), false, &[]),
            (one_step("stop", "sleep = \"1s\""), false, &[]),
            (hostless("local = \"x\""), false, &[]),
        ];
        for (runbook, per_host, hosts) in table {
            let rb = accepted(runbook);
            let step = &rb.services[0]
                .phases
                .iter()
                .flatten()
                .next()
                .expect("a step");
            let names: Vec<&str> = step
                .hosts
                .iter()
                .map(|&h| rb.inventory.hosts[h].name.as_str())
                .collect();
            assert_eq!(
                (step.per_host, names.as_slice()),
                (*per_host, *hosts),
                "{runbook}"
            );
        }
    }
}
