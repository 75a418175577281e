//! A site's systems: its runbooks told apart by their `[runbook] name`, the
//! `[systems.NAME]` tables resolved to them (tier and `requires`), and `requires` proven
//! free of cycles, each named whole.

use std::collections::BTreeMap;

use petgraph::graph::DiGraph;

use super::site::RunbookFile;
use crate::config::diagnostic::{Diagnostic, Diagnostics};
use crate::config::raw_site::{LAST_TIER, RawSystem};
use crate::config::source::{Sp, Span};

/// The site's runbooks by name.
pub(super) struct Names<'a> {
    by_name: BTreeMap<&'a str, usize>,
    /// Every runbook was found and its name is known: a runbook missing or not read that
    /// far may be the one a name means, so no name is reported unknown while one is.
    complete: bool,
}

impl<'a> Names<'a> {
    /// Indexes the runbooks by name, reporting two runbooks of the same name;
    /// `found_all`: every runbook the site lists was found.
    pub(super) fn new(
        diags: &mut Diagnostics,
        runbooks: &'a [RunbookFile],
        found_all: bool,
    ) -> Self {
        let mut by_name = BTreeMap::new();
        for (i, file) in runbooks.iter().enumerate() {
            let Some(name) = &file.name else { continue };
            let Some(&first) = by_name.get(name.value.as_str()) else {
                by_name.insert(name.value.as_str(), i);
                continue;
            };
            let other: &RunbookFile = &runbooks[first];
            let mut d = Diagnostic::error(
                name.span.clone(),
                format!(
                    "two runbooks are named `{}`: `{}` and `{}`",
                    name.value,
                    other.path.display(),
                    file.path.display()
                ),
            )
            .with_label("a second runbook of this name")
            .with_help("a site refers to its runbooks by name, so each needs its own");
            if let Some(n) = &other.name {
                d = d.with_note(n.span.clone(), "the first runbook of this name");
            }
            diags.push(d);
        }
        Names {
            by_name,
            complete: found_all && runbooks.iter().all(|f| f.name.is_some()),
        }
    }

    /// The runbook named `name`, or a report that there is none.
    fn find(&self, diags: &mut Diagnostics, name: &Sp<String>, label: &str) -> Option<usize> {
        if let Some(&i) = self.by_name.get(name.value.as_str()) {
            return Some(i);
        }
        if self.complete {
            diags.push(
                Diagnostic::error(
                    name.span.clone(),
                    format!("no runbook of this site is named `{}`", name.value),
                )
                .with_label(label)
                .suggest(&name.value, self.by_name.keys().copied()),
            );
        }
        None
    }
}

/// What `[systems]` says of each runbook, by its index among the site's runbooks.
pub(super) struct Links {
    pub(super) tiers: Vec<u8>,
    /// Each runbook's required runbooks, with where the requirement is written.
    pub(super) requires: Vec<Vec<Sp<usize>>>,
}

/// Resolves the `[systems.NAME]` tables; a runbook without one has the last tier and
/// requires nothing.
pub(super) fn resolve(
    diags: &mut Diagnostics,
    raw: &[RawSystem],
    names: &Names<'_>,
    count: usize,
) -> Links {
    let mut links = Links {
        tiers: vec![LAST_TIER; count],
        requires: vec![Vec::new(); count],
    };
    for system in raw {
        let me = names.find(
            diags,
            &system.name,
            "expected a `[runbook] name` of one of the runbooks the site lists",
        );
        let requires = required(diags, system, me, names);
        let Some(me) = me else { continue };
        if let Some(tier) = &system.tier {
            links.tiers[me] = u8::try_from(tier.value).unwrap_or(LAST_TIER);
        }
        links.requires[me] = requires;
    }
    links
}

/// The runbooks one system requires, reporting unknown names, itself and repeats.
fn required(
    diags: &mut Diagnostics,
    system: &RawSystem,
    me: Option<usize>,
    names: &Names<'_>,
) -> Vec<Sp<usize>> {
    let mut out: Vec<Sp<usize>> = Vec::new();
    for r in system.requires.iter().flat_map(|r| &r.value) {
        let Some(i) = names.find(
            diags,
            r,
            "`requires` names runbooks by their `[runbook] name`",
        ) else {
            continue;
        };
        if Some(i) == me {
            diags.push(
                Diagnostic::error(
                    r.span.clone(),
                    format!("runbook `{}` requires itself", r.value),
                )
                .with_label("a runbook cannot wait for its own recovery"),
            );
        } else if let Some(first) = out.iter().find(|o| o.value == i) {
            diags.push(
                Diagnostic::error(r.span.clone(), format!("`{}` is required twice", r.value))
                    .with_label("already in this list")
                    .with_note(first.span.clone(), "first required here"),
            );
        } else {
            out.push(Sp::new(i, r.span.clone()));
        }
    }
    out
}

/// Reports every `requires` cycle, named whole in the order the runbooks wait for each
/// other, at the requirement of its first member (by the site's order) on the next.
pub(super) fn report_cycles(
    diags: &mut Diagnostics,
    requires: &[Vec<Sp<usize>>],
    runbooks: &[RunbookFile],
) {
    let mut g = DiGraph::<usize, ()>::new();
    let nodes: Vec<_> = (0..requires.len()).map(|i| g.add_node(i)).collect();
    for (i, rs) in requires.iter().enumerate() {
        for r in rs {
            g.add_edge(nodes[i], nodes[r.value], ());
        }
    }
    for scc in petgraph::algo::tarjan_scc(&g) {
        if scc.len() < 2 {
            continue;
        }
        let members: Vec<usize> = scc.iter().map(|n| g[*n]).collect();
        let Some((path, closing)) = cycle(requires, &members) else {
            continue;
        };
        let names: Vec<&str> = path
            .iter()
            .map(|&i| runbooks[i].name.as_ref().map_or("?", |n| n.value.as_str()))
            .collect();
        diags.push(
            Diagnostic::error(
                closing,
                format!("runbooks require each other in a cycle: {}", names.join(" -> ")),
            )
            .with_label("this requirement closes the cycle")
            .with_help(
                "a runbook starts only after the runbooks it requires are recovered, so one of these `requires` entries must go",
            ),
        );
    }
}

/// A cycle through `members` (a strongly connected set), from its first member back to
/// it, with where the first requires the second.
fn cycle(requires: &[Vec<Sp<usize>>], members: &[usize]) -> Option<(Vec<usize>, Span)> {
    let mut path = vec![*members.iter().min()?];
    // `edges[k]`: where `path[k]` requires `path[k + 1]`.
    let mut edges: Vec<&Span> = Vec::new();
    // Walk requirements inside the set, lowest index first, until a runbook repeats.
    loop {
        let here = *path.last()?;
        let next = requires[here]
            .iter()
            .filter(|r| members.contains(&r.value))
            .min_by_key(|r| r.value)?;
        edges.push(&next.span);
        if let Some(at) = path.iter().position(|&p| p == next.value) {
            path.drain(..at);
            edges.drain(..at);
            path.push(next.value);
            return Some((path, (*edges.first()?).clone()));
        }
        path.push(next.value);
    }
}
