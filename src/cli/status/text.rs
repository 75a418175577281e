//! The register as a table for a terminal: worst first, one line per runbook and
//! direction, then the untrusted folders.

use super::super::history::{secs, table};
use super::{Register, State};

/// The day of an RFC 3339 time.
pub(super) fn day(s: &str) -> &str {
    s.get(..10).unwrap_or(s)
}

pub(super) fn render(reg: &Register) -> String {
    let rows = &reg.rows;
    let mut t = vec![[
        "STATE".to_string(),
        "RUNBOOK".into(),
        "DIRECTION".into(),
        "LAST LIVE".into(),
        "RECOVERY / RTO".into(),
        "LAST PASS".into(),
        "DUE".into(),
    ]];
    for r in rows {
        t.push([
            r.state.as_str().to_uppercase(),
            r.runbook.clone(),
            format!("{}→{}", r.from, r.to),
            r.last_live
                .as_ref()
                .map_or("-".into(), |l| format!("{} {}", day(&l.at), l.outcome)),
            r.last_live.as_ref().map_or("-".into(), |l| {
                format!(
                    "{} / {}",
                    l.recovered_s.map_or("-".into(), secs),
                    secs(l.rto_target_s)
                )
            }),
            r.last_pass
                .as_ref()
                .map_or("-".into(), |p| day(&p.at).to_string()),
            r.due.as_deref().map_or("-".into(), |d| day(d).to_string()),
        ]);
    }
    let bad = rows.iter().filter(|r| r.state != State::Ok).count();
    let mut out = table(&t);
    out.push_str(&format!(
        "{} of {} directions ok\n",
        rows.len() - bad,
        rows.len()
    ));
    if let Some(signers) = &reg.signers {
        out.push_str(&format!(
            "counted only run folders signed by a key `{}` allows\n",
            signers.display()
        ));
    }
    for u in &reg.untrusted {
        out.push_str(&format!(
            "untrusted (not counted): {} ({}): {}\n",
            u.folder.display(),
            u.runbook,
            u.problems.join("; ")
        ));
    }
    out
}
