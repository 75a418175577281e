//! Jump hosts: the inventory host each SSH host is reached through (`jump`, as OpenSSH's
//! ProxyJump), chosen host > hall > `[ssh]`, and checked once the whole inventory is
//! known — it must name an SSH host of the inventory, and no host may be reached
//! through itself, directly or around a cycle.
//!
//! A jump host is never reached through itself. When its hall (or its file's `[ssh]`)
//! names it as the jump, that level is passed over for it and the next one is used: the
//! jump host of hall `b`, standing in hall `b`, is reached directly — or through the
//! `[ssh]` jump when that names another host (a bastion in front of every hall). Only a
//! host's own `jump` naming itself is an error: nothing sensible could be meant by it.
//! A local host is never connected to, so the jump of its hall or `[ssh]` does not apply
//! to it, and a `jump` of its own is an error.

use super::diagnostic::{Diagnostic, Diagnostics};
use super::ids::HostId;
use super::inventory::{Host, HostIdx, Inventory};
use super::model::Transport;
use super::source::{Sp, Span};

/// Where a host's jump may be written, most specific first.
pub(super) struct Levels<'a> {
    pub own: Option<&'a Sp<String>>,
    pub hall: Option<&'a Sp<String>>,
    pub file: Option<&'a Sp<String>>,
}

/// The jump `host` asks for: its own `jump`, else its hall's, else its file's `[ssh]`
/// one, passing over a hall or `[ssh]` that names the host itself. Reports a host's own
/// `jump` naming itself, and one on a local host.
pub(super) fn wanted(
    diags: &mut Diagnostics,
    host: &Sp<String>,
    transport: Transport,
    levels: &Levels<'_>,
) -> Option<Sp<String>> {
    if transport == Transport::Local {
        if let Some(own) = levels.own {
            diags.push(
                Diagnostic::error(
                    own.span.clone(),
                    format!("host `{}` is local and cannot have a jump", host.value),
                )
                .with_label("a local host (`transport = \"local\"`) runs its commands on this machine: remove `jump`"),
            );
        }
        return None;
    }
    if let Some(own) = levels.own.filter(|j| j.value == host.value) {
        diags.push(
            Diagnostic::error(
                own.span.clone(),
                format!("host `{}` names itself as its jump", host.value),
            )
            .with_label(
                "a host cannot be reached through itself: remove `jump`, or name another host",
            ),
        );
        return None;
    }
    [levels.own, levels.hall, levels.file]
        .into_iter()
        .flatten()
        .find(|j| j.value != host.value)
        .cloned()
}

/// Sets each host's `ssh.jump` from what it asks for (host, jump), reporting a jump that
/// names no host (saying so when it names one of `halls`) or a local one, and every
/// cycle once. `hosts` is sorted by name.
pub(super) fn resolve(
    diags: &mut Diagnostics,
    hosts: &mut [Host],
    halls: &[&str],
    wanted: &[(HostIdx, Sp<String>)],
) {
    let mut reported: Vec<Span> = Vec::new();
    let mut report = |diags: &mut Diagnostics, d: Diagnostic| {
        if let Some(span) = &d.span {
            if reported.contains(span) {
                return;
            }
            reported.push(span.clone());
        }
        diags.push(d);
    };
    let names: Vec<String> = hosts.iter().map(|h| h.name.to_string()).collect();
    let mut edges: Vec<Option<(HostIdx, &Sp<String>)>> = vec![None; hosts.len()];
    for (h, jump) in wanted {
        let Ok(j) = names.binary_search(&jump.value) else {
            report(diags, unknown(jump, &names, halls));
            continue;
        };
        if hosts[j].transport == Transport::Local {
            report(
                diags,
                Diagnostic::error(
                    jump.span.clone(),
                    format!("jump host `{}` is a local host", jump.value),
                )
                .with_label(format!(
                    "a jump host is connected to over SSH, but `{}` has `transport = \"local\"`",
                    jump.value
                )),
            );
            continue;
        }
        edges[*h] = Some((j, jump));
    }
    for start in 0..hosts.len() {
        if let Some(cycle) = cycle_from(&edges, start) {
            let first = cycle.iter().copied().min().unwrap_or(start);
            if first == start
                && let Some((_, jump)) = edges[start]
            {
                let path: Vec<&str> = cycle
                    .iter()
                    .chain([&start])
                    .map(|&i| names[i].as_str())
                    .collect();
                let mut d = Diagnostic::error(jump.span.clone(), "jump hosts form a cycle")
                    .with_label(format!("cycle: {}", path.join(" → ")))
                    .with_help("a jump host must be reached directly or through another jump host: remove `jump` from one of them, or name another host");
                for &h in &cycle[1..] {
                    if let Some((j, jump)) = edges[h] {
                        d = d.with_note(
                            jump.span.clone(),
                            format!("`{}` is reached through `{}` here", names[h], names[j]),
                        );
                    }
                }
                report(diags, d);
            }
        }
    }
    for (h, edge) in edges.iter().enumerate() {
        if let Some((j, _)) = edge
            && cycle_from(&edges, h).is_none()
        {
            hosts[h].ssh.jump = Some(HostId::new(names[*j].clone()));
        }
    }
}

/// The hosts of the cycle `start` is on, from `start` around (without coming back).
fn cycle_from(edges: &[Option<(HostIdx, &Sp<String>)>], start: HostIdx) -> Option<Vec<HostIdx>> {
    let mut path = vec![start];
    let mut at = start;
    while let Some((next, _)) = edges[at] {
        if next == start {
            return Some(path);
        }
        if path.contains(&next) {
            // A cycle further on, which `start` only leads into.
            return None;
        }
        path.push(next);
        at = next;
    }
    None
}

/// A jump naming no host. A hall's name, or nothing, is said as such: "not in the
/// inventory" would send the reader looking for a host that was never meant.
fn unknown(jump: &Sp<String>, names: &[String], halls: &[&str]) -> Diagnostic {
    let d = |message: String| Diagnostic::error(jump.span.clone(), message);
    if jump.value.is_empty() {
        return d("`jump` is empty".into())
            .with_label("expected the name of an inventory host: name one, or remove `jump`");
    }
    if halls.contains(&jump.value.as_str()) {
        return d(format!("jump `{}` names a hall, not a host", jump.value))
            .with_label("expected the name of an inventory host")
            .with_help(format!(
                "name the host to connect through, as its `[hosts.NAME]` names it (it may stand in hall `{}`)",
                jump.value
            ));
    }
    d(format!(
        "jump host `{}` is not in the inventory",
        jump.value
    ))
    .with_label("expected the name of an inventory host")
    .suggest(&jump.value, names.iter().map(String::as_str))
}

impl Inventory {
    /// The hosts `h` is reached through, the outermost first, then `h` itself.
    pub fn route(&self, h: HostIdx) -> Vec<HostIdx> {
        let mut route = vec![h];
        let mut at = h;
        while let Some(jump) = &self.hosts[at].ssh.jump {
            match self.host_named(jump.as_str()) {
                Some(j) if !route.contains(&j) => {
                    route.push(j);
                    at = j;
                }
                _ => break,
            }
        }
        route.reverse();
        route
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use crate::config::diagnostic::Diagnostics;
    use crate::config::inventory::{Inventory, InventoryFile};
    use crate::config::raw;
    use crate::config::reader::Cx;
    use crate::config::source::Sources;

    /// Builds one inventory file; the inventory and each diagnostic as `message: label`.
    fn build(text: &str) -> (Inventory, Vec<String>) {
        let mut sources = Sources::default();
        let mut diags = Diagnostics::default();
        let path = PathBuf::from("/t/inventory.toml");
        let id = sources.add(path.clone(), text.to_string());
        let mut cx = Cx {
            file: id,
            text,
            diags: &mut diags,
        };
        let doc = raw::parse_document(&mut cx, text).expect("parses");
        let file = InventoryFile {
            raw: raw::read_inventory(&mut cx, &doc),
            path,
            tier: 0,
        };
        let inv = Inventory::build(&[file], &mut diags);
        let errors = diags
            .sorted()
            .into_iter()
            .map(|d| format!("{}: {}", d.message, d.label))
            .collect();
        (inv, errors)
    }

    fn ssh_host(name: &str, hall: &str, extra: &str) -> String {
        format!("[hosts.{name}]\naddress = \"10.0.0.1\"\nhall = \"{hall}\"\n{extra}")
    }

    /// Each host's route as `jump → … → host`.
    fn routes(inv: &Inventory) -> Vec<String> {
        (0..inv.hosts.len())
            .map(|h| {
                let names: Vec<&str> = inv
                    .route(h)
                    .into_iter()
                    .map(|i| inv.hosts[i].name.as_str())
                    .collect();
                names.join(" → ")
            })
            .collect()
    }

    #[test]
    fn the_most_specific_jump_wins_and_no_host_goes_through_itself() {
        let text = [
            "[ssh]\njump = \"bastion\"\n",
            "[halls.a]\n[halls.b]\njump = \"jump-b\"\n",
            &ssh_host("bastion", "a", ""),
            &ssh_host("db-a1", "a", ""),
            &ssh_host("db-b1", "b", ""),
            &ssh_host("db-b2", "b", "jump = \"db-a1\"\n"),
            &ssh_host("jump-b", "b", ""),
            "[hosts.runner]\ntransport = \"local\"\nhall = \"b\"\n",
        ]
        .concat();
        let (inv, errors) = build(&text);
        assert_eq!(errors, Vec::<String>::new());
        assert_eq!(
            routes(&inv),
            [
                // `[ssh]` names the bastion itself: passed over, so it is direct.
                "bastion",
                "bastion → db-a1",
                "bastion → jump-b → db-b1",
                // The host's own jump before its hall's.
                "bastion → db-a1 → db-b2",
                // Its hall names it: passed over for `[ssh]`'s.
                "bastion → jump-b",
                // A local host is never connected to.
                "runner",
            ]
        );
    }

    #[test]
    fn rejects() {
        let hosts = |extra_a: &str, extra_b: &str| {
            format!(
                "[halls.a]\n[halls.b]\n{}{}",
                ssh_host("jump-a", "a", extra_a),
                ssh_host("jump-b", "b", extra_b)
            )
        };
        let table: &[(String, &str)] = &[
            (
                hosts("jump = \"jump-c\"\n", ""),
                "jump host `jump-c` is not in the inventory: expected the name of an inventory host",
            ),
            (
                hosts("jump = \"b\"\n", ""),
                "jump `b` names a hall, not a host: expected the name of an inventory host",
            ),
            (
                hosts("jump = \"\"\n", ""),
                "`jump` is empty: expected the name of an inventory host: name one, or remove `jump`",
            ),
            (
                hosts("jump = \"jump-a\"\n", ""),
                "host `jump-a` names itself as its jump: a host cannot be reached through itself: remove `jump`, or name another host",
            ),
            (
                hosts("jump = \"jump-b\"\n", "jump = \"jump-a\"\n"),
                "jump hosts form a cycle: cycle: jump-a → jump-b → jump-a",
            ),
            (
                // Through the halls: each hall's jump stands in the other hall.
                format!(
                    "{}[halls.a]\njump = \"jump-b\"\n[halls.b]\njump = \"jump-a\"\n",
                    hosts("", "").replacen("[halls.a]\n[halls.b]\n", "", 1)
                ),
                "jump hosts form a cycle: cycle: jump-a → jump-b → jump-a",
            ),
            (
                format!(
                    "{}[hosts.runner]\ntransport = \"local\"\nhall = \"a\"\n",
                    hosts("jump = \"runner\"\n", "")
                ),
                "jump host `runner` is a local host: a jump host is connected to over SSH, but `runner` has `transport = \"local\"`",
            ),
            (
                format!(
                    "{}[hosts.runner]\ntransport = \"local\"\nhall = \"a\"\njump = \"jump-a\"\n",
                    hosts("", "")
                ),
                "host `runner` is local and cannot have a jump: a local host (`transport = \"local\"`) runs its commands on this machine: remove `jump`",
            ),
        ];
        for (text, expected) in table {
            let (_, errors) = build(text);
            assert_eq!(errors, [*expected], "{text}");
        }
    }

    #[test]
    fn a_misspelt_jump_of_many_hosts_is_reported_once() {
        let text = format!(
            "[ssh]\njump = \"bastoin\"\n[halls.a]\n[halls.b]\n{}{}{}",
            ssh_host("bastion", "a", ""),
            ssh_host("db-a1", "a", ""),
            ssh_host("db-b1", "b", "")
        );
        let (_, errors) = build(&text);
        assert_eq!(
            errors,
            ["jump host `bastoin` is not in the inventory: expected the name of an inventory host"]
        );
    }
}
