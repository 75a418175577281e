//! Steps: the keys that belong to checks or to actions, check timing (`within`,
//! `interval`, `consecutive`), the templates a step uses, and the validated [`Step`]
//! with its defaults. Where a step runs is judged in [`hosts`](super::hosts), what it
//! does in [`action`](super::action).

use std::time::Duration;

use super::action;
use super::context::StepCx;
use super::hosts::{self, Resolved};
use crate::config::action_kind::{ActionKind, Runs};
use crate::config::diagnostic::{Diagnostic, Diagnostics};
use crate::config::duration;
use crate::config::raw::{RawAction, RawService, RawStep, step_what};
use crate::config::reader::{list_and, one_of};
use crate::config::runbook::Step;
use crate::config::source::Span;
use crate::config::template::{Placeholder, Template};

/// The validated step with its defaults; `None` when it has no single action or an
/// unknown HTTP method (reported already).
pub(super) fn validate_step(
    diags: &mut Diagnostics,
    cx: &StepCx<'_>,
    svc: &RawService,
    service_hosts: Option<&Resolved>,
    raw: &RawStep,
) -> Option<Step> {
    let id = format!("{}.{}.{}", svc.name.value, raw.phase, raw.index);
    let what = step_what(&id, raw.name.as_ref().map(|n| n.value.as_str()));
    let action = raw.action.as_ref()?;
    let on = raw.on.as_ref().map_or(raw.phase.default_on(), |o| o.value);
    let is_check = raw.phase.is_check();
    check_phase_keys(diags, raw, &what);
    action::check_kind_keys(diags, raw, action.value.kind(), &what);
    let (interval, consecutive) = check_timing(diags, raw, &what);
    let place = hosts::placement(&action.value, on);
    let hosts = hosts::step_hosts(diags, cx, svc, service_hosts, raw, place, &what);
    check_templates(diags, cx, raw, &action.value, place.per_host, &what);
    let built = action::build_action(diags, cx.path, raw, &action.value, &what)?;
    Some(Step {
        named: raw.name.is_some(),
        name: raw
            .name
            .as_ref()
            .map_or_else(|| action::default_name(&built), |n| n.value.clone()),
        phase: raw.phase,
        index: raw.index,
        action: built,
        on,
        hosts,
        per_host: place.per_host,
        timeout_set: raw.timeout.is_some(),
        timeout: raw.timeout.as_ref().map_or(
            if is_check {
                Duration::from_secs(10)
            } else {
                Duration::from_secs(300)
            },
            |t| t.value,
        ),
        retries: raw.retries.as_ref().map_or(0, |r| r.value as u32),
        retry_interval: raw
            .retry_interval
            .as_ref()
            .map_or(Duration::from_secs(5), |r| r.value),
        within: raw.within.as_ref().map(|w| w.value),
        interval,
        consecutive,
        expect_exit: raw.expect_exit.as_ref().map_or(0, |e| e.value as i32),
        expect_stdout: raw.expect_stdout.clone(),
        serial: raw.serial.as_ref().map(|s| s.value as u32),
        continue_on_error: raw.continue_on_error.as_ref().is_some_and(|c| c.value),
        span: raw.span.clone(),
    })
}

fn err(diags: &mut Diagnostics, span: &Span, msg: String, label: &str) {
    diags.push(Diagnostic::error(span.clone(), msg).with_label(label));
}

/// Checks keep trying (`within`, `interval`, `consecutive`); actions retry (`retries`,
/// `retry_interval`): each pair of keys belongs to one kind of phase.
fn check_phase_keys(diags: &mut Diagnostics, raw: &RawStep, what: &str) {
    let is_check = raw.phase.is_check();
    for (key, span) in [
        ("within", raw.within.as_ref().map(|v| &v.span)),
        ("interval", raw.interval.as_ref().map(|v| &v.span)),
        ("consecutive", raw.consecutive.as_ref().map(|v| &v.span)),
    ] {
        if let (Some(span), false) = (span, is_check) {
            err(
                diags,
                span,
                format!("`{key}` applies only to checks, but {what} is an action"),
                "remove it, or use `retries` and `retry_interval` for actions",
            );
        }
    }
    for (key, span) in [
        ("retries", raw.retries.as_ref().map(|v| &v.span)),
        (
            "retry_interval",
            raw.retry_interval.as_ref().map(|v| &v.span),
        ),
    ] {
        if let (Some(span), true) = (span, is_check) {
            err(
                diags,
                span,
                format!("`{key}` applies only to actions, but {what} is a check"),
                "remove it, or use `within` and `interval` for checks",
            );
        }
    }
}

/// A check's `interval` and `consecutive` must fit in its `within`; returns both, with
/// their defaults.
fn check_timing(diags: &mut Diagnostics, raw: &RawStep, what: &str) -> (Duration, u32) {
    if let (Some(w), Some(i)) = (&raw.within, &raw.interval)
        && w.value < i.value
    {
        err(
            diags,
            &i.span,
            format!("`interval` is longer than `within` in {what}"),
            &format!(
                "expected at most the `within` of {}",
                duration::format(w.value)
            ),
        );
    }
    let interval = raw
        .interval
        .as_ref()
        .map_or(Duration::from_secs(2), |i| i.value);
    let consecutive = raw.consecutive.as_ref().map_or(1, |c| c.value as u32);
    if consecutive > 1
        && raw.phase.is_check()
        && let Some(c) = &raw.consecutive
    {
        let needed = interval * (consecutive - 1);
        match &raw.within {
            None => err(
                diags,
                &c.span,
                format!("`consecutive = {consecutive}` needs `within` in {what}"),
                "without `within` a check is tried only once",
            ),
            Some(w) if w.value < needed => err(
                diags,
                &w.span,
                format!("`within` is too short for {consecutive} consecutive successes in {what}"),
                &format!(
                    "expected at least {} ({} intervals of {})",
                    duration::format(needed),
                    consecutive - 1,
                    duration::format(interval)
                ),
            ),
            Some(_) => {}
        }
    }
    (interval, consecutive)
}

/// Every template of the step names known variables and secrets, uses `host.*` only
/// where there is a host, and (in a command) sits where `sh` reads a value as one word.
pub(super) fn check_templates(
    diags: &mut Diagnostics,
    cx: &StepCx<'_>,
    raw: &RawStep,
    action: &RawAction,
    per_host: bool,
    what: &str,
) {
    let mut templates: Vec<&Template> = action.template().into_iter().collect();
    templates.extend(raw.expect_stdout.iter());
    templates.extend(raw.http.headers.iter().map(|(_, t)| t));
    templates.extend(raw.http.body.iter());
    templates.extend(raw.http.expect_body.iter());
    for t in templates {
        check_template(diags, cx, t, per_host, what);
    }
    if action.kind().is_command()
        && let Some(t) = action.template()
    {
        check_quoting(diags, cx, t, what);
    }
}

pub(super) fn check_template(
    diags: &mut Diagnostics,
    cx: &StepCx<'_>,
    t: &Template,
    has_host: bool,
    what: &str,
) {
    let unknown = |kind: &str, section: &str, name: &str, known: &[String], span: &Span| {
        let known: Vec<&str> = known.iter().map(String::as_str).collect();
        let label = if known.is_empty() {
            format!("the runbook has no `[{section}]`")
        } else {
            format!("expected {}", one_of(&known))
        };
        Diagnostic::error(span.clone(), format!("unknown {kind} `{name}` in {what}"))
            .with_label(label)
            .suggest(name, known.iter().copied())
    };
    for (p, span) in t.placeholders() {
        match p {
            Placeholder::Var(name) if !cx.vars.contains(name) => {
                diags.push(unknown("variable", "vars", name, cx.vars, span));
            }
            Placeholder::Secret(name) if !cx.secrets.contains(name) => {
                diags.push(unknown("secret", "secrets", name, cx.secrets, span));
            }
            p if p.uses_host() && !has_host => diags.push(
                Diagnostic::error(
                    span.clone(),
                    format!("{what} uses a `host.*` placeholder but runs on no host"),
                )
                .with_label("there is no host to take this value from")
                .with_help(no_host_help()),
            ),
            _ => {}
        }
    }
}

/// A command's placeholders whose values switchyard may quote must be bare words to `sh`.
fn check_quoting(diags: &mut Diagnostics, cx: &StepCx<'_>, t: &Template, what: &str) {
    for m in t.misquoted(cx.var_values) {
        diags.push(
            Diagnostic::error(
                m.span.clone(),
                format!(
                    "`{{{{{}}}}}` is {} in {what}",
                    m.placeholder,
                    m.quote.place()
                ),
            )
            .with_label(m.why)
            .with_help(m.quote.help()),
        );
    }
}

/// Which steps run on no host, from the list of kinds: "`local`, `manual` and `sleep`
/// steps, steps with `on = "local"`, and `http`/`tcp` steps whose target does not use
/// `host.*` run once, on no host".
fn no_host_help() -> String {
    let once = ActionKind::running(Runs::Once);
    let targeted: Vec<String> = ActionKind::running(Runs::PerHostIfTargetUsesHost)
        .iter()
        .map(|k| format!("`{k}`"))
        .collect();
    format!(
        "{} steps, steps with `on = \"local\"`, and {} steps whose target does not use `host.*` run once, on no host",
        list_and(&once),
        targeted.join("/")
    )
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::super::testing::{HEADER, accepted, error, one_step};

    #[test]
    fn rejects() {
        let table: &[(&str, &str, &str)] = &[
            (
                "stop",
                "run = \"x\"\nwithin = \"30s\"",
                "`within` applies only to checks, but step db.stop.1 is an action: remove it, or use `retries` and `retry_interval` for actions",
            ),
            (
                "start",
                "run = \"x\"\nconsecutive = 2",
                "`consecutive` applies only to checks, but step db.start.1 is an action: remove it, or use `retries` and `retry_interval` for actions",
            ),
            (
                "verify",
                "run = \"x\"\nretries = 2",
                "`retries` applies only to actions, but step db.verify.1 is a check: remove it, or use `within` and `interval` for checks",
            ),
            (
                "precheck",
                "run = \"x\"\nretry_interval = \"1s\"",
                "`retry_interval` applies only to actions, but step db.precheck.1 is a check: remove it, or use `within` and `interval` for checks",
            ),
            (
                "verify",
                "run = \"x\"\nwithin = \"5s\"\ninterval = \"10s\"",
                "`interval` is longer than `within` in step db.verify.1: expected at most the `within` of 5s",
            ),
            (
                "verify",
                "name = \"up\"\nrun = \"x\"\nconsecutive = 3",
                "`consecutive = 3` needs `within` in step `up` (db.verify.1): without `within` a check is tried only once",
            ),
            (
                "verify",
                "run = \"x\"\nwithin = \"3s\"\nconsecutive = 3",
                "`within` is too short for 3 consecutive successes in step db.verify.1: expected at least 4s (2 intervals of 2s)",
            ),
            (
                "stop",
                "run = \"echo {{vars.port}}\"",
                "unknown variable `port` in step db.stop.1: the runbook has no `[vars]`",
            ),
            (
                "stop",
                "run = \"echo {{secrets.pw}}\"",
                "unknown secret `pw` in step db.stop.1: the runbook has no `[secrets]`",
            ),
            (
                "start",
                "local = \"echo {{host.name}}\"",
                "step db.start.1 uses a `host.*` placeholder but runs on no host: there is no host to take this value from",
            ),
            (
                "verify",
                "manual = \"look at {{host.address}}\"",
                "step db.verify.1 uses a `host.*` placeholder but runs on no host: there is no host to take this value from",
            ),
            (
                "verify",
                "http = \"http://vip/\"\nbody = \"{{host.name}}\"",
                "step db.verify.1 uses a `host.*` placeholder but runs on no host: there is no host to take this value from",
            ),
        ];
        for (phase, step, expected) in table {
            assert_eq!(error(&one_step(phase, step)), *expected, "{step}");
        }
    }

    #[test]
    fn placeholders_a_command_may_quote_must_not_sit_in_quotes() {
        let table: &[(&str, &str)] = &[
            (
                "run = \"echo '{{secrets.pw}}'\"",
                "`{{secrets.pw}}` is inside single quotes in step db.stop.1: a secret's value is read only at run time, so switchyard may quote it",
            ),
            (
                "local = 'echo \"{{vars.msg}}\"'",
                "`{{vars.msg}}` is inside double quotes in step db.stop.1: the value of `vars.msg` has a space, so switchyard quotes it",
            ),
        ];
        let vars = "[vars]\nmsg = \"a b\"\n[secrets]\npw = { env = \"PW\" }\n";
        for (step, expected) in table {
            let runbook = one_step("stop", step).replacen(HEADER, &format!("{HEADER}{vars}"), 1);
            assert_eq!(error(&runbook), *expected, "{step}");
        }
        // Only commands are shell-quoted: the same text elsewhere is no problem.
        let runbook = one_step("stop", "manual = \"say '{{secrets.pw}}'\"").replacen(
            HEADER,
            &format!("{HEADER}{vars}"),
            1,
        );
        accepted(&runbook);
    }

    #[test]
    fn defaults() {
        // The step, then: timeout, retries, retry_interval, within, interval, consecutive.
        type Timing = (u64, u32, u64, Option<u64>, u64, u32);
        let table: &[(&str, &str, Timing)] = &[
            ("stop", "run = \"x\"", (300, 0, 5, None, 2, 1)),
            ("verify", "run = \"x\"", (10, 0, 5, None, 2, 1)),
            (
                "start",
                "run = \"x\"\ntimeout = \"1m\"\nretries = 2\nretry_interval = \"3s\"",
                (60, 2, 3, None, 2, 1),
            ),
            (
                "precheck",
                "run = \"x\"\nwithin = \"1m\"\ninterval = \"5s\"\nconsecutive = 3",
                (10, 0, 5, Some(60), 5, 3),
            ),
        ];
        for (phase, step, timing) in table {
            let rb = accepted(&one_step(phase, step));
            let s = rb.services[0]
                .phases
                .iter()
                .flatten()
                .next()
                .expect("a step");
            let got = (
                s.timeout.as_secs(),
                s.retries,
                s.retry_interval.as_secs(),
                s.within.map(|w| w.as_secs()),
                s.interval.as_secs(),
                s.consecutive,
            );
            assert_eq!(got, *timing, "{step}");
        }
        let rb = accepted(&one_step(
            "stop",
            "run = \"x\"\nexpect_exit = 3\nexpect_stdout = \"ok\"\nserial = 1\ncontinue_on_error = true",
        ));
        let s = &rb.services[0].phases[1][0];
        assert_eq!(s.expect_exit, 3);
        assert_eq!(
            s.expect_stdout.as_ref().map(|t| t.text.as_str()),
            Some("ok")
        );
        assert_eq!(s.serial, Some(1));
        assert!(s.continue_on_error);
        assert!(!s.timeout_set);
        assert_eq!(s.timeout, Duration::from_secs(300));
    }
}
