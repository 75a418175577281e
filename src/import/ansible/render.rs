//! The switchyard inventory TOML an import writes: a comment saying where it came from,
//! the halls, then the hosts by name. Nothing in it depends on the time or the machine,
//! so importing the same inventory twice gives the same bytes, and the same inventory
//! written in INI, YAML or JSON differs only in the `# Source:` line.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::detect::Format;
use super::resolve::{HallGroup, Host};

pub fn render(file: &str, format: Format, halls: &[HallGroup], hosts: &[Host]) -> String {
    let mut by_hall: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for h in halls {
        let groups = by_hall.entry(&h.hall).or_default();
        if !groups.contains(&h.group.as_str()) {
            groups.push(&h.group);
        }
    }
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# A switchyard inventory imported from an Ansible inventory by switchyard {}\n\
         # (`switchyard import-inventory ansible`, docs/ansible.md): import it again rather than edit it.\n\
         # Source: {file} ({})\n\
         # Halls: {}",
        env!("CARGO_PKG_VERSION"),
        format.name(),
        halls
            .iter()
            .map(|h| format!("group {} -> hall {}", h.group, h.hall))
            .collect::<Vec<_>>()
            .join(", ")
    );
    for (hall, groups) in &by_hall {
        let _ = write!(
            out,
            "\n[halls.{}]\ndescription = {}\n",
            key(hall),
            string(&format!("Ansible group {}", groups.join(", ")))
        );
    }
    out.push_str(
        "\n# No [ssh] table: switchyard's defaults are Ansible's (port 22, the local user, keys from\n\
         # ssh-agent or ~/.ssh), and host keys are checked strictly against ~/.ssh/known_hosts,\n\
         # which must hold every host's key before a run (docs/runbook-format.md, [ssh]).\n",
    );
    for h in hosts {
        let _ = write!(
            out,
            "\n[hosts.{}]\naddress = {}\nhall = {}\n",
            key(&h.name),
            string(&h.address),
            string(&h.hall)
        );
        if h.local {
            out.push_str("transport = \"local\"\n");
        }
        if let Some(port) = h.port {
            let _ = writeln!(out, "port = {port}");
        }
        if let Some(user) = &h.user {
            let _ = writeln!(out, "user = {}", string(user));
        }
        let tags: Vec<String> = h.tags.iter().map(|t| string(t)).collect();
        let _ = writeln!(out, "tags = [{}]", tags.join(", "));
    }
    out
}

/// A table name: bare when TOML allows it, else quoted (`"web1.example.com"`).
fn key(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        s.to_string()
    } else {
        string(s)
    }
}

/// A TOML basic string.
fn string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04X}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_strings_are_quoted_as_toml_needs() {
        assert_eq!(key("web-1_a"), "web-1_a");
        assert_eq!(key("web1.example.com"), "\"web1.example.com\"");
        assert_eq!(string("a\"b\\c\n"), "\"a\\\"b\\\\c\\u000A\"");
    }
}
