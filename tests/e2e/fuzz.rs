//! Property tests: random bytes and random mutations of the example runbooks and
//! inventory must never panic the loader, the diagnostics renderer or the planner; and
//! mutated Ansible inventories never panic the importer, whose output, when it writes
//! one, always loads.

use std::path::Path;

use proptest::prelude::*;
use switchyard::config::diagnostic::render_all;
use switchyard::config::model::Mode;
use switchyard::config::{inventory_from_text, load_runbook};
use switchyard::import::ansible::{self, HallGroup};
use switchyard::plan;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn example(path: &str) -> Vec<u8> {
    std::fs::read(Path::new(ROOT).join(path)).expect("example file")
}

/// Loads `runbook` next to `inventory` and exercises everything that reads the result.
fn exercise(runbook: &[u8], inventory: &[u8]) {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(dir.path().join("runbooks")).expect("mkdir");
    std::fs::create_dir_all(dir.path().join("inventory")).expect("mkdir");
    let rb = dir.path().join("runbooks/x.toml");
    std::fs::write(&rb, runbook).expect("write");
    std::fs::write(dir.path().join("inventory/site.toml"), inventory).expect("write");
    match load_runbook(&rb, &[]) {
        Err(e) => {
            let text = render_all(&e.sources, &e.diagnostics);
            assert!(text.contains("error"), "a failed load must say why");
        }
        Ok(loaded) => {
            let rb = &loaded.runbook;
            for (from, to) in [(0, 1), (1, 0)] {
                for mode in [Mode::Switchover, Mode::Failover] {
                    let p = plan::build(rb, &rb.halls[from], &rb.halls[to], mode);
                    let _ = (
                        plan::render::text(&p),
                        plan::render::json(&p),
                        plan::render::dot(&p),
                        plan::render::mermaid(&p),
                    );
                }
            }
        }
    }
}

/// Imports `text` as an Ansible inventory: a problem is said, and an inventory written
/// loads as switchyard loads any.
fn exercise_import(text: &[u8]) {
    let text = String::from_utf8_lossy(text);
    let halls = [("north", "a"), ("south", "b")].map(|(g, h)| HallGroup {
        group: g.into(),
        hall: h.into(),
    });
    match ansible::import("inv", &text, &halls) {
        Err(problems) => assert!(problems.to_string().starts_with("error: inv")),
        Ok(imported) => {
            if let Err(e) = inventory_from_text(Path::new("out.toml"), imported.toml.clone()) {
                panic!(
                    "the import does not load:\n{}\n{}",
                    render_all(&e.sources, &e.diagnostics),
                    imported.toml
                );
            }
        }
    }
}

#[derive(Debug, Clone)]
enum Mutation {
    Delete(usize, usize),
    Insert(usize, Vec<u8>),
    Replace(usize, u8),
    DuplicateLine(usize),
    SwapLines(usize, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let significant = prop::sample::select(b"[]{}=\"'\n.#:,0-_ azAZ\\\t{{}}".to_vec());
    prop_oneof![
        (any::<usize>(), 0usize..40).prop_map(|(a, n)| Mutation::Delete(a, n)),
        (any::<usize>(), prop::collection::vec(any::<u8>(), 1..8))
            .prop_map(|(a, b)| Mutation::Insert(a, b)),
        (any::<usize>(), significant).prop_map(|(a, c)| Mutation::Replace(a, c)),
        any::<usize>().prop_map(Mutation::DuplicateLine),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Mutation::SwapLines(a, b)),
    ]
}

fn apply(mut bytes: Vec<u8>, m: &Mutation) -> Vec<u8> {
    let len = bytes.len().max(1);
    match m {
        Mutation::Delete(at, n) => {
            let at = at % len;
            let end = (at + n).min(bytes.len());
            bytes.drain(at.min(end)..end);
        }
        Mutation::Insert(at, b) => {
            let at = at % (bytes.len() + 1);
            bytes.splice(at..at, b.iter().copied());
        }
        Mutation::Replace(at, c) => {
            if !bytes.is_empty() {
                let i = at % bytes.len();
                bytes[i] = *c;
            }
        }
        Mutation::DuplicateLine(n) | Mutation::SwapLines(n, _) => {
            let mut lines: Vec<Vec<u8>> =
                bytes.split(|b| *b == b'\n').map(<[u8]>::to_vec).collect();
            let i = n % lines.len();
            match m {
                Mutation::SwapLines(_, other) => {
                    let j = other % lines.len();
                    lines.swap(i, j);
                }
                _ => {
                    let dup = lines[i].clone();
                    lines.insert(i, dup);
                }
            }
            bytes = lines.join(&b'\n');
        }
    }
    bytes
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..2000)) {
        exercise(&bytes, &example("inventory/site.toml"));
    }

    #[test]
    fn mutated_runbooks_never_panic(which in 0usize..3, muts in prop::collection::vec(mutation(), 1..6)) {
        let name = ["runbooks/recruitment.toml", "runbooks/survey.toml", "runbooks/finance.toml"][which];
        let runbook = muts.iter().fold(example(name), apply);
        exercise(&runbook, &example("inventory/site.toml"));
    }

    #[test]
    fn mutated_inventories_never_panic(muts in prop::collection::vec(mutation(), 1..6)) {
        let inventory = muts.iter().fold(example("inventory/site.toml"), apply);
        exercise(&example("runbooks/recruitment.toml"), &inventory);
    }

    #[test]
    fn mutated_ansible_inventories_never_panic_and_import_to_what_loads(
        which in 0usize..3,
        muts in prop::collection::vec(mutation(), 1..6),
    ) {
        let name = ["inventory.ini", "inventory.yml", "inventory.json"][which];
        let text = muts.iter().fold(example(&format!("tests/fixtures/ansible/same/{name}")), apply);
        exercise_import(&text);
    }
}
