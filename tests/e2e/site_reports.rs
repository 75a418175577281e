//! The reports of a site run, read the way a person reads them: `report.html` rendered by
//! headless Chromium (a systems table by tier, a timeline lane per runbook, the reason a
//! system did not recover) and `junit.xml` parsed by a real XML parser (a test suite per
//! runbook). The runbooks run on local hosts, so the run takes a second.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::report_html::Browser;
use crate::support::evidence::{read, verify};
use crate::support::util::{LOCAL_INVENTORY, Test, run_dir, summary};

/// A runbook of one service on the local hosts; `fail` goes before its stop's command.
fn runbook(name: &str, fail: &str) -> String {
    format!(
        r#"[runbook]
name = "{name}"
title = "The {name} <system>"
rto = "1m"
inventory = ["../inventory/site.toml"]
on_failure = "abort"

[services.svc]
hosts = ["tag:node"]
[[services.svc.precheck]]
run = "true"
[[services.svc.stop]]
on = "source"
run = "{fail}sleep 0.1"
[[services.svc.start]]
run = "sleep 0.1"
[[services.svc.verify]]
run = "true"
"#
    )
}

/// `dns` (tier 0) fails while stopping; `app` (tier 2) requires it; `base` (tier 1)
/// stands alone.
const SITE: &str = r#"[site]
name = "town"
title = "Town: every system"
rto = "10m"
runbooks = ["../runbooks/*.toml"]

[systems.dns]
tier = 0
[systems.base]
tier = 1
[systems.app]
tier = 2
requires = ["dns"]
"#;

fn live(t: Test, extra: &[&str]) -> crate::support::util::Output {
    let mut args = vec![
        "--no-progress",
        "run",
        "sites/town.toml",
        "--to",
        "b",
        "--live",
        "--yes",
    ];
    args.extend(extra);
    t.args(&args).run()
}

/// The rendered page's row of runbook `name` in the systems table, from `<tr` to `</tr>`.
fn row<'d>(dom: &'d str, name: &str) -> (usize, &'d str) {
    let at = dom
        .find(&format!("<tr data-runbook=\"{name}\""))
        .unwrap_or_else(|| panic!("no row of {name} in the systems table:\n{dom}"));
    let end = at + dom[at..].find("</tr>").expect("row end");
    (at, &dom[at..end])
}

/// The tier whose group (`<tbody data-tier="N">`) holds runbook `name`'s row.
fn tier_of(dom: &str, name: &str) -> u8 {
    let (at, _) = row(dom, name);
    let head = "<tbody data-tier=\"";
    let group = dom[..at].rfind(head).expect("a tier group") + head.len();
    assert!(
        !dom[group..at].contains("</tbody>"),
        "{name}'s row is in no group"
    );
    let tier = &dom[group..group + dom[group..].find('"').expect("quote")];
    tier.parse().expect("tier")
}

/// The runbooks of the timeline's lanes, in order.
fn lanes(dom: &str) -> Vec<String> {
    let head = "<div class=\"lane\" data-runbook=\"";
    dom.match_indices(head)
        .map(|(i, _)| {
            let rest = &dom[i + head.len()..];
            rest[..rest.find('"').expect("quote")].to_string()
        })
        .collect()
}

/// Every step execution in a site summary, over its runbooks.
fn steps(s: &Value) -> usize {
    s["runbooks"]
        .as_array()
        .expect("runbooks")
        .iter()
        .map(|r| r["steps"].as_array().map_or(0, Vec::len))
        .sum()
}

/// `junit.xml` parsed by Python's XML parser (a malformed file fails it): each
/// suite's name, tests, failures and skipped.
fn junit_suites(dir: &Path) -> Vec<(String, u32, u32, u32)> {
    let script = "import sys, xml.etree.ElementTree as E\n\
                  root = E.parse(sys.argv[1]).getroot()\n\
                  assert root.tag == 'testsuites', root.tag\n\
                  for s in root.findall('testsuite'):\n    \
                      cases = s.findall('testcase')\n    \
                      assert int(s.get('tests')) == len(cases), s.get('name')\n    \
                      print('\\t'.join([s.get('name'), s.get('tests'), s.get('failures'), s.get('skipped')]))\n";
    let out = Command::new("python3")
        .args(["-c", script])
        .arg(dir.join("junit.xml"))
        .output()
        .expect("python3 (scripts/test needs it too)");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "junit.xml does not parse: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        read(dir, "junit.xml")
    );
    text.lines()
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            let n = |i: usize| f[i].parse::<u32>().expect("a count");
            (f[0].to_string(), n(1), n(2), n(3))
        })
        .collect()
}

#[test]
fn a_site_report_shows_each_system_by_tier_and_a_lane_per_runbook_in_chromium() {
    let t = Test::new()
        .file("inventory/site.toml", LOCAL_INVENTORY)
        .file(
            "runbooks/dns.toml",
            runbook("dns", "echo refused >&2; exit 1; "),
        )
        .file("runbooks/base.toml", runbook("base", ""))
        .file("runbooks/app.toml", runbook("app", ""))
        .file("sites/town.toml", SITE);
    let out = live(t, &[]);
    assert_eq!(out.code, 1, "{}\n{}", out.stdout, out.stderr);
    let dir = run_dir(&out);
    let s = summary(&dir);
    assert_eq!(s["schema"], "switchyard.site-summary/v1", "{s}");
    verify(&dir).code(0).stdout_has("intact");

    let browser = Browser::find();
    let dom = browser.run(&[
        "--dump-dom",
        &format!("file://{}", dir.join("report.html").display()),
    ]);
    // The timeline: one lane per runbook, by tier; one bar per step execution.
    assert_eq!(lanes(&dom), ["dns", "base", "app"], "{dom}");
    assert_eq!(dom.matches("class=\"bar\"").count(), steps(&s), "{dom}");
    // The systems table: grouped by tier, tier 0 first, each with its status.
    for (name, tier, status, words) in [
        ("dns", 0, "failed", "✕ failed"),
        ("base", 1, "recovered", "✓ recovered"),
        ("app", 2, "blocked", "⊘ blocked"),
    ] {
        assert_eq!(tier_of(&dom, name), tier, "{dom}");
        let (_, cells) = row(&dom, name);
        assert!(
            cells.contains(&format!("data-status=\"{status}\"")) && cells.contains(words),
            "{name}: {cells}"
        );
        assert!(
            cells.contains(&format!("The {name} &lt;system&gt;")),
            "{cells}"
        );
    }
    assert!(row(&dom, "dns").0 < row(&dom, "base").0 && row(&dom, "base").0 < row(&dom, "app").0);
    let (_, app) = row(&dom, "app");
    assert!(
        app.contains("requires `dns`, which did not recover"),
        "{app}"
    );
    let (_, dns) = row(&dom, "dns");
    assert!(dns.contains("dns/svc.stop.1 on node-a"), "{dns}");
    let (_, base) = row(&dom, "base");
    assert!(
        base.contains("data-standing=\"met\"") && base.contains(">met<"),
        "{base}"
    );
    assert!(
        dom.contains("3 systems: 1 recovered within target · 1 failed · 1 blocked"),
        "{dom}"
    );

    // JUnit: a suite per runbook (by tier), then the site's; counted per suite.
    let suites = junit_suites(&dir);
    let names: Vec<&str> = suites.iter().map(|x| x.0.as_str()).collect();
    assert_eq!(names, ["dns", "base", "app", "site town"], "{suites:?}");
    let counts = |i: usize| (suites[i].1, suites[i].2, suites[i].3);
    // Tests, failures, skipped. dns: its failed stop and its own target failed, its
    // start and verify did not run.
    assert_eq!(counts(0), (5, 2, 2), "{suites:?}");
    assert_eq!(counts(1), (5, 0, 0), "{suites:?}");
    // app: nothing of its own failed; what it did not run, and its target, are skipped.
    assert_eq!(counts(2), (5, 0, 3), "{suites:?}");
    let junit = read(&dir, "junit.xml");
    assert!(
        junit.contains("<skipped message=\"blocked: requires `dns`, which did not recover"),
        "{junit}"
    );

    // A second run of `app` alone: `dns` is assumed, and said to be.
    let again = live(Test::reuse(&out.root), &["--only", "app"]).code(0);
    let dir = run_dir(&again);
    let dom = browser.run(&[
        "--dump-dom",
        &format!("file://{}", dir.join("report.html").display()),
    ]);
    assert_eq!(lanes(&dom), ["dns", "app"], "{dom}");
    let (_, dns) = row(&dom, "dns");
    assert!(
        dns.contains("data-status=\"assumed\"") && dns.contains("○ assumed"),
        "{dns}"
    );
    assert!(dns.contains("left out by --only"), "{dns}");
    let (_, app) = row(&dom, "app");
    assert!(app.contains("data-status=\"recovered\""), "{app}");
    assert!(dom.contains("No step of it ran."), "{dom}");
    let suites = junit_suites(&dir);
    assert_eq!(suites[0], ("dns".to_string(), 1, 0, 1), "{suites:?}");
}
