//! `junit.xml`: a test suite per service with a test case per step × host, and a test
//! case per RTO target, so that a CI system shows a drill like a test run.

use std::fmt::Write;

use crate::engine::event::StepStatus;
use crate::evidence::record::{Record, StepRecord};

use super::{Judgement, by_start, secs};

pub fn render(r: &Record) -> String {
    let steps = by_start(r);
    let mut suites = String::new();
    let (mut tests, mut failures, mut skipped) = (0, 0, 0);
    for s in &r.services {
        let mine: Vec<&StepRecord> = steps
            .iter()
            .copied()
            .filter(|x| x.end.service == s.name)
            .collect();
        let mut cases: Vec<Case> = mine.iter().map(|x| step_case(x)).collect();
        if let Some(target) = s.target_s {
            cases.push(rto_case(
                r,
                &format!("RTO of {}: {}", s.name, secs(target)),
                target,
                s.recovered_s,
            ));
        }
        let time = mine.iter().map(|x| x.end.duration_s).sum::<f64>();
        suite(
            &mut suites,
            &format!("{}.{}", r.start.runbook, s.name),
            time,
            &cases,
            r,
        );
        tally(&cases, &mut tests, &mut failures, &mut skipped);
    }
    let cases = [rto_case(
        r,
        &format!("RTO of the runbook: {}", secs(r.rto.target_s)),
        r.rto.target_s,
        r.recovered_s(),
    )];
    suite(&mut suites, &r.start.runbook, 0.0, &cases, r);
    tally(&cases, &mut tests, &mut failures, &mut skipped);
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"{}\" tests=\"{tests}\" failures=\"{failures}\" errors=\"0\" skipped=\"{skipped}\" time=\"{:.3}\" timestamp=\"{}\">\n{suites}</testsuites>\n",
        esc(&format!(
            "switchyard {} {} {} → {}{}",
            r.start.runbook,
            r.start.mode.as_str(),
            r.start.from,
            r.start.to,
            if r.start.dry_run { " (dry run)" } else { "" }
        )),
        r.rto.achieved_s,
        esc(&r.start.started_at),
    )
}

enum Verdict {
    Pass,
    Fail { message: String, text: String },
    Skip(String),
}

struct Case {
    name: String,
    time: f64,
    verdict: Verdict,
}

fn tally(cases: &[Case], tests: &mut usize, failures: &mut usize, skipped: &mut usize) {
    for c in cases {
        *tests += 1;
        match c.verdict {
            Verdict::Pass => {}
            Verdict::Fail { .. } => *failures += 1,
            Verdict::Skip(_) => *skipped += 1,
        }
    }
}

fn step_case(s: &StepRecord) -> Case {
    let e = &s.end;
    let on = e
        .host
        .as_deref()
        .map_or(String::new(), |h| format!(" on {h}"));
    let message = e.message.clone().unwrap_or_default();
    let verdict = match e.status {
        StepStatus::Ok => Verdict::Pass,
        StepStatus::Failed => Verdict::Fail {
            text: [s.does.as_deref(), e.excerpt.as_deref()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join("\n\n"),
            message,
        },
        StepStatus::Skipped => Verdict::Skip(message),
        StepStatus::Planned => Verdict::Skip("dry run: planned, not run".into()),
        StepStatus::SourceUnreachable => {
            Verdict::Skip("failover: the source host could not be reached".into())
        }
    };
    Case {
        name: format!("{} {}{on}", e.step, e.name),
        time: e.duration_s,
        verdict,
    }
}

fn rto_case(r: &Record, name: &str, target: f64, achieved: Option<f64>) -> Case {
    let verdict = match Judgement::of(r, Some(target), achieved) {
        Judgement::NotTimed => Verdict::Skip("dry run: recovery is not timed".into()),
        Judgement::Met | Judgement::NoTarget => Verdict::Pass,
        Judgement::Missed => Verdict::Fail {
            message: format!(
                "RTO missed: {} against a target of {}",
                secs(achieved.unwrap_or_default()),
                secs(target)
            ),
            text: String::new(),
        },
        Judgement::NotRecovered => Verdict::Fail {
            message: "not recovered".into(),
            text: String::new(),
        },
    };
    Case {
        name: name.to_string(),
        time: achieved.unwrap_or(0.0),
        verdict,
    }
}

fn suite(out: &mut String, name: &str, time: f64, cases: &[Case], r: &Record) {
    let failures = cases
        .iter()
        .filter(|c| matches!(c.verdict, Verdict::Fail { .. }))
        .count();
    let skipped = cases
        .iter()
        .filter(|c| matches!(c.verdict, Verdict::Skip(_)))
        .count();
    let _ = writeln!(
        out,
        "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failures}\" errors=\"0\" skipped=\"{skipped}\" time=\"{time:.3}\" timestamp=\"{}\">",
        esc(name),
        cases.len(),
        esc(&r.start.started_at)
    );
    for c in cases {
        let head = format!(
            "    <testcase classname=\"{}\" name=\"{}\" time=\"{:.3}\"",
            esc(name),
            esc(&c.name),
            c.time
        );
        let _ = match &c.verdict {
            Verdict::Pass => writeln!(out, "{head}/>"),
            Verdict::Skip(m) => writeln!(
                out,
                "{head}>\n      <skipped message=\"{}\"/>\n    </testcase>",
                esc(m)
            ),
            Verdict::Fail { message, text } => writeln!(
                out,
                "{head}>\n      <failure message=\"{}\" type=\"failure\">{}</failure>\n    </testcase>",
                esc(message),
                esc(text)
            ),
        };
    }
    out.push_str("  </testsuite>\n");
}

/// Escapes text for XML attributes and content, dropping characters XML 1.0 forbids.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::esc;

    #[test]
    fn escapes_markup_and_drops_forbidden_characters() {
        assert_eq!(esc("a<b & \"c\"\u{1b}[0m"), "a&lt;b &amp; &quot;c&quot;[0m");
    }
}
