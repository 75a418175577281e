//! Loading one runbook: its file, the inventory files it names (parsed on a second thread
//! while this one reads the services), then pass 2. A site loads each of its runbooks the
//! same way, into the files and diagnostics it shares with them ([`runbook_into`]), and
//! builds an inventory that several of them name once ([`Inventories`]).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::read::{Pending, load_with, read, read_inventories};
use crate::config::diagnostic::{Diagnostic, Diagnostics};
use crate::config::inventory::{Inventory, expand_path};
use crate::config::raw::{self, RawHeader};
use crate::config::reader::Cx;
use crate::config::runbook::Runbook;
use crate::config::source::{FileId, Sources, Span};
use crate::config::validate::{self, RunbookFile};

/// A runbook that passed every check, with the files it came from.
#[derive(Debug)]
pub struct Loaded {
    pub sources: Sources,
    pub runbook: Runbook,
}

/// Every problem found, with the files needed to show them.
#[derive(Debug)]
pub struct LoadError {
    pub sources: Sources,
    pub diagnostics: Diagnostics,
}

/// Loads and validates a runbook and its inventory. `extra_inventory` (from
/// `--inventory`) is added after the runbook's own files and overrides their entries.
pub fn load_runbook(path: &Path, extra_inventory: &[PathBuf]) -> Result<Loaded, LoadError> {
    let (sources, runbook) = load_with("runbook", path, |sources, diags| {
        let mut inventories = Inventories::default();
        runbook_into(
            sources,
            diags,
            path,
            extra_inventory,
            None,
            &mut inventories,
        )
        .runbook
    })?;
    Ok(Loaded { sources, runbook })
}

/// The inventories built during one load, by the files (and their tiers) they were built
/// from: `None` for files with a problem. The runbooks of a site usually name the same
/// inventory; it is parsed, checked and kept once, and its problems are reported once.
#[derive(Default)]
pub(super) struct Inventories(HashMap<Vec<(FileId, u8)>, Option<Arc<Inventory>>>);

/// Loads a runbook into `sources`, pushing its problems into `diags`; `cited_at` is where
/// another file (a site) names it, to point at when it cannot be read.
///
/// The runbook's `[runbook]` table is read first, for the inventory's paths; then the
/// inventory files are parsed on a second thread while this one reads the services,
/// unless `inventories` has them already.
pub(super) fn runbook_into(
    sources: &mut Sources,
    diags: &mut Diagnostics,
    path: &Path,
    extra_inventory: &[PathBuf],
    cited_at: Option<&Span>,
    inventories: &mut Inventories,
) -> RunbookFile {
    let started = std::time::Instant::now();
    let errors_before = diags.error_count();
    let mut out = RunbookFile {
        path: path.to_path_buf(),
        name: None,
        header: None,
        runbook: None,
    };
    let Some(id) = read(sources, diags, path, cited_at) else {
        return out;
    };
    let text = sources.file(id).text.clone();
    let mut cx = Cx {
        file: id,
        text: &text,
        diags,
    };
    let Some(doc) = raw::parse_document(&mut cx, &text) else {
        return out;
    };
    let header = raw::read_header(&mut cx, &doc);
    out.name = header.as_ref().and_then(|h| h.name.clone());
    out.header = header.as_ref().map(|h| h.span.clone());
    let (pending, mut complete) =
        inventory_files(sources, diags, path, header.as_ref(), extra_inventory);
    // Only a complete set of files is kept: a missing one is reported for each runbook.
    let key: Vec<(FileId, u8)> = pending.iter().map(|p| (p.id, p.tier)).collect();
    let (raw, inventory) = match complete.then(|| inventories.0.get(&key)).flatten() {
        Some(inventory) => {
            let mut cx = Cx {
                file: id,
                text: &text,
                diags: &mut *diags,
            };
            let raw = raw::read_runbook(&mut cx, &doc, header);
            drop(doc);
            (raw, inventory.clone())
        }
        None => {
            let all_read = complete;
            let (raw, files) = std::thread::scope(|scope| {
                let inventories = scope.spawn(|| read_inventories(sources, &pending));
                let mut cx = Cx {
                    file: id,
                    text: &text,
                    diags: &mut *diags,
                };
                let raw = raw::read_runbook(&mut cx, &doc, header);
                let (files, inventory_diags) = inventories
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
                // Problems in the inventory files themselves make the inventory unusable.
                complete &= inventory_diags.error_count() == 0;
                diags.extend(inventory_diags);
                (raw, files)
            });
            drop(doc);
            tracing::debug!(files = files.len(), elapsed = ?started.elapsed(), "files read");
            let inventory = if complete {
                let before = diags.error_count();
                let inv = Inventory::build(&files, diags);
                (diags.error_count() == before).then(|| Arc::new(inv))
            } else {
                None
            };
            if all_read {
                inventories.0.insert(key, inventory.clone());
            }
            (raw, inventory)
        }
    };
    let runbook = validate::validate(raw, inventory, path, diags);
    out.runbook = runbook.filter(|_| diags.error_count() == errors_before);
    out
}

/// Reads the inventory files the runbook names, then those of `--inventory` (which
/// override them); `false` when one is missing or the runbook names none.
fn inventory_files(
    sources: &mut Sources,
    diags: &mut Diagnostics,
    path: &Path,
    header: Option<&RawHeader>,
    extra_inventory: &[PathBuf],
) -> (Vec<Pending>, bool) {
    let listed = header.and_then(|h| h.inventory.as_ref());
    let mut pending = Vec::new();
    let mut complete = true;
    let named = listed
        .iter()
        .flat_map(|l| &l.value)
        .map(|e| (expand_path(path, &e.value), 0, Some(&e.span)));
    for (p, tier, cited_at) in named.chain(extra_inventory.iter().map(|p| (p.clone(), 1, None))) {
        match read(sources, diags, &p, cited_at) {
            Some(id) => pending.push(Pending { id, path: p, tier }),
            None => complete = false,
        }
    }
    if pending.is_empty() && complete {
        match (header, listed) {
            (Some(_), Some(l)) => diags.push(
                Diagnostic::error(l.span.clone(), "the runbook's inventory list is empty")
                    .with_label("expected at least one file, like [\"../inventory/site.toml\"]"),
            ),
            // Written, but not a list of paths: that error is reported already.
            (Some(h), None) if h.has_inventory_key => {}
            (Some(h), None) => diags.push(
                Diagnostic::error(h.span.clone(), "the runbook names no inventory").with_label(
                    "add `inventory = [\"../inventory/site.toml\"]`, or pass `--inventory FILE`",
                ),
            ),
            (None, _) => {}
        }
        complete = false;
    }
    (pending, complete)
}

/// Loads inventory files on their own (for `check-inventory`): `overrides` (its
/// `--inventory` files) override same-named entries of `paths`, as for a runbook.
pub fn load_inventory(
    paths: &[PathBuf],
    overrides: &[PathBuf],
) -> Result<(Sources, Inventory), LoadError> {
    let mut sources = Sources::default();
    let mut diags = Diagnostics::default();
    let mut pending = Vec::new();
    let tiered = paths
        .iter()
        .map(|p| (p, 0))
        .chain(overrides.iter().map(|p| (p, 1)));
    for (p, tier) in tiered {
        if let Some(id) = read(&mut sources, &mut diags, p, None) {
            pending.push(Pending {
                id,
                path: p.clone(),
                tier,
            });
        }
    }
    build_inventory(sources, diags, &pending)
}

/// Validates inventory TOML that is not on disk (yet) as if it were the file `path`: what
/// `import-inventory` writes must load.
pub fn inventory_from_text(path: &Path, text: String) -> Result<(Sources, Inventory), LoadError> {
    let mut sources = Sources::default();
    let id = sources.add(path.to_path_buf(), text);
    let pending = [Pending {
        id,
        path: path.to_path_buf(),
        tier: 0,
    }];
    build_inventory(sources, Diagnostics::default(), &pending)
}

/// Parses and builds the inventory of files already read into `sources`.
fn build_inventory(
    sources: Sources,
    mut diags: Diagnostics,
    pending: &[Pending],
) -> Result<(Sources, Inventory), LoadError> {
    let (files, more) = read_inventories(&sources, pending);
    diags.extend(more);
    if diags.has_errors() {
        return Err(LoadError {
            sources,
            diagnostics: diags,
        });
    }
    let inventory = Inventory::build(&files, &mut diags);
    if diags.has_errors() {
        return Err(LoadError {
            sources,
            diagnostics: diags,
        });
    }
    Ok((sources, inventory))
}
