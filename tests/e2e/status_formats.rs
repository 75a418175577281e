//! `status` beyond text and JSON: Prometheus metrics parsed by a real parser and
//! checked against the evidence, `--output` written atomically, the Markdown register,
//! and the programme report rendered by headless Chromium. The runbooks run on the local
//! machine, so each live drill takes a moment.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use prometheus_parse::{Sample, Scrape, Value};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::report_html::Browser;
use crate::support::util::{LOCAL_INVENTORY, Output, Test, run_dir};

/// A runbook `name` titled `title`, of one service on the local `node` hosts.
fn runbook(name: &str, title: &str, start: &str) -> String {
    format!(
        r#"[runbook]
name = "{name}"
title = '{title}'
rto = "1h"
drill_every = "30d"
inventory = ["../inventory/site.toml"]

[services.svc]
hosts = ["tag:node"]
[[services.svc.start]]
run = "{start}"
[[services.svc.verify]]
run = "true"
"#
    )
}

fn project() -> Test {
    Test::new()
        .file("inventory/site.toml", LOCAL_INVENTORY)
        .file("runbooks/alpha.toml", runbook("alpha", "Alpha", "true"))
        .file("runbooks/beta.toml", runbook("beta", "Beta", "true"))
}

fn live(root: &Path, file: &str, to: &str, code: i32) -> Output {
    Test::reuse(root)
        .args(&["--no-progress", "run", file, "--to", to, "--live", "--yes"])
        .run()
        .code(code)
}

fn status(root: &Path, args: &[&str], code: i32) -> Output {
    Test::reuse(root)
        .args(&["status"])
        .args(args)
        .run()
        .code(code)
}

fn unix(rfc3339: &str) -> f64 {
    let t = OffsetDateTime::parse(rfc3339, &Rfc3339).expect("an RFC 3339 time");
    t.unix_timestamp_nanos() as f64 / 1e9
}

/// The sample of `metric` with these labels, if there is one.
fn sample<'a>(scrape: &'a Scrape, metric: &str, labels: &[(&str, &str)]) -> Option<f64> {
    let found: Vec<&'a Sample> = scrape
        .samples
        .iter()
        .filter(|s| s.metric == metric && labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
        .collect();
    assert!(found.len() <= 1, "{metric} {labels:?} appears twice");
    found.first().map(|s| match s.value {
        Value::Gauge(v) => v,
        ref other => panic!("{metric} is not a gauge: {other:?}"),
    })
}

#[test]
fn prometheus_metrics_match_the_evidence_and_are_written_atomically() {
    let first = project()
        .args(&[
            "--no-progress",
            "run",
            "runbooks/alpha.toml",
            "--to",
            "b",
            "--live",
            "--yes",
        ])
        .run()
        .code(0);
    let root = first.root.clone();
    std::fs::create_dir(root.join("metrics")).expect("mkdir");
    let out = status(
        &root,
        &[
            "--format",
            "prometheus",
            "--output",
            "metrics/switchyard.prom",
        ],
        1,
    );
    assert!(
        out.stdout.is_empty(),
        "--output writes nothing to stdout: {}",
        out.stdout
    );
    let names: Vec<_> = std::fs::read_dir(root.join("metrics"))
        .expect("metrics dir")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert_eq!(
        names,
        ["switchyard.prom"],
        "no temporary file is left behind"
    );
    let text = std::fs::read_to_string(root.join("metrics/switchyard.prom")).expect("metrics");

    // Every line is a comment or a sample the parser read (it skips what it cannot).
    let lines = text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .count();
    let scrape = Scrape::parse(text.lines().map(|l| Ok(l.to_string()))).expect("parse");
    assert_eq!(scrape.samples.len(), lines, "{text}");
    // Every family has its HELP and TYPE before its samples.
    let mut typed = HashSet::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').expect("TYPE name kind");
            assert_eq!(kind, "gauge", "{line}");
            assert!(scrape.docs.contains_key(name), "no HELP for {name}");
            assert!(typed.insert(name.to_string()), "{name} typed twice");
        } else if !line.starts_with('#') {
            let name = line.split(['{', ' ']).next().expect("name");
            assert!(
                typed.contains(name),
                "{name} sampled before its TYPE: {text}"
            );
        }
    }

    let json = status(&root, &["--format", "json"], 1).json();
    let pass = json["directions"]
        .as_array()
        .expect("directions")
        .iter()
        .find(|d| d["runbook"] == "alpha" && d["from"] == "a")
        .expect("alpha a→b")["last_pass"]
        .clone();
    assert_eq!(
        pass["folder"].as_str().expect("folder"),
        run_dir(&first)
            .strip_prefix(&root)
            .expect("relative")
            .to_str()
            .expect("utf-8")
    );
    let ab = [("runbook", "alpha"), ("direction", "a->b")];
    let ba = [("runbook", "alpha"), ("direction", "b->a")];
    let last = sample(
        &scrape,
        "switchyard_drill_last_success_timestamp_seconds",
        &ab,
    )
    .expect("alpha a->b passed");
    assert!(
        (last - unix(pass["at"].as_str().expect("at"))).abs() < 0.001,
        "{last} {pass}"
    );
    assert_eq!(
        sample(
            &scrape,
            "switchyard_drill_last_success_timestamp_seconds",
            &ba
        ),
        None,
        "never passed: no series"
    );
    assert_eq!(
        sample(&scrape, "switchyard_drill_recovery_seconds", &ab),
        pass["recovered_s"].as_f64()
    );
    assert_eq!(
        sample(&scrape, "switchyard_drill_rto_seconds", &ab),
        Some(3600.0)
    );
    assert_eq!(
        sample(
            &scrape,
            "switchyard_drill_rto_seconds",
            &[("runbook", "beta"), ("direction", "b->a")]
        ),
        Some(3600.0)
    );
    let due = sample(&scrape, "switchyard_drill_due_timestamp_seconds", &ab).expect("due");
    assert!(
        (due - last - 30.0 * 86_400.0).abs() < 0.001,
        "due is the pass plus drill_every"
    );
    for (labels, current) in [
        (ab, "ok"),
        (ba, "never"),
        ([("runbook", "beta"), ("direction", "a->b")], "never"),
    ] {
        for state in ["never", "failing", "changed", "overdue", "ok"] {
            let mut l = labels.to_vec();
            l.push(("state", state));
            let expected = if state == current { 1.0 } else { 0.0 };
            assert_eq!(
                sample(&scrape, "switchyard_runbook_state", &l),
                Some(expected),
                "{l:?}\n{text}"
            );
        }
    }
    assert_eq!(
        sample(&scrape, "switchyard_status_untrusted_folders", &[]),
        Some(0.0)
    );

    // A second write replaces the file; an unwritable one is invalid usage, named.
    live(&root, "runbooks/alpha.toml", "a", 0);
    status(
        &root,
        &[
            "--format",
            "prometheus",
            "--output",
            "metrics/switchyard.prom",
        ],
        1,
    );
    let text = std::fs::read_to_string(root.join("metrics/switchyard.prom")).expect("metrics");
    assert!(
        text.contains(
            "switchyard_drill_last_success_timestamp_seconds{runbook=\"alpha\",direction=\"b->a\"}"
        ),
        "{text}"
    );
    assert_eq!(
        std::fs::read_dir(root.join("metrics"))
            .expect("dir")
            .count(),
        1
    );
    let bad = status(
        &root,
        &["--format", "prometheus", "--output", "no/such/dir/m.prom"],
        2,
    );
    assert!(bad.stderr.contains("no/such/dir/m.prom"), "{}", bad.stderr);
    assert!(!root.join("no").exists());

    // The Markdown register: worst first, every runbook and its state.
    let md = status(&root, &["--format", "md"], 1).stdout;
    assert!(md.starts_with("# DR drill register\n"), "{md}");
    assert!(md.contains("**2 of 4 directions ok.**"), "{md}");
    let never = md.find("| **NEVER** | beta | a → b |").expect(&md);
    let ok = md.find("| **OK** | alpha | a → b |").expect(&md);
    assert!(never < ok, "worst first: {md}");
    assert!(md.contains("| **OK** | alpha | b → a |"), "{md}");
}

/// alpha: two drills to b (the second fails after an edit) and two back (the second's
/// journal tampered with, so untrusted); beta never drilled. alpha's title is hostile.
#[test]
fn the_programme_report_renders_in_chromium_with_every_system_its_states_and_its_drills() {
    const HOSTILE: &str = "Payroll <script>alert(\"x\")</script> & co";
    let first = project()
        .file("runbooks/alpha.toml", runbook("alpha", HOSTILE, "true"))
        .args(&["--no-progress", "run", "runbooks/alpha.toml", "--to", "b"])
        .run()
        .code(0);
    let root = first.root.clone();
    live(&root, "runbooks/alpha.toml", "b", 0);
    live(&root, "runbooks/alpha.toml", "a", 0);
    let tampered = run_dir(&live(&root, "runbooks/alpha.toml", "a", 0));
    std::fs::write(
        root.join("runbooks/alpha.toml"),
        runbook("alpha", HOSTILE, "false"),
    )
    .expect("write");
    live(&root, "runbooks/alpha.toml", "b", 1);
    let journal = tampered.join("journal.jsonl");
    let text = std::fs::read_to_string(&journal).expect("journal");
    std::fs::write(&journal, text.replacen("\"passed\"", "\"failed\"", 1)).expect("write");

    let history = Test::reuse(&root)
        .args(&["history", "alpha", "--format", "json"])
        .run()
        .code(0)
        .json();
    let runs = history["runs"].as_array().expect("runs");
    let cited: Vec<&serde_json::Value> = runs
        .iter()
        .filter(|r| r["trusted"] == true && r["dry_run"] == false)
        .collect();
    assert_eq!(cited.len(), 3, "{history:#}");

    status(
        &root,
        &[
            "--format",
            "html",
            "--output",
            "programme.html",
            "--at",
            "2030-01-01T00:00:00Z",
        ],
        1,
    );
    let page = root.join("programme.html");
    let html = std::fs::read_to_string(&page).expect("programme.html");
    for external in [
        "<script", "src=", "href=", "url(", "@import", "http:", "https:",
    ] {
        assert!(
            !html.contains(external),
            "the report is not self-contained: it has {external:?}"
        );
    }

    let browser = Browser::find();
    let url = format!("file://{}", page.display());
    // Attribute values may be serialized with `>` escaped.
    let dom = browser.run(&["--dump-dom", &url]).replace("-&gt;", "->");
    assert!(
        !dom.contains("<script"),
        "the hostile title became an element"
    );
    assert!(
        dom.contains("Payroll &lt;script&gt;alert(\"x\")&lt;/script&gt; &amp; co"),
        "{dom}"
    );
    assert!(
        dom.contains("2030-01-01T00:00:00.000Z"),
        "the moment evaluated"
    );
    assert!(
        dom.contains("<code>evidence</code>"),
        "the evidence folders"
    );
    for (runbook, direction, state) in [
        ("alpha", "a->b", "failing"),
        ("alpha", "b->a", "changed"),
        ("beta", "a->b", "never"),
        ("beta", "b->a", "never"),
    ] {
        let section = dom
            .split("<section class=\"system\" ")
            .find(|s| s.starts_with(&format!("data-runbook=\"{runbook}\"")))
            .unwrap_or_else(|| panic!("no section for {runbook}: {dom}"));
        assert!(
            section.contains(&format!(
                "<tr data-direction=\"{direction}\" data-state=\"{state}\">"
            )),
            "{runbook} {direction} is not {state}: {section}"
        );
        assert!(
            section.contains(&format!(
                "data-state=\"{state}\">{}</span>",
                state.to_uppercase()
            )),
            "{runbook}: no {state} badge"
        );
    }
    let overview = dom
        .split("<table class=\"overview\">")
        .nth(1)
        .expect("overview")
        .split("</table>")
        .next()
        .expect("end");
    assert_eq!(
        overview.matches("<tr data-runbook=").count(),
        2,
        "{overview}"
    );
    assert_eq!(
        dom.matches("<svg class=\"drills\"").count(),
        2,
        "a chart per system"
    );
    // One point per trusted live run, passing and failing apart; each run cited with its
    // folder and the last hash of its journal.
    assert_eq!(dom.matches("<g class=\"pt ").count(), 3, "{dom}");
    assert_eq!(dom.matches("<g class=\"pt pt-pass\"").count(), 2);
    assert_eq!(dom.matches("<g class=\"pt pt-fail\"").count(), 1);
    assert_eq!(
        dom.matches("<polyline class=\"way way0\"").count(),
        1,
        "a line through the two drills to b"
    );
    for r in &cited {
        let folder = r["folder"].as_str().expect("folder");
        assert!(
            dom.contains(&format!("<code class=\"folder\">{folder}</code>")),
            "{folder} not cited"
        );
        assert!(
            dom.contains(r["last_hash"].as_str().expect("hash")),
            "{folder}'s hash"
        );
        assert!(
            dom.contains(&format!("data-folder=\"{folder}\"")),
            "{folder} not plotted"
        );
    }
    let untrusted = dom.split("class=\"untrusted-folder\"").collect::<Vec<_>>();
    assert_eq!(untrusted.len(), 2, "one untrusted folder");
    let tampered = tampered
        .strip_prefix(&root)
        .expect("relative")
        .display()
        .to_string();
    assert!(untrusted[1].contains(&tampered), "{}", untrusted[1]);
    assert!(
        !dom.contains(&format!("data-folder=\"{tampered}\"")),
        "an untrusted run is not plotted"
    );

    let shot = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("programme-screenshot.png");
    let _ = std::fs::remove_file(&shot);
    browser.run(&[
        &format!("--screenshot={}", shot.display()),
        "--window-size=1280,1600",
        &url,
    ]);
    let (colours, inked) = colours(&shot);
    assert!(
        colours.len() > 30,
        "the screenshot has {} colours: blank?",
        colours.len()
    );
    assert!(
        inked > 0.05,
        "only {:.1}% of the screenshot is not white",
        inked * 100.0
    );
    // The banner's red tint and the FAILING badge's are painted.
    for rgb in [[0xfd, 0xea, 0xea], [0xfb, 0xdc, 0xdc]] {
        assert!(colours.contains(&rgb), "no pixel of {rgb:02x?}");
    }
    eprintln!("screenshot of the programme report: {}", shot.display());
}

/// The distinct colours of a PNG, and the share of its pixels that are not white.
fn colours(png: &Path) -> (HashSet<[u8; 3]>, f64) {
    let file = std::io::BufReader::new(std::fs::File::open(png).expect("screenshot"));
    let mut decoder = png::Decoder::new(file);
    decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
    let mut reader = decoder.read_info().expect("a PNG");
    let mut buf = vec![0; reader.output_buffer_size().expect("size")];
    let info = reader.next_frame(&mut buf).expect("a frame");
    let channels = info.color_type.samples();
    assert!(channels >= 3, "a colour screenshot: {:?}", info.color_type);
    let pixels = &buf[..info.buffer_size()];
    let mut set = HashSet::new();
    let mut inked = 0usize;
    let mut total = 0usize;
    for px in pixels.chunks_exact(channels) {
        let rgb = [px[0], px[1], px[2]];
        total += 1;
        if rgb != [255, 255, 255] {
            inked += 1;
        }
        set.insert(rgb);
    }
    (set, inked as f64 / total as f64)
}
