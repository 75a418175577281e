//! Problems found in input files, and how they are shown.
//!
//! Loading never stops at the first mistake: every pass pushes what it finds into a
//! [`Diagnostics`] list, and the user sees all of them at once, each rendered the way
//! compilers do it (`path:line:col`, the source line, a caret under the offending part,
//! what was expected, and a "did you mean" when a known name is close).

use std::fmt::Write as _;

use super::source::{Sources, Span, floor_char_boundary, line_col};

/// A secondary place that helps explain a problem ("first defined here").
#[derive(Clone, Debug)]
pub struct Note {
    pub span: Span,
    pub text: String,
}

/// One problem in the input.
#[derive(Clone, Debug)]
pub struct Diagnostic {
    pub message: String,
    /// Where the problem is; `None` for problems of a file as a whole that has no text.
    pub span: Option<Span>,
    /// Shown under the caret: usually what was expected.
    pub label: String,
    pub notes: Vec<Note>,
    pub help: Option<String>,
}

impl Diagnostic {
    pub fn error(span: Span, message: impl Into<String>) -> Self {
        Diagnostic {
            span: Some(span),
            ..Diagnostic::global(message)
        }
    }

    /// An error that belongs to no place in any file (a missing file, say).
    pub fn global(message: impl Into<String>) -> Self {
        Diagnostic {
            message: message.into(),
            span: None,
            label: String::new(),
            notes: Vec::new(),
            help: None,
        }
    }

    pub fn with_label(mut self, label: impl Into<String>) -> Self {
        self.label = label.into();
        self
    }

    pub fn with_note(mut self, span: Span, text: impl Into<String>) -> Self {
        self.notes.push(Note {
            span,
            text: text.into(),
        });
        self
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Adds "did you mean `x`?" when one of `known` is close to `found`.
    pub fn suggest<'a>(mut self, found: &str, known: impl IntoIterator<Item = &'a str>) -> Self {
        if let Some(best) = did_you_mean(found, known) {
            self.help = Some(format!("did you mean `{best}`?"));
        }
        self
    }
}

/// The known name closest to `found`, if it is close enough to be a likely typo and
/// no other name is just as close.
pub fn did_you_mean<'a>(found: &str, known: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let found_lower = found.to_lowercase();
    let mut scored: Vec<(usize, &str)> = known
        .into_iter()
        .map(|k| {
            (
                strsim::damerau_levenshtein(&found_lower, &k.to_lowercase()),
                k,
            )
        })
        // Close, but with something in common: `x` is no typo of `a`.
        .filter(|(d, k)| {
            let len = k.chars().count().max(found.chars().count());
            *d <= (len / 3).max(1) && *d < len
        })
        .collect();
    scored.sort_unstable();
    scored.dedup();
    match scored[..] {
        [(d, best), (d2, _), ..] if d == d2 && best.to_lowercase() != found_lower => None,
        [(_, best), ..] => Some(best),
        [] => None,
    }
}

/// All problems found while loading, in the order they were found.
#[derive(Debug, Default)]
pub struct Diagnostics {
    items: Vec<Diagnostic>,
}

impl Diagnostics {
    pub fn push(&mut self, d: Diagnostic) {
        self.items.push(d);
    }

    pub fn has_errors(&self) -> bool {
        !self.items.is_empty()
    }

    pub fn error_count(&self) -> usize {
        self.items.len()
    }

    pub fn extend(&mut self, other: Diagnostics) {
        self.items.extend(other.items);
    }

    /// Drops repeats of a problem at the same place: a file that several runbooks of a
    /// site name may be checked for more than one of them, and its problems are shown once.
    pub fn dedup(&mut self) {
        let mut seen = std::collections::HashSet::new();
        self.items.retain(|d| {
            let at = d.span.as_ref().map(|s| (s.file, s.range.clone()));
            seen.insert((d.message.clone(), at, d.label.clone()))
        });
    }

    /// The problems sorted by file and position, so the output reads top to bottom.
    pub fn sorted(&self) -> Vec<&Diagnostic> {
        let mut v: Vec<&Diagnostic> = self.items.iter().collect();
        v.sort_by_key(|d| {
            d.span
                .as_ref()
                .map(|s| (s.file, s.range.start, s.range.end))
        });
        v
    }
}

/// Renders one diagnostic as text, rustc style.
pub fn render(sources: &Sources, d: &Diagnostic) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "error: {}", d.message);
    if let Some(span) = &d.span {
        render_snippet(&mut out, sources, span, &d.label, "-->");
    } else if !d.label.is_empty() {
        let _ = writeln!(out, "  = {}", d.label);
    }
    for note in &d.notes {
        render_snippet(&mut out, sources, &note.span, &note.text, "::: note");
    }
    if let Some(help) = &d.help {
        let _ = writeln!(out, "  = help: {help}");
    }
    out
}

fn render_snippet(out: &mut String, sources: &Sources, span: &Span, label: &str, arrow: &str) {
    let file = sources.file(span.file);
    let text = &file.text;
    let start = floor_char_boundary(text, span.range.start.min(text.len()));
    let lc = line_col(text, start);
    let _ = writeln!(
        out,
        "  {arrow} {}:{}:{}",
        file.path.display(),
        lc.line,
        lc.col
    );
    let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
    let line_end = text[start..].find('\n').map_or(text.len(), |i| start + i);
    let line = text[line_start..line_end].trim_end_matches('\r');
    let end = floor_char_boundary(text, span.range.end.min(line_start + line.len()));
    let gutter = lc.line.to_string().len();
    let pad = text[line_start..start]
        .chars()
        .map(width_of)
        .collect::<String>();
    let carets = text[start..end.max(start)].chars().count().max(1);
    let _ = writeln!(out, "{:gutter$} |", "");
    let _ = writeln!(out, "{} | {}", lc.line, printable(line));
    let marker = format!("{pad}{} {label}", "^".repeat(carets));
    let _ = writeln!(out, "{:gutter$} | {}", "", marker.trim_end());
}

/// Keeps the caret under the right character when the line has tabs.
fn width_of(c: char) -> char {
    if c == '\t' { '\t' } else { ' ' }
}

/// Control characters would garble the terminal; show them escaped.
fn printable(line: &str) -> String {
    line.chars()
        .map(|c| {
            if c.is_control() && c != '\t' {
                char::REPLACEMENT_CHARACTER
            } else {
                c
            }
        })
        .collect()
}

/// Renders all diagnostics followed by a one-line count.
pub fn render_all(sources: &Sources, diags: &Diagnostics) -> String {
    let mut out = String::new();
    for d in diags.sorted() {
        out.push_str(&render(sources, d));
        out.push('\n');
    }
    let n = diags.error_count();
    if n > 0 {
        let _ = writeln!(out, "{n} error{} found", if n == 1 { "" } else { "s" });
    }
    out
}
