//! What each execution of a step does, in words: the command, URL or instruction,
//! resolved for its host, secrets redacted.

use crate::config::duration;
use crate::config::runbook::Action;
use crate::plan::Plan;
use crate::plan::bindings::Bindings;

/// What one execution of a step does, fully resolved, secrets redacted.
pub fn describe(plan: &Plan<'_>, step: usize, host: Option<usize>) -> String {
    describe_in(plan, step, host, None)
}

/// As [`describe`], in the run named `run_id` (`{{run.id}}`); without one (a plan),
/// `{{run.id}}` is shown as written.
pub fn describe_in(
    plan: &Plan<'_>,
    step: usize,
    host: Option<usize>,
    run_id: Option<&str>,
) -> String {
    crate::plan::bindings::shown(&resolved(plan, step, host, run_id))
}

fn resolved(plan: &Plan<'_>, step: usize, host: Option<usize>, run_id: Option<&str>) -> String {
    let s = &plan.steps[step];
    let b = Bindings::of(plan, s.service, host, None, run_id);
    describe_action(&s.step.action, &b)
}

/// What `action` does, rendered with `b`.
pub fn describe_action(action: &Action, b: &Bindings<'_>) -> String {
    match action {
        Action::Run(t) | Action::Local(t) => t.render(b, true),
        Action::Tcp(t) => format!("connect to {}", t.render(b, false)),
        Action::Manual(t) => format!("ask the operator: {}", t.render(b, false)),
        Action::Sleep(d) => format!("wait {}", duration::format(*d)),
        Action::Http(h) => {
            let mut out = format!("{} {}", h.method, h.url.render(b, false));
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
                out.push_str(&format!(", body contains {:?}", body.render(b, false)));
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
