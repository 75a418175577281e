//! The group tree as Ansible sees it: every group under `all` (a group nobody lists as
//! a child is a child of `all`), a host in a child group in its parents too, and each
//! group's depth — the longest way down from `all` — which orders whose variables win.

use std::collections::{BTreeMap, BTreeSet};

use super::model::{ALL, Inventory};
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
        let mut tree = Tree {
            inv,
            parents,
            depth: BTreeMap::new(),
        };
        for name in inv.groups.keys() {
            tree.depth_of(name, &mut Vec::new())?;
        }
        Ok(tree)
    }

    /// The longest way from `all` down to `group`; `path` is the way being walked, to
    /// find a cycle.
    fn depth_of(&mut self, group: &'a str, path: &mut Vec<&'a str>) -> Result<usize, Problem> {
        if let Some(&d) = self.depth.get(group) {
            return Ok(d);
        }
        if let Some(at) = path.iter().position(|g| *g == group) {
            // `path` goes up, from child to parent; the cycle is said downwards.
            let mut cycle = vec![group];
            cycle.extend(path[at + 1..].iter().rev());
            cycle.push(group);
            return Err(Problem::new(format!(
                "groups are children of each other in a cycle: {}",
                cycle.join(" -> ")
            )));
        }
        path.push(group);
        let parents: Vec<&'a str> = self
            .parents
            .get(group)
            .map(|p| p.iter().copied().collect())
            .unwrap_or_default();
        let mut depth = 0;
        for p in parents {
            depth = depth.max(self.depth_of(p, path)? + 1);
        }
        path.pop();
        self.depth.insert(group, depth);
        Ok(depth)
    }

    /// Every group `host` is in, `all` included: those that list it, and their
    /// ancestors.
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
