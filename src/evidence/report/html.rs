//! `report.html`: the run as one page to read on screen or print on A4 for the audit file,
//! with the same content as `report.md` plus an RTO chart and a timeline (spec §5).
//!
//! The page is a single self-contained file — inline CSS and SVG, no script, fonts or
//! images — because it is archived with the evidence and opened later, offline, from
//! wherever the folder was copied. Every piece of text from the record is escaped: step
//! commands and their output are arbitrary text from the managed hosts.

mod timeline;

use std::fmt::{self, Display, Write};

use crate::engine::event::{Outcome, StepStatus};
use crate::evidence::record::{Record, StepRecord};

use super::{
    Judgement, Standing, by_start, by_tier, detailed, secs, status_word, system_result,
    system_status, systems_tally, verdict, verdict_sentence,
};

pub fn render(r: &Record) -> String {
    let mut out = String::with_capacity(64 * 1024);
    head(&mut out, r);
    header(&mut out, r);
    systems(&mut out, r);
    rto(&mut out, r);
    rpo(&mut out, r);
    timeline::timeline(&mut out, r);
    steps(&mut out, r);
    super::invariants::html(&mut out, r);
    failures(&mut out, r);
    decisions(&mut out, r);
    notices(&mut out, r);
    hosts(&mut out, r);
    inputs(&mut out, r);
    out.push_str("</main>\n</body>\n</html>\n");
    out
}

/// Text from the record, escaped for element content and quoted attributes alike.
pub(crate) struct Esc<'a>(&'a str);

impl Display for Esc<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut rest = self.0;
        while let Some(i) = rest.find(['&', '<', '>', '"', '\'']) {
            f.write_str(&rest[..i])?;
            f.write_str(match rest.as_bytes()[i] {
                b'&' => "&amp;",
                b'<' => "&lt;",
                b'>' => "&gt;",
                b'"' => "&quot;",
                _ => "&#39;",
            })?;
            rest = &rest[i + 1..];
        }
        f.write_str(rest)
    }
}

pub(crate) fn esc(s: &str) -> Esc<'_> {
    Esc(s)
}

/// An optional value for a table cell, `—` when absent.
fn or_dash(s: Option<&str>) -> String {
    s.map_or("—".into(), |s| esc(s).to_string())
}

pub(crate) const STYLE: &str = r#"
:root{--ink:#1f2933;--muted:#5f6b7a;--line:#dde2e8;--soft:#f4f6f8;--ok:#1e7d4f;--fail:#c62828;--warn:#b45309}
*{box-sizing:border-box}
html{-webkit-print-color-adjust:exact;print-color-adjust:exact}
body{margin:0;background:#eef1f4;color:var(--ink);font:14px/1.45 "Segoe UI",Roboto,"Helvetica Neue","DejaVu Sans",Arial,sans-serif}
main{max-width:1120px;margin:0 auto;padding:28px 36px 40px;background:#fff}
h1{font-size:24px;margin:0;line-height:1.25}
h2{font-size:16px;margin:30px 0 10px;padding-bottom:4px;border-bottom:2px solid var(--line)}
h2,h3,h2+p,h3+p{break-after:avoid}
h3{font-size:14px;margin:16px 0 4px}
p{margin:6px 0}
.sub,.note{color:var(--muted)}
.sub{margin:2px 0 0}
code,pre,.mono,svg text{font-family:"DejaVu Sans Mono",Menlo,Consolas,monospace}
code,.mono{font-size:12.5px}
.keep{break-inside:avoid}
svg.gantt+svg.gantt{margin-top:8px}
.banner{margin:18px 0;padding:12px 18px;border-radius:6px;border-left:10px solid;break-inside:avoid}
.banner .word{font-size:22px;font-weight:700;letter-spacing:.05em}
.banner p{margin:2px 0 0}
.v-pass{background:#e6f4ec;border-color:var(--ok);color:#0f4d30}
.v-dry{background:#e5eefa;border-color:#1d5fa8;color:#123e70}
.v-fail{background:#fdeaea;border-color:var(--fail);color:#7f1616}
.v-rto{background:#fff1df;border-color:var(--warn);color:#6b3305}
.v-stop{background:#eceff3;border-color:#4b5563;color:#1f2933}
.meta{display:grid;grid-template-columns:repeat(3,1fr);gap:8px 24px;margin:0}
.meta div{min-width:0}
.meta dt{font-size:11px;text-transform:uppercase;letter-spacing:.05em;color:var(--muted)}
.meta dd{margin:0;overflow-wrap:anywhere}
.meta .wide{grid-column:span 2}
table{border-collapse:collapse;width:100%;margin:4px 0}
th,td{padding:4px 8px;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}
th{font-size:11px;text-transform:uppercase;letter-spacing:.05em;color:var(--muted);background:var(--soft);font-weight:600}
.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
tr{break-inside:avoid}
thead{display:table-header-group}
.pill{display:inline-block;padding:0 8px;border-radius:9px;font-size:12px;font-weight:600;white-space:nowrap}
.s-ok{background:#dcf1e5;color:#14573a}
.s-failed,.s-missed{background:#fbdcdc;color:#8c1d18}
.s-skipped,.s-none{background:#eceff3;color:#4b5563}
.s-planned{background:#e0ebf8;color:#1d4f8a}
.s-source_unreachable{background:#fdefd6;color:#7a4a06}
.gauge{position:relative;height:16px;min-width:220px;background:var(--soft);border:1px solid var(--line);border-radius:3px}
.gauge .got{position:absolute;left:0;top:3px;bottom:3px;border-radius:0 2px 2px 0}
.gauge .met{background:var(--ok)}
.gauge .missed{background:var(--fail)}
.gauge .tgt{position:absolute;top:-4px;bottom:-4px;width:3px;margin-left:-1px;background:var(--ink)}
pre{background:var(--soft);border:1px solid var(--line);border-radius:4px;padding:8px 10px;margin:4px 0 10px;font-size:12px;white-space:pre-wrap;overflow-wrap:anywhere}
.legend{display:flex;flex-wrap:wrap;gap:4px 16px;font-size:12px;color:var(--muted);margin:4px 0 6px}
.legend i{display:inline-block;width:14px;height:10px;margin-right:5px;vertical-align:-1px;border-radius:2px}
.legend .x-failed{background:#fff;border:2px solid var(--fail)}
.legend .x-skipped{background:#fff;border:1px dashed #8a94a0}
.legend .x-crit{height:3px;vertical-align:2px;background:var(--ink)}
.legend .x-rto{width:0;height:12px;border-left:2px dashed #6d28d9;border-radius:0}
svg.gantt{display:block;width:100%;height:auto;break-inside:avoid}
svg text{font-size:11px;fill:var(--ink)}
svg .crit{font-weight:700}
svg .tick{fill:var(--muted);font-size:10px}
svg .axis{stroke:#8a94a0}
svg .grid{stroke:#edf0f3}
svg .stripe{fill:#f7f8fa}
svg .bar[data-status=failed]{stroke:var(--fail);stroke-width:2}
svg .bar[data-status=skipped]{fill:#fff;stroke:#8a94a0;stroke-dasharray:3 2}
svg .bar[data-status=planned],svg .bar[data-status=source_unreachable]{fill-opacity:.35;stroke-dasharray:3 2}
svg .cross{stroke:var(--fail);stroke-width:2}
svg .rto{stroke:#6d28d9;stroke-width:1.5;stroke-dasharray:5 3}
svg .rto-label{fill:#6d28d9;font-weight:700}
footer{margin-top:28px;padding-top:8px;border-top:1px solid var(--line);font-size:12px;color:var(--muted)}
@page{size:A4;margin:14mm 12mm}
@media print{body{background:#fff;font-size:11.5px}svg text{font-size:13px}svg .tick{font-size:11px}main{max-width:none;padding:0}h2{margin-top:20px}pre{white-space:pre-wrap;break-inside:avoid}}
"#;

/// What only a site's report uses: the systems table and the timeline's lanes.
const SITE_STYLE: &str = r#"
svg .own{stroke:#0f766e;stroke-dasharray:2 2}
svg .own-label{fill:#0f766e;font-weight:700}
.legend .x-own{width:0;height:12px;border-left:2px dotted #0f766e;border-radius:0}
.k-met{background:#dcf1e5;color:#14573a}
.k-late{background:#fff1df;color:#7a3a05}
.k-down{background:#fbdcdc;color:#8c1d18}
.k-aside{background:#eceff3;color:#4b5563}
.k-planned{background:#e0ebf8;color:#1d4f8a}
.systems tr[data-standing] td:first-child{border-left:5px solid}
.systems tr[data-standing=met] td:first-child{border-left-color:var(--ok)}
.systems tr[data-standing=late] td:first-child{border-left-color:var(--warn)}
.systems tr[data-standing=down] td:first-child{border-left-color:var(--fail)}
.systems tr[data-standing=aside] td:first-child{border-left-color:#8a94a0}
.systems tr[data-standing=planned] td:first-child{border-left-color:#1d5fa8}
.systems tr.tier th{background:#fff;color:var(--ink);font-size:12px;padding-top:12px;border-bottom:2px solid var(--line)}
.lane{margin-top:14px}
.lane h3{margin:0 0 2px;font-weight:600}
"#;

fn head(out: &mut String, r: &Record) {
    let st = &r.start;
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"color-scheme\" content=\"light\">\n\
         <meta name=\"generator\" content=\"switchyard {}\">\n\
         <title>{} — {}: hall {} → hall {}</title>\n<style>{STYLE}{}</style>\n</head>\n<body>\n<main>\n",
        esc(&st.tool_version),
        verdict(r),
        esc(&st.title),
        esc(&st.from),
        esc(&st.to),
        if r.runbooks.is_empty() {
            ""
        } else {
            SITE_STYLE.trim_start()
        },
    );
}

/// The CSS class of the verdict banner.
fn verdict_class(r: &Record) -> &'static str {
    match r.outcome {
        Outcome::Passed if r.start.dry_run => "v-dry",
        Outcome::Passed => "v-pass",
        Outcome::Failed => "v-fail",
        Outcome::RtoBreached | Outcome::RpoBreached | Outcome::RolledBack => "v-rto",
        Outcome::Aborted | Outcome::Interrupted => "v-stop",
    }
}

fn header(out: &mut String, r: &Record) {
    let st = &r.start;
    let kind = if st.dry_run {
        "dry run — nothing was changed"
    } else {
        "live"
    };
    let what = if r.runbooks.is_empty() {
        "Runbook"
    } else {
        "Site"
    };
    let _ = write!(
        out,
        "<header>\n<h1>{}</h1>\n<p class=\"sub\">{what} <code>{}</code> · {} from hall {} to hall {} · {kind}</p>\n\
         <div class=\"banner {}\"><div class=\"word\">{}</div><p>{}</p><p class=\"mono\">{}</p></div>\n<dl class=\"meta\">\n",
        esc(&st.title),
        esc(&st.runbook),
        st.mode.as_str(),
        esc(&st.from),
        esc(&st.to),
        verdict_class(r),
        verdict(r),
        esc(&verdict_sentence(r)),
        counts(r),
    );
    let rows = [
        ("Owner", or_dash(st.owner.as_deref()), false),
        ("Operator", esc(&st.operator).to_string(), false),
        (
            "Tool",
            format!("switchyard {}", esc(&st.tool_version)),
            false,
        ),
        (
            "Direction",
            format!("hall {} → hall {}", esc(&st.from), esc(&st.to)),
            false,
        ),
        ("Mode", format!("{}, {kind}", st.mode.as_str()), false),
        (
            "Outcome",
            format!("<code>{}</code>", r.outcome.as_str()),
            false,
        ),
        ("RTO clock from", esc(&st.clock_origin).to_string(), false),
        ("Started", esc(&st.started_at).to_string(), false),
        ("Finished", esc(&r.finished_at).to_string(), false),
        (
            "Plan (SHA-256)",
            format!("<code>{}</code>", esc(&st.plan_hash)),
            true,
        ),
        ("Human wait", secs(r.human_wait_s), false),
    ];
    for (k, v, wide) in rows {
        let class = if wide { " class=\"wide\"" } else { "" };
        let _ = writeln!(out, "<div{class}><dt>{k}</dt><dd>{v}</dd></div>");
    }
    out.push_str("</dl>\n</header>\n");
}

/// Step executions by status, e.g. `4 step executions: 2 ok · 1 failed · 1 skipped`.
fn counts(r: &Record) -> String {
    let all = [
        StepStatus::Ok,
        StepStatus::Failed,
        StepStatus::Skipped,
        StepStatus::Planned,
        StepStatus::SourceUnreachable,
    ];
    let parts: Vec<String> = all
        .iter()
        .map(|&s| (s, r.steps.iter().filter(|x| x.end.status == s).count()))
        .filter(|(_, n)| *n > 0)
        .map(|(s, n)| format!("{n} {}", status_word(s)))
        .collect();
    format!("{} step executions: {}", r.steps.len(), parts.join(" · "))
}

/// A site's systems grouped by tier: each one's status, target against achieved, and
/// why it did not recover. Nothing for a single runbook.
fn systems(out: &mut String, r: &Record) {
    if r.runbooks.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "<section class=\"systems\">\n<h2>Systems by tier</h2>\n<p><strong>{}</strong></p>\n\
         <p class=\"note\">A system's recovery time runs from the RTO clock's origin to the recovery of \
         its last service. Tier 0 comes first.</p>\n<table>\n<thead><tr><th>Runbook</th><th>Title</th>\
         <th>Status</th><th class=\"num\">Target</th><th class=\"num\">Achieved</th><th>Met</th>\
         <th>Reason</th></tr></thead>",
        esc(&systems_tally(r))
    );
    for (tier, rbs) in by_tier(r) {
        let _ = writeln!(
            out,
            "<tbody data-tier=\"{tier}\">\n<tr class=\"tier\"><th colspan=\"7\">Tier {tier}</th></tr>"
        );
        for rb in rbs {
            let standing = Standing::of(rb);
            let requires = if rb.requires.is_empty() {
                String::new()
            } else {
                let names: Vec<String> = rb
                    .requires
                    .iter()
                    .map(|n| format!("<code>{}</code>", esc(n)))
                    .collect();
                format!(
                    "<br><span class=\"note\">requires {}</span>",
                    names.join(", ")
                )
            };
            let _ = writeln!(
                out,
                "<tr data-runbook=\"{}\" data-status=\"{}\" data-standing=\"{}\"><td><code>{}</code>{requires}</td>\
                 <td>{}</td><td><span class=\"pill k-{}\">{}</span></td><td class=\"num\">{}</td>\
                 <td class=\"num\">{}</td><td>{}</td><td class=\"reason\">{}</td></tr>",
                esc(&rb.name),
                status_slug(rb.status.words()),
                standing.key(),
                esc(&rb.name),
                esc(&rb.title),
                standing.key(),
                esc(&system_status(rb)),
                secs(rb.target_s),
                rb.recovered_s.map_or("—".into(), secs),
                system_result(r, rb),
                or_dash(rb.reason.as_deref()),
            );
        }
        out.push_str("</tbody>\n");
    }
    out.push_str("</table>\n</section>\n");
}

/// A status's words as one token, for `data-status`: `rolled back` is `rolled_back`.
pub(super) fn status_slug(words: &str) -> String {
    words.replace(' ', "_")
}

fn rto(out: &mut String, r: &Record) {
    out.push_str("<section>\n<h2>RTO: target against achieved</h2>\n");
    let achieved = r.recovered_s();
    let scale = r
        .services
        .iter()
        .flat_map(|s| [s.target_s, s.recovered_s])
        .chain([Some(r.rto.target_s), achieved])
        .flatten()
        .fold(0.0_f64, f64::max);
    out.push_str(
        "<p class=\"note\">Bars show the time to recovery; the dark mark is the target. \
         All rows share one scale.</p>\n<table>\n<thead><tr><th>Service</th><th>Status</th>\
         <th class=\"num\">Target</th><th class=\"num\">Achieved</th><th>Result</th><th style=\"width:32%\"></th></tr></thead>\n<tbody>\n",
    );
    for s in &r.services {
        let mut name = format!("<code>{}</code>", esc(&s.name));
        // A site's `runbook/service` is titled `service` when it has no title of its own.
        let own = s
            .name
            .split_once('/')
            .map_or(s.name.as_str(), |(_, own)| own);
        if s.title != s.name && s.title != own {
            let _ = write!(name, "<br><span class=\"note\">{}</span>", esc(&s.title));
        }
        let status = s.status.words();
        rto_row(out, r, &name, status, s.target_s, s.recovered_s, scale);
    }
    let name = format!(
        "<strong>{} <code>{}</code></strong>",
        if r.runbooks.is_empty() {
            "runbook"
        } else {
            "site"
        },
        esc(&r.start.runbook)
    );
    let status = r.outcome.as_str().replace('_', " ");
    rto_row(
        out,
        r,
        &name,
        &status,
        Some(r.rto.target_s),
        achieved,
        scale,
    );
    out.push_str("</tbody>\n</table>\n</section>\n");
}

/// The measured RPO beside the RTO, when a service has a canary.
fn rpo(out: &mut String, r: &Record) {
    let rows = super::rpo::rows(r);
    if rows.is_empty() {
        return;
    }
    out.push_str(
        "<section>\n<h2>RPO: data lost, measured by the canary</h2>\n<table>\n<thead><tr><th>Service</th>\
         <th class=\"num\">Target</th><th>Last write acknowledged</th><th class=\"num\">Read back</th>\
         <th class=\"num\">Lost writes</th><th class=\"num\">Lost</th><th>Result</th></tr></thead>\n<tbody>\n",
    );
    for row in &rows {
        let result = if row.missed {
            format!("<span class=\"pill k-down\">{}</span>", esc(&row.result))
        } else {
            esc(&row.result).to_string()
        };
        let _ = writeln!(
            out,
            "<tr><td><code>{}</code></td><td class=\"num\">{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td>{result}</td></tr>",
            esc(&row.service),
            esc(&row.target),
            esc(&row.last_ack),
            esc(&row.read),
            esc(&row.lost),
            esc(&row.lost_s),
        );
    }
    out.push_str("</tbody>\n</table>\n");
    for row in &rows {
        for m in &row.messages {
            let _ = writeln!(
                out,
                "<p class=\"note\"><code>{}</code>: {}</p>",
                esc(&row.service),
                esc(m)
            );
        }
    }
    out.push_str("</section>\n");
}

fn rto_row(
    out: &mut String,
    r: &Record,
    name: &str,
    status: &str,
    target: Option<f64>,
    achieved: Option<f64>,
    scale: f64,
) {
    let judgement = Judgement::of(r, target, achieved);
    let result = judgement.words();
    let class = match judgement {
        Judgement::NotTimed => "s-planned",
        Judgement::Met => "s-ok",
        Judgement::Missed | Judgement::NotRecovered => "s-missed",
        Judgement::NoTarget => "s-none",
    };
    let pct = |v: f64| {
        if scale > 0.0 {
            (v / scale * 100.0).clamp(0.0, 100.0)
        } else {
            0.0
        }
    };
    let mut gauge = String::from("<div class=\"gauge\">");
    if let Some(a) = achieved.filter(|_| !r.start.dry_run) {
        let met = target.is_none_or(|t| a <= t);
        let _ = write!(
            gauge,
            "<span class=\"got {}\" style=\"width:{:.2}%\"></span>",
            if met { "met" } else { "missed" },
            pct(a).max(0.5)
        );
    }
    if let Some(t) = target {
        let _ = write!(
            gauge,
            "<span class=\"tgt\" style=\"left:{:.2}%\"></span>",
            pct(t)
        );
    }
    gauge.push_str("</div>");
    let _ = writeln!(
        out,
        "<tr><td>{name}</td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>\
         <td><span class=\"pill {class}\">{result}</span></td><td>{gauge}</td></tr>",
        esc(status),
        target.map_or("—".into(), secs),
        achieved.map_or("—".into(), secs),
    );
}

fn steps(out: &mut String, r: &Record) {
    out.push_str(
        "<section>\n<h2>Steps</h2>\n<p class=\"note\">Times are seconds from the RTO clock's origin; \
         <strong>bold</strong> marks the critical path.</p>\n<table>\n<thead><tr><th>Step</th><th>Name</th><th>Host</th>\
         <th>Status</th><th class=\"num\">Attempts</th><th class=\"num\">Exit</th><th class=\"num\">Start</th>\
         <th class=\"num\">Duration</th></tr></thead>\n<tbody>\n",
    );
    for s in by_start(r) {
        let e = &s.end;
        let id = if s.critical {
            format!("<strong><code>{}</code></strong>", esc(&e.step))
        } else {
            format!("<code>{}</code>", esc(&e.step))
        };
        let _ = writeln!(
            out,
            "<tr><td>{id}</td><td>{}</td><td>{}</td><td><span class=\"pill s-{}\">{}</span></td>\
             <td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{:.2}</td><td class=\"num\">{:.2}</td></tr>",
            esc(&e.name),
            or_dash(e.host.as_deref()),
            status_key(e.status),
            status_word(e.status),
            e.attempts,
            e.exit_code.map_or("—".into(), |c| c.to_string()),
            e.start_s,
            e.duration_s
        );
    }
    out.push_str("</tbody>\n</table>\n</section>\n");
}

/// A status as the journal spells it, for CSS classes and `data-status`.
pub(super) fn status_key(s: StepStatus) -> &'static str {
    match s {
        StepStatus::Ok => "ok",
        StepStatus::Failed => "failed",
        StepStatus::Skipped => "skipped",
        StepStatus::Planned => "planned",
        StepStatus::SourceUnreachable => "source_unreachable",
    }
}

fn failures(out: &mut String, r: &Record) {
    for (heading, steps) in detailed(r) {
        if !steps.is_empty() {
            let _ = writeln!(out, "<section>\n<h2>{heading}</h2>");
            details(out, &steps);
            out.push_str("</section>\n");
        }
    }
}

fn details(out: &mut String, steps: &[&StepRecord]) {
    for s in steps {
        let e = &s.end;
        let on = e
            .host
            .as_deref()
            .map_or(String::new(), |h| format!(" on {}", esc(h)));
        let _ = writeln!(
            out,
            "<h3><code>{}</code>{on} — {}</h3>",
            esc(&e.step),
            esc(&e.name)
        );
        if let Some(does) = &s.does {
            let _ = writeln!(out, "<p>Did:</p>\n<pre>{}</pre>", esc(does));
        }
        if let Some(m) = &e.message {
            let _ = writeln!(out, "<p>{}</p>", esc(m));
        }
        if let Some(x) = &e.excerpt {
            let _ = writeln!(
                out,
                "<p>Last lines of its output:</p>\n<pre>{}</pre>",
                esc(x)
            );
        }
        if let Some(o) = &e.output {
            let _ = writeln!(
                out,
                "<p class=\"note\">Full output: <code>{0}.stdout</code>, <code>{0}.stderr</code></p>",
                esc(o)
            );
        }
    }
}

fn decisions(out: &mut String, r: &Record) {
    out.push_str("<section>\n<h2>Operator decisions</h2>\n");
    if r.decisions.is_empty() {
        out.push_str("<p>None were needed.</p>\n</section>\n");
        return;
    }
    out.push_str(
        "<table>\n<thead><tr><th>When</th><th>Step</th><th>Host</th><th>Decision</th><th>By</th>\
         <th class=\"num\">Waited</th><th>Comment</th></tr></thead>\n<tbody>\n",
    );
    for d in &r.decisions {
        let _ = writeln!(
            out,
            "<tr><td class=\"mono\">{}</td><td><code>{}</code></td><td>{}</td><td><strong>{}</strong></td>\
             <td>{}</td><td class=\"num\">{}</td><td>{}</td></tr>",
            esc(&d.at),
            esc(&d.step),
            or_dash(d.host.as_deref()),
            d.choice.as_str(),
            esc(&d.by),
            secs(d.wait_s),
            or_dash(d.comment.as_deref())
        );
    }
    out.push_str("</tbody>\n</table>\n</section>\n");
}

fn notices(out: &mut String, r: &Record) {
    if r.notices.is_empty() {
        return;
    }
    out.push_str("<section>\n<h2>Notices</h2>\n<ul>\n");
    for n in &r.notices {
        let _ = writeln!(out, "<li>{}</li>", esc(n));
    }
    out.push_str("</ul>\n</section>\n");
}

fn hosts(out: &mut String, r: &Record) {
    if r.hosts.is_empty() {
        return;
    }
    out.push_str(
        "<section>\n<h2>Hosts logged in to before any step</h2>\n<table>\n\
         <thead><tr><th>Host</th><th>Result</th></tr></thead>\n<tbody>\n",
    );
    for h in &r.hosts {
        let result = if h.ok {
            "<span class=\"pill s-ok\">reached</span>".to_string()
        } else {
            format!(
                "<span class=\"pill s-failed\">unreachable</span> {}",
                esc(h.message.as_deref().unwrap_or(""))
            )
        };
        let _ = writeln!(out, "<tr><td>{}</td><td>{result}</td></tr>", esc(&h.host));
    }
    out.push_str("</tbody>\n</table>\n</section>\n");
}

fn inputs(out: &mut String, r: &Record) {
    out.push_str(
        "<section>\n<h2>Inputs and integrity</h2>\n<table>\n\
         <thead><tr><th>File</th><th>SHA-256</th></tr></thead>\n<tbody>\n",
    );
    for i in &r.start.inputs {
        let _ = writeln!(
            out,
            "<tr><td><code>{}</code></td><td class=\"mono\">{}</td></tr>",
            esc(&i.path),
            esc(&i.sha256)
        );
    }
    let _ = writeln!(
        out,
        "</tbody>\n</table>\n<p>The journal holds {} events; its last hash is <code>{}</code>. \
         <code>switchyard verify-evidence</code> on this folder checks the chain, the inputs and the summary.</p>\n\
         </section>\n<footer>Rendered by switchyard {} from the run's journal alone; \
         <code>switchyard report</code> on this folder renders it again, byte for byte.</footer>",
        r.events,
        esc(&r.last_hash),
        esc(&r.start.tool_version)
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::model::{Mode, Phase};
    use crate::engine::event::{Rto, RunStarted, StepFinished};
    use crate::evidence::record::StepRecord;

    fn step(id: &str, host: Option<&str>, status: StepStatus, start_s: f64) -> StepRecord {
        StepRecord {
            end: StepFinished {
                step: id.into(),
                service: "db".into(),
                phase: Phase::Stop,
                name: "<b>\"quoted\" & 'single'</b>".into(),
                host: host.map(Into::into),
                status,
                attempts: 1,
                exit_code: Some(7),
                started_at: "2026-01-01T00:00:00.000Z".into(),
                finished_at: "2026-01-01T00:00:01.000Z".into(),
                start_s,
                duration_s: 1.0,
                message: Some("exited with 7 </pre><script>alert(1)</script>".into()),
                output: None,
                files: Vec::new(),
                excerpt: Some("<script>x</script>".into()),
                stdout: None,
                stderr: None,
                human_wait_s: 0.0,
                rerun: false,
            },
            does: Some("echo '<img src=x>' && exit 7".into()),
            critical: id.ends_with(".1"),
        }
    }

    fn record() -> Record {
        Record {
            start: RunStarted {
                runbook: "rb".into(),
                title: "A <title>".into(),
                owner: None,
                tool_version: "0.1.0".into(),
                plan_hash: "abc".into(),
                from: "a".into(),
                to: "b".into(),
                mode: Mode::Switchover,
                dry_run: false,
                operator: "me@here".into(),
                clock_origin: "2026-01-01T00:00:00.000Z".into(),
                started_at: "2026-01-01T00:00:00.000Z".into(),
                rto_target_s: 60.0,
                services: Vec::new(),
                critical_path: Vec::new(),
                inputs: Vec::new(),
                runbook_file: String::new(),
                inventory_files: Vec::new(),
                only: Vec::new(),
                steps: 2,
                executions: 3,
                max_parallel: 1,
                runbooks: Vec::new(),
                signed_by: None,
            },
            runbooks: Vec::new(),
            hosts: Vec::new(),
            notices: vec!["a <notice>".into()],
            steps: vec![
                step("db.stop.1", Some("h1"), StepStatus::Failed, 0.0),
                step("db.stop.1", Some("h2"), StepStatus::Ok, 0.5),
                step("db.start.1", None, StepStatus::Skipped, 0.0),
            ],
            services: Vec::new(),
            decisions: Vec::new(),
            invariants: Vec::new(),
            outcome: Outcome::Failed,
            finished_at: "2026-01-01T00:00:02.000Z".into(),
            rto: Rto {
                target_s: 60.0,
                achieved_s: 0.0,
                met: false,
            },
            human_wait_s: 0.0,
            finished: true,
            events: 9,
            last_hash: "ff".into(),
        }
    }

    #[test]
    fn escapes_every_special_character() {
        assert_eq!(
            esc(r#"<a href="x">&'</a>"#).to_string(),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;"
        );
        assert_eq!(esc("plain — text").to_string(), "plain — text");
    }

    #[test]
    fn text_from_the_record_never_becomes_markup() {
        let html = render(&record());
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("<img"), "{html}");
        assert!(!html.contains("<b>"), "{html}");
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(html.contains("None were needed."));
    }

    #[test]
    fn one_bar_per_step_execution_and_the_rto_line_on_the_chart() {
        let r = record();
        let html = render(&r);
        assert_eq!(html.matches("class=\"bar\"").count(), r.steps.len());
        assert_eq!(html.matches("class=\"cross\"").count(), 1);
        assert!(html.contains("RTO target 1 min 00 s"));
        assert_eq!(html, render(&r), "rendering is deterministic");
    }

    #[test]
    fn a_site_has_its_systems_by_tier_and_a_lane_per_runbook() {
        use crate::evidence::report::fixtures::{ASSUMED, BLOCKED, site_record};
        let r = site_record();
        let html = render(&r);
        // The systems table: tiers in order, each system's status and how it reads.
        let tiers: Vec<usize> = ["0", "1", "2", "3"]
            .iter()
            .map(|t| html.find(&format!("<tbody data-tier=\"{t}\">")).expect(t))
            .collect();
        assert!(tiers.is_sorted(), "{tiers:?}");
        let rows = [
            ("base", "recovered", "met", "✓ recovered"),
            ("dns", "failed", "down", "✕ failed"),
            ("lab", "assumed", "aside", "○ assumed"),
            ("late", "recovered", "late", "▲ recovered, target missed"),
            ("app", "blocked", "down", "⊘ blocked"),
            ("back", "rolled_back", "aside", "↶ rolled back"),
        ];
        let mut at = Vec::new();
        for (name, status, standing, words) in rows {
            let row = format!(
                "<tr data-runbook=\"{name}\" data-status=\"{status}\" data-standing=\"{standing}\">"
            );
            let i = html.find(&row).unwrap_or_else(|| panic!("no {row}"));
            let end = i + html[i..].find("</tr>").expect("row end");
            let cells = &html[i..end];
            assert!(
                cells.contains(&format!("<span class=\"pill k-{standing}\">{words}</span>")),
                "{cells}"
            );
            assert!(
                cells.contains(&format!("The {name} &lt;system&gt;")),
                "{cells}"
            );
            at.push(i);
        }
        assert!(at.is_sorted(), "rows by tier, then name: {at:?}");
        assert!(html.contains(BLOCKED) && html.contains(ASSUMED));
        assert!(html.contains("<span class=\"note\">requires <code>dns</code></span>"));
        assert!(html.contains(
            "6 systems: 1 recovered within target · 1 recovered late · 1 failed · 1 blocked · \
             1 rolled back · 1 assumed"
        ));
        assert!(html.contains("Site <code>town</code>"), "{html}");
        // The timeline: a lane per runbook in the same order, one bar per step.
        let lanes: Vec<usize> = ["base", "dns", "lab", "late", "app", "back"]
            .iter()
            .map(|n| {
                html.find(&format!("<div class=\"lane\" data-runbook=\"{n}\""))
                    .unwrap_or_else(|| panic!("no lane {n}"))
            })
            .collect();
        assert!(lanes.is_sorted(), "{lanes:?}");
        assert_eq!(
            html.matches("<div class=\"lane\"").count(),
            r.runbooks.len()
        );
        assert_eq!(html.matches("class=\"bar\"").count(), r.steps.len());
        assert_eq!(html.matches("No step of it ran.").count(), 1, "lab's lane");
        // Labels in a lane leave out the runbook's name; the tooltip keeps it.
        assert!(html.contains(">svc.stop.1 @ dns-a<title>dns/svc.stop.1 @ dns-a</title>"));
        assert!(html.contains(">rollback.svc.start.1 @ back-a<title>rollback.back/svc.start.1"));
        assert!(html.contains("late target 2.0 s") && html.contains("site RTO target 10 min 00 s"));
        assert_eq!(html, render(&r), "rendering is deterministic");
    }

    #[test]
    fn a_single_runbook_has_neither_systems_nor_lanes() {
        let html = render(&record());
        assert!(html.contains("Runbook <code>rb</code>"));
        for site in [
            "Systems by tier",
            "lane",
            "site RTO",
            "x-own",
            "Site <code>",
        ] {
            assert!(!html.contains(site), "{site}");
        }
    }
}
