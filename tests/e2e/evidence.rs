//! The evidence people read: reports rebuilt from the journal alone, and their
//! snapshots. (`verify-evidence` has its own module, `verify`.)

use crate::support::evidence::{REPORTS, RUNBOOK, failed_run, read, verify};
use crate::support::util::{LOCAL_INVENTORY, Test, run_dir, summary};

#[test]
fn report_rebuilds_every_file_byte_for_byte_from_the_journal_alone() {
    let (_out, dir) = failed_run();
    // A copy holding nothing but the journal: the reports come from it alone.
    let copy = tempfile::tempdir().expect("tempdir");
    std::fs::copy(dir.join("journal.jsonl"), copy.path().join("journal.jsonl")).expect("copy");
    for (format, file) in REPORTS {
        let out = Test::reuse(copy.path())
            .args(&["report", ".", "--format", format])
            .run()
            .code(0);
        assert!(
            out.stdout == read(&dir, file),
            "{file} differs when rebuilt"
        );
        let to = copy.path().join(format!("again.{format}"));
        Test::reuse(copy.path())
            .args(&["report", ".", "--format", format, "--output"])
            .args(&[to.to_str().expect("utf8")])
            .run()
            .code(0);
        assert!(read(copy.path(), &format!("again.{format}")) == read(&dir, file));
    }
}

#[test]
fn reports_say_what_happened() {
    let (out, dir) = failed_run();
    let s = summary(&dir);
    assert_eq!(s["outcome"], "failed");
    assert_eq!(s["rto"]["met"], false, "a run that stopped did not recover");
    let redact = redactor(&s);
    insta::assert_snapshot!("failed_run_report_md", redact(&read(&dir, "report.md")));
    insta::assert_snapshot!("failed_run_junit", redact(&read(&dir, "junit.xml")));
    insta::assert_snapshot!("failed_run_lines", redact(&out.stderr));
}

#[test]
fn a_dry_run_report_says_nothing_was_changed() {
    let out = Test::new()
        .file("inventory/site.toml", LOCAL_INVENTORY)
        .file("runbooks/payroll.toml", RUNBOOK)
        .args(&["--no-progress", "run", "runbooks/payroll.toml", "--to", "b"])
        .run()
        .code(0);
    let dir = run_dir(&out);
    let md = read(&dir, "report.md");
    assert!(md.contains("DRY RUN PASSED"), "{md}");
    assert!(md.contains("nothing was changed"), "{md}");
    let junit = read(&dir, "junit.xml");
    assert!(junit.contains("<skipped message=\"dry run: planned, not run\"/>"));
    verify(&dir).code(0).stdout_has("intact");
}

#[test]
fn the_operator_is_the_real_user_whatever_the_environment_says() {
    let out = Test::new()
        .file("inventory/site.toml", LOCAL_INVENTORY)
        .runbook("[services.db]\nhosts = [\"node-a\", \"node-b\"]\n[[services.db.start]]\nrun = \"true\"\n")
        .env("USER", "mallory")
        .env("LOGNAME", "mallory")
        .env("SUDO_USER", "alice")
        .args(&["--no-progress", "run", "runbooks/test.toml", "--to", "b"])
        .run()
        .code(0);
    let uid = nix::unistd::getuid();
    let user = nix::unistd::User::from_uid(uid)
        .expect("users")
        .expect("the test's user has a name")
        .name;
    let host = nix::unistd::gethostname().expect("hostname");
    let host = host.to_str().expect("utf8");
    // Under uid 0, `SUDO_USER` says who became root; anyone else is just themselves.
    let expected = if uid.is_root() {
        format!("{user}@{host} (sudo from alice)")
    } else {
        format!("{user}@{host}")
    };
    assert_eq!(summary(&run_dir(&out))["operator"], expected);
}

/// Replaces what changes from run to run — timestamps, hashes, durations, the operator —
/// with fixed tokens, so that snapshots show only what a run decided.
fn redactor(summary: &serde_json::Value) -> impl Fn(&str) -> String {
    let operator = summary["operator"].as_str().expect("operator").to_string();
    let events = format!("holds {} events", summary["journal"]["events"]);
    move |text: &str| {
        // An RTO-at-risk line's figures are times the run took: only its subject stays.
        let text: String = text
            .split_inclusive('\n')
            .map(|line| match line.find("RTO AT RISK: ") {
                Some(i) => match line[i..].find(" projected ") {
                    Some(j) => {
                        let end = if line.ends_with('\n') { "\n" } else { "" };
                        format!("{} projected [RISK]{end}", &line[..i + j])
                    }
                    None => line.to_string(),
                },
                None => line.to_string(),
            })
            .collect();
        let text = text
            .replace(&operator, "[OPERATOR]")
            .replace(&events, "holds [N] events")
            .replace(
                concat!("switchyard ", env!("CARGO_PKG_VERSION")),
                "switchyard [VERSION]",
            );
        let chars: Vec<char> = text.chars().collect();
        let mut out = String::new();
        let mut i = 0;
        while i < chars.len() {
            if let Some(n) = timestamp_at(&chars[i..]) {
                out.push_str("[TIME]");
                i += n;
            } else if let Some(n) = hash_at(&chars, i) {
                out.push_str("[SHA256]");
                i += n;
            } else if let Some(n) = decimal_at(&chars, i) {
                out.push_str("[S]");
                i += n;
            } else {
                out.push(chars[i]);
                i += 1;
            }
        }
        out
    }
}

/// `2026-11-27T10:00:00.000Z` at the start of `c`: its length.
fn timestamp_at(c: &[char]) -> Option<usize> {
    let shape = "dddd-dd-ddTdd:dd:dd.dddZ";
    (c.len() >= shape.len()
        && shape.chars().zip(c).all(|(s, x)| match s {
            'd' => x.is_ascii_digit(),
            s => s == *x,
        }))
    .then_some(shape.len())
}

/// 64 hex digits starting at `i` (and not inside a longer word).
fn hash_at(c: &[char], i: usize) -> Option<usize> {
    let n = c[i..].iter().take_while(|x| x.is_ascii_hexdigit()).count();
    (n == 64 && (i == 0 || !c[i - 1].is_ascii_alphanumeric())).then_some(64)
}

/// A decimal number like `12.34` at `i` that is not part of a version like `0.1.0`.
fn decimal_at(c: &[char], i: usize) -> Option<usize> {
    if i > 0 && (c[i - 1].is_ascii_alphanumeric() || c[i - 1] == '.') {
        return None;
    }
    let int = c[i..].iter().take_while(|x| x.is_ascii_digit()).count();
    if int == 0 || c.get(i + int) != Some(&'.') {
        return None;
    }
    let frac = c[i + int + 1..]
        .iter()
        .take_while(|x| x.is_ascii_digit())
        .count();
    let end = i + int + 1 + frac;
    (frac > 0 && c.get(end) != Some(&'.')).then_some(end - i)
}
