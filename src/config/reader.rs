//! Reads TOML tables field by field, collecting every problem instead of stopping.
//!
//! serde's derive stops at the first error of a table and cannot suggest a close key.
//! This reader walks toml's spanned document instead: each accessor records the key as
//! known, checks the value's type, and on a mismatch pushes a diagnostic and carries on;
//! [`Fields::finish`] then reports every key nobody asked for, with "did you mean".

use std::borrow::Cow;
use std::time::Duration;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::diagnostic::{Diagnostic, Diagnostics, did_you_mean};
use super::duration;
use super::source::{FileId, Sp, Span};

/// The file being read and the list problems go to.
pub struct Cx<'d> {
    pub file: FileId,
    /// The file's text, to place errors inside string values.
    pub text: &'d str,
    pub diags: &'d mut Diagnostics,
}

impl Cx<'_> {
    pub fn span(&self, range: std::ops::Range<usize>) -> Span {
        Span::new(self.file, range)
    }

    pub fn error(&mut self, d: Diagnostic) {
        self.diags.push(d);
    }
}

type Value<'i> = Spanned<DeValue<'i>>;

/// The fields of one TOML table, read one key at a time.
pub struct Fields<'a, 'i> {
    table: &'a DeTable<'i>,
    /// Where the table is (its header, or the inline table).
    pub span: Span,
    /// What the table is, for messages: "step", "host `db-a1`", "[runbook]".
    what: String,
    known: Vec<&'static str>,
}

/// The TOML type name of a value, as a user reads it.
pub fn type_name(v: &DeValue<'_>) -> &'static str {
    match v {
        DeValue::String(_) => "a string",
        DeValue::Integer(_) => "an integer",
        DeValue::Float(_) => "a float",
        DeValue::Boolean(_) => "a boolean",
        DeValue::Datetime(_) => "a date-time",
        DeValue::Array(_) => "an array",
        DeValue::Table(_) => "a table",
    }
}

impl<'a, 'i> Fields<'a, 'i> {
    pub fn new(table: &'a DeTable<'i>, span: Span, what: impl Into<String>) -> Self {
        Fields {
            table,
            span,
            what: what.into(),
            known: Vec::new(),
        }
    }

    /// A table value as `Fields`, or an error saying a table was expected.
    pub fn of(cx: &mut Cx<'_>, v: &'a Value<'i>, what: impl Into<String>) -> Option<Self> {
        let what = what.into();
        match v.get_ref() {
            DeValue::Table(t) => Some(Fields::new(t, cx.span(v.span()), what)),
            other => {
                cx.error(
                    Diagnostic::error(cx.span(v.span()), format!("{what} must be a table"))
                        .with_label(format!("expected a table, found {}", type_name(other))),
                );
                None
            }
        }
    }

    pub fn what(&self) -> &str {
        &self.what
    }

    /// The raw value of `key`, marking the key as known.
    pub fn value(&mut self, key: &'static str) -> Option<&'a Value<'i>> {
        self.known.push(key);
        self.get(key)
    }

    /// A linear scan: tables read field by field hold a handful of keys, and comparing
    /// a few short strings is cheaper than hashing each key asked for.
    fn get(&self, key: &str) -> Option<&'a Value<'i>> {
        self.table
            .iter()
            .find(|(k, _)| k.get_ref().as_ref() == key)
            .map(|(_, v)| v)
    }

    /// The key's own span (for "defined here" and for keys that are names).
    pub fn has(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    fn type_error(&self, cx: &mut Cx<'_>, key: &str, v: &Value<'_>, expected: &str) {
        cx.error(
            Diagnostic::error(
                cx.span(v.span()),
                format!("`{key}` in {} must be {expected}", self.what),
            )
            .with_label(format!(
                "expected {expected}, found {}",
                type_name(v.get_ref())
            )),
        );
    }

    pub fn string(&mut self, cx: &mut Cx<'_>, key: &'static str) -> Option<Sp<String>> {
        let v = self.value(key)?;
        as_string(cx, v).or_else(|| {
            self.type_error(cx, key, v, "a string");
            None
        })
    }

    /// A string that must be present.
    pub fn required_string(&mut self, cx: &mut Cx<'_>, key: &'static str) -> Option<Sp<String>> {
        if !self.has(key) {
            self.missing(cx, key, "a string");
        }
        self.string(cx, key)
    }

    pub fn missing(&self, cx: &mut Cx<'_>, key: &str, expected: &str) {
        // `rot = "30m"` is reported as an unknown key with "did you mean `rto`?";
        // "missing `rto`" on top of it would only repeat the same mistake.
        let misspelt = self.table.iter().any(|(k, _)| {
            k.get_ref().as_ref() != key && did_you_mean(k.get_ref(), [key]).is_some()
        });
        if misspelt {
            return;
        }
        cx.error(
            Diagnostic::error(
                self.span.clone(),
                format!("{} is missing the required key `{key}`", self.what),
            )
            .with_label(format!("add `{key} = ...` ({expected}) here")),
        );
    }

    pub fn bool(&mut self, cx: &mut Cx<'_>, key: &'static str) -> Option<Sp<bool>> {
        let v = self.value(key)?;
        match v.get_ref() {
            DeValue::Boolean(b) => Some(Sp::new(*b, cx.span(v.span()))),
            _ => {
                self.type_error(cx, key, v, "true or false");
                None
            }
        }
    }

    /// An integer within `min..=max`.
    pub fn integer(
        &mut self,
        cx: &mut Cx<'_>,
        key: &'static str,
        min: i64,
        max: i64,
    ) -> Option<Sp<i64>> {
        let v = self.value(key)?;
        let n = match as_integer(v.get_ref()) {
            Some(n) => n,
            None => {
                self.type_error(cx, key, v, "an integer");
                return None;
            }
        };
        if n < min || n > max {
            let range = if max == i64::MAX {
                format!("at least {min}")
            } else {
                format!("from {min} to {max}")
            };
            cx.error(
                Diagnostic::error(
                    cx.span(v.span()),
                    format!("`{key}` in {} is out of range", self.what),
                )
                .with_label(format!("expected an integer {range}, found {n}")),
            );
            return None;
        }
        Some(Sp::new(n, cx.span(v.span())))
    }

    /// A duration string; `allow_zero` is false where zero would mean nothing.
    pub fn duration(
        &mut self,
        cx: &mut Cx<'_>,
        key: &'static str,
        allow_zero: bool,
    ) -> Option<Sp<Duration>> {
        let s = self.string(cx, key)?;
        match duration::parse(&s.value) {
            Ok(d) if d.is_zero() && !allow_zero => {
                cx.error(
                    Diagnostic::error(
                        s.span,
                        format!("`{key}` in {} must be longer than zero", self.what),
                    )
                    .with_label("expected a duration greater than zero"),
                );
                None
            }
            Ok(d) => Some(Sp::new(d, s.span)),
            Err(why) => {
                cx.error(
                    Diagnostic::error(
                        s.span,
                        format!("`{key}` in {} is not a valid duration: {why}", self.what),
                    )
                    .with_label(format!("expected {}", duration::EXPECTED)),
                );
                None
            }
        }
    }

    /// One of a fixed set of words.
    pub fn choice<T: Copy>(
        &mut self,
        cx: &mut Cx<'_>,
        key: &'static str,
        options: &[(&'static str, T)],
    ) -> Option<Sp<T>> {
        let s = self.string(cx, key)?;
        if let Some((_, t)) = options.iter().find(|(name, _)| *name == s.value) {
            return Some(Sp::new(*t, s.span));
        }
        let names: Vec<&str> = options.iter().map(|(n, _)| *n).collect();
        cx.error(
            Diagnostic::error(
                s.span.clone(),
                format!(
                    "`{key}` in {} has an unknown value `{}`",
                    self.what, s.value
                ),
            )
            .with_label(format!("expected {}", one_of(&names)))
            .suggest(&s.value, names.iter().copied()),
        );
        None
    }

    /// An array of strings.
    pub fn strings(&mut self, cx: &mut Cx<'_>, key: &'static str) -> Option<Sp<Vec<Sp<String>>>> {
        let v = self.value(key)?;
        let DeValue::Array(items) = v.get_ref() else {
            self.type_error(cx, key, v, "an array of strings");
            return None;
        };
        let mut out = Vec::new();
        for item in items.iter() {
            match as_string(cx, item) {
                Some(s) => out.push(s),
                None => cx.error(
                    Diagnostic::error(
                        cx.span(item.span()),
                        format!("`{key}` in {} must hold only strings", self.what),
                    )
                    .with_label(format!(
                        "expected a string, found {}",
                        type_name(item.get_ref())
                    )),
                ),
            }
        }
        Some(Sp::new(out, cx.span(v.span())))
    }

    /// A sub-table.
    pub fn table(
        &mut self,
        cx: &mut Cx<'_>,
        key: &'static str,
        what: impl Into<String>,
    ) -> Option<Fields<'a, 'i>> {
        let v = self.value(key)?;
        Fields::of(cx, v, what)
    }

    /// An array of tables (`[[services.db.stop]]`).
    pub fn tables(&mut self, cx: &mut Cx<'_>, key: &'static str) -> Vec<&'a Value<'i>> {
        let Some(v) = self.value(key) else {
            return Vec::new();
        };
        match v.get_ref() {
            DeValue::Array(items) => items.iter().collect(),
            _ => {
                self.type_error(cx, key, v, "an array of tables (`[[...]]`)");
                Vec::new()
            }
        }
    }

    /// Every entry of this table, for tables whose keys are names (`[hosts]`, `[vars]`).
    pub fn entries(&self) -> impl Iterator<Item = (&'a Spanned<Cow<'i, str>>, &'a Value<'i>)> {
        self.table.iter()
    }

    /// Reports every key that no accessor asked for.
    pub fn finish(self, cx: &mut Cx<'_>) {
        for (key, _) in self.table.iter() {
            let name: &str = key.get_ref();
            if self.known.contains(&name) {
                continue;
            }
            let mut known = self.known.clone();
            known.sort_unstable();
            known.dedup();
            let d = Diagnostic::error(
                cx.span(key.span()),
                format!("unknown key `{name}` in {}", self.what),
            )
            .suggest(name, known.iter().copied());
            let label = if d.help.is_some() {
                "unknown key".to_string()
            } else {
                format!("expected {}", one_of(&known))
            };
            cx.error(d.with_label(label));
        }
    }
}

pub fn as_string<'i>(cx: &Cx<'_>, v: &Value<'i>) -> Option<Sp<String>> {
    match v.get_ref() {
        DeValue::String(s) => Some(Sp::new(s.to_string(), cx.span(v.span()))),
        _ => None,
    }
}

pub fn as_integer(v: &DeValue<'_>) -> Option<i64> {
    match v {
        DeValue::Integer(i) => i64::from_str_radix(i.as_str(), i.radix()).ok(),
        _ => None,
    }
}

/// `` `a`, `b` or `c` `` / `` `a`, `b` and `c` ``.
fn join(names: &[&str], conjunction: &str) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
    match quoted.len() {
        0 => "nothing".into(),
        1 => quoted[0].clone(),
        n => format!(
            "{} {conjunction} {}",
            quoted[..n - 1].join(", "),
            quoted[n - 1]
        ),
    }
}

/// "`a`" for one name, "one of `a`, `b` or `c`" for several: what an "expected" label says.
pub fn one_of(names: &[&str]) -> String {
    match names.len() {
        0 | 1 => join(names, "or"),
        _ => format!("one of {}", join(names, "or")),
    }
}

/// "`a`, `b` or `c`".
pub fn list_or(names: &[&str]) -> String {
    join(names, "or")
}

/// "`a`, `b` and `c`".
pub fn list_and(names: &[&str]) -> String {
    join(names, "and")
}
