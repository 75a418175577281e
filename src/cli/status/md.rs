//! The register in Markdown, to paste into a ticket or a wiki page for an auditor: the
//! same table as the text, worst first, with the evidence folder and journal hash of
//! each last live run, then the untrusted folders.

use std::fmt::Write;

use crate::engine::stopwatch::timestamp;

use super::super::history::secs;
use super::{Register, State};

pub(super) fn render(reg: &Register) -> String {
    let ok = reg.rows.iter().filter(|r| r.state == State::Ok).count();
    let dirs: Vec<String> = reg
        .evidence_dirs
        .iter()
        .map(|d| cell(&d.display().to_string()))
        .collect();
    let signed = reg.signers.as_ref().map_or(String::new(), |s| {
        format!(
            " Only run folders signed by a key that {} allows are counted.",
            cell(&s.display().to_string())
        )
    });
    let mut out = format!(
        "# DR drill register\n\nEvaluated at {}; evidence folders: {}.{signed}\n\n**{ok} of {} directions ok.**\n\n",
        timestamp(reg.at),
        dirs.join(", "),
        reg.rows.len()
    );
    out.push_str(
        "| State | Runbook | Direction | Last live run | Recovery / RTO | Last pass | Due | Evidence of the last live run |\n\
         |---|---|---|---|---|---|---|---|\n",
    );
    for r in &reg.rows {
        let live = r.last_live.as_ref();
        let _ = writeln!(
            out,
            "| **{}** | {} | {} → {} | {} | {} | {} | {} | {} |",
            r.state.as_str().to_uppercase(),
            cell(&r.runbook),
            cell(&r.from),
            cell(&r.to),
            live.map_or("—".into(), |l| format!(
                "{} {}",
                minute(&l.at),
                cell(&l.outcome)
            )),
            live.map_or("—".into(), |l| format!(
                "{} / {}",
                l.recovered_s.map_or("—".into(), secs),
                secs(l.rto_target_s)
            )),
            r.last_pass.as_ref().map_or("—".into(), |p| minute(&p.at)),
            r.due.as_deref().map_or("—".into(), minute),
            live.map_or("—".into(), |l| format!(
                "{} (journal {})",
                cell(&l.folder.display().to_string()),
                cell(&l.last_hash)
            )),
        );
    }
    out.push_str("\n## Untrusted folders (not counted)\n\n");
    if reg.untrusted.is_empty() {
        out.push_str("None: every run folder found verifies.\n");
    } else {
        for u in &reg.untrusted {
            let _ = writeln!(
                out,
                "- {} ({}): {}",
                cell(&u.folder.display().to_string()),
                cell(&u.runbook),
                cell(&u.problems.join("; "))
            );
        }
    }
    out
}

/// `2026-11-30 17:05` of an RFC 3339 time, in UTC as the evidence writes it.
fn minute(s: &str) -> String {
    format!("{} UTC", s.get(..16).unwrap_or(s).replacen('T', " ", 1))
}

/// Text from runbooks or evidence, inert in a table cell: Markdown's punctuation and
/// HTML's brackets escaped, lines joined.
fn cell(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' | '|' | '*' | '_' | '`' | '[' | ']' | '#' | '~' => {
                out.push('\\');
                out.push(c);
            }
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\n' | '\r' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_are_inert() {
        assert_eq!(cell("a|b\n<i>*x*</i>"), r"a\|b &lt;i&gt;\*x\*&lt;/i&gt;");
    }
}
