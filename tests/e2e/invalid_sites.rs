//! Bad site files: every fixture under `tests/fixtures/invalid-sites/` holds one mistake
//! and must be rejected with exit code 2, a `path:line:col`, and the error recorded in its
//! snapshot. The runbooks and inventories they use are under its `runbooks/`; the valid
//! site beside them is `tests/fixtures/sites/riverton.toml`.

use crate::support::util::Test;
use std::path::{Path, PathBuf};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The site fixtures: the `.toml` files at the top of the folder.
fn fixtures() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(root().join("tests/fixtures/invalid-sites"))
        .expect("fixtures directory")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == "toml"))
        .collect();
    v.sort();
    v
}

/// Whether `stderr` points at some line and column of a file under `tests/fixtures`.
fn has_location(stderr: &str) -> bool {
    stderr
        .lines()
        .filter_map(|l| l.trim_start().strip_prefix("--> "))
        .any(|loc| {
            let mut parts = loc.rsplitn(3, ':');
            let col = parts.next().and_then(|c| c.parse::<usize>().ok());
            let line = parts.next().and_then(|c| c.parse::<usize>().ok());
            let path = parts.next().unwrap_or("");
            col.is_some() && line.is_some() && path.starts_with("tests/fixtures/")
        })
}

#[test]
fn every_invalid_site_is_rejected_with_file_line_and_column() {
    let fixtures = fixtures();
    assert!(
        fixtures.len() >= 15,
        "only {} invalid site fixtures",
        fixtures.len()
    );
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(root().join("tests/fixtures/invalid-sites/snapshots"));
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    let _guard = settings.bind_to_scope();
    for path in fixtures {
        let rel = path.strip_prefix(root()).expect("under the crate");
        let out = Test::reuse(root())
            .args(&["validate", rel.to_str().expect("UTF-8 path")])
            .run();
        let stderr = out.stderr;
        let name = rel.file_stem().and_then(|s| s.to_str()).expect("name");
        assert_eq!(out.code, 2, "{name}: exit code\n{stderr}");
        assert!(has_location(&stderr), "{name}: no path:line:col\n{stderr}");
        insta::assert_snapshot!(name, stderr);
    }
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
