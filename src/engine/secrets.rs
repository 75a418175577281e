//! Secrets: read once when a run starts, handed to the commands that use them, and
//! replaced by `[REDACTED:NAME]` in every byte switchyard prints or writes.

use std::collections::BTreeMap;

use crate::config::runbook::{Runbook, SecretSource};
use crate::config::template::shell_quote;
use crate::transport::Captured;
use crate::transport::capture::cut_marker;

/// The secrets' values, per origin of the runbook (a site's runbooks each have theirs).
pub type Values = Vec<BTreeMap<String, String>>;

/// Reads every secret of every origin; an error names the secret, where it was looked
/// for and, in a site, its runbook.
pub fn resolve_all(rb: &Runbook) -> Result<Values, String> {
    rb.origins
        .iter()
        .map(|o| {
            resolve(&o.secrets).map_err(|e| {
                if rb.site {
                    format!("runbook `{}`: {e}", o.name)
                } else {
                    e
                }
            })
        })
        .collect()
}

/// Reads every secret of a runbook; an error names the secret and where it was looked for.
pub fn resolve(
    secrets: &BTreeMap<String, SecretSource>,
) -> Result<BTreeMap<String, String>, String> {
    let mut out = BTreeMap::new();
    for (name, source) in secrets {
        let value = match source {
            SecretSource::Env(var) => std::env::var(var).map_err(|_| {
                format!("secret `{name}`: the environment variable `{var}` is not set")
            })?,
            SecretSource::File(path) => {
                let text = std::fs::read_to_string(path).map_err(|e| {
                    format!("secret `{name}`: cannot read `{}`: {e}", path.display())
                })?;
                text.strip_suffix('\n')
                    .map(|t| t.strip_suffix('\r').unwrap_or(t))
                    .unwrap_or(&text)
                    .to_string()
            }
        };
        if value.is_empty() {
            return Err(format!("secret `{name}` is empty"));
        }
        out.insert(name.clone(), value);
    }
    Ok(out)
}

/// Replaces every secret value with `[REDACTED:NAME]`, in every form it can take in
/// what switchyard writes: as read, shell-quoted (a substituted command), and escaped as
/// Rust's `{:?}` and JSON escape it (a message that quotes an expected text).
#[derive(Clone, Debug, Default)]
pub struct Redactor {
    /// Longest first, so a value that contains another is replaced whole.
    needles: Vec<(String, String)>,
}

impl Redactor {
    pub fn new<'v>(values: impl IntoIterator<Item = (&'v String, &'v String)>) -> Redactor {
        let mut needles = Vec::new();
        for (name, value) in values {
            let marker = format!("[REDACTED:{name}]");
            let debug = format!("{value:?}");
            let json = serde_json::Value::from(value.as_str()).to_string();
            for form in [
                value.clone(),
                shell_quote(value),
                debug[1..debug.len() - 1].to_string(),
                json[1..json.len() - 1].to_string(),
            ] {
                needles.push((form, marker.clone()));
            }
        }
        needles.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then_with(|| a.0.cmp(&b.0)));
        needles.dedup_by(|a, b| a.0 == b.0);
        Redactor { needles }
    }

    pub fn redact(&self, text: &str) -> String {
        let mut out = text.to_string();
        for (needle, marker) in &self.needles {
            if out.contains(needle.as_str()) {
                out = out.replace(needle.as_str(), marker);
            }
        }
        out
    }

    /// A command's captured output as it is written: redacted whole, and where bytes
    /// were cut from its middle, any piece of a secret the cut left at either edge is
    /// removed too (a whole secret is redacted; half of one would still be read).
    pub fn output(&self, c: &Captured) -> String {
        let (head, cut, tail) = c.parts();
        if cut == 0 {
            return self.redact(&(head + &tail));
        }
        let head = self.redact(&head);
        let tail = self.redact(&tail);
        let head_keep = head.len() - self.partial(&head, longest_end_in);
        let tail_from = self.partial(&tail, longest_start_in);
        format!(
            "{}{}{}",
            &head[..head_keep],
            cut_marker(cut),
            &tail[tail_from..]
        )
    }

    /// The longest piece of any needle that `piece` finds at an edge of `text`.
    fn partial(&self, text: &str, piece: impl Fn(&str, &str) -> usize) -> usize {
        self.needles
            .iter()
            .map(|(n, _)| piece(text, n))
            .max()
            .unwrap_or(0)
    }
}

/// The length of the longest end of `text` that begins `needle` (and is shorter than it).
fn longest_end_in(text: &str, needle: &str) -> usize {
    (1..needle.len())
        .rev()
        .find(|&k| needle.is_char_boundary(k) && text.ends_with(&needle[..k]))
        .unwrap_or(0)
}

/// The length of the longest start of `text` that ends `needle` (and is shorter than it).
fn longest_start_in(text: &str, needle: &str) -> usize {
    (1..needle.len())
        .rev()
        .find(|&k| {
            let from = needle.len() - k;
            needle.is_char_boundary(from) && text.starts_with(&needle[from..])
        })
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_plain_and_quoted_forms() {
        let values = BTreeMap::from([("pw".to_string(), "it's secret".to_string())]);
        let r = Redactor::new(&values);
        assert_eq!(
            r.redact("PGPASSWORD='it'\\''s secret' psql"),
            "PGPASSWORD=[REDACTED:pw] psql"
        );
        assert_eq!(r.redact("echo it's secret"), "echo [REDACTED:pw]");
    }

    #[test]
    fn redacts_escaped_forms() {
        let values = BTreeMap::from([("pw".to_string(), r#"Pa"ss\Word42"#.to_string())]);
        let r = Redactor::new(&values);
        let want = r#"Pa"ss\Word42"#;
        assert_eq!(
            r.redact(&format!("stdout does not contain {want:?}")),
            "stdout does not contain \"[REDACTED:pw]\""
        );
        let json = serde_json::json!({ "m": want }).to_string();
        assert_eq!(r.redact(&json), r#"{"m":"[REDACTED:pw]"}"#);
    }

    #[test]
    fn a_secret_cut_in_two_by_the_output_bound_leaves_no_piece() {
        use crate::transport::capture::KEEP;
        let secret = "TOKEN1234567890";
        let r = Redactor::new(&BTreeMap::from([("t".to_string(), secret.to_string())]));
        // The head ends with the secret's first 7 bytes, the tail starts with its last 8.
        let mut c = Captured::default();
        c.push(&vec![b'a'; KEEP - 7]);
        c.push(secret.as_bytes());
        c.push(&vec![b'b'; 1000]);
        c.push(secret.as_bytes());
        c.push(&vec![b'c'; KEEP - 8]);
        let mut c2 = Captured::default();
        c2.push(&vec![b'a'; KEEP - 7]);
        c2.push(&secret.as_bytes()[..7]);
        c2.push(&vec![b'b'; 1000]);
        c2.push(&secret.as_bytes()[7..]);
        c2.push(&vec![b'c'; KEEP - 8]);
        for c in [c, c2] {
            let out = r.output(&c);
            for piece in ["TOKEN12", "4567890", "OKEN", "7890"] {
                assert!(!out.contains(piece), "{piece} left in the output");
            }
            assert!(out.contains("bytes cut by switchyard"));
        }
    }
}
