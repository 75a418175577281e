//! Reading files from disk and running the passes in order: bytes → TOML → raw mirror →
//! validated model. The one place in `config` that touches the file system.

use std::path::{Path, PathBuf};

use super::diagnostic::{Diagnostic, Diagnostics};
use super::inventory::{Inventory, InventoryFile};
use super::raw;
use super::reader::Cx;
use super::runbook::Runbook;
use super::source::{FileId, Sources, Span};
use super::validate;

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

/// Reads a file, reporting a missing file or invalid UTF-8 as a diagnostic.
fn read(
    sources: &mut Sources,
    diags: &mut Diagnostics,
    path: &Path,
    cited_at: Option<&Span>,
) -> Option<FileId> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) => {
            let msg = format!("cannot read `{}`: {}", path.display(), io_reason(&e));
            diags.push(match cited_at {
                Some(span) => Diagnostic::error(span.clone(), msg).with_label("named here"),
                None => Diagnostic::global(msg),
            });
            return None;
        }
    };
    match String::from_utf8(bytes) {
        Ok(text) => Some(sources.add(path.to_path_buf(), text)),
        Err(e) => {
            let at = e.utf8_error().valid_up_to();
            let text = String::from_utf8_lossy(e.as_bytes()).into_owned();
            let id = sources.add(path.to_path_buf(), text);
            diags.push(
                Diagnostic::error(Span::new(id, at..at + 1), "the file is not valid UTF-8")
                    .with_label("expected UTF-8 text; the first invalid byte is here"),
            );
            None
        }
    }
}

fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        std::io::ErrorKind::IsADirectory => "it is a directory".into(),
        _ => e.to_string(),
    }
}

/// An inventory file that was read from disk, to be parsed.
struct Pending {
    id: FileId,
    path: PathBuf,
    tier: u8,
}

/// Parses and reads inventory files. Runs on its own thread, with its own diagnostics:
/// the files are registered in `sources` already, so their ids are fixed.
fn read_inventories(sources: &Sources, pending: &[Pending]) -> (Vec<InventoryFile>, Diagnostics) {
    let mut diags = Diagnostics::default();
    let mut files = Vec::new();
    for p in pending {
        tracing::debug!(inventory = %p.path.display(), tier = p.tier, "reading inventory");
        let text = &sources.file(p.id).text;
        let mut cx = Cx {
            file: p.id,
            text,
            diags: &mut diags,
        };
        if let Some(doc) = raw::parse_document(&mut cx, text) {
            files.push(InventoryFile {
                raw: raw::read_inventory(&mut cx, &doc),
                path: p.path.clone(),
                tier: p.tier,
            });
        }
    }
    (files, diags)
}

/// Loads and validates a runbook and its inventory. `extra_inventory` (from
/// `--inventory`) is added after the runbook's own files and overrides their entries.
///
/// The runbook's `[runbook]` table is read first, for the inventory's paths; then the
/// inventory files are parsed on a second thread while this one reads the services.
pub fn load_runbook(path: &Path, extra_inventory: &[PathBuf]) -> Result<Loaded, LoadError> {
    let started = std::time::Instant::now();
    let _span = tracing::info_span!("load", runbook = %path.display()).entered();
    let mut sources = Sources::default();
    let mut diags = Diagnostics::default();
    let fail = |sources, diagnostics| {
        Err(LoadError {
            sources,
            diagnostics,
        })
    };
    let Some(id) = read(&mut sources, &mut diags, path, None) else {
        return fail(sources, diags);
    };
    let text = sources.file(id).text.clone();
    let mut cx = Cx {
        file: id,
        text: &text,
        diags: &mut diags,
    };
    let Some(doc) = raw::parse_document(&mut cx, &text) else {
        return fail(sources, diags);
    };
    let header = raw::read_header(&mut cx, &doc);
    let listed = header.as_ref().and_then(|h| h.inventory.clone());
    let mut pending = Vec::new();
    let mut complete = true;
    let named = listed.iter().flat_map(|l| &l.value).map(|e| {
        (
            super::inventory::expand_path(path, &e.value),
            0,
            Some(&e.span),
        )
    });
    for (p, tier, cited_at) in named.chain(extra_inventory.iter().map(|p| (p.clone(), 1, None))) {
        match read(&mut sources, &mut diags, &p, cited_at) {
            Some(id) => pending.push(Pending { id, path: p, tier }),
            None => complete = false,
        }
    }
    if pending.is_empty() && complete {
        match (&header, &listed) {
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
    let (raw, files) = std::thread::scope(|scope| {
        let inventories = scope.spawn(|| read_inventories(&sources, &pending));
        let mut cx = Cx {
            file: id,
            text: &text,
            diags: &mut diags,
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
        let inv = Inventory::build(&files, &mut diags);
        (diags.error_count() == before).then_some(inv)
    } else {
        None
    };
    let result = validate::validate(raw, inventory, path, &mut diags);
    tracing::info!(errors = diags.error_count(), elapsed = ?started.elapsed(), "runbook loaded");
    match result {
        Some(runbook) if !diags.has_errors() => Ok(Loaded { sources, runbook }),
        _ => fail(sources, diags),
    }
}

/// Loads inventory files on their own (for `check-inventory`).
pub fn load_inventory(paths: &[PathBuf]) -> Result<(Sources, Inventory), LoadError> {
    let mut sources = Sources::default();
    let mut diags = Diagnostics::default();
    let mut pending = Vec::new();
    for p in paths {
        if let Some(id) = read(&mut sources, &mut diags, p, None) {
            pending.push(Pending {
                id,
                path: p.clone(),
                tier: 0,
            });
        }
    }
    let (files, more) = read_inventories(&sources, &pending);
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
