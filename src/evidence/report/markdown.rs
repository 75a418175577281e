//! `report.md`: the report for a ticket or a wiki page, with the same content as the
//! HTML report (verdict, a site's systems by tier, RTO per service, every step,
//! failures, decisions, inputs).

use std::fmt::Write;

use crate::evidence::record::{Record, StepRecord};

use super::{
    Judgement, Standing, by_start, by_tier, detailed, secs, status_word, system_result,
    system_status, systems_tally, verdict, verdict_sentence,
};

pub fn render(r: &Record) -> String {
    let mut out = String::new();
    header(&mut out, r);
    systems(&mut out, r);
    rto(&mut out, r);
    rpo(&mut out, r);
    steps(&mut out, r);
    super::invariants::markdown(&mut out, r, cell);
    failures(&mut out, r);
    decisions(&mut out, r);
    notices(&mut out, r);
    hosts(&mut out, r);
    inputs(&mut out, r);
    out
}

/// Text in a table cell or heading: one line, with what Markdown would read as a
/// table border or an HTML tag escaped.
fn cell(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('|', "\\|")
        .replace(['\n', '\r'], " ")
}

fn header(out: &mut String, r: &Record) {
    let st = &r.start;
    let _ = writeln!(
        out,
        "# {}: {} from hall {} to hall {} — {}\n",
        cell(&st.title),
        st.mode.as_str(),
        st.from,
        st.to,
        verdict(r)
    );
    let _ = writeln!(out, "{}\n", verdict_sentence(r));
    let kind = if st.dry_run {
        "dry run (nothing changed)"
    } else {
        "live"
    };
    let rows = [
        (
            if r.runbooks.is_empty() {
                "Runbook"
            } else {
                "Site"
            },
            format!("`{}` — {}", st.runbook, cell(&st.title)),
        ),
        ("Owner", st.owner.as_deref().map_or("—".into(), cell)),
        ("Plan (SHA-256)", format!("`{}`", st.plan_hash)),
        ("Direction", format!("hall {} → hall {}", st.from, st.to)),
        ("Mode", format!("{}, {kind}", st.mode.as_str())),
        ("Operator", cell(&st.operator)),
        ("RTO clock from", st.clock_origin.clone()),
        ("Started", st.started_at.clone()),
        ("Finished", r.finished_at.clone()),
        ("Outcome", format!("`{}`", r.outcome.as_str())),
        ("Human wait", secs(r.human_wait_s)),
        ("Tool", format!("switchyard {}", st.tool_version)),
    ];
    out.push_str("| | |\n|---|---|\n");
    for (k, v) in rows {
        let _ = writeln!(out, "| {k} | {v} |");
    }
    out.push('\n');
}

/// A site's systems by tier, each with its target against achieved and why it did not
/// recover. Nothing for a single runbook.
fn systems(out: &mut String, r: &Record) {
    if r.runbooks.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "## Systems by tier\n\n**{}**\n\nA system's recovery time runs from the RTO clock's origin \
         to the recovery of its last service.\n",
        systems_tally(r)
    );
    for (tier, rbs) in by_tier(r) {
        let _ = writeln!(
            out,
            "### Tier {tier}\n\n| Runbook | Title | Status | Target | Achieved | Met | Reason |\n\
             |---|---|---|---:|---:|---|---|"
        );
        for rb in rbs {
            let status = system_status(rb);
            let status = match Standing::of(rb) {
                Standing::Late | Standing::Down => format!("**{status}**"),
                _ => status,
            };
            let _ = writeln!(
                out,
                "| `{}` | {} | {status} | {} | {} | {} | {} |",
                rb.name,
                cell(&rb.title),
                secs(rb.target_s),
                rb.recovered_s.map_or("—".into(), secs),
                system_result(r, rb),
                rb.reason.as_deref().map_or("—".into(), cell),
            );
        }
        out.push('\n');
    }
}

fn rto(out: &mut String, r: &Record) {
    out.push_str("## RTO: target against achieved\n\n");
    out.push_str("| Service | Status | Target | Achieved | Result |\n|---|---|---:|---:|---|\n");
    let result = |target: Option<f64>, achieved: Option<f64>| {
        let j = Judgement::of(r, target, achieved);
        match j {
            Judgement::Missed | Judgement::NotRecovered => format!("**{}**", j.words()),
            _ => j.words().to_string(),
        }
    };
    for s in &r.services {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} |",
            cell(&s.name),
            s.status.words(),
            s.target_s.map_or("—".into(), secs),
            s.recovered_s.map_or("—".into(), secs),
            result(s.target_s, s.recovered_s)
        );
    }
    let achieved = r.recovered_s();
    let _ = writeln!(
        out,
        "| **{} `{}`** | {} | {} | {} | {} |\n",
        if r.runbooks.is_empty() {
            "runbook"
        } else {
            "site"
        },
        r.start.runbook,
        r.outcome.as_str().replace('_', " "),
        secs(r.rto.target_s),
        achieved.map_or("—".into(), secs),
        result(Some(r.rto.target_s), achieved)
    );
}

/// The measured RPO beside the RTO, when a service has a canary.
fn rpo(out: &mut String, r: &Record) {
    let rows = super::rpo::rows(r);
    if rows.is_empty() {
        return;
    }
    out.push_str(
        "## RPO: data lost, measured by the canary

",
    );
    out.push_str(
        "| Service | Target | Last write acknowledged | Read back | Lost writes | Lost | Result |
|---|---:|---|---:|---:|---:|---|
",
    );
    for row in &rows {
        let result = if row.missed {
            format!("**{}**", row.result)
        } else {
            row.result.clone()
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} |",
            cell(&row.service),
            row.target,
            cell(&row.last_ack),
            row.read,
            row.lost,
            row.lost_s,
            result
        );
    }
    out.push('\n');
    for row in &rows {
        for m in &row.messages {
            let _ = writeln!(out, "- {}: {}", cell(&row.service), cell(m));
        }
    }
    if rows.iter().any(|row| !row.messages.is_empty()) {
        out.push('\n');
    }
}

fn steps(out: &mut String, r: &Record) {
    out.push_str("## Steps\n\n");
    out.push_str("Times are seconds from the RTO clock's origin; `*` marks the critical path.\n\n");
    out.push_str(
        "| Step | Name | Host | Status | Attempts | Exit | Start | Duration |\n|---|---|---|---|---:|---:|---:|---:|\n",
    );
    for s in by_start(r) {
        let e = &s.end;
        let _ = writeln!(
            out,
            "| `{}`{} | {} | {} | {} | {} | {} | {:.2} | {:.2} |",
            e.step,
            if s.critical { " *" } else { "" },
            cell(&e.name),
            e.host.as_deref().map_or("—".into(), cell),
            status_word(e.status),
            e.attempts,
            e.exit_code.map_or("—".into(), |c| c.to_string()),
            e.start_s,
            e.duration_s
        );
    }
    out.push('\n');
}

fn failures(out: &mut String, r: &Record) {
    for (heading, steps) in detailed(r) {
        if !steps.is_empty() {
            let _ = writeln!(out, "## {heading}\n");
            details(out, &steps);
        }
    }
}

fn details(out: &mut String, steps: &[&StepRecord]) {
    for s in steps {
        let e = &s.end;
        let on = e
            .host
            .as_deref()
            .map_or(String::new(), |h| format!(" on {h}"));
        let _ = writeln!(out, "### `{}`{on} — {}\n", e.step, e.name);
        if let Some(does) = &s.does {
            let _ = writeln!(out, "Did: `{}`\n", does.replace('`', "'"));
        }
        if let Some(m) = &e.message {
            let _ = writeln!(out, "{m}\n");
        }
        if let Some(x) = &e.excerpt {
            let fence = if x.contains("```") { "~~~~" } else { "```" };
            let _ = writeln!(
                out,
                "Last lines of its output:\n\n{fence}text\n{x}\n{fence}\n"
            );
        }
        if let Some(o) = &e.output {
            let _ = writeln!(out, "Full output: `{o}.stdout`, `{o}.stderr`\n");
        }
    }
}

fn decisions(out: &mut String, r: &Record) {
    out.push_str("## Operator decisions\n\n");
    if r.decisions.is_empty() {
        out.push_str("None were needed.\n\n");
        return;
    }
    out.push_str("| When | Step | Host | Decision | By | Waited | Comment |\n|---|---|---|---|---|---:|---|\n");
    for d in &r.decisions {
        let _ = writeln!(
            out,
            "| {} | `{}` | {} | {} | {} | {} | {} |",
            d.at,
            d.step,
            d.host.as_deref().map_or("—".into(), cell),
            d.choice.as_str(),
            cell(&d.by),
            secs(d.wait_s),
            d.comment.as_deref().map_or("—".into(), cell)
        );
    }
    out.push('\n');
}

fn notices(out: &mut String, r: &Record) {
    if r.notices.is_empty() {
        return;
    }
    out.push_str("## Notices\n\n");
    for n in &r.notices {
        let _ = writeln!(out, "- {}", cell(n));
    }
    out.push('\n');
}

fn hosts(out: &mut String, r: &Record) {
    if r.hosts.is_empty() {
        return;
    }
    out.push_str("## Hosts logged in to before any step\n\n| Host | Result |\n|---|---|\n");
    for h in &r.hosts {
        let result = match (&h.ok, &h.message) {
            (true, _) => "reached".to_string(),
            (false, m) => format!("**unreachable**: {}", cell(m.as_deref().unwrap_or(""))),
        };
        let _ = writeln!(out, "| {} | {result} |", cell(&h.host));
    }
    out.push('\n');
}

fn inputs(out: &mut String, r: &Record) {
    out.push_str("## Inputs and integrity\n\n| File | SHA-256 |\n|---|---|\n");
    for i in &r.start.inputs {
        let _ = writeln!(out, "| `{}` | `{}` |", i.path, i.sha256);
    }
    let _ = writeln!(
        out,
        "\nThe journal holds {} events; its last hash is `{}`. \
         `switchyard verify-evidence` on this folder checks the chain, the inputs and the summary.",
        r.events, r.last_hash
    );
}

#[cfg(test)]
mod tests {
    use super::render;
    use crate::evidence::report::fixtures::{BLOCKED, site_record};

    #[test]
    fn a_site_lists_its_systems_by_tier_with_their_reasons() {
        let md = render(&site_record());
        let systems = md.find("## Systems by tier").expect("systems");
        assert!(
            systems < md.find("## RTO").expect("rto"),
            "systems come first"
        );
        let tiers: Vec<usize> = (0..4)
            .map(|t| md.find(&format!("### Tier {t}\n")).expect("tier"))
            .collect();
        assert!(tiers.is_sorted(), "{tiers:?}");
        let rows = [
            "| `base` | The base &lt;system&gt; | ✓ recovered | 1 min 00 s | 4.0 s | met | — |",
            "| `dns` | The dns &lt;system&gt; | **✕ failed** | 1 min 00 s | — | not recovered | \
             dns/svc.stop.1 failed on dns-a: exited with 1 |",
            "| `lab` | The lab &lt;system&gt; | ○ assumed | 1 min 00 s | — | not run (assumed) | \
             left out by --only; a runbook of the run requires it: taken as recovered |",
            "| `late` | The late &lt;system&gt; | **▲ recovered, target missed** | 2.0 s | 3.0 s | \
             MISSED | — |",
            "| `back` | The back &lt;system&gt; | ↶ rolled back | 1 min 00 s | — | not recovered | \
             back/svc.start.1 failed on back-b: exited with 1 |",
        ];
        let mut at: Vec<usize> = rows
            .iter()
            .map(|row| md.find(row).unwrap_or_else(|| panic!("no row {row}\n{md}")))
            .collect();
        let app = format!(
            "| `app` | The app &lt;system&gt; | **⊘ blocked** | 1 min 00 s | — | not recovered | {BLOCKED} |"
        );
        at.insert(
            4,
            md.find(&app)
                .unwrap_or_else(|| panic!("no row {app}\n{md}")),
        );
        assert!(at.is_sorted(), "by tier, then name: {at:?}");
        assert!(md.contains("| Site | `town` — Town &lt;all&gt; |"), "{md}");
        assert!(md.contains("| **site `town`** | failed |"), "{md}");
        assert!(md.starts_with(
            "# Town &lt;all&gt;: switchover from hall a to hall b — FAILED\n\n6 systems: \
             1 recovered within target · 1 recovered late · 1 failed · 1 blocked · 1 rolled back · \
             1 assumed. 2 step execution(s) failed;"
        ));
    }

    #[test]
    fn a_single_runbook_has_no_systems() {
        let mut r = site_record();
        r.runbooks.clear();
        r.start.runbooks.clear();
        let md = render(&r);
        assert!(
            !md.contains("Systems by tier") && !md.contains("Tier 0"),
            "{md}"
        );
        assert!(md.contains("| Runbook | `town`") && md.contains("| **runbook `town`** |"));
    }
}
