//! Services: their names, `depends_on` resolved to services and proven free of cycles
//! (each cycle named whole), the service's hosts, and its steps, told apart by name.

use std::collections::HashMap;

use petgraph::graph::DiGraph;

use super::context::StepCx;
use super::hosts::{self, Resolved};
use super::step;
use crate::config::diagnostic::{Diagnostic, Diagnostics};
use crate::config::ids::{ServiceId, is_simple_name};
use crate::config::model::Phase;
use crate::config::raw::RawService;
use crate::config::reader::one_of;
use crate::config::runbook::{Service, Step};
use crate::config::source::Span;

/// The validated service; every step that is valid is kept, so later checks (cycles)
/// still see the service when one of its steps is not.
pub(super) fn validate_service(
    diags: &mut Diagnostics,
    cx: &StepCx<'_>,
    raw: &RawService,
    by_name: &HashMap<&str, usize>,
    all: &[RawService],
) -> Service {
    if !is_simple_name(&raw.name.value) {
        diags.push(
            Diagnostic::error(raw.name.span.clone(), format!("`{}` is not a valid service name", raw.name.value))
                .with_label("expected lowercase letters, digits, `-` and `_`, starting with a letter or digit (no dots: step ids are `service.phase.N`)"),
        );
    }
    let mut depends_on = Vec::new();
    // The other services, for "expected ..." in an error; built only when needed.
    let others = || {
        let mut v: Vec<&str> = by_name
            .keys()
            .copied()
            .filter(|n| *n != raw.name.value)
            .collect();
        v.sort_unstable();
        v
    };
    for dep in raw.depends_on.iter().flat_map(|d| &d.value) {
        match by_name.get(dep.value.as_str()) {
            Some(&i) if all[i].name.value == raw.name.value => diags.push(
                Diagnostic::error(
                    dep.span.clone(),
                    format!("service `{}` depends on itself", raw.name.value),
                )
                .with_label("a service cannot wait for itself"),
            ),
            Some(&i) if depends_on.contains(&i) => diags.push(
                Diagnostic::error(
                    dep.span.clone(),
                    format!("`{}` is listed twice in `depends_on`", dep.value),
                )
                .with_label("duplicate dependency"),
            ),
            Some(&i) => depends_on.push(i),
            None => diags.push(
                Diagnostic::error(
                    dep.span.clone(),
                    format!(
                        "service `{}` depends on unknown service `{}`",
                        raw.name.value, dep.value
                    ),
                )
                .with_label(format!("expected {}", one_of(&others())))
                .suggest(&dep.value, others()),
            ),
        }
    }
    let service_hosts = match (cx.inventory, &raw.hosts) {
        (Some(inv), Some(h)) => Some(hosts::resolve(diags, inv, h)),
        // `hosts` was written but could not be read: the hosts are unknown, not absent.
        _ if !raw.clean => Some(Resolved {
            hosts: Vec::new(),
            complete: false,
        }),
        _ => None,
    };
    let mut phases: [Vec<Step>; 4] = Default::default();
    let mut names: HashMap<&str, &Span> = HashMap::new();
    for phase in Phase::ALL {
        for step in &raw.phases[phase.index()] {
            if let Some(n) = &step.name
                && let Some(first) = names.insert(n.value.as_str(), &n.span)
            {
                diags.push(
                    Diagnostic::error(
                        n.span.clone(),
                        format!(
                            "service `{}` has two steps named `{}`",
                            raw.name.value, n.value
                        ),
                    )
                    .with_label("second step with this name")
                    .with_note(first.clone(), "first step with this name")
                    .with_help("step names appear in reports and must tell steps apart"),
                );
            }
            if let Some(s) = step::validate_step(diags, cx, raw, service_hosts.as_ref(), step) {
                phases[phase.index()].push(s);
            }
        }
    }
    if raw.phases.iter().all(Vec::is_empty) {
        diags.push(
            Diagnostic::error(raw.name.span.clone(), format!("service `{}` has no steps", raw.name.value))
                .with_label("expected at least one `[[services.NAME.precheck]]`, `stop`, `start` or `verify` step"),
        );
    }
    Service {
        name: ServiceId::new(raw.name.value.clone()),
        origin: 0,
        title: raw
            .title
            .as_ref()
            .map_or_else(|| raw.name.value.clone(), |t| t.value.clone()),
        description: raw.description.as_ref().map(|d| d.value.clone()),
        rto: raw.rto.as_ref().map(|r| r.value),
        depends_on,
        phases,
        span: raw.span.clone(),
        rpo: raw.rpo.as_ref().map(|r| r.value),
        canary: super::canary::validate(diags, cx, raw, service_hosts.as_ref()),
    }
}

/// Reports every dependency cycle, named whole in the order the services wait for each other.
pub(super) fn report_cycles(diags: &mut Diagnostics, raw: &[RawService], services: &[Service]) {
    let mut g = DiGraph::<usize, ()>::new();
    let nodes: Vec<_> = (0..services.len()).map(|i| g.add_node(i)).collect();
    for (i, s) in services.iter().enumerate() {
        for &d in &s.depends_on {
            g.add_edge(nodes[i], nodes[d], ());
        }
    }
    for scc in petgraph::algo::tarjan_scc(&g) {
        if scc.len() < 2 {
            continue;
        }
        let members: Vec<usize> = scc.iter().map(|n| g[*n]).collect();
        // Walk dependency edges inside the component until a service repeats.
        let mut path = vec![*members.iter().min().unwrap_or(&0)];
        loop {
            let here = *path.last().unwrap_or(&0);
            let next = services[here]
                .depends_on
                .iter()
                .copied()
                .filter(|d| members.contains(d))
                .min();
            let Some(next) = next else { break };
            if let Some(at) = path.iter().position(|&p| p == next) {
                path.drain(..at);
                path.push(next);
                break;
            }
            path.push(next);
        }
        let names: Vec<&str> = path.iter().map(|&i| raw[i].name.value.as_str()).collect();
        let first = path[0];
        let second_name = names.get(1).copied().unwrap_or("");
        let span = raw[first]
            .depends_on
            .iter()
            .flat_map(|d| &d.value)
            .find(|d| d.value == second_name)
            .map_or(raw[first].span.clone(), |d| d.span.clone());
        diags.push(
            Diagnostic::error(span, format!("services depend on each other in a cycle: {}", names.join(" -> ")))
                .with_label("this dependency closes the cycle")
                .with_help("a service cannot start before the services it depends on, so one of these `depends_on` entries must go"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{HEADER, accepted, error, messages};

    /// A service `name` with `keys` and one `stop` step.
    fn service(name: &str, keys: &str) -> String {
        format!(
            "[services.{name}]\nhosts = [\"tag:db\"]\n{keys}\n[[services.{name}.stop]]\nrun = \"x\"\n"
        )
    }

    #[test]
    fn rejects() {
        let table: &[(String, &str)] = &[
            (
                service("\"db.main\"", ""),
                "`db.main` is not a valid service name: expected lowercase letters, digits, `-` and `_`, starting with a letter or digit (no dots: step ids are `service.phase.N`)",
            ),
            (
                service("db", "depends_on = [\"db\"]"),
                "service `db` depends on itself: a service cannot wait for itself",
            ),
            (
                service("db", "depends_on = [\"apq\"]") + &service("app", ""),
                "service `db` depends on unknown service `apq`: expected `app`",
            ),
            (
                service("db", "depends_on = [\"app\", \"app\"]") + &service("app", ""),
                "`app` is listed twice in `depends_on`: duplicate dependency",
            ),
            (
                "[services.db]\nhosts = [\"tag:db\"]\n".to_string(),
                "service `db` has no steps: expected at least one `[[services.NAME.precheck]]`, `stop`, `start` or `verify` step",
            ),
            (
                "[services.db]\nhosts = [\"tag:db\"]\n[[services.db.stop]]\nname = \"n\"\nrun = \"x\"\n\
                 [[services.db.start]]\nname = \"n\"\nrun = \"y\"\n"
                    .to_string(),
                "service `db` has two steps named `n`: second step with this name",
            ),
            (
                service("a", "depends_on = [\"b\"]") + &service("b", "depends_on = [\"a\"]"),
                "services depend on each other in a cycle: a -> b -> a: this dependency closes the cycle",
            ),
            (
                service("a", "depends_on = [\"c\"]")
                    + &service("b", "depends_on = [\"a\"]")
                    + &service("c", "depends_on = [\"b\"]"),
                "services depend on each other in a cycle: a -> c -> b -> a: this dependency closes the cycle",
            ),
        ];
        for (services, expected) in table {
            assert_eq!(
                error(&format!("{HEADER}{services}")),
                *expected,
                "{services}"
            );
        }
    }

    #[test]
    fn a_misspelt_dependency_gets_a_suggestion() {
        let rb = format!(
            "{HEADER}{}{}{}",
            service("db", "depends_on = [\"apq\"]"),
            service("app", ""),
            service("web", "")
        );
        let diags = super::super::testing::check(&rb).expect_err("rejected");
        assert_eq!(diags.len(), 1);
        assert_eq!(diags[0].label, "expected one of `app` or `web`");
        assert_eq!(diags[0].help.as_deref(), Some("did you mean `app`?"));
    }

    #[test]
    fn every_problem_is_reported() {
        let rb = format!(
            "{HEADER}{}{}",
            service("db", "depends_on = [\"db\", \"nope\"]"),
            "[services.app]\n"
        );
        assert_eq!(
            messages(&rb),
            [
                "service `db` depends on itself",
                "service `db` depends on unknown service `nope`",
                "service `app` has no steps",
            ]
        );
    }

    #[test]
    fn accepts() {
        let rb = accepted(&format!(
            "{HEADER}{}{}",
            service("db", "title = \"Database\"\nrto = \"5m\""),
            service("app", "depends_on = [\"db\"]")
        ));
        let names: Vec<&str> = rb.services.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["db", "app"]);
        assert_eq!(rb.services[0].title, "Database");
        assert_eq!(
            rb.services[0].rto,
            Some(std::time::Duration::from_secs(300))
        );
        assert_eq!(rb.services[1].title, "app");
        assert_eq!(rb.services[1].depends_on, [0]);
    }
}
