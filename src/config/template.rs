//! `{{placeholder}}` templates in step strings: parsing, checking and rendering.
//!
//! A template is parsed once while loading, so an unknown placeholder is an error with
//! its exact position. Rendering takes a [`Resolve`] that says what each placeholder is
//! worth; in `run` and `local` commands values are shell-quoted, and secrets can render
//! as `[REDACTED:NAME]` wherever the text is meant for people rather than hosts.

use super::diagnostic::Diagnostic;
use super::reader::Cx;
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
];

#[derive(Clone, Debug)]
pub enum Part {
    Text(String),
    Value(Placeholder, Span),
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
                if let Some(p) = placeholder(cx, inner.trim(), &span) {
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

fn placeholder(cx: &mut Cx<'_>, name: &str, span: &Span) -> Option<Placeholder> {
    if let Some((_, p)) = FIXED.iter().find(|(n, _)| *n == name) {
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

/// Quotes `s` for `sh` unless it consists only of characters that need no quoting.
pub fn shell_quote(s: &str) -> String {
    let safe = |c: char| c.is_ascii_alphanumeric() || "_./:@%+=,-".contains(c);
    if !s.is_empty() && s.chars().all(safe) {
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

    #[test]
    fn quotes_only_what_needs_it() {
        assert_eq!(shell_quote("db-b1.example:5432"), "db-b1.example:5432");
        assert_eq!(shell_quote("a b"), "'a b'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
        assert_eq!(shell_quote(""), "''");
        assert_eq!(shell_quote("$(rm -rf /)"), "'$(rm -rf /)'");
    }
}
