//! `{{placeholder}}` templates in step strings: parsing, checking and rendering.
//!
//! A template is parsed once while loading, so an unknown placeholder is an error with
//! its exact position. Rendering takes a [`Resolve`] that says what each placeholder is
//! worth; in `run` and `local` commands values are shell-quoted, and secrets can render
//! as `[REDACTED:NAME]` wherever the text is meant for people rather than hosts.
//! That quoting holds only where `sh` reads a value as a bare word, so a command's
//! placeholders that may be quoted must not sit inside the author's own quotes
//! ([`Template::misquoted`]).

use std::collections::BTreeMap;
use std::fmt;

use super::diagnostic::Diagnostic;
use super::reader::Cx;
use super::shell::{Quote, Scanner};
use super::source::{Sp, Span};

/// The names a template may use.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Placeholder {
    HostName,
    HostAddress,
    HostHall,
    Source,
    Target,
    Service,
    Runbook,
    Mode,
    /// `{{run.id}}`: the run folder's name; valid in every step string.
    RunId,
    /// `{{canary.seq}}`: the sequence number of a canary write; valid only in a
    /// canary's `write` (see [`Template::parse_canary_write`]).
    CanarySeq,
    Var(String),
    Secret(String),
}

impl Placeholder {
    pub fn uses_host(&self) -> bool {
        matches!(
            self,
            Placeholder::HostName | Placeholder::HostAddress | Placeholder::HostHall
        )
    }

    /// Why the value may need shell quoting, or `None` when it never does: names of hosts,
    /// halls, services and the runbook, `mode` and host addresses are validated to
    /// characters that need none. `vars` holds every variable's value.
    pub fn may_need_quoting(&self, vars: &BTreeMap<String, String>) -> Option<String> {
        match self {
            Placeholder::HostName
            | Placeholder::HostAddress
            | Placeholder::HostHall
            | Placeholder::Source
            | Placeholder::Target
            | Placeholder::Service
            | Placeholder::Runbook
            | Placeholder::Mode
            | Placeholder::RunId
            | Placeholder::CanarySeq => None,
            Placeholder::Var(name) => {
                let why = match vars.get(name)? {
                    v if v.is_empty() => "is empty".to_string(),
                    v => format!("has {}", show(v.chars().find(|c| !is_safe(*c))?)),
                };
                Some(format!(
                    "the value of `vars.{name}` {why}, so switchyard quotes it"
                ))
            }
            Placeholder::Secret(_) => {
                Some("a secret's value is read only at run time, so switchyard may quote it".into())
            }
        }
    }
}

impl fmt::Display for Placeholder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Placeholder::Var(name) => write!(f, "vars.{name}"),
            Placeholder::Secret(name) => write!(f, "secrets.{name}"),
            fixed => {
                let name = FIXED.iter().find(|(_, p)| p == fixed).map(|(n, _)| *n);
                f.write_str(name.unwrap_or_default())
            }
        }
    }
}

const FIXED: &[(&str, Placeholder)] = &[
    ("host.name", Placeholder::HostName),
    ("host.address", Placeholder::HostAddress),
    ("host.hall", Placeholder::HostHall),
    ("source", Placeholder::Source),
    ("target", Placeholder::Target),
    ("service", Placeholder::Service),
    ("runbook", Placeholder::Runbook),
    ("mode", Placeholder::Mode),
    ("run.id", Placeholder::RunId),
    ("canary.seq", Placeholder::CanarySeq),
];

#[derive(Clone, Debug)]
pub enum Part {
    Text(String),
    Value(Placeholder, Span),
}

/// A placeholder of a command whose value may be quoted, where `sh` would not read it
/// as a bare word.
#[derive(Debug)]
pub struct Misquoted<'t> {
    pub placeholder: &'t Placeholder,
    pub span: &'t Span,
    pub quote: Quote,
    /// Why its value may need quoting.
    pub why: String,
}

/// A parsed template string.
#[derive(Clone, Debug)]
pub struct Template {
    /// The string as written.
    pub text: String,
    pub parts: Vec<Part>,
    pub span: Span,
}

/// What a placeholder stands for when rendering.
pub enum Resolved<'a> {
    Text(std::borrow::Cow<'a, str>),
    /// A secret that must not be shown: rendered as `[REDACTED:NAME]`.
    Redacted(&'a str),
}

pub trait Resolve {
    fn resolve<'s>(&'s self, p: &'s Placeholder) -> Resolved<'s>;
}

impl Template {
    /// Parses `s`, pushing an error for each malformed or unknown placeholder.
    pub fn parse(cx: &mut Cx<'_>, s: &Sp<String>) -> Template {
        Template::parse_with(cx, s, false)
    }

    /// Parses a canary's `write`, the one string where `{{canary.seq}}` is valid.
    pub fn parse_canary_write(cx: &mut Cx<'_>, s: &Sp<String>) -> Template {
        Template::parse_with(cx, s, true)
    }

    fn parse_with(cx: &mut Cx<'_>, s: &Sp<String>, canary_write: bool) -> Template {
        let map = SpanMap::new(cx.text, &s.span, &s.value);
        let text = s.value.as_str();
        let mut parts = Vec::new();
        let mut literal = String::new();
        let mut i = 0;
        while i < text.len() {
            let rest = &text[i..];
            if rest.starts_with("{{{{") {
                literal.push_str("{{");
                i += 4;
            } else if rest.starts_with("}}}}") {
                literal.push_str("}}");
                i += 4;
            } else if let Some(after) = rest.strip_prefix("{{") {
                let Some(close) = after.find("}}") else {
                    cx.error(
                        Diagnostic::error(map.span(i..text.len()), "unclosed `{{` in template")
                            .with_label("expected `}}` to close this placeholder")
                            .with_help("write a literal `{{` as `{{{{`"),
                    );
                    break;
                };
                let inner = &after[..close];
                let span = map.span(i..i + close + 4);
                if let Some(p) = placeholder(cx, inner.trim(), &span, canary_write) {
                    if !literal.is_empty() {
                        parts.push(Part::Text(std::mem::take(&mut literal)));
                    }
                    parts.push(Part::Value(p, span));
                }
                i += close + 4;
            } else {
                let c = rest.chars().next().unwrap_or(' ');
                literal.push(c);
                i += c.len_utf8();
            }
        }
        if !literal.is_empty() {
            parts.push(Part::Text(literal));
        }
        Template {
            text: s.value.clone(),
            parts,
            span: s.span.clone(),
        }
    }

    pub fn placeholders(&self) -> impl Iterator<Item = (&Placeholder, &Span)> {
        self.parts.iter().filter_map(|p| match p {
            Part::Value(p, s) => Some((p, s)),
            Part::Text(_) => None,
        })
    }

    pub fn uses_host(&self) -> bool {
        self.placeholders().any(|(p, _)| p.uses_host())
    }

    /// For a `run` or `local` command: the placeholders whose values switchyard may quote
    /// but that sit inside the author's quotes (or after a `\`, in a comment or in a
    /// here-document), where our quotes would close the author's or be text. Values that
    /// never need quoting may sit anywhere: nothing is added to them.
    pub fn misquoted(&self, vars: &BTreeMap<String, String>) -> Vec<Misquoted<'_>> {
        let mut scan = Scanner::default();
        let mut out = Vec::new();
        for part in &self.parts {
            match part {
                Part::Text(t) => scan.text(t),
                Part::Value(placeholder, span) => {
                    if let Some(quote) = scan.quote()
                        && let Some(why) = placeholder.may_need_quoting(vars)
                    {
                        out.push(Misquoted {
                            placeholder,
                            span,
                            quote,
                            why,
                        });
                    }
                    scan.value();
                }
            }
        }
        out
    }

    /// The template with every placeholder resolved. With `shell`, values that are not
    /// plainly safe words are single-quoted for `sh`.
    pub fn render(&self, r: &dyn Resolve, shell: bool) -> String {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Text(t) => out.push_str(t),
                Part::Value(p, _) => match r.resolve(p) {
                    Resolved::Text(v) if shell => out.push_str(&shell_quote(&v)),
                    Resolved::Text(v) => out.push_str(&v),
                    Resolved::Redacted(name) => {
                        out.push_str("[REDACTED:");
                        out.push_str(name);
                        out.push(']');
                    }
                },
            }
        }
        out
    }
}

fn placeholder(
    cx: &mut Cx<'_>,
    name: &str,
    span: &Span,
    canary_write: bool,
) -> Option<Placeholder> {
    if let Some((_, p)) = FIXED.iter().find(|(n, _)| *n == name) {
        if *p == Placeholder::CanarySeq && !canary_write {
            cx.error(
                Diagnostic::error(
                    span.clone(),
                    "`{{canary.seq}}` is valid only in a canary's `write`",
                )
                .with_label("there is no canary write here to number")
                .with_help("use it in `write` of `[services.NAME.canary]`"),
            );
            return None;
        }
        return Some(p.clone());
    }
    for (prefix, make) in [
        ("vars.", Placeholder::Var as fn(String) -> Placeholder),
        ("secrets.", Placeholder::Secret),
    ] {
        if let Some(rest) = name.strip_prefix(prefix)
            && !rest.is_empty()
        {
            return Some(make(rest.to_string()));
        }
    }
    let known: Vec<&str> = FIXED
        .iter()
        .map(|(n, _)| *n)
        .filter(|n| canary_write || *n != "canary.seq")
        .chain(["vars.NAME", "secrets.NAME"])
        .collect();
    cx.error(
        Diagnostic::error(
            span.clone(),
            format!("unknown placeholder `{{{{{name}}}}}`"),
        )
        .with_label(format!("expected {}", super::reader::one_of(&known)))
        .suggest(name, known.iter().copied()),
    );
    None
}

/// A character that `sh` reads as itself anywhere in a word.
fn is_safe(c: char) -> bool {
    c.is_ascii_alphanumeric() || "_./:@%+=,-".contains(c)
}

/// A character as a message shows it.
fn show(c: char) -> String {
    match c {
        ' ' => "a space".into(),
        c if c.is_control() => format!("`{}`", c.escape_debug()),
        c => format!("`{c}`"),
    }
}

/// Quotes `s` for `sh` unless it consists only of characters that need no quoting.
pub fn shell_quote(s: &str) -> String {
    if !s.is_empty() && s.chars().all(is_safe) {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// Maps offsets in a string's value back to the file, when the value was written without
/// escapes; otherwise every position maps to the whole string.
struct SpanMap {
    whole: Span,
    inner_start: Option<usize>,
}

impl SpanMap {
    fn new(text: &str, span: &Span, value: &str) -> Self {
        let raw = text.get(span.range.clone()).unwrap_or("");
        let delim = ["\"\"\"", "'''", "\"", "'"]
            .into_iter()
            .find(|d| raw.starts_with(d) && raw.len() >= 2 * d.len())
            .map_or(0, str::len);
        let inner = &raw[delim..raw.len() - delim];
        SpanMap {
            whole: span.clone(),
            inner_start: (delim > 0 && inner == value).then_some(span.range.start + delim),
        }
    }

    fn span(&self, r: std::ops::Range<usize>) -> Span {
        match self.inner_start {
            Some(start) => Span::new(self.whole.file, start + r.start..start + r.end),
            None => self.whole.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::diagnostic::Diagnostics;
    use crate::config::ids::{is_address, is_host_name, is_simple_name};
    use crate::config::source::Sources;

    /// The placeholders of `command` reported as misquoted, with `vars`.
    fn misquoted(command: &str, vars: &[(&str, &str)]) -> Vec<(String, Quote)> {
        let mut sources = Sources::default();
        let file = sources.add("t.toml".into(), String::new());
        let mut diags = Diagnostics::default();
        let mut cx = Cx {
            file,
            text: "",
            diags: &mut diags,
        };
        let t = Template::parse(&mut cx, &Sp::new(command.into(), Span::new(file, 0..0)));
        assert!(!diags.has_errors(), "{command}");
        let vars = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        t.misquoted(&vars)
            .into_iter()
            .map(|m| (m.placeholder.to_string(), m.quote))
            .collect()
    }

    #[test]
    fn values_that_may_need_quoting_must_not_sit_in_quotes() {
        let vars = [("v", "it's"), ("empty", ""), ("port", "5432")];
        assert_eq!(
            misquoted("echo '{{vars.v}}' \"{{secrets.pw}}\"", &vars),
            [
                ("vars.v".to_string(), Quote::Single),
                ("secrets.pw".to_string(), Quote::Double)
            ]
        );
        assert_eq!(
            misquoted("echo \"x{{vars.empty}}\"", &vars),
            [("vars.empty".to_string(), Quote::Double)]
        );
        assert_eq!(misquoted("echo {{vars.v}} {{secrets.pw}}", &vars), []);
    }

    #[test]
    fn values_that_never_need_quoting_may_sit_in_quotes() {
        let vars = [("port", "5432")];
        let command = "psql -c 'insert into t values ({{vars.port}}, {{host.name}})' \
            \"{{host.address}} {{host.hall}} {{source}} {{target}} {{service}} {{runbook}} {{mode}}\"";
        assert_eq!(misquoted(command, &vars), []);
    }

    /// What validation allows in names and addresses never needs quoting, so placeholders
    /// for them may sit inside quotes.
    #[test]
    fn validated_names_and_addresses_need_no_quoting() {
        for c in (0..=0x7f_u8).map(char::from) {
            let s = format!("a{c}");
            if is_host_name(&s) || is_simple_name(&s) || is_address(&s) {
                assert_eq!(shell_quote(&s), s, "{c:?}");
            }
        }
        assert!(!is_address("-oProxyCommand=x"));
        assert!(is_address("fe80::1%eth0"));
    }

    #[test]
    fn quotes_only_what_needs_it() {
        assert_eq!(shell_quote("db-b1.example:5432"), "db-b1.example:5432");
        assert_eq!(shell_quote("a b"), "'a b'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
        assert_eq!(shell_quote(""), "''");
        assert_eq!(shell_quote("$(rm -rf /)"), "'$(rm -rf /)'");
    }
}
