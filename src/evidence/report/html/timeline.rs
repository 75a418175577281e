//! The timeline: an SVG Gantt chart of every step on every host, coloured by phase,
//! with failures, the critical path and the RTO target marked; split into charts of
//! [`ROWS_PER_CHART`] rows so a printed page holds whole charts. A site's timeline has
//! one lane per runbook (by tier, then name), each with its own target marked, on one
//! time axis.

use std::fmt::Write;

use crate::config::model::Phase;
use crate::engine::event::StepStatus;
use crate::evidence::record::{Record, RunbookRecord, StepRecord};
use crate::evidence::report::{
    Standing, by_start, lanes, own_id, secs, status_word, system_status,
};

use super::{esc, status_key, status_slug};

/// Rows per chart: a longer timeline is split so each part fits on a printed page.
const ROWS_PER_CHART: usize = 40;
const ROW: f64 = 16.0;
const WIDTH: f64 = 1000.0;
const TOP: f64 = 30.0;
/// Narrowest drawn bar, so instant steps stay visible.
const MIN_BAR: f64 = 3.0;
/// Longest row label before it is cut (the full label is in the bar's tooltip).
const MAX_LABEL: usize = 44;

/// Geometry shared by every part of the timeline.
struct Axis {
    left: f64,
    right: f64,
    end_s: f64,
    step_s: f64,
}

impl Axis {
    fn x(&self, t: f64) -> f64 {
        self.left + (t.max(0.0) / self.end_s) * (self.right - self.left)
    }
}

/// A tick interval of 1, 2 or 5 × 10ⁿ seconds giving about eight ticks.
fn tick_step(span: f64) -> f64 {
    let raw = (span / 8.0).max(1e-3);
    let pow = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * pow)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * pow)
}

/// A row's label: its step and host; in a runbook's lane, its step without the
/// runbook's name.
fn label(s: &StepRecord, lane: Option<&RunbookRecord>) -> String {
    let step = match lane {
        Some(rb) => own_id(rb, &s.end.step),
        None => s.end.step.as_str().into(),
    };
    match &s.end.host {
        Some(h) => format!("{step} @ {h}"),
        None => step.into_owned(),
    }
}

/// The runbook whose lane `s` is drawn in.
fn lane_of<'r>(r: &'r Record, s: &StepRecord) -> Option<&'r RunbookRecord> {
    r.runbooks.iter().find(|rb| rb.owns(&s.end.service))
}

/// A target drawn across a chart as a dashed line with its label above.
#[derive(Clone)]
struct Mark {
    at_s: f64,
    label: String,
    /// The line's CSS class; its label's is `LINE-label`.
    class: &'static str,
}

/// A label cut to [`MAX_LABEL`] characters in the middle, keeping the host at its end.
fn shorten(full: &str) -> String {
    let n = full.chars().count();
    if n <= MAX_LABEL {
        return full.to_string();
    }
    let head = MAX_LABEL / 2 - 1;
    let tail = MAX_LABEL - head - 1;
    let chars = full.chars();
    chars
        .clone()
        .take(head)
        .chain(['…'])
        .chain(chars.skip(n - tail))
        .collect()
}

fn phase_color(phase: Phase) -> &'static str {
    match phase {
        Phase::Precheck => "#7c8a9e",
        Phase::Stop => "#e08a1e",
        Phase::Start => "#2f6fca",
        Phase::Verify => "#2f9e6a",
    }
}

pub(super) fn timeline(out: &mut String, r: &Record) {
    let rows = by_start(r);
    // The heading, the legend and the first chart go on one printed page together.
    out.push_str("<section>\n<div class=\"keep\">\n<h2>Timeline</h2>\n");
    if rows.is_empty() {
        out.push_str("<p>No step ran.</p>\n</div>\n</section>\n");
        return;
    }
    let last = rows
        .iter()
        .map(|s| s.end.start_s + s.end.duration_s)
        .fold(0.0_f64, f64::max);
    let span = r
        .runbooks
        .iter()
        .map(|rb| rb.target_s)
        .fold(last.max(r.rto.target_s), f64::max)
        .max(1e-3);
    let step_s = tick_step(span);
    let chars = rows
        .iter()
        .map(|s| label(s, lane_of(r, s)).chars().count().min(MAX_LABEL))
        .max()
        .unwrap_or(0);
    // Room for the print font (13 units), larger than the screen's: see the CSS.
    let left = (chars as f64 * 7.9 + 16.0).max(120.0);
    let axis = Axis {
        left,
        right: WIDTH - 24.0,
        end_s: (span / step_s).ceil() * step_s,
        step_s,
    };
    out.push_str("<div class=\"legend\">");
    for p in Phase::ALL {
        let _ = write!(
            out,
            "<span><i style=\"background:{}\"></i>{p}</span>",
            phase_color(p)
        );
    }
    out.push_str(
        "<span><i class=\"x-failed\"></i>failed (✕)</span><span><i class=\"x-skipped\"></i>skipped</span>\
         <span><i class=\"x-crit\"></i>critical path (bold label)</span><span><i class=\"x-rto\"></i>RTO target</span>",
    );
    if !r.runbooks.is_empty() {
        out.push_str("<span><i class=\"x-own\"></i>the runbook's own target</span>");
    }
    out.push_str(
        "<span>seconds from the RTO clock's origin; hover a bar for exact times</span></div>\n",
    );
    let site_target = Mark {
        at_s: r.rto.target_s,
        label: format!(
            "{}RTO target {}",
            if r.runbooks.is_empty() { "" } else { "site " },
            secs(r.rto.target_s)
        ),
        class: "rto",
    };
    if r.runbooks.is_empty() {
        for (i, part) in rows.chunks(ROWS_PER_CHART).enumerate() {
            chart(out, part, &axis, None, std::slice::from_ref(&site_target));
            if i == 0 {
                out.push_str("</div>\n");
            }
        }
    } else {
        for (i, rb) in lanes(r).into_iter().enumerate() {
            let mine: Vec<&StepRecord> = rows
                .iter()
                .copied()
                .filter(|s| rb.owns(&s.end.service))
                .collect();
            let own = Mark {
                at_s: rb.target_s,
                label: format!("{} target {}", rb.name, secs(rb.target_s)),
                class: "own",
            };
            lane(out, rb, &mine, &axis, &[own, site_target.clone()]);
            if i == 0 {
                out.push_str("</div>\n");
            }
        }
    }
    out.push_str("</section>\n");
}

/// A runbook's lane: its tier, name and status above the charts of its steps.
fn lane(out: &mut String, rb: &RunbookRecord, rows: &[&StepRecord], a: &Axis, marks: &[Mark]) {
    let standing = Standing::of(rb);
    let _ = writeln!(
        out,
        "<div class=\"lane\" data-runbook=\"{}\" data-tier=\"{}\" data-status=\"{}\">\n\
         <h3>Tier {} · <code>{}</code> {} <span class=\"pill k-{}\">{}</span></h3>",
        esc(&rb.name),
        rb.tier,
        status_slug(rb.status.words()),
        rb.tier,
        esc(&rb.name),
        if rb.title == rb.name {
            String::new()
        } else {
            format!("— {}", esc(&rb.title))
        },
        standing.key(),
        esc(&system_status(rb)),
    );
    if let Some(why) = &rb.reason {
        let _ = writeln!(out, "<p class=\"note\">{}</p>", esc(why));
    }
    if rows.is_empty() {
        out.push_str("<p>No step of it ran.</p>\n");
    }
    for part in rows.chunks(ROWS_PER_CHART) {
        chart(out, part, a, Some(rb), marks);
    }
    out.push_str("</div>\n");
}

/// One chart of `rows` (in `lane`, when a site's), with `marks` across it, the first
/// lowest.
fn chart(
    out: &mut String,
    rows: &[&StepRecord],
    a: &Axis,
    lane: Option<&RunbookRecord>,
    marks: &[Mark],
) {
    let bottom = TOP + rows.len() as f64 * ROW;
    let height = bottom + 22.0;
    let _ = writeln!(
        out,
        "<svg class=\"gantt\" viewBox=\"0 0 {WIDTH} {height}\" role=\"img\" aria-label=\"Timeline of step executions\">"
    );
    for (i, _) in rows.iter().enumerate().filter(|(i, _)| i % 2 == 1) {
        let _ = writeln!(
            out,
            "<rect class=\"stripe\" x=\"0\" y=\"{:.1}\" width=\"{WIDTH}\" height=\"{ROW}\"/>",
            TOP + i as f64 * ROW
        );
    }
    // Enough decimals to tell the ticks apart: 0.5 s steps get one, 0.05 s steps two.
    let decimals = (-a.step_s.log10()).ceil().max(0.0) as usize;
    let ticks = (a.end_s / a.step_s).round() as usize;
    for i in 0..=ticks {
        let t = i as f64 * a.step_s;
        let x = a.x(t);
        let unit = if i == ticks { " s" } else { "" };
        let _ = writeln!(
            out,
            "<line class=\"grid\" x1=\"{x:.1}\" y1=\"{TOP}\" x2=\"{x:.1}\" y2=\"{bottom}\"/>\
             <line class=\"axis\" x1=\"{x:.1}\" y1=\"{bottom}\" x2=\"{x:.1}\" y2=\"{:.1}\"/>\
             <text class=\"tick\" x=\"{x:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{t:.decimals$}{unit}</text>",
            bottom + 4.0,
            bottom + 15.0
        );
    }
    let _ = writeln!(
        out,
        "<line class=\"axis\" x1=\"{:.1}\" y1=\"{bottom}\" x2=\"{:.1}\" y2=\"{bottom}\"/>",
        a.left, a.right
    );
    for (i, s) in rows.iter().enumerate() {
        bar(out, s, a, TOP + i as f64 * ROW, lane);
    }
    for (i, m) in marks.iter().enumerate() {
        let x = a.x(m.at_s);
        let (anchor, lx) = if x > a.right - 160.0 {
            ("end", x - 5.0)
        } else {
            ("start", x + 5.0)
        };
        let up = 12.0 * i as f64;
        let _ = writeln!(
            out,
            "<line class=\"{0}\" x1=\"{x:.1}\" y1=\"{1:.1}\" x2=\"{x:.1}\" y2=\"{bottom}\"/>\
             <text class=\"{0}-label\" x=\"{lx:.1}\" y=\"{2:.1}\" text-anchor=\"{anchor}\">{3}</text>",
            m.class,
            TOP - 14.0 - up,
            TOP - 6.0 - up,
            esc(&m.label)
        );
    }
    out.push_str("</svg>\n");
}

/// One step on one host: its label, its bar with exact times in a tooltip, its marks.
fn bar(out: &mut String, s: &StepRecord, a: &Axis, y: f64, lane: Option<&RunbookRecord>) {
    let e = &s.end;
    let full = label(s, None);
    let shown = shorten(&label(s, lane));
    let _ = writeln!(
        out,
        "<text{} x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}<title>{}</title></text>",
        if s.critical { " class=\"crit\"" } else { "" },
        a.left - 8.0,
        y + 12.0,
        esc(&shown),
        esc(&full)
    );
    let x = a.x(e.start_s);
    let w = (a.x(e.start_s + e.duration_s) - x).max(MIN_BAR);
    let exit = e.exit_code.map_or(String::new(), |c| format!(", exit {c}"));
    let _ = writeln!(
        out,
        "<rect class=\"bar\" x=\"{x:.1}\" y=\"{:.1}\" width=\"{w:.1}\" height=\"10\" rx=\"1.5\" fill=\"{}\" \
         data-phase=\"{}\" data-status=\"{}\"><title>{} — {}{}\n{}, {} attempt(s){exit}\n\
         start {:.3} s ({})\nend {:.3} s ({})\nduration {:.3} s</title></rect>",
        y + 3.0,
        phase_color(e.phase),
        e.phase.as_str(),
        status_key(e.status),
        esc(&full),
        esc(&e.name),
        if s.critical { " (critical path)" } else { "" },
        status_word(e.status),
        e.attempts,
        e.start_s,
        esc(&e.started_at),
        e.start_s + e.duration_s,
        esc(&e.finished_at),
        e.duration_s,
    );
    if s.critical {
        let _ = writeln!(
            out,
            "<rect x=\"{x:.1}\" y=\"{:.1}\" width=\"{w:.1}\" height=\"2\" fill=\"#1f2933\"/>",
            y + 13.5
        );
    }
    let mut after = x + w + 6.0;
    if e.status == StepStatus::Failed {
        let _ = writeln!(
            out,
            "<path class=\"cross\" d=\"M{after:.1} {:.1}l8 8m0 -8l-8 8\"/>",
            y + 4.0
        );
        after += 12.0;
    }
    let note = match e.status {
        StepStatus::Ok | StepStatus::Planned => return,
        StepStatus::Failed => format!("failed{exit}"),
        other => status_word(other).to_string(),
    };
    // Past the RTO line's label room, the note goes to the left of the bar instead.
    let (anchor, nx) = if after > a.right - 110.0 {
        ("end", x - 6.0)
    } else {
        ("start", after)
    };
    let _ = writeln!(
        out,
        "<text class=\"tick\" x=\"{nx:.1}\" y=\"{:.1}\" text-anchor=\"{anchor}\">{note}</text>",
        y + 11.5
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_labels_are_cut_in_the_middle_keeping_the_host() {
        let long = format!("{}.start.1 @ node-b01", "x".repeat(60));
        let short = shorten(&long);
        assert_eq!(short.chars().count(), MAX_LABEL);
        assert!(short.starts_with("xxx") && short.ends_with("start.1 @ node-b01"));
        assert!(short.contains('…'));
        assert_eq!(shorten("db.stop.1 @ h"), "db.stop.1 @ h");
    }

    #[test]
    fn ticks_are_round_numbers() {
        assert_eq!(tick_step(60.0), 10.0);
        assert_eq!(tick_step(3600.0), 500.0);
        assert_eq!(tick_step(1.0), 0.2);
    }
}
