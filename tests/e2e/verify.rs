//! `verify-evidence`: every kind of edit is caught and named — in the journal, its end,
//! the inputs, the output files, the summary and the reports — and a run still going is
//! told from one cut short.

use std::path::Path;

use switchyard::evidence::journal::{self, Journal};

use crate::support::evidence::{failed_run, independent_check, read, verify};
use crate::support::util::{LIVE, LOCAL_INVENTORY, Test, summary, wait_until};

#[test]
fn verify_evidence_passes_an_intact_run() {
    let (_out, dir) = failed_run();
    let out = verify(&dir).code(0);
    let s = summary(&dir);
    let hash = s["journal"]["last_hash"].as_str().expect("hash");
    assert!(out.stdout.contains(hash), "{}", out.stdout);
    assert!(
        out.stdout
            .contains("2 inputs and 4 output files match their hashes; summary and reports agree"),
        "{}",
        out.stdout
    );
}

#[test]
fn verify_evidence_names_a_flipped_byte_in_the_journal() {
    let (_out, dir) = failed_run();
    let text = read(&dir, "journal.jsonl");
    let line = text
        .lines()
        .position(|l| l.contains("promote replica"))
        .expect("line")
        + 1;
    let edited = text.replacen("promote replica", "promote replicA", 1);
    std::fs::write(dir.join("journal.jsonl"), edited).expect("write");
    verify(&dir)
        .code(1)
        .stdout_has(&format!("journal.jsonl line {line}"))
        .stdout_has("edited");
}

#[test]
fn verify_evidence_finds_a_deleted_line_in_the_middle_and_at_the_end() {
    let (_out, dir) = failed_run();
    let text = read(&dir, "journal.jsonl");
    let lines: Vec<&str> = text.lines().collect();
    let without_third: String = lines
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != 2)
        .map(|(_, l)| format!("{l}\n"))
        .collect();
    std::fs::write(dir.join("journal.jsonl"), &without_third).expect("write");
    verify(&dir).code(1).stdout_has("journal.jsonl line 3");

    let without_last: String = lines[..lines.len() - 1]
        .iter()
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(dir.join("journal.jsonl"), without_last).expect("write");
    verify(&dir)
        .code(1)
        .stdout_has("summary.json pins the journal at");
}

#[test]
fn verify_evidence_names_an_edited_input() {
    let (_out, dir) = failed_run();
    let path = dir.join("inputs/payroll.toml");
    let text = read(&dir, "inputs/payroll.toml").replace("rto = \"10m\"", "rto = \"20m\"");
    std::fs::write(path, text).expect("write");
    verify(&dir)
        .code(1)
        .stdout_has("inputs/payroll.toml: its SHA-256 is");
}

#[test]
fn verify_evidence_names_an_edited_summary_and_an_edited_report() {
    let (_out, dir) = failed_run();
    let original = read(&dir, "summary.json");
    let edited = original.replacen("\"outcome\": \"failed\"", "\"outcome\": \"passed\"", 1);
    assert_ne!(edited, original);
    std::fs::write(dir.join("summary.json"), &edited).expect("write");
    verify(&dir)
        .code(1)
        .stdout_has("summary.json line")
        .stdout_has("does not agree with the journal");

    std::fs::write(dir.join("summary.json"), &original).expect("write");
    let md = read(&dir, "report.md").replace("FAILED", "PASSED");
    std::fs::write(dir.join("report.md"), md).expect("write");
    verify(&dir).code(1).stdout_has("report.md line 1 ");
}

#[test]
fn verify_evidence_refuses_what_is_not_a_run_folder() {
    let first = Test::new()
        .args(&["verify-evidence", "no-such-run"])
        .run()
        .code(2)
        .stderr_has("not a run folder");
    Test::reuse(&first.root)
        .args(&["verify-evidence", "."])
        .run()
        .code(1)
        .stdout_has("journal.jsonl");
}

/// Keeps the first `n` lines of the journal of `dir`.
fn cut_journal(dir: &Path, n: usize) {
    let text = read(dir, "journal.jsonl");
    let kept: String = text.split_inclusive('\n').take(n).collect();
    std::fs::write(dir.join("journal.jsonl"), kept).expect("write");
}

#[test]
fn a_cut_journal_without_its_reports_is_not_intact() {
    let (_out, dir) = failed_run();
    // Line 4 ends the precheck: `db.stop.1`, which printed `stopping`, is cut off.
    cut_journal(&dir, 4);
    for report in ["summary.json", "report.html", "report.md", "junit.xml"] {
        std::fs::remove_file(dir.join(report)).expect("remove");
    }
    let out = verify(&dir)
        .code(1)
        .stdout_has("BROKEN — journal.jsonl line 4 is its last: the journal ends before run_finished: cut, or a run killed and never resumed");
    assert!(!out.stdout.contains("intact"), "{}", out.stdout);
    assert!(!out.stdout.contains("summary.json"), "{}", out.stdout);

    // Accepting the missing end still leaves the output the cut events had recorded.
    Test::reuse(&dir)
        .args(&["verify-evidence", ".", "--allow-incomplete"])
        .run()
        .code(1)
        .stdout_has("BROKEN — output/db.stop.1.node-a.stdout: not recorded in the journal");
    for entry in std::fs::read_dir(dir.join("output")).expect("output") {
        std::fs::remove_file(entry.expect("entry").path()).expect("remove");
    }
    Test::reuse(&dir)
        .args(&["verify-evidence", ".", "--allow-incomplete"])
        .run()
        .code(0)
        .stdout_has("intact without its end (--allow-incomplete): the journal ends before run_finished, at line 4")
        .stdout_has("2 inputs and 0 output files match");
}

#[test]
fn a_journal_that_goes_on_after_run_finished_has_no_end() {
    let (_out, dir) = failed_run();
    // As `resume` leaves it when it is killed at once: `resumed` after the first end.
    let path = dir.join("journal.jsonl");
    let text = read(&dir, "journal.jsonl");
    let (events, last_hash) = journal::verify(&text).expect("journal");
    let (mut j, _) = Journal::reopen(&path, events, &last_hash, text.len() as u64).expect("reopen");
    let resumed = serde_json::json!({
        "event": "resumed", "at": "2026-11-27T10:00:00.000Z", "operator": "ops@host",
        "rerun": [], "forced": []
    });
    j.append("2026-11-27T10:00:00.000Z", resumed)
        .expect("append");
    j.sync().expect("sync");
    verify(&dir)
        .code(1)
        .stdout_has(&format!(
            "journal.jsonl line {} is its last: the journal ends before run_finished",
            events + 1
        ))
        .stdout_has("summary.json pins the journal at");
}

#[test]
fn an_edited_output_file_is_named() {
    let (_out, dir) = failed_run();
    std::fs::write(
        dir.join("output/db.stop.1.node-a.stdout"),
        "stopped cleanly\n",
    )
    .expect("write");
    verify(&dir)
        .code(1)
        .stdout_has("output/db.stop.1.node-a.stdout: its SHA-256 is")
        .stdout_has("(the file was changed)");
}

#[test]
fn an_output_file_added_or_removed_is_named() {
    let (_out, dir) = failed_run();
    std::fs::write(dir.join("output/db.stop.1.node-b.stdout"), "stopping\n").expect("write");
    verify(&dir)
        .code(1)
        .stdout_has("output/db.stop.1.node-b.stdout: not recorded in the journal");
    std::fs::remove_file(dir.join("output/db.stop.1.node-b.stdout")).expect("remove");
    verify(&dir).code(0);
    std::fs::remove_file(dir.join("output/db.stop.1.node-a.stdout")).expect("remove");
    verify(&dir).code(1).stdout_has(
        "output/db.stop.1.node-a.stdout: missing (the journal recorded it with SHA-256",
    );
    std::fs::create_dir(dir.join("inputs/more")).expect("mkdir");
    verify(&dir)
        .code(1)
        .stdout_has("inputs/more: not a regular file");
}

#[test]
fn a_run_still_going_is_in_progress_not_intact() {
    let t = Test::new()
        .file("inventory/site.toml", LOCAL_INVENTORY)
        .runbook("[services.db]\nhosts = [\"node-a\", \"node-b\"]\n[[services.db.start]]\nrun = \"sleep 30\"\n");
    let mut child = t.spawn_with(LIVE);
    let mut dir = std::path::PathBuf::new();
    wait_until("the run to start its step", || {
        let Some(Ok(entry)) = std::fs::read_dir(t.path().join("evidence"))
            .ok()
            .and_then(|mut d| d.next())
        else {
            return false;
        };
        dir = entry.path();
        std::fs::read_to_string(dir.join("journal.jsonl"))
            .is_ok_and(|j| j.contains(r#""event":"step_started","step":"db.start.1""#))
    });
    let run = dir.display().to_string();
    let lock = t.path().join(".locks/test.lock").display().to_string();
    let out = Test::reuse(t.path()).args(&["verify-evidence", &run]).run();
    let allowed = Test::reuse(t.path())
        .args(&["verify-evidence", &run, "--allow-incomplete"])
        .run();
    child.kill().expect("SIGKILL");
    let _ = child.wait();
    out.code(1)
        .stdout_has("IN PROGRESS — journal.jsonl line 2 is its last and has no run_finished yet")
        .stdout_has(&format!(
            "a live run holds the lock `{lock}` (pid {}",
            child.id()
        ));
    allowed
        .code(0)
        .stdout_has("intact so far, in progress (--allow-incomplete)");
    // Killed, it no longer holds the lock: the journal is cut.
    Test::reuse(t.path())
        .args(&["verify-evidence", &run])
        .run()
        .code(1)
        .stdout_has(
            "BROKEN — journal.jsonl line 2 is its last: the journal ends before run_finished",
        );
}

#[test]
fn the_independent_checker_agrees_with_verify_evidence_on_every_kind_of_edit() {
    let (_out, dir) = failed_run();
    let (code, said) = independent_check(&dir);
    let hash = summary(&dir)["journal"]["last_hash"]
        .as_str()
        .expect("hash")
        .to_string();
    assert_eq!(code, 0, "{said}");
    assert!(said.contains("intact — ") && said.contains(&hash), "{said}");

    let journal = read(&dir, "journal.jsonl");
    let output = read(&dir, "output/db.stop.1.node-a.stdout");
    let input = read(&dir, "inputs/payroll.toml");
    let summary_text = read(&dir, "summary.json");
    type Edit = (&'static str, &'static str, String, &'static str);
    let edits: [Edit; 5] = [
        (
            "journal.jsonl",
            "an edited line",
            journal.replacen("promote replica", "promote replicA", 1),
            "does not match its hash",
        ),
        (
            "journal.jsonl",
            "a cut end",
            journal.split_inclusive('\n').take(4).collect(),
            "does not end with run_finished",
        ),
        (
            "output/db.stop.1.node-a.stdout",
            "an edited output",
            "stopped cleanly\n".into(),
            "output/db.stop.1.node-a.stdout: its SHA-256",
        ),
        (
            "inputs/payroll.toml",
            "an edited input",
            input.replace("rto = \"10m\"", "rto = \"20m\""),
            "inputs/payroll.toml: its SHA-256",
        ),
        (
            "summary.json",
            "a summary pinning another journal",
            summary_text.replacen(&hash, &"0".repeat(64), 1),
            "summary.json: does not pin",
        ),
    ];
    for (file, what, text, expected) in edits {
        let original = read(&dir, file);
        std::fs::write(dir.join(file), &text).expect("write");
        let (code, said) = independent_check(&dir);
        assert_eq!(code, 1, "{what}: {said}");
        assert!(said.contains(expected), "{what}: {said}");
        verify(&dir).code(1);
        std::fs::write(dir.join(file), original).expect("restore");
    }
    std::fs::write(dir.join("output/extra.stdout"), "x").expect("write");
    let (code, said) = independent_check(&dir);
    assert_eq!(code, 1, "{said}");
    assert!(said.contains("output/extra.stdout: not recorded"), "{said}");
    std::fs::remove_file(dir.join("output/extra.stdout")).expect("remove");
    assert_eq!(independent_check(&dir).0, 0);
    assert_eq!(output, read(&dir, "output/db.stop.1.node-a.stdout"));
}
