//! Notifications (`[[notify]]`, SPEC §10): real HTTP receivers on loopback record what a
//! run POSTs; a receiver that never answers delays no step; every delivery and failure
//! is in the journal, and the webhook's secret in none of the run's files.

use std::net::TcpListener;
use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::support::evidence::{assert_intact, assert_rebuilds, independent_check, read};
use crate::support::http::{HttpServer, loopback};
use crate::support::runs::{ended, run_folder, spawn};
use crate::support::util::{LOCAL_INVENTORY, SWITCHYARD, Test, run_dir, summary, wait_until};

const TOKEN: &str = "T0k3n-very-secret-4242";

fn events(dir: &Path) -> Vec<Value> {
    read(dir, "journal.jsonl")
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).expect("journal line"))
        .collect()
}

/// The JSON bodies a receiver got, with each request's path.
fn received(server: &HttpServer) -> Vec<(String, Value)> {
    server
        .requests
        .lock()
        .expect("requests")
        .iter()
        .map(|req| {
            let path = req.split(' ').nth(1).unwrap_or("").to_string();
            let body = req.split_once("\r\n\r\n").map_or("", |(_, b)| b);
            (path, serde_json::from_str(body).expect("a JSON body"))
        })
        .collect()
}

/// `[[notify]]` to `addr` with the token secret and `extra` keys.
fn notify_to(addr: &str, extra: &str) -> String {
    format!("\n[[notify]]\nwebhook = \"http://{addr}/hooks/{{{{secrets.chat}}}}\"\n{extra}\n")
}

const SECRETS: &str = "\n[secrets]\nchat = { env = \"CHAT_TOKEN\" }\n";

/// Two services, `db` then `app`, each with a quick start step.
const TWO_SERVICES: &str = r#"
[services.db]
hosts = ["tag:node"]
[[services.db.start]]
run = "true"
[services.app]
hosts = ["tag:node"]
depends_on = ["db"]
[[services.app.start]]
run = "true"
"#;

fn project(body: &str) -> Test {
    Test::new()
        .file("inventory/site.toml", LOCAL_INVENTORY)
        .runbook(body)
        .env("CHAT_TOKEN", TOKEN)
}

/// A receiver answering 200, and a project whose runbook tells it (with `keys`) of the
/// events of `services`.
fn hooked(keys: &str, services: &str) -> (HttpServer, Test) {
    let hook = HttpServer::start(|_| (200, "ok".into()));
    let body = format!(
        "{SECRETS}{}{services}",
        notify_to(&hook.addr.to_string(), keys)
    );
    (hook, project(&body))
}

/// A live run of `t` that waits a minute for each answer, in the background.
fn waiting(t: &Test) -> std::process::Child {
    let args = ["--no-progress", "run", "runbooks/test.toml", "--to", "b"];
    spawn(
        t,
        &[&args[..], &["--live", "--wait-for-answer", "60s"]].concat(),
    )
}

fn live(t: Test) -> crate::support::util::Output {
    t.args(&["run", "runbooks/test.toml", "--to", "b", "--live", "--yes"])
        .run()
}

/// Every file of the run folder, as text, must lack the token.
fn assert_no_token(dir: &Path) {
    for entry in walk(dir) {
        let text = String::from_utf8_lossy(&std::fs::read(&entry).expect("read")).into_owned();
        assert!(!text.contains(TOKEN), "{} holds the token", entry.display());
    }
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).expect("read_dir") {
        let p = e.expect("entry").path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn a_live_run_posts_each_chosen_event_to_the_webhook_and_journals_each_delivery() {
    let (hook, t) = hooked(
        "events = [\"run_started\", \"service_recovered\", \"step_failed\", \"run_finished\"]",
        TWO_SERVICES,
    );
    let addr = hook.addr.to_string();
    let out = live(t);
    let dir = run_dir(&out);
    let _out = out.code(0);
    let got = received(&hook);
    let kinds: Vec<&str> = got
        .iter()
        .map(|(_, b)| b["event"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "run_started",
            "service_recovered",
            "service_recovered",
            "run_finished"
        ]
    );
    let abs = std::path::absolute(&dir).expect("absolute");
    for (path, b) in &got {
        assert_eq!(path, &format!("/hooks/{TOKEN}"), "the secret filled in");
        assert_eq!(b["runbook"], "test");
        assert_eq!((&b["from"], &b["to"]), (&"a".into(), &"b".into()));
        assert_eq!(b["mode"], "switchover");
        assert_eq!(b["live"], true);
        assert_eq!(b["run_dir"], abs.display().to_string());
        assert_eq!(b["rto"]["target_s"], 3600.0);
        assert!(!b["text"].as_str().unwrap().is_empty());
    }
    let last = &got[3].1;
    assert_eq!(last["outcome"], "passed");
    assert_eq!(last["rto"]["met"], true);
    assert_eq!(
        last["rto"]["achieved_s"],
        summary(&dir)["rto"]["achieved_s"],
        "{last}"
    );
    assert_eq!(got[1].1["service"], "db");
    // Every delivery journaled, `run_finished`'s after the run's end.
    let ev = events(&dir);
    let notified: Vec<&Value> = ev.iter().filter(|e| e["event"] == "notified").collect();
    assert_eq!(notified.len(), 4, "{notified:#?}");
    for n in &notified {
        assert_eq!(n["ok"], true);
        assert_eq!(n["status"], 200);
        assert_eq!(n["webhook"], format!("http://{addr}/…"));
    }
    let end = ev
        .iter()
        .position(|e| e["event"] == "run_finished")
        .unwrap();
    assert!(ev[end + 1..].iter().all(|e| e["event"] == "notified"));
    assert!(ev[end + 1..].iter().any(|e| e["about"] == "run_finished"));
    assert_no_token(&dir);
    assert_intact(&dir);
    assert_rebuilds(&dir);
    let (code, said) = independent_check(&dir);
    assert_eq!(code, 0, "{said}");
}

#[test]
fn a_webhook_that_never_answers_delays_no_step_and_its_failures_are_journaled() {
    // Accepts connections (the kernel's backlog) and never reads or answers.
    let hanging = TcpListener::bind((loopback().as_str(), 0)).expect("bind");
    let silent = hanging.local_addr().expect("addr").to_string();
    let good = HttpServer::start(|_| (200, "ok".into()));
    let all = "events = [\"run_started\", \"service_recovered\", \"run_finished\"]";
    let body = format!(
        "{SECRETS}{}{}{TWO_SERVICES}",
        notify_to(&silent, all),
        notify_to(&good.addr.to_string(), all)
    );
    let t = project(&body);
    let out = live(t);
    let dir = run_dir(&out);
    let _out = out.code(0);
    let s = summary(&dir);
    // Had the run waited for the silent webhook, its first message alone would have
    // held it 5 s; it was told of three events before the run ended.
    let achieved = s["rto"]["achieved_s"].as_f64().unwrap();
    assert!(achieved < 5.0, "recovery took {achieved} s");
    // The good webhook got every message, the silent one held up only its own queue.
    assert_eq!(received(&good).len(), 4);
    let ev = events(&dir);
    let end = ev
        .iter()
        .position(|e| e["event"] == "run_finished")
        .unwrap();
    let silent_results: Vec<(usize, &Value)> = ev
        .iter()
        .enumerate()
        .filter(|(_, e)| e["event"] == "notified" && e["webhook"] == format!("http://{silent}/…"))
        .collect();
    assert_eq!(silent_results.len(), 4, "{silent_results:#?}");
    let (first_at, first) = silent_results[0];
    assert_eq!(first["ok"], false);
    assert_eq!(first["about"], "run_started");
    assert_eq!(first["message"], "no answer within 5s");
    // Its first failure is known only after the run's end: nothing waited for it.
    assert!(first_at > end, "the run waited for the silent webhook");
    for (_, r) in &silent_results[1..] {
        assert_eq!(r["ok"], false);
        assert!(
            r["message"]
                .as_str()
                .unwrap()
                .contains("time for last notifications was up"),
            "{r}"
        );
    }
    assert!(read(&dir, "report.md").contains("notification of run_started"));
    assert_intact(&dir);
    assert_rebuilds(&dir);
}

#[test]
fn a_webhook_that_fails_fails_nothing_and_the_evidence_says_so() {
    let hook = HttpServer::start(|_| (500, "down".into()));
    let refused = format!("{}:9", loopback());
    let body = format!(
        "{SECRETS}{}{}{TWO_SERVICES}",
        notify_to(&hook.addr.to_string(), "events = [\"run_finished\"]"),
        notify_to(&refused, "events = [\"run_finished\"]")
    );
    let t = project(&body);
    let out = live(t);
    let dir = run_dir(&out);
    let out = out.code(0);
    let ev = events(&dir);
    let results: Vec<&Value> = ev.iter().filter(|e| e["event"] == "notified").collect();
    assert_eq!(results.len(), 2, "{results:#?}");
    let by = |addr: &str| {
        results
            .iter()
            .find(|e| e["webhook"] == format!("http://{addr}/…"))
            .copied()
            .expect("a result per webhook")
    };
    let five = by(&hook.addr.to_string());
    assert_eq!((&five["ok"], &five["status"]), (&false.into(), &500.into()));
    assert!(five["message"].as_str().unwrap().contains("HTTP 500"));
    let gone = by(&refused);
    assert_eq!(gone["ok"], false);
    let why = gone["message"].as_str().unwrap();
    assert!(why.to_lowercase().contains("refused"), "{why}");
    assert!(!why.contains(TOKEN));
    assert!(
        out.stderr.contains("notification of run_finished"),
        "{}",
        out.stderr
    );
    assert_no_token(&dir);
    assert_intact(&dir);
}

#[test]
fn slack_format_posts_a_text_field_only() {
    let (hook, t) = hooked(
        "format = \"slack\"\nevents = [\"run_finished\"]",
        TWO_SERVICES,
    );
    let out = live(t);
    let dir = run_dir(&out);
    let _out = out.code(0);
    let got = received(&hook);
    assert_eq!(got.len(), 1);
    let b = got[0].1.as_object().expect("an object");
    assert_eq!(b.keys().collect::<Vec<_>>(), ["text"]);
    let text = b["text"].as_str().unwrap();
    assert!(text.contains("test a → b (live switchover)"), "{text}");
    assert!(text.contains("finished passed"), "{text}");
    let abs = std::path::absolute(&dir).expect("absolute");
    assert!(text.contains(&abs.display().to_string()), "{text}");
}

#[test]
fn a_dry_run_notifies_only_with_notify_dry_run() {
    let (hook, t) = hooked("events = [\"run_started\", \"run_finished\"]", TWO_SERVICES);
    let out = t.args(&["run", "runbooks/test.toml", "--to", "b"]).run();
    let dir = run_dir(&out);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(received(&hook).len(), 0);
    assert!(!read(&dir, "journal.jsonl").contains("notified"));
    let again = Test::reuse(&out.root)
        .env("CHAT_TOKEN", TOKEN)
        .args(&["run", "runbooks/test.toml", "--to", "b", "--notify-dry-run"])
        .run();
    let _again = again.code(0);
    let got = received(&hook);
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].1["live"], false);
    assert!(got[0].1["text"].as_str().unwrap().starts_with("dry run"));
}

#[test]
fn a_webhook_secret_that_cannot_be_read_refuses_the_live_run_before_anything_runs() {
    let body = format!("{SECRETS}{}{TWO_SERVICES}", notify_to("127.0.0.1:9", ""));
    let t = Test::new()
        .file("inventory/site.toml", LOCAL_INVENTORY)
        .runbook(&body);
    let out = live(t);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("secret `chat`: the environment variable `CHAT_TOKEN` is not set"),
        "{}",
        out.stderr
    );
    assert!(run_folder(&out.root.join("evidence")).is_none());
}

#[test]
fn an_inventory_webhook_with_its_own_secret_is_told_of_every_runbook_run_against_it() {
    let hook = HttpServer::start(|_| (200, "ok".into()));
    let inventory = format!(
        "{LOCAL_INVENTORY}{SECRETS}{}",
        notify_to(&hook.addr.to_string(), "events = [\"run_finished\"]")
    );
    let t = Test::new()
        .file("inventory/site.toml", inventory)
        .runbook(TWO_SERVICES)
        .env("CHAT_TOKEN", TOKEN);
    let out = live(t);
    let checked = Test::reuse(&out.root)
        .args(&["check-inventory", "inventory/site.toml"])
        .run();
    assert_eq!(checked.code, 0, "{}", checked.stderr);
    let _out = out.code(0);
    let got = received(&hook);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].0, format!("/hooks/{TOKEN}"));
}

#[test]
fn a_question_is_notified_while_the_run_waits_and_so_is_the_answer() {
    // `on_failure` is `pause` by default.
    let (hook, t) = hooked(
        "events = [\"question\", \"decision\"]",
        "\n[services.db]\nhosts = [\"tag:node\"]\n[[services.db.start]]\nrun = \"false\"\n",
    );
    let child = waiting(&t);
    let mut dir = std::path::PathBuf::new();
    // Journaled as soon as delivered, while the run still waits for its answer.
    wait_until("the question's delivery in the journal", || {
        let Some(d) = run_folder(&t.path().join("evidence")) else {
            return false;
        };
        dir = d;
        std::fs::read_to_string(dir.join("journal.jsonl"))
            .is_ok_and(|j| j.contains(r#""event":"notified""#))
    });
    let got = received(&hook);
    assert_eq!(got.len(), 1);
    let q = &got[0].1;
    assert_eq!(q["event"], "question");
    assert_eq!(q["step"], "db.start.1");
    assert_eq!(q["host"], "node-b");
    assert_eq!(
        q["choices"],
        serde_json::json!(["retry", "skip", "abort", "rollback"])
    );
    assert!(
        q["text"].as_str().unwrap().contains("switchyard answer"),
        "{q}"
    );
    let answered = Command::new(SWITCHYARD)
        .arg("answer")
        .arg(&dir)
        .args(["abort", "--comment", "the DBA is on it"])
        .output()
        .expect("answer");
    assert!(answered.status.success(), "{answered:?}");
    let fin = ended(child, &t, |_| dir.clone());
    assert_eq!(fin.code, 1, "{}", fin.stderr);
    let got = received(&hook);
    assert_eq!(got.len(), 2);
    let d = &got[1].1;
    assert_eq!(d["event"], "decision");
    assert_eq!(d["choice"], "abort");
    assert!(
        d["text"].as_str().unwrap().contains("the DBA is on it"),
        "{d}"
    );
    assert_intact(&dir);
}

#[test]
fn rto_at_risk_is_notified_while_the_step_runs() {
    let (hook, t) = hooked(
        "events = [\"rto_at_risk\"]",
        "\n[services.db]\nhosts = [\"tag:node\"]\nrto = \"1s\"\n[[services.db.start]]\nrun = \"sleep 2\"\ntimeout = \"10s\"\n",
    );
    let out = live(t);
    let dir = run_dir(&out);
    let _out = out.code(3);
    let got = received(&hook);
    assert_eq!(got.len(), 1, "{got:#?}");
    let r = &got[0].1;
    assert_eq!(r["event"], "rto_at_risk");
    assert_eq!(r["service"], "db");
    assert!(r["rto"]["projected_s"].as_f64().unwrap() > 1.0, "{r}");
    assert!(r["text"].as_str().unwrap().starts_with("RTO AT RISK: db"));
    // Delivered while the step ran: its result is journaled before the step's end.
    let ev = events(&dir);
    let at = |pred: &dyn Fn(&Value) -> bool| ev.iter().position(pred).unwrap();
    let delivered = at(&|e| e["event"] == "notified");
    let step_end = at(&|e| e["event"] == "step_finished" && e["step"] == "db.start.1");
    assert!(delivered < step_end, "{ev:#?}");
}

#[test]
fn a_webhook_that_is_a_secret_must_still_be_an_http_url_and_is_never_shown() {
    let body = format!("{SECRETS}\n[[notify]]\nwebhook = \"{{{{secrets.chat}}}}\"\n{TWO_SERVICES}");
    let t = Test::new()
        .file("inventory/site.toml", LOCAL_INVENTORY)
        .runbook(&body)
        .env("CHAT_TOKEN", "ftp://files.example/T0k3n-very-secret-4242");
    let out = live(t);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("is not an http:// or https:// URL once its secrets are filled in"),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains(TOKEN), "{}", out.stderr);
    assert!(run_folder(&out.root.join("evidence")).is_none());
}

#[test]
fn a_webhook_that_never_answers_holds_at_most_a_full_queue_and_the_rest_is_journaled_as_not_sent() {
    let hanging = TcpListener::bind((loopback().as_str(), 0)).expect("bind");
    let silent = hanging.local_addr().expect("addr").to_string();
    // 80 services, each recovered: 80 messages for a webhook that takes none.
    let mut body = format!(
        "{SECRETS}{}",
        notify_to(&silent, "events = [\"service_recovered\"]")
    );
    for i in 0..80 {
        body.push_str(&format!(
            "\n[services.s{i}]\nhosts = [\"tag:node\"]\n[[services.s{i}.start]]\nrun = \"true\"\n"
        ));
    }
    let t = project(&body);
    let out = live(t);
    let dir = run_dir(&out);
    let _out = out.code(0);
    let ev = events(&dir);
    let results: Vec<&Value> = ev.iter().filter(|e| e["event"] == "notified").collect();
    // Every message accounted for, none sent twice.
    assert_eq!(results.len(), 80);
    assert!(results.iter().all(|r| r["ok"] == false));
    let full = results
        .iter()
        .filter(|r| {
            r["message"]
                .as_str()
                .unwrap()
                .starts_with("not sent: 64 notifications already wait")
        })
        .count();
    // At most one in flight and 64 queued: the others found the queue full (15, or 16
    // when the task had not yet taken the first message when the queue filled).
    assert!((15..=16).contains(&full), "{full} not sent: {results:#?}");
    assert!(summary(&dir)["rto"]["achieved_s"].as_f64().unwrap() < 5.0);
    assert_intact(&dir);
}

#[test]
fn a_manual_step_is_notified_with_the_words_switchyard_answer_takes() {
    let (hook, t) = hooked(
        "events = [\"question\"]",
        "\n[services.db]\nhosts = [\"tag:node\"]\n[[services.db.start]]\nmanual = \"map LUN 7 to the b hosts\"\n",
    );
    let child = waiting(&t);
    wait_until("the question's delivery", || !received(&hook).is_empty());
    let q = received(&hook)[0].1.clone();
    assert_eq!(q["kind"], "manual");
    assert_eq!(q["choices"], serde_json::json!(["confirm", "abort"]));
    let text = q["text"].as_str().unwrap();
    assert!(text.starts_with("manual step at db.start.1: "), "{text}");
    assert!(text.contains("map LUN 7 to the b hosts"), "{text}");
    let dir = std::path::PathBuf::from(q["run_dir"].as_str().unwrap());
    assert!(text.ends_with(&format!(
        "`switchyard answer {} confirm|abort`",
        dir.display()
    )));
    let answered = Command::new(SWITCHYARD)
        .arg("answer")
        .arg(&dir)
        .arg("confirm")
        .output()
        .expect("answer");
    assert!(answered.status.success(), "{answered:?}");
    let fin = ended(child, &t, |_| dir.clone());
    assert_eq!(fin.code, 0, "{}", fin.stderr);
}

#[test]
fn a_webhook_whose_certificate_is_not_trusted_is_refused() {
    let t = project("");
    let dir = t.path().to_path_buf();
    let ip = loopback();
    let made = Command::new("openssl")
        .args(["req", "-x509", "-newkey", "ed25519", "-nodes", "-days", "1"])
        .args([
            "-subj",
            &format!("/CN={ip}"),
            "-keyout",
            "key.pem",
            "-out",
            "cert.pem",
        ])
        .current_dir(&dir)
        .output()
        .expect("openssl");
    assert!(made.status.success(), "{made:?}");
    let port = TcpListener::bind((ip.as_str(), 0))
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let mut server = Command::new("openssl")
        .args([
            "s_server", "-quiet", "-www", "-cert", "cert.pem", "-key", "key.pem",
        ])
        .args(["-accept", &format!("{ip}:{port}")])
        .current_dir(&dir)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("openssl s_server");
    wait_until("the TLS server", || {
        std::net::TcpStream::connect((ip.as_str(), port)).is_ok()
    });
    let body = format!(
        "{SECRETS}\n[[notify]]\nwebhook = \"https://{ip}:{port}/hooks/{{{{secrets.chat}}}}\"\nevents = [\"run_finished\"]\n{TWO_SERVICES}"
    );
    let t = crate::support::runs::runbook(t, "pause", &body);
    let out = live(t);
    let _ = server.kill();
    let _ = server.wait();
    let run = run_dir(&out);
    let out = out.code(0);
    // Said once, by switchyard, not again by the TLS library's own log.
    let out = out.stderr_has("notification of run_finished");
    assert!(!out.stderr.contains("ERROR"), "{}", out.stderr);
    let ev = events(&run);
    let n = ev
        .iter()
        .find(|e| e["event"] == "notified")
        .expect("a result");
    assert_eq!(n["ok"], false);
    assert!(
        n["message"].as_str().unwrap().contains("certificate"),
        "{n}"
    );
}

#[test]
fn killed_while_its_last_notifications_wait_the_run_gets_its_reports_from_resume() {
    let hanging = TcpListener::bind((loopback().as_str(), 0)).expect("bind");
    let silent = hanging.local_addr().expect("addr").to_string();
    let body = format!(
        "{SECRETS}{}{TWO_SERVICES}",
        notify_to(&silent, "events = [\"run_finished\"]")
    );
    let t = project(&body);
    let mut child = spawn(
        &t,
        &[
            "--no-progress",
            "run",
            "runbooks/test.toml",
            "--to",
            "b",
            "--live",
            "--yes",
        ],
    );
    let mut dir = std::path::PathBuf::new();
    wait_until("the run's end in its journal", || {
        let Some(d) = run_folder(&t.path().join("evidence")) else {
            return false;
        };
        dir = d;
        std::fs::read_to_string(dir.join("journal.jsonl"))
            .is_ok_and(|j| j.contains(r#""event":"run_finished""#))
    });
    child.kill().expect("SIGKILL");
    child.wait().expect("wait");
    // Killed while its last message waited for the webhook: the journal is whole, the
    // reports were never written.
    assert!(!dir.join("summary.json").exists());
    let out = crate::support::runs::resume(&dir);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stderr.contains("they are written now"),
        "{}",
        out.stderr
    );
    assert!(
        out.stdout.starts_with("passed: evidence in"),
        "{}",
        out.stdout
    );
    assert_eq!(summary(&dir)["outcome"], "passed");
    assert_intact(&dir);
    assert_rebuilds(&dir);
    // Once written, there is nothing left to resume.
    let again = crate::support::runs::resume(&dir);
    assert_ne!(again.code, 0);
    assert!(
        again.stderr.contains("already finished (passed)"),
        "{}",
        again.stderr
    );
}

#[test]
fn plan_lists_the_webhooks_a_run_tells_without_reading_their_secrets() {
    let body = format!(
        "{SECRETS}{}{}{TWO_SERVICES}",
        notify_to("chat.example", "events = [\"question\", \"rto_at_risk\"]"),
        notify_to("mm.example", "format = \"slack\"")
    );
    // No CHAT_TOKEN: plan reads no secret.
    let out = Test::new()
        .file("inventory/site.toml", LOCAL_INVENTORY)
        .runbook(&body)
        .args(&["plan", "runbooks/test.toml", "--to", "b"])
        .run()
        .code(0);
    let lines: Vec<&str> = out
        .stdout
        .lines()
        .skip_while(|l| !l.starts_with("Notifications"))
        .take(3)
        .collect();
    assert_eq!(
        lines,
        [
            "Notifications (a live run tells these webhooks; a dry run only with --notify-dry-run)",
            "  http://chat.example/hooks/{{secrets.chat}}  (json: question, rto_at_risk)",
            "  http://mm.example/hooks/{{secrets.chat}}  (slack: run_started, question, step_failed, rto_at_risk, run_finished)",
        ],
        "{}",
        out.stdout
    );
}
