//! Folders of bad input files, each holding one mistake: every file must be rejected by
//! `switchyard validate` with exit code 2, a `path:line:col`, and the error recorded in
//! its snapshot (in the folder's `snapshots/`).

use std::path::{Path, PathBuf};

use super::util::Test;

/// The crate's folder; fixtures are named relative to it, as a user would type them.
pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The `.toml` files directly in `folder` (relative to the crate) that `keep` accepts,
/// sorted by name.
pub fn files(folder: &str, keep: impl Fn(&Path) -> bool) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(root().join(folder))
        .expect("fixtures directory")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == "toml") && keep(p))
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

/// Validates each of `fixtures` (at least `at_least` of them, from `folder`): exit code
/// 2, a location, and stderr as in the folder's snapshots.
#[track_caller]
pub fn all_rejected(folder: &str, fixtures: Vec<PathBuf>, at_least: usize) {
    assert!(
        fixtures.len() >= at_least,
        "only {} fixtures in {folder}",
        fixtures.len()
    );
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(root().join(folder).join("snapshots"));
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
