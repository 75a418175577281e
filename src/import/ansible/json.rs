//! The JSON of `ansible-inventory --list` (and of dynamic inventory scripts): each
//! top-level key a group with `hosts` and `children` (lists of names) and `vars`, or the
//! older plain list of hosts; `_meta.hostvars` holds every host's variables, already
//! merged by Ansible. A vaulted value is `{"__ansible_vault": "..."}`.

use serde_json::{Map, Value};

use super::model::{Inventory, Var, Vars};
use super::problem::{Problem, without_location};

pub fn parse(text: &str) -> Result<Inventory, Vec<Problem>> {
    let doc: Value = serde_json::from_str(text).map_err(|e| {
        vec![Problem::at(
            e.line(),
            e.column(),
            format!("invalid JSON: {}", without_location(&e.to_string())),
        )]
    })?;
    let Value::Object(top) = doc else {
        return Err(vec![Problem::new(format!(
            "expected an object of groups, as `ansible-inventory --list` prints, found {}",
            kind(&doc)
        ))]);
    };
    let mut inv = Inventory::default();
    let mut problems = Vec::new();
    for (name, body) in &top {
        let done = if name == "_meta" {
            meta(&mut inv, body)
        } else {
            group(&mut inv, name, body)
        };
        problems.extend(done.err());
    }
    if problems.is_empty() {
        Ok(inv)
    } else {
        Err(problems)
    }
}

/// `_meta.hostvars`: host → variables. A host in no group is in `all`.
fn meta(inv: &mut Inventory, body: &Value) -> Result<(), Problem> {
    let hostvars = match body.get("hostvars") {
        None | Some(Value::Null) => return Ok(()),
        Some(Value::Object(h)) => h,
        Some(other) => {
            return Err(Problem::new(format!(
                "`_meta.hostvars` must be an object, found {}",
                kind(other)
            )));
        }
    };
    for (host, vars) in hostvars {
        let Value::Object(vars) = vars else {
            return Err(Problem::new(format!(
                "`_meta.hostvars.{host}` must be an object of variables, found {}",
                kind(vars)
            )));
        };
        inv.hosts
            .entry(host.clone())
            .or_default()
            .extend(read_vars(vars));
    }
    Ok(())
}

fn group(inv: &mut Inventory, name: &str, body: &Value) -> Result<(), Problem> {
    inv.group(name);
    let body = match body {
        Value::Array(_) => {
            return names(name, "hosts", Some(body)).map(|hosts| add_hosts(inv, name, hosts));
        }
        Value::Object(b) => b,
        other => {
            return Err(Problem::new(format!(
                "group `{name}` must be an object with `hosts`, `children` and `vars`, found {}",
                kind(other)
            )));
        }
    };
    if let Some(key) = body
        .keys()
        .find(|k| !["hosts", "children", "vars"].contains(&k.as_str()))
    {
        return Err(Problem::new(format!(
            "group `{name}` has an unknown key `{key}`: expected `hosts`, `children` or `vars`"
        )));
    }
    let hosts = names(name, "hosts", body.get("hosts"))?;
    add_hosts(inv, name, hosts);
    for child in names(name, "children", body.get("children"))? {
        inv.add_child(name, child);
    }
    match body.get("vars") {
        None | Some(Value::Null) => Ok(()),
        Some(Value::Object(vars)) => {
            inv.group(name).vars.extend(read_vars(vars));
            Ok(())
        }
        Some(other) => Err(Problem::new(format!(
            "group `{name}`: `vars` must be an object, found {}",
            kind(other)
        ))),
    }
}

fn add_hosts(inv: &mut Inventory, group: &str, hosts: Vec<&str>) {
    for h in hosts {
        inv.add_host(group, h);
    }
}

/// A list of names (`hosts`, `children`), or nothing.
fn names<'a>(group: &str, key: &str, v: Option<&'a Value>) -> Result<Vec<&'a str>, Problem> {
    let bad = |found: &str| {
        Problem::new(format!(
            "group `{group}`: `{key}` must be a list of names, found {found}"
        ))
    };
    match v {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| i.as_str().ok_or_else(|| bad(kind(i))))
            .collect(),
        Some(other) => Err(bad(kind(other))),
    }
}

fn read_vars(m: &Map<String, Value>) -> Vars {
    m.iter().map(|(k, v)| (k.clone(), var(v))).collect()
}

fn var(v: &Value) -> Var {
    match v {
        Value::String(s) => Var::text(s),
        Value::Number(n) => n.as_i64().map_or(Var::Other("a number"), Var::Int),
        Value::Bool(_) => Var::Other("a boolean"),
        Value::Null => Var::Other("null"),
        Value::Array(items) => Var::nested("a list", items.iter().map(var)),
        Value::Object(m) if m.contains_key("__ansible_vault") => Var::Vaulted,
        Value::Object(m) => Var::nested("an object", m.values().map(var)),
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_output_of_ansible_inventory() {
        let inv = parse(
            r#"{"_meta": {"hostvars": {"web1": {"ansible_port": 2222, "pw": {"__ansible_vault": "$ANSIBLE_VAULT;1.1"}}}},
                "all": {"children": ["ungrouped", "web"]},
                "web": {"hosts": ["web1"], "vars": {"ansible_user": "ops"}},
                "legacy": ["old1"]}"#,
        )
        .expect("valid");
        assert!(inv.groups["all"].children.contains("web"));
        assert!(inv.groups["web"].hosts.contains("web1"));
        assert!(inv.groups["legacy"].hosts.contains("old1"));
        assert_eq!(inv.hosts["web1"]["ansible_port"], Var::Int(2222));
        assert_eq!(inv.hosts["web1"]["pw"], Var::Vaulted);
        assert_eq!(
            inv.groups["web"].vars["ansible_user"],
            Var::Text("ops".into())
        );
    }

    #[test]
    fn mistakes_say_what_and_where() {
        let p = parse("{\n  \"all\": [1,\n").expect_err("unparsable");
        assert_eq!(p[0].at.map(|a| a.line), Some(3));
        for (text, says) in [
            ("[1]", "expected an object of groups"),
            (
                r#"{"web": {"hosts": "a"}}"#,
                "`hosts` must be a list of names, found a string",
            ),
            (r#"{"web": {"host": []}}"#, "unknown key `host`"),
            (
                r#"{"_meta": {"hostvars": {"a": 1}}}"#,
                "`_meta.hostvars.a` must be an object",
            ),
        ] {
            let p = parse(text).expect_err(text);
            assert!(p[0].message.contains(says), "{text}: {}", p[0].message);
        }
    }
}
