//! `junit.xml`: a test suite per service with a test case per step × host, and a test
//! case per RTO target, so that a CI system shows a drill like a test run. A site has a
//! test suite per runbook instead (its step ids without the runbook's name), and one for
//! the site's own target.

use std::fmt::Write;

use crate::engine::event::StepStatus;
use crate::evidence::record::{Record, RunbookStatus, StepRecord};

use super::{Judgement, by_start, lanes, own_id, secs};

pub fn render(r: &Record) -> String {
    let mut suites = String::new();
    let (mut tests, mut failures, mut skipped) = (0, 0, 0);
    let mut count = |cases: &[Case]| tally(cases, &mut tests, &mut failures, &mut skipped);
    if r.runbooks.is_empty() {
        service_suites(r, &mut suites, &mut count);
    } else {
        runbook_suites(r, &mut suites, &mut count);
    }
    invariant_suite(r, &mut suites, &mut count);
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

/// A runbook's suites: one per service, then the runbook's target.
fn service_suites(r: &Record, suites: &mut String, count: &mut impl FnMut(&[Case])) {
    let steps = by_start(r);
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
        if let Some(row) = super::rpo::rows(r)
            .into_iter()
            .find(|row| row.service == s.name)
        {
            cases.push(rpo_case(&row));
        }
        let time = mine.iter().map(|x| x.end.duration_s).sum::<f64>();
        suite(
            suites,
            &format!("{}.{}", r.start.runbook, s.name),
            time,
            &cases,
            r,
        );
        count(&cases);
    }
    let cases = [rto_case(
        r,
        &format!("RTO of the runbook: {}", secs(r.rto.target_s)),
        r.rto.target_s,
        r.recovered_s(),
    )];
    suite(suites, &r.start.runbook, 0.0, &cases, r);
    count(&cases);
}

/// A site's suites: one per runbook (by tier, then name) with its steps, its services'
/// targets and its own; then the site's target. A blocked or assumed runbook's targets
/// are skipped with the reason: it was not its own failure.
fn runbook_suites(r: &Record, suites: &mut String, count: &mut impl FnMut(&[Case])) {
    let steps = by_start(r);
    for rb in lanes(r) {
        let mine: Vec<&StepRecord> = steps
            .iter()
            .copied()
            .filter(|x| rb.owns(&x.end.service))
            .collect();
        let mut cases: Vec<Case> = mine
            .iter()
            .map(|x| Case {
                name: case_name(x, &own_id(rb, &x.end.step)),
                ..step_case(x)
            })
            .collect();
        let aside = match rb.status {
            RunbookStatus::Blocked | RunbookStatus::Assumed => rb.reason.as_deref(),
            _ => None,
        };
        let target_case = |name: String, target: f64, achieved: Option<f64>| match aside {
            Some(why) => Case {
                name,
                time: 0.0,
                verdict: Verdict::Skip(format!("{}: {why}", rb.status.words())),
            },
            None => rto_case(r, &name, target, achieved),
        };
        let rpo = super::rpo::rows(r);
        for s in r.services.iter().filter(|s| rb.owns(&s.name)) {
            if let Some(target) = s.target_s {
                let own = own_id(rb, &s.name);
                let name = format!("RTO of {own}: {}", secs(target));
                cases.push(target_case(name, target, s.recovered_s));
            }
            if let Some(row) = rpo.iter().find(|row| row.service == s.name) {
                cases.push(rpo_case(row));
            }
        }
        let name = format!("RTO of the runbook: {}", secs(rb.target_s));
        cases.push(match (rb.status, &rb.reason) {
            (
                RunbookStatus::Recovered
                | RunbookStatus::Planned
                | RunbookStatus::Blocked
                | RunbookStatus::Assumed,
                _,
            )
            | (_, None) => target_case(name, rb.target_s, rb.recovered_s),
            // Failed, rolled back, interrupted: the failure says why.
            (status, Some(why)) => Case {
                name,
                time: 0.0,
                verdict: Verdict::Fail {
                    message: format!("not recovered ({}): {why}", status.words()),
                    text: String::new(),
                },
            },
        });
        let time = mine.iter().map(|x| x.end.duration_s).sum::<f64>();
        suite(suites, &rb.name, time, &cases, r);
        count(&cases);
    }
    let cases = [rto_case(
        r,
        &format!("RTO of the site: {}", secs(r.rto.target_s)),
        r.rto.target_s,
        r.recovered_s(),
    )];
    suite(suites, &format!("site {}", r.start.runbook), 0.0, &cases, r);
    count(&cases);
}

/// The safety invariants' suite: a case per invariant, failed if it was ever breached.
fn invariant_suite(r: &Record, suites: &mut String, count: &mut impl FnMut(&[Case])) {
    let cases: Vec<Case> = super::invariants::junit_cases(r)
        .into_iter()
        .map(|c| Case {
            name: c.name,
            time: 0.0,
            verdict: match c.failure {
                Some((message, text)) => Verdict::Fail { message, text },
                None => Verdict::Pass,
            },
        })
        .collect();
    if cases.is_empty() {
        return;
    }
    suite(
        suites,
        &format!("{}.invariants", r.start.runbook),
        0.0,
        &cases,
        r,
    );
    count(&cases);
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
        name: case_name(s, &e.step),
        time: e.duration_s,
        verdict,
    }
}

/// A step case's name: its id (as given), name and host.
fn case_name(s: &StepRecord, id: &str) -> String {
    let e = &s.end;
    let on = e
        .host
        .as_deref()
        .map_or(String::new(), |h| format!(" on {h}"));
    format!("{id} {}{on}", e.name)
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

/// A service's measured RPO: a miss (or a loss that could not be measured) fails it.
fn rpo_case(row: &super::rpo::Row) -> Case {
    let name = format!("RPO of {}: {}", row.service, row.target);
    let verdict = if row.result.starts_with("dry run") {
        Verdict::Skip("dry run: the canary does not run".into())
    } else if row.missed {
        Verdict::Fail {
            message: format!(
                "RPO {}: {} acknowledged write(s) lost ({}), read back {}",
                row.result, row.lost, row.lost_s, row.read
            ),
            text: row.messages.join("\n"),
        }
    } else {
        Verdict::Pass
    };
    Case {
        name,
        time: 0.0,
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

#[cfg(test)]
mod site_tests {
    use super::render;
    use crate::evidence::report::fixtures::{ASSUMED, BLOCKED, site_record};

    /// Checks that `xml` is well-formed as far as `junit.xml` goes (a declaration, then
    /// elements with quoted attributes, text and the five entities) and returns its
    /// elements as (depth, tag with its attributes), in order.
    fn elements(xml: &str) -> Vec<(usize, String)> {
        let body = xml
            .strip_prefix("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n")
            .expect("declaration");
        let entities = |text: &str| {
            text.split('&').skip(1).all(|rest| {
                ["amp;", "lt;", "gt;", "quot;", "apos;"]
                    .iter()
                    .any(|e| rest.starts_with(e))
            })
        };
        let (mut stack, mut out, mut rest, mut roots) = (Vec::<String>::new(), Vec::new(), body, 0);
        while let Some(open) = rest.find('<') {
            assert!(entities(&rest[..open]), "text {:?}", &rest[..open]);
            assert!(!rest[..open].contains('>'), "text {:?}", &rest[..open]);
            let close = rest[open..].find('>').expect("tag end") + open;
            let tag = &rest[open + 1..close];
            assert!(!tag.contains('<'), "tag {tag:?}");
            assert_eq!(tag.matches('"').count() % 2, 0, "tag {tag:?}");
            assert!(entities(tag), "tag {tag:?}");
            if let Some(name) = tag.strip_prefix('/') {
                assert_eq!(stack.pop().as_deref(), Some(name), "closing {name}");
            } else {
                let name = tag.split([' ', '/']).next().unwrap_or_default().to_string();
                assert!(!name.is_empty(), "tag {tag:?}");
                if stack.is_empty() {
                    roots += 1;
                }
                out.push((stack.len(), tag.trim_end_matches('/').to_string()));
                if !tag.ends_with('/') {
                    stack.push(name);
                }
            }
            rest = &rest[close + 1..];
        }
        assert!(
            stack.is_empty() && rest.trim().is_empty(),
            "{stack:?} {rest:?}"
        );
        assert_eq!(roots, 1);
        out
    }

    /// An attribute of a tag as `elements` gives it.
    fn attr<'t>(tag: &'t str, name: &str) -> &'t str {
        let from = tag.find(&format!(" {name}=\"")).expect(name) + name.len() + 3;
        &tag[from..from + tag[from..].find('"').expect("quote")]
    }

    #[test]
    fn a_site_has_a_suite_per_runbook_then_one_for_the_site() {
        let xml = render(&site_record());
        let all = elements(&xml);
        let suites: Vec<&str> = all
            .iter()
            .filter(|(d, t)| *d == 1 && t.starts_with("testsuite "))
            .map(|(_, t)| attr(t, "name"))
            .collect();
        assert_eq!(
            suites,
            ["base", "dns", "lab", "late", "app", "back", "site town"]
        );
        // Each suite's counts are those of its own cases.
        let (mut tests, mut failures, mut skipped) = (0, 0, 0);
        for (i, (_, suite)) in all.iter().enumerate().filter(|(_, (d, _))| *d == 1) {
            let inner: Vec<&(usize, String)> =
                all[i + 1..].iter().take_while(|(d, _)| *d > 1).collect();
            let count = |tag: &str| inner.iter().filter(|(_, t)| t.starts_with(tag)).count();
            let n = |a: &str| attr(suite, a).parse::<usize>().expect(a);
            assert_eq!(n("tests"), count("testcase "), "{suite}");
            assert_eq!(n("failures"), count("failure "), "{suite}");
            assert_eq!(n("skipped"), count("skipped "), "{suite}");
            (tests, failures, skipped) = (
                tests + n("tests"),
                failures + n("failures"),
                skipped + n("skipped"),
            );
        }
        let root = &all[0].1;
        assert_eq!(attr(root, "tests").parse::<usize>(), Ok(tests));
        assert_eq!(attr(root, "failures").parse::<usize>(), Ok(failures));
        assert_eq!(attr(root, "skipped").parse::<usize>(), Ok(skipped));

        let suite = |name: &str| {
            let head = format!("  <testsuite name=\"{name}\" ");
            let from = xml.find(&head).unwrap_or_else(|| panic!("no suite {name}"));
            let to = from + xml[from..].find("</testsuite>").expect("end");
            xml[from..to].to_string()
        };
        // Step ids leave out the runbook's name; the suite's name says it.
        let dns = suite("dns");
        assert!(
            dns.contains("tests=\"3\" failures=\"2\" errors=\"0\" skipped=\"0\""),
            "{dns}"
        );
        assert!(
            dns.contains("classname=\"dns\" name=\"svc.stop.1 stop it on dns-a\""),
            "{dns}"
        );
        assert!(dns.contains("<failure message=\"not recovered (failed): dns/svc.stop.1 failed"));
        let back = suite("back");
        assert!(
            back.contains("name=\"rollback.svc.start.1 start it on back-a\""),
            "{back}"
        );
        // Blocked and assumed: nothing of theirs fails; their targets are skipped, saying why.
        let app = suite("app");
        assert!(app.contains("failures=\"0\""), "{app}");
        let skipped = format!("<skipped message=\"blocked: {BLOCKED}\"/>");
        assert_eq!(app.matches(&skipped).count(), 2, "{app}");
        let lab = suite("lab");
        assert!(
            lab.contains("tests=\"1\" failures=\"0\" errors=\"0\" skipped=\"1\""),
            "{lab}"
        );
        assert!(
            lab.contains(&format!("<skipped message=\"assumed: {ASSUMED}\"/>")),
            "{lab}"
        );
        let late = suite("late");
        assert!(late.contains("<failure message=\"RTO missed: 3.0 s against a target of 2.0 s\""));
        assert!(!suite("base").contains("<failure"));
    }
}
