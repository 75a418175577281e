//! The group tree as Ansible sees it: every group under `all` (a group nobody lists as
//! a child is a child of `all`), a host in a child group in its parents too, and each
//! group's depth — the longest way down from `all` — which orders whose variables win.

use std::collections::{BTreeMap, BTreeSet};

use super::model::{ALL, Inventory, UNGROUPED};
use super::problem::Problem;

pub struct Tree<'a> {
    inv: &'a Inventory,
    parents: BTreeMap<&'a str, BTreeSet<&'a str>>,
    depth: BTreeMap<&'a str, usize>,
}

impl<'a> Tree<'a> {
    /// The tree of `inv`, or the cycle in its `children`.
    pub fn new(inv: &'a Inventory) -> Result<Tree<'a>, Problem> {
        let mut parents: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
        for (name, g) in &inv.groups {
            for child in &g.children {
                parents.entry(child).or_default().insert(name);
            }
        }
        for name in inv.groups.keys() {
            if name != ALL && !parents.contains_key(name.as_str()) {
                parents.entry(name).or_default().insert(ALL);
            }
        }
        let depth = depths(inv, &parents)?;
        Ok(Tree {
            inv,
            parents,
            depth,
        })
    }

    /// Every group `host` is in, `all` included: those that list it, and their
    /// ancestors; `ungrouped` when that is all.
    pub fn groups_of(&self, host: &str) -> BTreeSet<&'a str> {
        let mut out: BTreeSet<&str> = BTreeSet::from([ALL]);
        let mut todo: Vec<&str> = self
            .inv
            .groups
            .iter()
            .filter(|(_, g)| g.hosts.contains(host))
            .map(|(n, _)| n.as_str())
            .collect();
        while let Some(g) = todo.pop() {
            if out.insert(g) || g == ALL {
                todo.extend(self.parents.get(g).into_iter().flatten().copied());
            }
        }
        if out.len() == 1 {
            out.insert(UNGROUPED);
        }
        out
    }

    /// Groups in the order Ansible applies their variables: by depth, then
    /// `ansible_group_priority` (default 1), then name; a later one wins.
    pub fn precedence(&self, groups: &BTreeSet<&'a str>) -> Vec<&'a str> {
        let mut v: Vec<&str> = groups.iter().copied().collect();
        v.sort_by_key(|g| {
            (
                self.depth.get(g).copied().unwrap_or(0),
                self.priority(g),
                *g,
            )
        });
        v
    }

    fn priority(&self, group: &str) -> i64 {
        match self
            .inv
            .groups
            .get(group)
            .and_then(|g| g.vars.get("ansible_group_priority"))
        {
            Some(super::model::Var::Int(p)) => *p,
            _ => 1,
        }
    }
}

/// Each group's longest way down from `all`, walking the groups parents first (without
/// recursion: a chain of children as long as the file allows must not overflow the
/// stack). A group never reached is on a cycle, or below one.
fn depths<'a>(
    inv: &'a Inventory,
    parents: &BTreeMap<&'a str, BTreeSet<&'a str>>,
) -> Result<BTreeMap<&'a str, usize>, Problem> {
    let mut children: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (child, ps) in parents {
        for p in ps {
            children.entry(p).or_default().push(child);
        }
    }
    let groups = inv.groups.keys().map(String::as_str).chain([ALL]);
    let mut waiting: BTreeMap<&str, usize> = groups
        .map(|g| (g, parents.get(g).map_or(0, BTreeSet::len)))
        .collect();
    let mut depth: BTreeMap<&str, usize> = BTreeMap::new();
    let mut ready: Vec<&str> = waiting
        .iter()
        .filter(|(_, n)| **n == 0)
        .map(|(g, _)| *g)
        .collect();
    while let Some(g) = ready.pop() {
        let d = parents
            .get(g)
            .into_iter()
            .flatten()
            .map(|p| depth[p] + 1)
            .max()
            .unwrap_or(0);
        depth.insert(g, d);
        for child in children.get(g).into_iter().flatten() {
            if let Some(n) = waiting.get_mut(child) {
                *n -= 1;
                if *n == 0 {
                    ready.push(child);
                }
            }
        }
    }
    match waiting.keys().find(|g| !depth.contains_key(*g)) {
        None => Ok(depth),
        Some(start) => Err(cycle(parents, &depth, start)),
    }
}

/// The cycle above `start`, a group no walk from `all` reached: up through parents not
/// reached either, until a group comes round again.
fn cycle(
    parents: &BTreeMap<&str, BTreeSet<&str>>,
    reached: &BTreeMap<&str, usize>,
    start: &str,
) -> Problem {
    let mut path = vec![start];
    loop {
        let last = path[path.len() - 1];
        let Some(up) = parents
            .get(last)
            .and_then(|p| p.iter().find(|p| !reached.contains_key(*p)))
        else {
            break;
        };
        if let Some(at) = path.iter().position(|g| g == up) {
            // `path` goes up, from child to parent; the cycle is said downwards.
            let mut cycle: Vec<&str> = path[at..].iter().rev().copied().collect();
            cycle.insert(0, up);
            return Problem::new(format!(
                "groups are children of each other in a cycle: {}",
                cycle.join(" -> ")
            ));
        }
        path.push(up);
    }
    Problem::new(format!("group `{start}` is below a cycle of children"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inventory() -> Inventory {
        let mut inv = Inventory::default();
        inv.add_child("site", "web");
        inv.add_child("web", "web_new");
        inv.add_child("legacy", "web_new");
        inv.add_host("web_new", "w1");
        inv.add_host("db", "d1");
        inv
    }

    #[test]
    fn a_host_is_in_its_groups_and_their_ancestors() {
        let inv = inventory();
        let t = Tree::new(&inv).expect("no cycle");
        let g: Vec<&str> = t.groups_of("w1").into_iter().collect();
        assert_eq!(g, ["all", "legacy", "site", "web", "web_new"]);
        assert_eq!(
            t.precedence(&t.groups_of("w1")),
            ["all", "legacy", "site", "web", "web_new"]
        );
        let g: Vec<&str> = t.groups_of("d1").into_iter().collect();
        assert_eq!(g, ["all", "db"]);
    }

    #[test]
    fn priority_orders_groups_of_the_same_depth() {
        let mut inv = inventory();
        inv.group("legacy").vars.insert(
            "ansible_group_priority".into(),
            super::super::model::Var::Int(10),
        );
        let t = Tree::new(&inv).expect("no cycle");
        assert_eq!(
            t.precedence(&t.groups_of("w1")),
            ["all", "site", "legacy", "web", "web_new"]
        );
    }

    #[test]
    fn a_long_chain_of_children_does_not_overflow_the_stack() {
        let mut inv = Inventory::default();
        for i in 0..50_000 {
            inv.add_child(&format!("g{i}"), &format!("g{}", i + 1));
        }
        inv.add_host("g50000", "deep");
        let t = Tree::new(&inv).expect("no cycle");
        assert_eq!(t.groups_of("deep").len(), 50_002);
    }

    #[test]
    fn a_cycle_is_named() {
        let mut inv = inventory();
        inv.add_child("web_new", "site");
        let p = Tree::new(&inv).err().expect("a cycle");
        assert!(
            p.message.contains("site -> web -> web_new -> site"),
            "{}",
            p.message
        );
    }
}
