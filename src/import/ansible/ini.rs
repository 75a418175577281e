//! Ansible's INI inventory: `[group]` sections of host lines (`NAME[:PORT] [KEY=VALUE
//! ...]`), `[group:vars]` of `KEY=VALUE` lines, `[group:children]` of group names, and
//! hosts before any section in `ungrouped`. Comments start with `#` or `;`. Values are
//! read as Ansible reads them: an integer is a number, quotes are taken off.

use super::model::{Inventory, UNGROUPED, Var, Vars};
use super::problem::Problem;
use super::range;

/// What the lines under a section header are.
enum Section {
    Hosts(String),
    Vars(String),
    Children(String),
}

pub fn parse(text: &str) -> Result<Inventory, Vec<Problem>> {
    let mut inv = Inventory::default();
    let mut problems = Vec::new();
    let mut section = Section::Hosts(UNGROUPED.to_string());
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        let indent = raw.len() - raw.trim_start().len();
        let at = |col: usize, msg: String| Problem::at(i + 1, indent + col + 1, msg);
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        let done = if line.starts_with('[') {
            header(line).map(|s| section = s).map_err(|m| at(0, m))
        } else {
            match &section {
                Section::Hosts(g) => host_line(&mut inv, g, line).map_err(|(c, m)| at(c, m)),
                Section::Vars(g) => var_line(inv.group(g), g, line).map_err(|m| at(0, m)),
                Section::Children(g) => child_line(&mut inv, g, line).map_err(|m| at(0, m)),
            }
        };
        if let Err(p) = done {
            problems.push(p);
        }
    }
    if problems.is_empty() {
        Ok(inv)
    } else {
        Err(problems)
    }
}

/// `[NAME]`, `[NAME:vars]`, `[NAME:children]` or `[NAME:hosts]`, maybe followed by a comment.
fn header(line: &str) -> Result<Section, String> {
    let bad = || {
        format!(
            "invalid section header `{line}`: expected `[GROUP]`, `[GROUP:vars]` or `[GROUP:children]`"
        )
    };
    let close = line.find(']').ok_or_else(bad)?;
    let after = line[close + 1..].trim();
    if !(after.is_empty() || after.starts_with('#') || after.starts_with(';')) {
        return Err(bad());
    }
    let inside = &line[1..close];
    let (name, kind) = inside.split_once(':').unwrap_or((inside, "hosts"));
    if name.is_empty() || name.contains(char::is_whitespace) {
        return Err(bad());
    }
    let name = name.to_string();
    match kind {
        "hosts" => Ok(Section::Hosts(name)),
        "vars" => Ok(Section::Vars(name)),
        "children" => Ok(Section::Children(name)),
        other => Err(format!(
            "section `[{inside}]` has an unknown kind `{other}`: expected `vars` or `children`"
        )),
    }
}

/// `NAME[:PORT] KEY=VALUE ...`; an error carries the column (from 0) of what is wrong.
fn host_line(inv: &mut Inventory, group: &str, line: &str) -> Result<(), (usize, String)> {
    let tokens = tokens(line).map_err(|m| (0, m))?;
    let Some(((_, pattern), rest)) = tokens.split_first() else {
        return Ok(());
    };
    let (pattern, port) = split_port(pattern);
    let mut vars = Vars::new();
    if let Some(port) = port {
        vars.insert("ansible_port".into(), Var::Int(port));
    }
    for (col, token) in rest {
        let Some((key, value)) = token.split_once('=') else {
            return Err((
                *col,
                format!("expected `KEY=VALUE` after host `{pattern}`, found `{token}`"),
            ));
        };
        vars.insert(key.to_string(), value_of(value));
    }
    let names = range::expand(pattern).map_err(|m| (0, format!("host `{pattern}`: {m}")))?;
    for name in names {
        inv.add_host(group, &name).extend(vars.clone());
    }
    Ok(())
}

/// `host:2222` names a port; an IPv6 address (more than one `:`) does not.
fn split_port(pattern: &str) -> (&str, Option<i64>) {
    match pattern.split_once(':') {
        Some((name, port))
            if !port.contains(':')
                && !port.is_empty()
                && port.bytes().all(|b| b.is_ascii_digit()) =>
        {
            (name, port.parse().ok())
        }
        _ => (pattern, None),
    }
}

/// `KEY=VALUE`, spaces allowed around `=`; the value is the rest of the line.
fn var_line(group: &mut super::model::Group, name: &str, line: &str) -> Result<(), String> {
    let Some((key, value)) = line.split_once('=') else {
        return Err(format!(
            "expected `KEY=VALUE` in `[{name}:vars]`, found `{line}`"
        ));
    };
    let value = value.trim();
    let unquoted = ['"', '\'']
        .iter()
        .find_map(|q| value.strip_prefix(*q).and_then(|v| v.strip_suffix(*q)));
    let var = match unquoted {
        Some(s) => Var::text(s),
        None => value_of(value),
    };
    group.vars.insert(key.trim().to_string(), var);
    Ok(())
}

fn child_line(inv: &mut Inventory, parent: &str, line: &str) -> Result<(), String> {
    let tokens = tokens(line)?;
    match &tokens[..] {
        [(_, child)] => {
            inv.add_child(parent, child);
            Ok(())
        }
        _ => Err(format!(
            "expected one group name per line in `[{parent}:children]`, found `{line}`"
        )),
    }
}

/// A value as Ansible's `literal_eval` reads it, as far as an import cares: an integer,
/// `True`/`False`, or text.
fn value_of(value: &str) -> Var {
    if let Ok(n) = value.parse::<i64>() {
        return Var::Int(n);
    }
    match value {
        "True" | "False" => Var::Other("a boolean"),
        _ => Var::text(value),
    }
}

/// Splits a line as `shlex` does (Ansible's own splitting): on whitespace, with quotes
/// grouping and taken off, `\` escaping outside single quotes, and a `#` that starts a
/// word starting a comment. Each word comes with its column (from 0).
fn tokens(line: &str) -> Result<Vec<(usize, String)>, String> {
    let mut out = Vec::new();
    let mut word: Option<(usize, String)> = None;
    let mut quote: Option<char> = None;
    let mut chars = line.char_indices();
    while let Some((i, c)) = chars.next() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some('"') | None, '\\') => {
                let next = chars.next().map_or('\\', |(_, n)| n);
                word.get_or_insert((i, String::new())).1.push(next);
            }
            (Some(_), c) => word.get_or_insert((i, String::new())).1.push(c),
            (None, '"' | '\'') => {
                quote = Some(c);
                word.get_or_insert((i, String::new()));
            }
            (None, c) if c.is_whitespace() => out.extend(word.take()),
            (None, '#') if word.is_none() => break,
            (None, c) => word.get_or_insert((i, String::new())).1.push(c),
        }
    }
    if let Some(q) = quote {
        return Err(format!("a quote {q} is not closed on this line"));
    }
    out.extend(word);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::super::model::Var;
    use super::*;

    #[test]
    fn sections_hosts_vars_and_children() {
        let inv = parse(
            "loose.example.com\n[web]\nweb[1:2] ansible_user=deploy # comment\n\
             [web:vars]\nansible_port = 2222\nnote = \"a b\"\n[site:children]  # c\nweb\n",
        )
        .expect("valid");
        assert!(inv.groups["ungrouped"].hosts.contains("loose.example.com"));
        assert_eq!(
            inv.groups["web"].hosts.iter().collect::<Vec<_>>(),
            ["web1", "web2"]
        );
        assert_eq!(
            inv.hosts["web2"]["ansible_user"],
            Var::Text("deploy".into())
        );
        assert_eq!(inv.groups["web"].vars["ansible_port"], Var::Int(2222));
        assert_eq!(inv.groups["web"].vars["note"], Var::Text("a b".into()));
        assert!(inv.groups["site"].children.contains("web"));
        let p = parse("[web]\nweb1 a=1 ; b=2\n").expect_err("`;` is a word on a host line");
        assert!(p[0].message.contains("found `;`"), "{}", p[0].message);
    }

    #[test]
    fn a_port_after_the_name_and_quoted_values() {
        let inv = parse("[db]\ndb1:2200 ansible_host=\"10.0.0.1\" x='a b' v=$ANSIBLE_VAULT;1.1\n")
            .expect("valid");
        let vars = &inv.hosts["db1"];
        assert_eq!(vars["ansible_port"], Var::Int(2200));
        assert_eq!(vars["ansible_host"], Var::Text("10.0.0.1".into()));
        assert_eq!(vars["x"], Var::Text("a b".into()));
        assert_eq!(vars["v"], Var::Vaulted);
    }

    #[test]
    fn mistakes_name_the_line_and_column() {
        for (text, line, col, says) in [
            ("[web\n", 1, 1, "invalid section header"),
            ("[web:hostvars]\n", 1, 1, "unknown kind `hostvars`"),
            ("[web]\n  web1 oops\n", 2, 8, "expected `KEY=VALUE`"),
            ("[web]\nweb1 a='open\n", 2, 1, "not closed"),
            ("[web:vars]\nnothing here\n", 2, 1, "expected `KEY=VALUE`"),
            ("[a:children]\nb c\n", 2, 1, "one group name per line"),
            ("[web]\nw[3:1]\n", 2, 1, "must not begin after it ends"),
        ] {
            let p = parse(text).expect_err(text);
            assert_eq!(
                p[0].at.map(|a| (a.line, a.column)),
                Some((line, col)),
                "{text}"
            );
            assert!(p[0].message.contains(says), "{text}: {}", p[0].message);
        }
    }
}
