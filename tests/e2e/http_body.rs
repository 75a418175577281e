//! `http` checks against hostile bodies from a real server on loopback: a body cut short
//! of its `Content-Length` fails the check, whatever arrived; a body larger than the
//! 1 MiB switchyard reads is judged by its first MiB, and the message says it was cut.

use crate::support::http::HttpServer;
use crate::support::util::{LIVE, LOCAL_INVENTORY, Test, run_dir, step, summary};

/// 5 MiB: well past what switchyard reads of a body.
const LARGE: usize = 5 * 1024 * 1024;

/// A live run of one `http` verify step against `server`, expecting `expect_body`.
fn check(server: &HttpServer, expect_body: &str) -> crate::support::util::Output {
    let body = format!(
        "[services.web]\n[[services.web.verify]]\nhttp = \"http://{}/health\"\nexpect_body = \"{expect_body}\"\n",
        server.addr
    );
    Test::new()
        .file("inventory/site.toml", LOCAL_INVENTORY)
        .runbook(&body)
        .args(LIVE)
        .run()
}

fn message(out: &crate::support::util::Output) -> String {
    let s = summary(&run_dir(out));
    let web = step(&s, "web.verify.1");
    assert_eq!(web["status"], "failed", "{web}");
    web["message"].as_str().expect("message").to_string()
}

#[test]
fn an_http_body_shorter_than_its_content_length_fails_the_check() {
    // What arrives holds the expected text; the body is not whole, so it must not pass.
    let server = HttpServer::cut_short("ok", 100);
    let out = check(&server, "ok").code(1);
    let m = message(&out);
    assert!(
        m.contains(&format!("GET http://{}/health answered 200", server.addr)),
        "{m}"
    );
    assert!(m.contains("its body could not be read: "), "{m}");
    out.stderr_has("its body could not be read");
}

#[test]
fn a_large_http_body_with_the_text_in_its_first_mib_passes() {
    let server = HttpServer::large("healthy", LARGE, "");
    let out = check(&server, "healthy").code(0);
    let journal = std::fs::read_to_string(run_dir(&out).join("journal.jsonl")).expect("journal");
    assert!(
        journal.contains("the body was longer than 1 MiB and was cut there"),
        "{journal}"
    );
}

#[test]
fn a_large_http_body_with_the_text_only_past_the_first_mib_fails_saying_it_was_cut() {
    let server = HttpServer::large("", LARGE, "healthy");
    let out = check(&server, "healthy").code(1);
    let m = message(&out);
    assert!(
        m.contains("without \"healthy\" in the part read of its body"),
        "{m}"
    );
    assert!(
        m.contains("the body was longer than 1 MiB and was cut there"),
        "{m}"
    );
}
