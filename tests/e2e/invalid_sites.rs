//! Bad site files: every fixture under `tests/fixtures/invalid-sites/` holds one mistake
//! and must be rejected with exit code 2, a `path:line:col`, and the error recorded in its
//! snapshot. The runbooks and inventories they use are under its `runbooks/`; the valid
//! site beside them is `tests/fixtures/sites/riverton.toml`.

use crate::support::fixtures::{self, root};
use crate::support::util::Test;

const FOLDER: &str = "tests/fixtures/invalid-sites";

#[test]
fn every_invalid_site_is_rejected_with_file_line_and_column() {
    fixtures::all_rejected(FOLDER, fixtures::files(FOLDER, |_| true), 15);
}

#[test]
fn a_valid_site_passes_with_its_counts() {
    Test::reuse(root())
        .args(&["validate", "tests/fixtures/sites/riverton.toml"])
        .run()
        .code(0)
        .stdout_has(
            "ok  tests/fixtures/sites/riverton.toml  site riverton: 3 runbooks, 3 services, 6 steps, 6 hosts, RTO 8h",
        );
}

#[test]
fn a_site_and_a_runbook_validate_together() {
    Test::reuse(root())
        .args(&[
            "validate",
            "tests/fixtures/sites/riverton.toml",
            "tests/fixtures/sites/runbooks/dns.toml",
            "tests/fixtures/invalid-sites/requires-itself.toml",
        ])
        .run()
        .code(2)
        .stdout_has("site riverton: 3 runbooks")
        .stdout_has("ok  tests/fixtures/sites/runbooks/dns.toml  dns:")
        .stderr_has("runbook `dns` requires itself")
        .stderr_has("1 of 3 files are invalid");
}

#[test]
fn a_glob_does_not_take_the_site_file_itself() {
    let runbook = "[runbook]\nname = \"one\"\nrto = \"1h\"\ninventory = [\"inv/site.toml\"]\n\
                   [services.s]\n[[services.s.start]]\nlocal = \"true\"\n";
    Test::new()
        .file("inv/site.toml", "[halls.a]\n[halls.b]\n")
        .file("one.toml", runbook)
        .file(
            "site.toml",
            "[site]\nname = \"s\"\nrto = \"1h\"\nrunbooks = [\"*.toml\"]\n",
        )
        .args(&["validate", "site.toml"])
        .run()
        .code(0)
        .stdout_has("site s: 1 runbooks, 1 services, 1 steps, 0 hosts");
}
