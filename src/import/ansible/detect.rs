//! Which of Ansible's formats a file is, from its content alone (Ansible itself tries
//! its plugins in turn; an extension says little: `hosts` has none). A script is told
//! apart first: its JSON is what `ansible-inventory` prints, never the script itself.

use super::problem::{Problem, dynamic};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Ini,
    Yaml,
    Json,
}

impl Format {
    /// How the output's first comment names it.
    pub fn name(self) -> &'static str {
        match self {
            Format::Ini => "INI",
            Format::Yaml => "YAML",
            Format::Json => "JSON",
        }
    }
}

/// JSON starts with `{`; INI's first line that is not blank or a comment is a
/// `[section]`, a `;` comment or a host line; YAML's is a `---`, or a `key:` that ends the
/// line or is followed by a space (`host:2222` is an INI host with a port).
pub fn detect(file: &str, text: &str) -> Result<Format, Problem> {
    if text.starts_with("#!") {
        return Err(dynamic(file, "this is a script (it starts with `#!`)"));
    }
    if text.trim_start().starts_with('{') {
        return Ok(Format::Json);
    }
    let first = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#'));
    Ok(match first {
        Some(l) if l.starts_with('[') || l.starts_with(';') => Format::Ini,
        Some(l) if l.starts_with("---") || l.starts_with("%YAML") => Format::Yaml,
        Some(l) if l.ends_with(':') || l.contains(": ") => Format::Yaml,
        // Nothing but comments: read as INI, which makes it an empty inventory.
        _ => Format::Ini,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_format_by_its_content() {
        for (text, format) in [
            ("  {\"all\": {}}", Format::Json),
            ("# c\n[web]\nweb1\n", Format::Ini),
            ("web1:2222 ansible_user=x\n", Format::Ini),
            ("; c\nweb1\n", Format::Ini),
            ("# c\n\nall:\n  hosts:\n", Format::Yaml),
            ("---\nall: {}\n", Format::Yaml),
            ("plugin: aws_ec2\n", Format::Yaml),
            ("", Format::Ini),
        ] {
            assert_eq!(detect("f", text), Ok(format), "{text}");
        }
    }

    #[test]
    fn a_script_is_refused_with_the_way_out() {
        let p = detect("inv.py", "#!/usr/bin/env python3\nprint('{}')\n").expect_err("a script");
        assert!(
            p.message.contains("ansible-inventory -i inv.py --list"),
            "{}",
            p.message
        );
    }
}
