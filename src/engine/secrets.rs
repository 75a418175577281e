//! Secrets: read once when a run starts, handed to the commands that use them, and
//! replaced by `[REDACTED:NAME]` in every byte switchyard prints or writes.

use std::collections::BTreeMap;

use crate::config::runbook::SecretSource;
use crate::config::template::shell_quote;

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

/// Replaces every secret value (as read, and shell-quoted) with `[REDACTED:NAME]`.
#[derive(Debug, Default)]
pub struct Redactor {
    /// Longest first, so a value that contains another is replaced whole.
    needles: Vec<(String, String)>,
}

impl Redactor {
    pub fn new(values: &BTreeMap<String, String>) -> Redactor {
        let mut needles = Vec::new();
        for (name, value) in values {
            let marker = format!("[REDACTED:{name}]");
            needles.push((shell_quote(value), marker.clone()));
            needles.push((value.clone(), marker));
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
}
