//! What a site's runbooks must agree on: a lost hall moves all of them, so they switch
//! between the same two halls; and their inventories merge, so a host several of them
//! name must be the same host in each — the same values, whichever file defines it.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use super::site::RunbookFile;
use crate::config::diagnostic::{Diagnostic, Diagnostics};
use crate::config::duration;
use crate::config::inventory::Host;
use crate::config::model::Transport;
use crate::config::runbook::Runbook;
use crate::config::source::Sources;

/// The valid runbooks, each with its file.
fn valid(runbooks: &[RunbookFile]) -> impl Iterator<Item = (&RunbookFile, &Runbook)> {
    runbooks
        .iter()
        .filter_map(|f| Some((f, f.runbook.as_ref()?)))
}

/// A runbook's two halls, in a fixed order: `["b", "a"]` and `["a", "b"]` are one pair.
fn halls(rb: &Runbook) -> [&str; 2] {
    let mut h = [rb.halls[0].as_str(), rb.halls[1].as_str()];
    h.sort_unstable();
    h
}

/// Reports each runbook that switches between other halls than the first runbook does.
pub(super) fn check_halls(diags: &mut Diagnostics, runbooks: &[RunbookFile]) {
    let mut valid = valid(runbooks);
    let Some((first_file, first)) = valid.next() else {
        return;
    };
    let want = halls(first);
    for (file, rb) in valid {
        let have = halls(rb);
        let Some(at) = file.header.clone().filter(|_| have != want) else {
            continue;
        };
        let mut d = Diagnostic::error(
            at,
            format!(
                "runbook `{}` switches between halls `{}` and `{}`, but runbook `{}` between `{}` and `{}`",
                rb.name, have[0], have[1], first.name, want[0], want[1]
            ),
        )
        .with_label("a site moves all its runbooks between the same two halls")
        .with_help("give every runbook an inventory with the same two halls, or name them with `halls = [...]` in `[runbook]`");
        if let Some(span) = &first_file.header {
            d = d.with_note(
                span.clone(),
                format!(
                    "`{}` switches between `{}` and `{}`",
                    first.name, want[0], want[1]
                ),
            );
        }
        diags.push(d);
    }
}

/// Reports each host defined with other values than where it was first defined.
pub(super) fn check_hosts(diags: &mut Diagnostics, sources: &Sources, runbooks: &[RunbookFile]) {
    let mut first: BTreeMap<&str, &Host> = BTreeMap::new();
    // Runbooks that name the same inventory files share one inventory: it agrees with
    // itself, and is looked at once.
    let mut seen = HashSet::new();
    for (_, rb) in valid(runbooks) {
        if !seen.insert(Arc::as_ptr(&rb.inventory)) {
            continue;
        }
        for host in &rb.inventory.hosts {
            let Some(was) = first.get(host.name.as_str()) else {
                first.insert(host.name.as_str(), host);
                continue;
            };
            // The same definition, read by two runbooks from one file.
            if was.span == host.span {
                continue;
            }
            if let Some(d) = conflict(sources, was, host) {
                diags.push(d);
            }
        }
    }
}

/// The problem with two definitions of one host, if their values differ.
fn conflict(sources: &Sources, was: &Host, host: &Host) -> Option<Diagnostic> {
    let (old, new) = (fields(was), fields(host));
    let differ: Vec<usize> = (0..old.len().max(new.len()))
        .filter(|&i| old.get(i) != new.get(i))
        .collect();
    if differ.is_empty() {
        return None;
    }
    let say = |values: &[(&str, String)]| {
        let parts: Vec<String> = differ
            .iter()
            .filter_map(|&i| values.get(i))
            .map(|(key, value)| format!("`{key}` is {value}"))
            .collect();
        format!("{} here", parts.join(", "))
    };
    Some(
        Diagnostic::error(
            host.span.clone(),
            format!(
                "host `{}` is defined differently in `{}` and `{}`",
                host.name,
                sources.path(was.span.file).display(),
                sources.path(host.span.file).display()
            ),
        )
        .with_label(say(&new))
        .with_note(was.span.clone(), say(&old))
        .with_help("the runbooks of a site share their hosts: define it the same way in both files, or in one file both inventories name"),
    )
}

/// A host's values as a user writes them, in a fixed order. A local host's SSH settings
/// are left out: they are never used, and only differ by the files' `[ssh]` defaults.
fn fields(h: &Host) -> Vec<(&'static str, String)> {
    let quoted = |s: &str| format!("\"{s}\"");
    let unset = || "not set".to_string();
    let mut tags = h.tags.clone();
    tags.sort_unstable();
    let mut out = vec![
        ("hall", quoted(h.hall.as_str())),
        ("transport", quoted(h.transport.as_str())),
        ("address", quoted(&h.address)),
        ("tags", format!("{tags:?}")),
        (
            "description",
            h.description.as_deref().map_or_else(unset, quoted),
        ),
    ];
    if h.transport == Transport::Local {
        return out;
    }
    let s = &h.ssh;
    let path = |p: &std::path::Path| quoted(&p.display().to_string());
    let time = |d| quoted(&duration::format(d));
    out.extend([
        ("user", s.user.as_deref().map_or_else(unset, quoted)),
        ("port", s.port.to_string()),
        (
            "identity_file",
            s.identity_file.as_deref().map_or_else(unset, path),
        ),
        ("known_hosts", path(&s.known_hosts)),
        ("host_key_checking", quoted(s.host_key_checking.as_str())),
        ("connect_timeout", time(s.connect_timeout)),
        ("keepalive", s.keepalive.map_or_else(|| quoted("0s"), time)),
        ("max_sessions", s.max_sessions.to_string()),
        (
            "jump",
            s.jump.as_ref().map_or_else(unset, |j| quoted(j.as_str())),
        ),
    ]);
    out
}
