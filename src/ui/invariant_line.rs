//! The line for an `invariant_checked` event: one line when it holds; when it is
//! breached, why, and every host's result.

use crate::engine::invariants::{HostHolds, InvariantChecked};

pub fn line(at: &str, c: &InvariantChecked) -> String {
    let hosts: Vec<String> = c
        .hosts
        .iter()
        .map(|h| format!("{} {}", h.host, words(h.result)))
        .collect();
    if c.holds {
        format!(
            "{at} invariant `{}` holds after {} ({})",
            c.name,
            c.after,
            hosts.join(", ")
        )
    } else {
        let mut out = format!(
            "{at} INVARIANT BREACHED `{}` after {}: {}",
            c.name,
            c.after,
            c.message.as_deref().unwrap_or("")
        );
        for h in &c.hosts {
            out.push_str(&format!(
                "\n{at}   {} {}: {}",
                h.host,
                words(h.result),
                h.detail
            ));
        }
        out
    }
}

fn words(r: HostHolds) -> &'static str {
    r.words()
}
