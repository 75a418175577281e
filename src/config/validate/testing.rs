//! For the unit tests of each subject: validates a runbook written inline against a
//! small fixed inventory, without touching the disk, and gives the runbook or every
//! diagnostic's message.

use std::path::{Path, PathBuf};

use crate::config::diagnostic::{Diagnostic, Diagnostics};
use crate::config::inventory::{Inventory, InventoryFile};
use crate::config::raw;
use crate::config::reader::Cx;
use crate::config::runbook::Runbook;
use crate::config::source::Sources;

/// Two halls, `a` and `b`, with a `db`, an `app` and a `web` host in each; `front` is the
/// app and web hosts: the inventory the invalid-runbook fixtures use.
pub const INVENTORY: &str = include_str!("../../../tests/fixtures/inventory.toml");

/// The `[runbook]` table most tests start from.
pub const HEADER: &str = "[runbook]\nname = \"t\"\nrto = \"30m\"\n";

/// A runbook of one service `db` on the `db` hosts whose only step, in `phase`, is `step`.
pub fn one_step(phase: &str, step: &str) -> String {
    format!("{HEADER}[services.db]\nhosts = [\"tag:db\"]\n[[services.db.{phase}]]\n{step}\n")
}

/// Validates `runbook` (all of it: `[runbook]` included) against [`INVENTORY`].
pub fn check(runbook: &str) -> Result<Runbook, Vec<Diagnostic>> {
    let mut sources = Sources::default();
    let mut diags = Diagnostics::default();
    let inv_path = PathBuf::from("/t/inventory.toml");
    let inv_id = sources.add(inv_path.clone(), INVENTORY.to_string());
    let mut cx = Cx {
        file: inv_id,
        text: INVENTORY,
        diags: &mut diags,
    };
    let doc = raw::parse_document(&mut cx, INVENTORY).expect("the test inventory parses");
    let file = InventoryFile {
        raw: raw::read_inventory(&mut cx, &doc),
        path: inv_path,
        tier: 0,
    };
    let inventory = Inventory::build(&[file], &mut diags);
    assert!(!diags.has_errors(), "the test inventory is valid");
    let path = Path::new("/t/runbook.toml");
    let id = sources.add(path.to_path_buf(), runbook.to_string());
    let mut cx = Cx {
        file: id,
        text: runbook,
        diags: &mut diags,
    };
    let Some(doc) = raw::parse_document(&mut cx, runbook) else {
        return Err(diags.sorted().into_iter().cloned().collect());
    };
    let header = raw::read_header(&mut cx, &doc);
    let raw = raw::read_runbook(&mut cx, &doc, header);
    match super::validate(raw, Some(inventory.into()), path, &mut diags) {
        Some(rb) if !diags.has_errors() => Ok(rb),
        _ => Err(diags.sorted().into_iter().cloned().collect()),
    }
}

/// The message of every problem in `runbook`, top to bottom; empty if it is valid.
pub fn messages(runbook: &str) -> Vec<String> {
    match check(runbook) {
        Ok(_) => Vec::new(),
        Err(diags) => diags.into_iter().map(|d| d.message).collect(),
    }
}

/// The one problem in `runbook`, as `message: label`.
pub fn error(runbook: &str) -> String {
    match check(runbook) {
        Ok(_) => panic!("accepted:\n{runbook}"),
        Err(diags) => {
            assert_eq!(diags.len(), 1, "{runbook}\n{diags:#?}");
            format!("{}: {}", diags[0].message, diags[0].label)
        }
    }
}

/// The runbook, which must be valid.
pub fn accepted(runbook: &str) -> Runbook {
    check(runbook).unwrap_or_else(|diags| {
        let messages: Vec<&str> = diags.iter().map(|d| d.message.as_str()).collect();
        panic!("rejected:\n{runbook}\n{messages:#?}")
    })
}
