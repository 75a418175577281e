//! From a parsed Ansible inventory to switchyard's hosts: each host's hall from the
//! `--hall` groups it is in, its tags from all its groups, and `address`, `port` and
//! `user` from `ansible_host`, `ansible_port` and `ansible_user` as Ansible would
//! resolve them (`all`'s variables, then each group's by depth, then the host's own).
//! Everything that cannot be carried over faithfully is a problem, never a guess.

use std::collections::{BTreeMap, BTreeSet};

use crate::config::diagnostic::did_you_mean;
use crate::config::ids::{is_address, is_host_name, is_tag_name};

use super::groups::Tree;
use super::model::{ALL, Inventory, UNGROUPED, Var};
use super::problem::Problem;

/// `--hall GROUP=HALL`: the hosts of an Ansible group are in a switchyard hall.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HallGroup {
    pub group: String,
    pub hall: String,
}

/// A switchyard host, as the inventory will say it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Host {
    pub name: String,
    pub hall: String,
    /// `ansible_connection: local`: commands run on the machine running switchyard.
    pub local: bool,
    pub address: String,
    pub port: Option<u16>,
    pub user: Option<String>,
    pub tags: Vec<String>,
}

/// A host's variables, each with whose it is.
type Resolved<'a> = BTreeMap<&'a str, (&'a Var, Owner<'a>)>;

/// Whose variable a value is: where to look when it is wrong.
#[derive(Clone, Copy)]
enum Owner<'a> {
    Host(&'a str),
    Group(&'a str),
}

impl std::fmt::Display for Owner<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Owner::Host(h) => write!(f, "host `{h}`"),
            Owner::Group(g) => write!(f, "group `{g}`"),
        }
    }
}

/// Every host of `inv`, by name, or every problem found.
pub fn hosts(inv: &Inventory, halls: &[HallGroup]) -> Result<Vec<Host>, Vec<Problem>> {
    let tree = Tree::new(inv).map_err(|p| vec![p])?;
    let mut problems = vaulted(inv);
    problems.extend(unknown_hall_groups(inv, halls));
    if !problems.is_empty() {
        return Err(problems);
    }
    let mut bad_tags = BTreeSet::new();
    let mut out = Vec::new();
    for name in inv.hosts.keys() {
        let groups = tree.groups_of(name);
        for g in groups.iter().filter(|g| !is_tag_name(g)) {
            bad_tags.insert(*g);
        }
        match host(inv, &tree, halls, name, &groups) {
            Ok(h) => out.push(h),
            Err(mut p) => problems.append(&mut p),
        }
    }
    problems.extend(
        bad_tags
            .into_iter()
            .filter(|g| ![ALL, UNGROUPED].contains(g))
            .map(not_a_tag),
    );
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(problems)
    }
}

/// A group whose name switchyard rejects as a tag, with a name it would take.
fn not_a_tag(group: &str) -> Problem {
    let suggested: String = group
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    Problem::new(format!(
        "group `{group}` cannot be a switchyard tag: a tag has only letters, digits, `_` and \
         `-`; rename the group in the Ansible inventory (to `{suggested}`, say)"
    ))
}

/// Every vaulted variable, of groups then hosts: switchyard cannot decrypt it, and
/// dropping it silently would hide that the inventory holds secrets it did not read.
fn vaulted(inv: &Inventory) -> Vec<Problem> {
    let groups = inv.groups.iter().map(|(n, g)| (Owner::Group(n), &g.vars));
    let hosts = inv.hosts.iter().map(|(n, v)| (Owner::Host(n), v));
    groups
        .chain(hosts)
        .flat_map(|(owner, vars)| {
            vars.iter()
                .filter(|(_, v)| **v == Var::Vaulted)
                .map(move |(k, _)| {
                    Problem::new(format!(
                        "{owner}: variable `{k}` is encrypted with Ansible Vault, which switchyard \
                     cannot decrypt; import an inventory without vaulted variables (switchyard \
                     reads only ansible_host, ansible_port and ansible_user)"
                    ))
                })
        })
        .collect()
}

fn unknown_hall_groups(inv: &Inventory, halls: &[HallGroup]) -> Vec<Problem> {
    let known = inv.groups.keys().map(String::as_str);
    let mut problems: Vec<Problem> = halls
        .iter()
        // `all` and `ungrouped` are there even when the file never names them.
        .filter(|h| {
            !inv.groups.contains_key(&h.group) && ![ALL, UNGROUPED].contains(&h.group.as_str())
        })
        .map(|h| {
            let hint = did_you_mean(&h.group, known.clone())
                .map(|g| format!(" (did you mean `{g}`?)"))
                .unwrap_or_default();
            Problem::new(format!(
                "--hall {}={}: the inventory has no group `{}`{hint}",
                h.group, h.hall, h.group
            ))
        })
        .collect();
    for (i, a) in halls.iter().enumerate() {
        if let Some(b) = halls[..i]
            .iter()
            .find(|b| b.group == a.group && b.hall != a.hall)
        {
            problems.push(Problem::new(format!(
                "--hall puts group `{}` in two halls, `{}` and `{}`",
                a.group, b.hall, a.hall
            )));
        }
    }
    problems
}

fn host(
    inv: &Inventory,
    tree: &Tree<'_>,
    halls: &[HallGroup],
    name: &str,
    groups: &BTreeSet<&str>,
) -> Result<Host, Vec<Problem>> {
    let mut problems = Vec::new();
    if !is_host_name(name) {
        problems.push(Problem::new(format!(
            "host `{name}` cannot be a switchyard host name, which has only letters, digits, \
             `.`, `-` and `_`, starting with a letter or digit; rename it in the Ansible \
             inventory and set `ansible_host` to its address"
        )));
    }
    let hall = keep(&mut problems, hall(halls, name, groups));
    let vars = resolved(inv, tree, name, groups);
    let var = |key| mapped(&vars, name, key);
    let address = var("ansible_host").and_then(|v| address(name, v.as_ref()));
    let port = var("ansible_port").and_then(|v| port(name, v.as_ref()));
    let local = var("ansible_connection").and_then(|v| local(name, v.as_ref()));
    let user = var("ansible_user");
    let address = keep(&mut problems, address);
    let port = keep(&mut problems, port);
    let local = keep(&mut problems, local);
    let user = keep(&mut problems, user);
    if local == Some(false) {
        problems.extend(proxied(&vars, name));
    }
    match (hall, address, port, local, user) {
        (Some(hall), Some(address), Some(port), Some(local), Some(user)) if problems.is_empty() => {
            Ok(Host {
                name: name.to_string(),
                hall,
                local,
                address,
                port,
                user: user.map(|u| u.text),
                tags: groups
                    .iter()
                    .filter(|g| ![ALL, UNGROUPED].contains(*g))
                    .map(|g| (*g).to_string())
                    .collect(),
            })
        }
        _ => Err(problems),
    }
}

/// The value, or `None` with its problem kept.
fn keep<T>(problems: &mut Vec<Problem>, r: Result<T, Problem>) -> Option<T> {
    r.map_err(|p| problems.push(p)).ok()
}

/// `ansible_host`, or else the host's name, as Ansible connects to it.
fn address(host: &str, var: Option<&Mapped<'_>>) -> Result<String, Problem> {
    let Some(var) = var else {
        return Ok(host.to_string());
    };
    if is_address(&var.text) {
        return Ok(var.text.clone());
    }
    Err(Problem::new(format!(
        "host `{host}`: {} is `{}`, which is not a DNS name or an IP address",
        var.said(),
        var.text
    )))
}

/// `ansible_connection`: SSH (`ssh`, `paramiko`, `smart`, or not set), or `local`.
fn local(host: &str, var: Option<&Mapped<'_>>) -> Result<bool, Problem> {
    match var.map(|v| v.text.as_str()) {
        None | Some("ssh" | "paramiko" | "smart") => Ok(false),
        Some("local") => Ok(true),
        Some(other) => Err(Problem::new(format!(
            "host `{host}`: {} is `{other}`; switchyard reaches hosts over SSH, or runs a \
             `local` host's commands on its own machine",
            var.map(Mapped::said).unwrap_or_default()
        ))),
    }
}

/// The variables whose ssh arguments Ansible adds to every connection to a host.
const SSH_ARGS: [&str; 3] = [
    "ansible_ssh_common_args",
    "ansible_ssh_extra_args",
    "ansible_ssh_args",
];

/// A host that Ansible reaches through another host (`-J`, `ProxyJump`, `ProxyCommand`
/// in its ssh arguments): imported as it is, it would be connected to directly, which
/// the network may not allow — or may allow by another way than the one meant.
fn proxied(vars: &Resolved<'_>, host: &str) -> Vec<Problem> {
    SSH_ARGS
        .iter()
        .filter_map(|key| match vars.get(key) {
            Some((Var::Text(args), from)) if routes_elsewhere(args) => Some(Problem::new(format!(
                "host `{host}`: `{key}` (from {from}) is `{args}`, which reaches the host \
                 through another host; an import cannot carry that over: import without it, \
                 then add that host to the switchyard inventory and name it with `jump` \
                 (docs/networks.md)"
            ))),
            _ => None,
        })
        .collect()
}

/// Whether ssh arguments send the connection through another host.
fn routes_elsewhere(args: &str) -> bool {
    let lower = args.to_ascii_lowercase();
    lower.contains("proxyjump")
        || lower.contains("proxycommand")
        || args.split_whitespace().any(|a| a.starts_with("-J"))
}

fn port(host: &str, var: Option<&Mapped<'_>>) -> Result<Option<u16>, Problem> {
    let Some(var) = var else {
        return Ok(None);
    };
    match var.text.trim().parse::<u16>() {
        Ok(p) if p > 0 => Ok(Some(p)),
        _ => Err(Problem::new(format!(
            "host `{host}`: {} is `{}`, not a port from 1 to 65535",
            var.said(),
            var.text
        ))),
    }
}

/// The one hall the host's `--hall` groups agree on.
fn hall(halls: &[HallGroup], host: &str, groups: &BTreeSet<&str>) -> Result<String, Problem> {
    let mine: Vec<&HallGroup> = halls
        .iter()
        .filter(|h| groups.contains(h.group.as_str()))
        .collect();
    let distinct: BTreeSet<&str> = mine.iter().map(|h| h.hall.as_str()).collect();
    match (mine.first(), distinct.len()) {
        (Some(h), 1) => Ok(h.hall.clone()),
        (None, _) => Err(Problem::new(format!(
            "host `{host}` is in no hall group ({}): add it to one of them, or name one of its \
             groups with --hall",
            halls
                .iter()
                .map(|h| format!("`{}`", h.group))
                .collect::<Vec<_>>()
                .join(", ")
        ))),
        _ => Err(Problem::new(format!(
            "host `{host}` is in hall groups of different halls: {}; a host is in one hall",
            mine.iter()
                .map(|h| format!("`{}` (hall `{}`)", h.group, h.hall))
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

/// The host's variables as Ansible resolves them, each with whose it is.
fn resolved<'a>(
    inv: &'a Inventory,
    tree: &Tree<'a>,
    host: &'a str,
    groups: &BTreeSet<&'a str>,
) -> Resolved<'a> {
    let mut out = BTreeMap::new();
    for g in tree.precedence(groups) {
        for (k, v) in inv.groups.get(g).into_iter().flat_map(|g| &g.vars) {
            out.insert(k.as_str(), (v, Owner::Group(g)));
        }
    }
    for (k, v) in inv.hosts.get(host).into_iter().flatten() {
        out.insert(k.as_str(), (v, Owner::Host(host)));
    }
    out
}

/// A mapped variable's value as text, with which variable of whose it was.
struct Mapped<'a> {
    text: String,
    key: &'static str,
    from: Owner<'a>,
}

impl Mapped<'_> {
    /// "`ansible_port` (from group `web`)".
    fn said(&self) -> String {
        format!("`{}` (from {})", self.key, self.from)
    }
}

/// Ansible's older names of the mapped variables, which it still reads.
const ALIASES: [(&str, &str); 3] = [
    ("ansible_host", "ansible_ssh_host"),
    ("ansible_port", "ansible_ssh_port"),
    ("ansible_user", "ansible_ssh_user"),
];

/// `key`, or else its older name; both set to different values is a problem, since
/// which one Ansible uses depends on its connection plugin.
fn mapped<'a>(
    vars: &Resolved<'a>,
    host: &str,
    key: &'static str,
) -> Result<Option<Mapped<'a>>, Problem> {
    let current = text(vars, host, key)?;
    let Some((_, alias)) = ALIASES.iter().find(|(k, _)| *k == key) else {
        return Ok(current);
    };
    match (current, text(vars, host, alias)?) {
        (Some(c), Some(old)) if c.text != old.text => Err(Problem::new(format!(
            "host `{host}`: {} is `{}` but {} is `{}`; they are the same setting: keep one",
            c.said(),
            c.text,
            old.said(),
            old.text
        ))),
        (c, old) => Ok(c.or(old)),
    }
}

/// A mapped variable as text: absent, or text that is not a Jinja template.
fn text<'a>(
    vars: &Resolved<'a>,
    host: &str,
    key: &'static str,
) -> Result<Option<Mapped<'a>>, Problem> {
    let Some((value, from)) = vars.get(key) else {
        return Ok(None);
    };
    let wrong = |what: String| Problem::new(format!("host `{host}`: `{key}` (from {from}) {what}"));
    let text = match value {
        Var::Text(s) if s.contains("{{") || s.contains("{%") => {
            return Err(wrong(format!(
                "is a Jinja template, `{s}`, which switchyard cannot evaluate; write the value itself"
            )));
        }
        Var::Text(s) if s.trim().is_empty() => return Err(wrong("is empty".into())),
        Var::Text(s) => s.clone(),
        Var::Int(n) => n.to_string(),
        Var::Other(kind) => return Err(wrong(format!("is {kind}, not text"))),
        // Reported for every vaulted variable before hosts are resolved.
        Var::Vaulted => return Err(wrong("is vaulted".into())),
    };
    Ok(Some(Mapped {
        text,
        key,
        from: *from,
    }))
}
