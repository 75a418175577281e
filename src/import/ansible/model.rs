//! An Ansible inventory as the three formats (INI, YAML, `ansible-inventory --list`
//! JSON) all describe it: groups with hosts, child groups and variables, and hosts with
//! variables. Each parser fills one; [`super::resolve`] works on it alone, so the three
//! formats cannot resolve the same inventory differently.

use std::collections::{BTreeMap, BTreeSet};

/// The group every host is in.
pub const ALL: &str = "all";
/// The group of hosts in no other group.
pub const UNGROUPED: &str = "ungrouped";

/// A variable's value, as far as an import cares: only `ansible_host`, `ansible_port` and
/// `ansible_user` are read, and a vaulted value anywhere is an error.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Var {
    Text(String),
    Int(i64),
    /// Encrypted with Ansible Vault (`!vault`, `$ANSIBLE_VAULT;`), here or inside a list
    /// or mapping.
    Vaulted,
    /// Anything else, by its type's name ("a boolean", "a list").
    Other(&'static str),
}

/// The prefix of a value encrypted with Ansible Vault.
const VAULT_PREFIX: &str = "$ANSIBLE_VAULT;";

impl Var {
    /// A string value, which may be vaulted.
    pub fn text(s: &str) -> Var {
        if s.trim_start().starts_with(VAULT_PREFIX) {
            Var::Vaulted
        } else {
            Var::Text(s.to_string())
        }
    }

    /// A list or mapping: vaulted if anything in it is.
    pub fn nested(what: &'static str, items: impl IntoIterator<Item = Var>) -> Var {
        if items.into_iter().any(|v| v == Var::Vaulted) {
            Var::Vaulted
        } else {
            Var::Other(what)
        }
    }
}

pub type Vars = BTreeMap<String, Var>;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Group {
    pub hosts: BTreeSet<String>,
    pub children: BTreeSet<String>,
    pub vars: Vars,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Inventory {
    pub groups: BTreeMap<String, Group>,
    /// Every host, with its own variables.
    pub hosts: BTreeMap<String, Vars>,
}

impl Inventory {
    /// The group, created empty if it is new.
    pub fn group(&mut self, name: &str) -> &mut Group {
        self.groups.entry(name.to_string()).or_default()
    }

    /// Puts `host` in `group` (both created if new) and returns its variables.
    pub fn add_host(&mut self, group: &str, host: &str) -> &mut Vars {
        self.group(group).hosts.insert(host.to_string());
        self.hosts.entry(host.to_string()).or_default()
    }

    pub fn add_child(&mut self, parent: &str, child: &str) {
        self.group(parent).children.insert(child.to_string());
        self.group(child);
    }
}
