//! `switchyard answer` from another process, to a live run that waits for it
//! (`--wait-for-answer`, no terminal): each choice end to end, the answers refused (one
//! that does not fit, no open question, another user), and runs that are not in
//! progress (finished, killed).

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};

use crate::support::evidence::assert_intact;
use crate::support::runs::{Finished, ended, project, run_folder, spawn};
use crate::support::util::{LOCAL_INVENTORY, SWITCHYARD, Test, step, summary, wait_until};

/// A step that fails on the target (node-b) until `flag` exists, then one that logs.
fn failing_once(t: &Test) -> String {
    let dir = t.path().display();
    format!(
        r#"
[services.db]
hosts = ["node-a", "node-b"]
[[services.db.stop]]
run = "true"
[[services.db.start]]
run = "[ {{{{host.name}}}} = node-a ] || test -e {dir}/flag"
[[services.db.start]]
run = "echo after >> {dir}/log"
"#
    )
}

fn waiting(on_failure: &str, body: impl Fn(&Test) -> String, wait: &str) -> (Test, Child) {
    waiting_with(on_failure, body, wait, |_| Vec::new())
}

/// A live run of `body` that waits `wait` for answers, with `more` arguments.
fn waiting_with(
    on_failure: &str,
    body: impl Fn(&Test) -> String,
    wait: &str,
    more: impl Fn(&Test) -> Vec<String>,
) -> (Test, Child) {
    let t = project(LOCAL_INVENTORY, on_failure, "");
    let body = body(&t);
    let t = crate::support::runs::runbook(t, on_failure, &body);
    let more = more(&t);
    let mut args = vec![
        "--no-progress",
        "run",
        "runbooks/test.toml",
        "--to",
        "b",
        "--live",
        "--wait-for-answer",
        wait,
    ];
    args.extend(more.iter().map(String::as_str));
    let child = spawn(&t, &args);
    (t, child)
}

/// The run folder, once its journal holds a question.
fn question(t: &Test) -> PathBuf {
    let mut dir = PathBuf::new();
    wait_until("the run to ask", || {
        let Some(d) = run_folder(&t.path().join("evidence")) else {
            return false;
        };
        dir = d;
        std::fs::read_to_string(dir.join("journal.jsonl"))
            .is_ok_and(|j| j.contains(r#""event":"question""#))
    });
    dir
}

struct Answered {
    code: i32,
    stdout: String,
    stderr: String,
}

fn answer(dir: &Path, args: &[&str]) -> Answered {
    answer_as(None, dir, args)
}

/// `switchyard answer DIR ARGS`, as `user` (through runuser) or as this test's user.
fn answer_as(user: Option<&str>, dir: &Path, args: &[&str]) -> Answered {
    let mut c = match user {
        Some(u) => {
            let mut c = Command::new("runuser");
            c.args(["-u", u, "--", SWITCHYARD]);
            c
        }
        None => Command::new(SWITCHYARD),
    };
    let out = c
        .arg("answer")
        .arg(dir)
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("run switchyard answer");
    Answered {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn decisions(dir: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(dir.join("journal.jsonl"))
        .expect("journal")
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("json"))
        .filter(|e| e["event"] == "decision")
        .collect()
}

fn finish(child: Child, t: &Test, dir: &Path) -> Finished {
    let dir = dir.to_path_buf();
    ended(child, t, |_| dir)
}

#[test]
fn answer_retry_from_another_process_takes_it_and_the_journal_says_who_from_where() {
    let (t, child) = waiting("pause", failing_once, "30s");
    let dir = question(&t);
    // A choice that does not fit is refused, and the question stays open.
    let wrong = answer(&dir, &["confirm"]);
    assert_eq!(wrong.code, 1, "{}", wrong.stderr);
    assert!(
        wrong
            .stderr
            .contains("`confirm` does not answer the open question"),
        "{}",
        wrong.stderr
    );
    assert!(
        wrong.stderr.contains("retry, skip, abort, rollback"),
        "{}",
        wrong.stderr
    );
    std::fs::write(t.path().join("flag"), "").expect("flag");
    let ok = answer(&dir, &["retry", "--comment", "freed the disk"]);
    assert_eq!(ok.code, 0, "{}", ok.stderr);
    assert!(ok.stdout.contains("answered: retry"), "{}", ok.stdout);
    let run = finish(child, &t, &dir).code(0);
    assert!(run.stdout.contains("passed"), "{}", run.stdout);
    let d = decisions(&dir);
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!(d[0]["choice"], "retry");
    assert_eq!(d[0]["from"], "answer");
    assert_eq!(d[0]["comment"], "freed the disk");
    assert!(
        d[0]["by"].as_str().is_some_and(|b| b.starts_with("root@")),
        "{d:?}"
    );
    assert!(d[0]["at"].is_string());
    // The socket is gone with the run, and the folder verifies.
    assert!(!dir.join("answer.sock").exists());
    assert_intact(&dir);
    let late = answer(&dir, &["retry"]);
    assert_eq!(late.code, 1);
    assert!(
        late.stderr.contains("no run in progress"),
        "{}",
        late.stderr
    );
}

#[test]
fn answer_skip_goes_on_without_the_step() {
    let (t, child) = waiting("pause", failing_once, "30s");
    let dir = question(&t);
    let ok = answer(&dir, &["skip"]);
    assert_eq!(ok.code, 0, "{}", ok.stderr);
    finish(child, &t, &dir);
    let s = summary(&dir);
    assert_eq!(step(&s, "db.start.1")["status"], "skipped");
    assert_eq!(step(&s, "db.start.2")["status"], "ok");
    assert_eq!(
        std::fs::read_to_string(t.path().join("log")).expect("log"),
        "after\n"
    );
    assert_eq!(decisions(&dir)[0]["from"], "answer");
}

#[test]
fn answer_abort_stops_the_run_aborted() {
    let (t, child) = waiting("pause", failing_once, "30s");
    let dir = question(&t);
    let ok = answer(&dir, &["abort", "--comment", "not today"]);
    assert_eq!(ok.code, 0, "{}", ok.stderr);
    let fin = finish(child, &t, &dir).code(1);
    assert_eq!(summary(&dir)["outcome"], "aborted");
    assert!(!t.path().join("log").exists());
    assert_eq!(decisions(&dir)[0]["comment"], "not today");
    // Nobody is at the run's terminal: its question says how to answer it instead, and
    // so does `watch`, whose reader cannot type into the run either.
    let abs = std::path::absolute(&dir).expect("absolute");
    let how = format!(
        "→ answer with: switchyard answer {} retry|skip|abort|rollback [--comment TEXT]",
        abs.display()
    );
    fin.stderr_has(&how);
    assert!(!fin.stderr.contains("type one of"), "{}", fin.stderr);
    let watched = Command::new(SWITCHYARD)
        .args(["--no-progress", "watch"])
        .arg(&dir)
        .output()
        .expect("watch");
    let shown = String::from_utf8_lossy(&watched.stderr);
    assert!(shown.contains(&how), "{shown}");
}

#[test]
fn answer_rollback_rolls_back() {
    let (t, child) = waiting("pause", failing_once, "30s");
    let dir = question(&t);
    let ok = answer(&dir, &["rollback"]);
    assert_eq!(ok.code, 0, "{}", ok.stderr);
    finish(child, &t, &dir).code(1);
    assert_eq!(summary(&dir)["outcome"], "rolled_back");
    assert_eq!(decisions(&dir)[0]["choice"], "rollback");
}

#[test]
fn answer_confirms_a_manual_step_with_a_comment() {
    let manual = |_: &Test| {
        "[services.db]\nhosts = [\"node-a\", \"node-b\"]\n[[services.db.start]]\nmanual = \"map the LUN\"\n"
            .to_string()
    };
    let (t, child) = waiting("abort", manual, "30s");
    let dir = question(&t);
    let wrong = answer(&dir, &["retry"]);
    assert_eq!(wrong.code, 1);
    assert!(
        wrong.stderr.contains("answer confirm, abort"),
        "{}",
        wrong.stderr
    );
    let ok = answer(&dir, &["confirm", "--comment", "LUN 7 mapped"]);
    assert_eq!(ok.code, 0, "{}", ok.stderr);
    finish(child, &t, &dir).code(0);
    let d = decisions(&dir);
    assert_eq!(d[0]["choice"], "done");
    assert_eq!(d[0]["comment"], "LUN 7 mapped");
    assert_eq!(d[0]["from"], "answer");
}

#[test]
fn answer_is_refused_when_no_question_is_open() {
    let slow = |t: &Test| {
        format!(
            "[services.db]\nhosts = [\"node-a\", \"node-b\"]\n[[services.db.start]]\nrun = \"while [ ! -e {0}/go ]; do sleep 0.05; done\"\n",
            t.path().display()
        )
    };
    let (t, child) = waiting("pause", slow, "30s");
    let mut dir = PathBuf::new();
    wait_until("the step to start", || {
        let Some(d) = run_folder(&t.path().join("evidence")) else {
            return false;
        };
        dir = d;
        dir.join("answer.sock").exists()
            && std::fs::read_to_string(dir.join("journal.jsonl"))
                .is_ok_and(|j| j.contains(r#""event":"step_started""#))
    });
    let no = answer(&dir, &["retry"]);
    assert_eq!(no.code, 1, "{}", no.stderr);
    assert!(no.stderr.contains("no open question"), "{}", no.stderr);
    std::fs::write(t.path().join("go"), "").expect("go");
    finish(child, &t, &dir).code(0);
    assert!(decisions(&dir).is_empty());
}

#[test]
fn answer_is_refused_for_another_user_by_its_credentials() {
    let (t, child) = waiting("pause", failing_once, "30s");
    let dir = question(&t);
    // Open the way to the socket, so that only its peer check stands in the way.
    let mut p = dir.clone();
    while p != t.path().parent().expect("parent") {
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        p = p.parent().expect("parent").to_path_buf();
    }
    std::fs::set_permissions(
        dir.join("answer.sock"),
        std::fs::Permissions::from_mode(0o666),
    )
    .expect("chmod socket");
    let no = answer_as(Some("nobody"), &dir, &["skip"]);
    assert_eq!(no.code, 1, "{}\n{}", no.stdout, no.stderr);
    assert!(no.stderr.contains("not allowed"), "{}", no.stderr);
    assert!(no.stderr.contains("nobody"), "{}", no.stderr);
    // The question is still open: the run's own user answers it.
    let ok = answer(&dir, &["abort"]);
    assert_eq!(ok.code, 0, "{}", ok.stderr);
    finish(child, &t, &dir).code(1);
    let d = decisions(&dir);
    assert_eq!(d.len(), 1);
    assert_eq!(d[0]["choice"], "abort");
}

#[test]
fn answer_to_a_killed_run_says_no_run_is_in_progress() {
    let (t, mut child) = waiting("pause", failing_once, "30s");
    let dir = question(&t);
    child.kill().expect("kill");
    child.wait().expect("wait");
    assert!(dir.join("answer.sock").exists(), "the stale socket stays");
    let no = answer(&dir, &["retry"]);
    assert_eq!(no.code, 1);
    assert!(no.stderr.contains("no run in progress"), "{}", no.stderr);
    assert!(no.stderr.contains("switchyard resume"), "{}", no.stderr);
    let not_a_run = answer(t.path(), &["retry"]);
    assert_eq!(not_a_run.code, 2, "{}", not_a_run.stderr);
}

#[test]
fn a_question_nobody_answers_within_the_wait_acts_as_abort() {
    let (t, child) = waiting("pause", failing_once, "1s");
    let dir = question(&t);
    finish(child, &t, &dir).code(1);
    let d = decisions(&dir);
    assert_eq!(d[0]["choice"], "abort");
    assert!(d[0].get("from").is_none(), "{d:?}");
    assert!(
        d[0]["comment"]
            .as_str()
            .is_some_and(|c| c.contains("nobody answered within 1s")),
        "{d:?}"
    );
    assert!(!t.path().join("log").exists());
}

#[test]
fn with_yes_a_manual_step_is_confirmed_and_a_failure_waits_for_answer_in_a_signed_run() {
    let body = |t: &Test| {
        format!(
            "{}[[services.db.start]]\nmanual = \"map the LUN\"\n",
            failing_once(t)
        )
    };
    let sign = |t: &Test| {
        let key = t.path().join("signer");
        let public = crate::support::sshd::keygen(&key, "ed25519");
        std::fs::write(
            t.path().join("allowed"),
            format!("auditor@example.org namespaces=\"switchyard-evidence\" {public}\n"),
        )
        .expect("allowed signers");
        vec![
            "--yes".to_string(),
            "--sign-with".into(),
            key.display().to_string(),
        ]
    };
    let (t, child) = waiting_with("pause", body, "30s", sign);
    let dir = question(&t);
    std::fs::write(t.path().join("flag"), "").expect("flag");
    let ok = answer(&dir, &["retry"]);
    assert_eq!(ok.code, 0, "{}", ok.stderr);
    finish(child, &t, &dir).code(0);
    let d = decisions(&dir);
    assert_eq!(d.len(), 2, "{d:?}");
    assert_eq!(
        (&d[0]["choice"], &d[0]["from"]),
        (&"retry".into(), &"answer".into())
    );
    assert_eq!(
        (&d[1]["choice"], &d[1]["by"]),
        (&"done".into(), &"--yes".into())
    );
    // The socket is gone before the folder is signed, and the signature holds.
    let manifest = std::fs::read_to_string(dir.join("manifest.txt")).expect("manifest");
    assert!(!manifest.contains("answer.sock"), "{manifest}");
    let allowed = t.path().join("allowed");
    Test::reuse(&dir)
        .args(&[
            "verify-evidence",
            ".",
            "--allowed-signers",
            &allowed.display().to_string(),
        ])
        .run()
        .code(0);
}

#[test]
fn answer_reaches_a_run_folder_whose_path_is_too_long_for_a_socket_address() {
    let long = format!("evidence-{}", "x".repeat(110));
    let manual = |_: &Test| {
        "[services.db]\nhosts = [\"node-a\", \"node-b\"]\n[[services.db.start]]\nmanual = \"map the LUN\"\n"
            .to_string()
    };
    let evidence = long.clone();
    let (t, child) = waiting_with("abort", manual, "30s", move |_| {
        vec!["--evidence-dir".into(), evidence.clone()]
    });
    let mut dir = PathBuf::new();
    wait_until("the run to ask", || {
        let Some(d) = run_folder(&t.path().join(&long)) else {
            return false;
        };
        dir = d;
        std::fs::read_to_string(dir.join("journal.jsonl"))
            .is_ok_and(|j| j.contains(r#""event":"question""#))
    });
    assert!(dir.join("answer.sock").as_os_str().len() > 108);
    let ok = answer(&dir, &["confirm"]);
    assert_eq!(ok.code, 0, "{}", ok.stderr);
    finish(child, &t, &dir).code(0);
}
