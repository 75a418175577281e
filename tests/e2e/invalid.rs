//! Bad input: every fixture under `tests/fixtures/invalid/` holds one mistake and must be
//! rejected with exit code 2, a `path:line:col`, and the error recorded in its snapshot.
//! Hostile files (empty, binary, invalid UTF-8, deep nesting) are generated here.

use std::path::PathBuf;

use crate::support::fixtures;
use crate::support::util::Test;

/// The runbook fixtures; `NAME.inventory.toml` files are inventories they refer to.
fn fixtures() -> Vec<PathBuf> {
    fixtures::files(FOLDER, |p| {
        !p.file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.ends_with(".inventory.toml"))
    })
}

const FOLDER: &str = "tests/fixtures/invalid";

#[test]
fn every_invalid_fixture_is_rejected_with_file_line_and_column() {
    fixtures::all_rejected(FOLDER, fixtures(), 40);
}

#[test]
fn hostile_files_are_errors_not_panics() {
    let deep_array = format!("a = {}{}", "[".repeat(500_000), "]".repeat(500_000));
    let deep_table = format!("a = {}1{}", "{b=".repeat(200_000), "}".repeat(200_000));
    let deep_key = format!("[{}b]", "a.".repeat(300_000));
    let garbage: Vec<u8> = (0..100_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("empty", Vec::new()),
        ("deep array", deep_array.into_bytes()),
        ("deep inline table", deep_table.into_bytes()),
        ("deep dotted key", deep_key.into_bytes()),
        ("binary garbage", garbage),
        ("invalid utf-8", b"[runbook]\nname = \"caf\xe9\"\n".to_vec()),
        ("nul bytes", b"[runbook]\0\0\0".to_vec()),
    ];
    for (what, bytes) in cases {
        let out = Test::new()
            .file("runbooks/test.toml", &bytes)
            .args(&["validate", "runbooks/test.toml"])
            .run();
        assert_eq!(out.code, 2, "{what}: {}", out.stderr);
        assert!(
            out.stderr.contains("runbooks/test.toml:"),
            "{what}: no location\n{}",
            out.stderr
        );
    }
}

#[test]
fn an_invalid_inventory_reports_the_inventory_file() {
    Test::new()
        .file(
            "inventory/site.toml",
            "[halls.a]\n[halls.b]\n[hosts.x]\nhall = \"c\"\naddress = \"10.0.0.1\"\n",
        )
        .runbook("[services.s]\n[[services.s.start]]\nlocal = \"true\"\n")
        .args(&["validate", "runbooks/test.toml"])
        .run()
        .code(2)
        .stderr_has("host `x` is in an unknown hall `c`")
        .stderr_has("inventory/site.toml:4:8");
}

#[test]
fn validate_checks_every_runbook_and_fails_if_one_is_bad() {
    let good = "[services.s]\n[[services.s.start]]\nlocal = \"true\"\n";
    Test::new()
        .runbook(good)
        .file("runbooks/bad.toml", "[runbook]\nname = \"bad\"\n")
        .args(&["validate"])
        .run()
        .code(2)
        .stdout_has("ok  runbooks/test.toml")
        .stderr_has("runbooks/bad.toml:1:1")
        .stderr_has("missing the required key `rto`")
        .stderr_has("1 of 2 runbooks are invalid");
}

#[test]
fn a_placeholder_may_sit_in_quotes_only_if_its_value_never_needs_quoting() {
    let body = r#"
[vars]
seq = "42"
table = "canary"

[services.db]
hosts = ["tag:db"]

[[services.db.verify]]
run = '''psql -c 'insert into {{vars.table}} values ({{vars.seq}})' -c "select '{{host.name}}', '{{mode}}'"'''
"#;
    Test::new()
        .runbook(body)
        .args(&["validate", "runbooks/test.toml"])
        .run()
        .code(0)
        .stdout_has("ok  runbooks/test.toml");
    Test::new()
        .runbook(&body.replace("\"42\"", "\"4 2\""))
        .args(&["validate", "runbooks/test.toml"])
        .run()
        .code(2)
        .stderr_has("`{{vars.seq}}` is inside single quotes in step")
        .stderr_has("the value of `vars.seq` has a space, so switchyard quotes it")
        .stderr_has("runbooks/test.toml:16:54");
}
