//! The safety invariants' section of the reports: per invariant how many checks were
//! made and held, then every breach in full with each host's result. Markdown and HTML
//! say the same; JUnit has a test case per invariant, failed if it was ever breached.

use std::fmt::Write;

use crate::engine::invariants::HostHolds;
use crate::evidence::invariants::{InvariantTally, tally};
use crate::evidence::record::Record;

use super::html::esc;

fn title(t: &InvariantTally) -> String {
    match &t.runbook {
        Some(rb) => format!("{rb}: {}", t.name),
        None => t.name.clone(),
    }
}

fn held(t: &InvariantTally) -> String {
    let breached = t.breaches.len();
    if breached == 0 {
        format!("held at all {} checks", t.checks)
    } else {
        format!("BREACHED at {breached} of {} checks", t.checks)
    }
}

/// `## Safety invariants` in `report.md`; nothing when the run checked none.
pub fn markdown(out: &mut String, r: &Record, cell: fn(&str) -> String) {
    let all = tally(r);
    if all.is_empty() {
        return;
    }
    out.push_str("## Safety invariants\n\n| Invariant | Holds on | Checked after | Result |\n|---|---|---|---|\n");
    for t in &all {
        let _ = writeln!(
            out,
            "| {} | `{}` | {} | {} |",
            cell(&title(t)),
            t.holds_on.as_str(),
            cell(&t.checked_after.join(", ")),
            held(t)
        );
    }
    out.push('\n');
    for t in &all {
        for b in &t.breaches {
            let _ = writeln!(
                out,
                "### Breach: {} after `{}`\n\n{}\n\n| Host | Result | Detail |\n|---|---|---|",
                cell(&title(t)),
                b.after,
                cell(&b.message)
            );
            for h in &b.hosts {
                let _ = writeln!(
                    out,
                    "| {} | {} | {} |",
                    cell(&h.host),
                    HostHolds::words(h.result),
                    cell(&h.detail)
                );
            }
            out.push('\n');
        }
    }
}

/// The `Safety invariants` section of `report.html`; nothing when the run checked none.
pub fn html(out: &mut String, r: &Record) {
    let all = tally(r);
    if all.is_empty() {
        return;
    }
    out.push_str(
        "<section class=\"invariants\">\n<h2>Safety invariants</h2>\n<table>\n\
         <thead><tr><th>Invariant</th><th>Holds on</th><th>Checked after</th><th>Result</th></tr></thead>\n<tbody>\n",
    );
    for t in &all {
        let class = if t.breaches.is_empty() {
            "s-ok"
        } else {
            "s-failed"
        };
        let _ = writeln!(
            out,
            "<tr data-invariant=\"{}\"><td>{}</td><td><code>{}</code></td><td>{}</td><td><span class=\"pill {class}\">{}</span></td></tr>",
            esc(&t.name),
            esc(&title(t)),
            t.holds_on.as_str(),
            esc(&t.checked_after.join(", ")),
            esc(&held(t))
        );
    }
    out.push_str("</tbody>\n</table>\n");
    for t in &all {
        for b in &t.breaches {
            let _ = writeln!(
                out,
                "<h3>Breach: {} after <code>{}</code></h3>\n<p>{}</p>\n<table>\n\
                 <thead><tr><th>Host</th><th>Result</th><th>Detail</th></tr></thead>\n<tbody>",
                esc(&title(t)),
                esc(&b.after),
                esc(&b.message)
            );
            for h in &b.hosts {
                let _ = writeln!(
                    out,
                    "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                    esc(&h.host),
                    HostHolds::words(h.result),
                    esc(&h.detail)
                );
            }
            out.push_str("</tbody>\n</table>\n");
        }
    }
    out.push_str("</section>\n");
}

/// One JUnit case per invariant: its name, and the first breach's message with every
/// breach's hosts as the text.
pub struct InvariantCase {
    pub name: String,
    pub failure: Option<(String, String)>,
}

pub fn junit_cases(r: &Record) -> Vec<InvariantCase> {
    tally(r)
        .iter()
        .map(|t| InvariantCase {
            name: format!("invariant {} ({})", title(t), held(t)),
            failure: t.breaches.first().map(|first| {
                let text = t
                    .breaches
                    .iter()
                    .map(|b| {
                        let hosts: Vec<String> = b
                            .hosts
                            .iter()
                            .map(|h| {
                                format!("{} {}: {}", h.host, HostHolds::words(h.result), h.detail)
                            })
                            .collect();
                        format!("after {}: {}\n{}", b.after, b.message, hosts.join("\n"))
                    })
                    .collect::<Vec<_>>()
                    .join("\n\n");
                (
                    format!("breached after {}: {}", first.after, first.message),
                    text,
                )
            }),
        })
        .collect()
}
