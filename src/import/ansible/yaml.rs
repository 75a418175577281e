//! Ansible's YAML inventory: top-level groups (usually `all`), each a mapping of
//! `hosts` (host name → its variables), `vars` and `children` (group name → a group
//! like this one). A file with a top-level `plugin` key configures a dynamic inventory
//! plugin instead, and is refused. Read with `serde_norway`, which keeps a `!vault`
//! tag as a tagged value, so a vaulted variable is seen, not lost.

use serde_norway::{Mapping, Value};

use super::model::{Inventory, Var, Vars};
use super::problem::{Problem, dynamic, without_location};
use super::range;

pub fn parse(file: &str, text: &str) -> Result<Inventory, Vec<Problem>> {
    let doc: Value = serde_norway::from_str(text).map_err(|e| {
        let message = format!("invalid YAML: {}", without_location(&e.to_string()));
        vec![match e.location() {
            Some(l) => Problem::at(l.line(), l.column(), message),
            None => Problem::new(message),
        }]
    })?;
    let mut inv = Inventory::default();
    let mut problems = Vec::new();
    match &doc {
        Value::Null => {}
        Value::Mapping(top) if top.contains_key("plugin") => {
            problems.push(dynamic(
                file,
                "this is an inventory plugin's configuration (`plugin:`)",
            ));
        }
        Value::Mapping(top) => {
            for (name, body) in top {
                match name.as_str() {
                    Some(name) => group(&mut inv, &mut problems, name, body),
                    None => problems.push(Problem::new(format!(
                        "a top-level key must be a group name, found {}",
                        kind(name)
                    ))),
                }
            }
        }
        other => problems.push(Problem::new(format!(
            "expected a mapping of groups (`all:`), found {}",
            kind(other)
        ))),
    }
    if problems.is_empty() {
        Ok(inv)
    } else {
        Err(problems)
    }
}

/// A group's body: `hosts`, `vars` and `children`, each optional.
fn group(inv: &mut Inventory, problems: &mut Vec<Problem>, name: &str, body: &Value) {
    inv.group(name);
    let body = match body {
        Value::Null => return,
        Value::Mapping(m) => m,
        other => {
            problems.push(Problem::new(format!(
                "group `{name}` must be a mapping of `hosts`, `vars` and `children`, found {}",
                kind(other)
            )));
            return;
        }
    };
    for (key, value) in body {
        match (key.as_str(), value) {
            (Some(_), Value::Null) => {}
            (Some("hosts"), Value::Mapping(hosts)) => {
                for (host, vars) in hosts {
                    add_hosts(inv, problems, name, host, vars);
                }
            }
            (Some("vars"), Value::Mapping(vars)) => {
                let vars = read_vars(vars);
                inv.group(name).vars.extend(vars);
            }
            (Some("children"), Value::Mapping(children)) => {
                for (child, body) in children {
                    let Some(child) = child.as_str() else {
                        problems.push(Problem::new(format!(
                            "group `{name}`: a child must be a group name, found {}",
                            kind(child)
                        )));
                        continue;
                    };
                    inv.add_child(name, child);
                    group(inv, problems, child, body);
                }
            }
            (Some(k @ ("hosts" | "vars" | "children")), other) => {
                problems.push(Problem::new(format!(
                    "group `{name}`: `{k}` must be a mapping, found {}",
                    kind(other)
                )));
            }
            (k, _) => problems.push(Problem::new(format!(
                "group `{name}` has an unknown key {}: expected `hosts`, `vars` or `children`",
                k.map_or_else(|| kind(key).to_string(), |k| format!("`{k}`"))
            ))),
        }
    }
}

/// A `hosts:` entry: a name (maybe a range) and its variables (a mapping or nothing).
fn add_hosts(
    inv: &mut Inventory,
    problems: &mut Vec<Problem>,
    group: &str,
    host: &Value,
    vars: &Value,
) {
    let pattern = match host {
        Value::String(s) => s.clone(),
        // YAML has already turned `0x10` into 16 and `1.50` into 1.5: the name as written
        // is lost, so it is refused, as Ansible refuses it.
        Value::Number(n) => {
            problems.push(Problem::new(format!(
                "group `{group}`: host `{n}` is a number in YAML, not a name: quote it as written (`\"…\"`), as Ansible requires"
            )));
            return;
        }
        other => {
            problems.push(Problem::new(format!(
                "group `{group}`: a host must be a name, found {}",
                kind(other)
            )));
            return;
        }
    };
    let vars = match vars {
        Value::Null => Vars::new(),
        Value::Mapping(m) => read_vars(m),
        other => {
            problems.push(Problem::new(format!(
                "host `{pattern}` in group `{group}`: its variables must be a mapping, found {}",
                kind(other)
            )));
            return;
        }
    };
    match range::expand(&pattern) {
        Ok(names) => {
            for name in names {
                inv.add_host(group, &name).extend(vars.clone());
            }
        }
        Err(why) => problems.push(Problem::new(format!(
            "host `{pattern}` in group `{group}`: {why}"
        ))),
    }
}

/// Variables with string keys; others cannot be Ansible variables and are skipped.
fn read_vars(m: &Mapping) -> Vars {
    m.iter()
        .filter_map(|(k, v)| Some((k.as_str()?.to_string(), var(v))))
        .collect()
}

fn var(v: &Value) -> Var {
    match v {
        Value::String(s) => Var::text(s),
        Value::Number(n) => n.as_i64().map_or(Var::Other("a number"), Var::Int),
        Value::Bool(_) => Var::Other("a boolean"),
        Value::Null => Var::Other("null"),
        Value::Sequence(items) => Var::nested("a list", items.iter().map(var)),
        Value::Mapping(m) => Var::nested("a mapping", m.values().map(var)),
        Value::Tagged(t) if t.tag == "vault" => Var::Vaulted,
        Value::Tagged(t) => var(&t.value),
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "nothing",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Sequence(_) => "a list",
        Value::Mapping(_) => "a mapping",
        Value::Tagged(_) => "a tagged value",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const INV: &str = "
all:
  vars:
    ansible_user: ops
  hosts:
    lone.example.com:
  children:
    web:
      hosts:
        web[01:02]:
          ansible_port: 2222
      vars:
        secret: !vault |
          $ANSIBLE_VAULT;1.1;AES256
          6162
      children:
        web_new:
          hosts:
            web03: {ansible_host: 192.0.2.3}
";

    #[test]
    fn groups_hosts_children_and_vars() {
        let inv = parse("inv.yml", INV).expect("valid");
        assert_eq!(
            inv.groups["all"].vars["ansible_user"],
            Var::Text("ops".into())
        );
        assert!(inv.groups["all"].hosts.contains("lone.example.com"));
        assert!(inv.groups["all"].children.contains("web"));
        assert!(inv.groups["web"].children.contains("web_new"));
        assert_eq!(inv.hosts["web02"]["ansible_port"], Var::Int(2222));
        assert_eq!(
            inv.hosts["web03"]["ansible_host"],
            Var::Text("192.0.2.3".into())
        );
        assert_eq!(inv.groups["web"].vars["secret"], Var::Vaulted);
    }

    #[test]
    fn a_vault_inside_a_list_is_vaulted_and_an_empty_file_is_empty() {
        let inv = parse("i.yml", "g:\n  vars:\n    l: [1, !vault x]\n").expect("valid");
        assert_eq!(inv.groups["g"].vars["l"], Var::Vaulted);
        assert_eq!(parse("i.yml", "").expect("empty"), Inventory::default());
    }

    #[test]
    fn mistakes_say_what_and_where() {
        for (text, says) in [
            (
                "all:\n  hosts: [a, b]\n",
                "`hosts` must be a mapping, found a list",
            ),
            ("all:\n  host:\n    a:\n", "unknown key `host`"),
            ("- a\n", "expected a mapping of groups"),
            (
                "plugin: aws_ec2\nregions: [eu-west-1]\n",
                "ansible-inventory -i i.yml --list",
            ),
            (
                "all:\n  hosts:\n    w[2:1]:\n",
                "must not begin after it ends",
            ),
            (
                "all:\n  hosts:\n    a: 3\n",
                "its variables must be a mapping",
            ),
            (
                "all:\n  hosts:\n    0x10:\n",
                "host `16` is a number in YAML, not a name: quote it",
            ),
        ] {
            let p = parse("i.yml", text).expect_err(text);
            assert!(p[0].message.contains(says), "{text}: {}", p[0].message);
        }
        let p = parse("i.yml", "all:\n  hosts: [\n").expect_err("unparsable");
        assert!(
            p[0].at.is_some() && p[0].message.starts_with("invalid YAML"),
            "{p:?}"
        );
    }
}
