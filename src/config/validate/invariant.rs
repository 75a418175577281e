//! `[[invariants]]`: a check (`run`, `http` or `tcp`, with that step kind's keys) on
//! every host its `hosts` select in both halls, and `holds_on`. The keys of the action
//! are judged as on a step; keys that make no sense for a condition checked once per
//! host at a moment (`on`, `serial`, `within`, `retries`, …) are rejected.

use std::time::Duration;

use super::action;
use super::context::StepCx;
use super::hosts;
use super::step;
use crate::config::action_kind::ActionKind;
use crate::config::diagnostic::{Diagnostic, Diagnostics};
use crate::config::invariant::{Invariant, RawInvariant, not_for_invariants};
use crate::config::model::On;
use crate::config::runbook::Step;

/// The validated invariants; a problem is reported and that invariant left out.
pub(super) fn validate_invariants(
    diags: &mut Diagnostics,
    cx: &StepCx<'_>,
    raws: &[RawInvariant],
) -> Vec<Invariant> {
    let mut out: Vec<Invariant> = Vec::new();
    for raw in raws {
        if let Some(inv) = validate_one(diags, cx, raw) {
            if out.iter().any(|o| o.name == inv.name) {
                diags.push(
                    Diagnostic::error(
                        raw.step
                            .name
                            .as_ref()
                            .map_or(raw.span.clone(), |n| n.span.clone()),
                        format!("two invariants are named `{}`", inv.name),
                    )
                    .with_label("the evidence tells invariants apart by name"),
                );
                continue;
            }
            out.push(inv);
        }
    }
    out
}

fn validate_one(diags: &mut Diagnostics, cx: &StepCx<'_>, raw: &RawInvariant) -> Option<Invariant> {
    let s = &raw.step;
    let what = match &s.name {
        Some(n) => format!("invariant `{}`", n.value),
        None => format!("invariant {}", raw.index),
    };
    let Some(name) = &s.name else {
        diags.push(
            Diagnostic::error(raw.span.clone(), format!("{what} has no `name`"))
                .with_label("expected `name = \"...\"`: the evidence and the reports name it"),
        );
        return None;
    };
    if name.value.trim().is_empty() {
        diags.push(
            Diagnostic::error(name.span.clone(), "an invariant's `name` is empty")
                .with_label("expected a name like \"never two writable primaries\""),
        );
    }
    let rejected = [
        ("on", s.on.as_ref().map(|v| &v.span)),
        ("serial", s.serial.as_ref().map(|v| &v.span)),
        (
            "continue_on_error",
            s.continue_on_error.as_ref().map(|v| &v.span),
        ),
        ("within", s.within.as_ref().map(|v| &v.span)),
        ("interval", s.interval.as_ref().map(|v| &v.span)),
        ("consecutive", s.consecutive.as_ref().map(|v| &v.span)),
        ("retries", s.retries.as_ref().map(|v| &v.span)),
        ("retry_interval", s.retry_interval.as_ref().map(|v| &v.span)),
    ];
    for (key, span) in rejected {
        if let Some(span) = span {
            diags.push(not_for_invariants(span, key, &what));
        }
    }
    // A missing action was reported by the reader.
    let act = s.action.as_ref()?;
    let kind = act.value.kind();
    if !matches!(kind, ActionKind::Run | ActionKind::Http | ActionKind::Tcp) {
        diags.push(
            Diagnostic::error(
                act.span.clone(),
                format!("`{}` does not apply to {what}", kind.key()),
            )
            .with_label("expected `run`, `http` or `tcp`: a check run on each host"),
        );
        return None;
    }
    action::check_kind_keys(diags, s, kind, &what);
    let place = hosts::placement(&act.value, On::Both);
    if !place.per_host {
        diags.push(
            Diagnostic::error(act.span.clone(), format!("{what} runs on no host"))
                .with_label("its target must use `{{host.address}}` or another `host.*` placeholder")
                .with_help("an invariant counts the hosts that hold; an `http` or `tcp` check runs once per host only when its target names the host"),
        );
        return None;
    }
    let hosts = match (&s.hosts, cx.inventory) {
        (Some(h), Some(inv)) => hosts::resolve(diags, inv, h).hosts,
        (Some(_), None) => Vec::new(),
        (None, _) => {
            diags.push(
                Diagnostic::error(raw.span.clone(), format!("{what} has no `hosts`")).with_label(
                    "expected the hosts of both halls, like hosts = [\"tag:postgres\"]",
                ),
            );
            return None;
        }
    };
    step::check_templates(diags, cx, s, &act.value, true, &what);
    let built = action::build_action(diags, cx.path, s, &act.value, &what)?;
    let holds_on = raw.holds_on.as_ref()?.value;
    Some(Invariant {
        name: name.value.clone(),
        holds_on,
        step: Step {
            name: name.value.clone(),
            named: true,
            phase: s.phase,
            index: raw.index,
            action: built,
            on: On::Both,
            hosts,
            per_host: true,
            timeout: s
                .timeout
                .as_ref()
                .map_or(Duration::from_secs(10), |t| t.value),
            timeout_set: s.timeout.is_some(),
            retries: 0,
            retry_interval: Duration::ZERO,
            within: None,
            interval: Duration::from_secs(2),
            consecutive: 1,
            expect_exit: s.expect_exit.as_ref().map_or(0, |e| e.value as i32),
            expect_stdout: s.expect_stdout.clone(),
            serial: None,
            continue_on_error: false,
            span: raw.span.clone(),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::super::testing::{HEADER, accepted, error};
    use crate::config::invariant::HoldsOn;

    const SERVICE: &str =
        "[services.db]\nhosts = [\"tag:db\"]\n[[services.db.stop]]\nrun = \"x\"\n";

    fn with(inv: &str) -> String {
        format!("{HEADER}{SERVICE}[[invariants]]\n{inv}\n")
    }

    #[test]
    fn accepts() {
        let rb = accepted(&with(
            "name = \"one primary\"\nhosts = [\"tag:db\"]\nrun = \"x\"\nexpect_stdout = \"f\"\nholds_on = \"at_most_one\"",
        ));
        let inv = &rb.origins[0].invariants[0];
        assert_eq!(inv.name, "one primary");
        assert_eq!(inv.holds_on, HoldsOn::AtMostOne);
        assert_eq!(inv.step.hosts.len(), 2);
        assert_eq!(inv.step.timeout.as_secs(), 10);
    }

    #[test]
    fn rejects() {
        let table: &[(&str, &str)] = &[
            (
                "name = \"p\"\nhosts = [\"tag:db\"]\nrun = \"x\"\nholds_on = \"at_most_once\"",
                "`holds_on` in invariant `p` has an unknown value `at_most_once`: expected one of `at_most_one`, `exactly_one`, `at_least_one`, `all` or `none`",
            ),
            (
                "name = \"p\"\nhosts = [\"tag:db\"]\nholds_on = \"all\"",
                "invariant `p` says nothing to do: expected exactly one of `run`, `local`, `http`, `tcp`, `manual` or `sleep`",
            ),
            (
                "name = \"p\"\nhosts = [\"tag:nothing\"]\nrun = \"x\"\nholds_on = \"all\"",
                "selector `tag:nothing` matches no host: no host has the tag `nothing` in the inventory",
            ),
            (
                "name = \"p\"\nhosts = [\"tag:db\"]\nrun = \"x\"\nholds_on = \"all\"\nwithin = \"1m\"",
                "`within` does not apply to invariant `p`: an invariant is checked once per host of both halls, one attempt each",
            ),
            (
                "name = \"p\"\nhosts = [\"tag:db\"]\nrun = \"x\"\nholds_on = \"all\"\nexpect = \"f\"",
                "unknown key `expect` in invariant `p`",
            ),
            (
                "name = \"p\"\nhosts = [\"tag:db\"]\nlocal = \"x\"\nholds_on = \"all\"",
                "`local` does not apply to invariant `p`: expected `run`, `http` or `tcp`: a check run on each host",
            ),
            (
                "name = \"p\"\nhosts = [\"tag:db\"]\nhttp = \"http://vip/\"\nholds_on = \"all\"",
                "invariant `p` runs on no host: its target must use `{{host.address}}` or another `host.*` placeholder",
            ),
            (
                "name = \"p\"\nrun = \"x\"\nholds_on = \"all\"",
                "invariant `p` has no `hosts`: expected the hosts of both halls, like hosts = [\"tag:postgres\"]",
            ),
            (
                "name = \"p\"\nhosts = [\"tag:db\"]\nrun = \"x\"",
                "invariant `p` is missing the required key `holds_on`",
            ),
        ];
        for (inv, expected) in table {
            let got = error(&with(inv));
            assert!(
                got.starts_with(expected),
                "{inv}\n got: {got}\nwant: {expected}"
            );
        }
    }
}
