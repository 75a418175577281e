//! Reading files from disk and running the passes in order: bytes → TOML → raw mirror →
//! validated model. The one place in `config` that touches the file system.

use std::path::{Path, PathBuf};

use super::diagnostic::{Diagnostic, Diagnostics};
use super::inventory::{Inventory, InventoryFile};
use super::raw::{self, RawRunbook};
use super::reader::Cx;
use super::runbook::{self, Runbook};
use super::source::{FileId, Sources, Span};

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

fn read_runbook_file(
    sources: &mut Sources,
    diags: &mut Diagnostics,
    path: &Path,
) -> Option<RawRunbook> {
    let id = read(sources, diags, path, None)?;
    let text = sources.file(id).text.clone();
    let mut cx = Cx {
        file: id,
        text: &text,
        diags,
    };
    let doc = raw::parse_document(&mut cx, &text)?;
    Some(raw::read_runbook(&mut cx, &doc))
}

fn read_inventory_file(
    sources: &mut Sources,
    diags: &mut Diagnostics,
    path: &Path,
    tier: u8,
    cited_at: Option<&Span>,
) -> Option<InventoryFile> {
    let id = read(sources, diags, path, cited_at)?;
    tracing::debug!(inventory = %path.display(), tier, "reading inventory");
    let text = sources.file(id).text.clone();
    let mut cx = Cx {
        file: id,
        text: &text,
        diags,
    };
    let doc = raw::parse_document(&mut cx, &text)?;
    Some(InventoryFile {
        raw: raw::read_inventory(&mut cx, &doc),
        path: path.to_path_buf(),
        tier,
    })
}

/// Loads and validates a runbook and its inventory. `extra_inventory` (from
/// `--inventory`) is added after the runbook's own files and overrides their entries.
pub fn load_runbook(path: &Path, extra_inventory: &[PathBuf]) -> Result<Loaded, LoadError> {
    let started = std::time::Instant::now();
    let _span = tracing::info_span!("load", runbook = %path.display()).entered();
    let mut sources = Sources::default();
    let mut diags = Diagnostics::default();
    let Some(raw) = read_runbook_file(&mut sources, &mut diags, path) else {
        return Err(LoadError {
            sources,
            diagnostics: diags,
        });
    };
    let mut files = Vec::new();
    let mut complete = true;
    // Problems in the inventory files themselves make the inventory unusable too.
    let before = diags.error_count();
    let listed = raw.header.as_ref().and_then(|h| h.inventory.as_ref());
    for entry in listed.iter().flat_map(|l| &l.value) {
        let p = super::inventory::expand_path(path, &entry.value);
        match read_inventory_file(&mut sources, &mut diags, &p, 0, Some(&entry.span)) {
            Some(f) => files.push(f),
            None => complete = false,
        }
    }
    for p in extra_inventory {
        match read_inventory_file(&mut sources, &mut diags, p, 1, None) {
            Some(f) => files.push(f),
            None => complete = false,
        }
    }
    if files.is_empty() && complete {
        match (&raw.header, listed) {
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
    let inventory = if complete {
        let inv = Inventory::build(&files, &mut diags);
        (diags.error_count() == before).then_some(inv)
    } else {
        None
    };
    tracing::debug!(files = files.len(), elapsed = ?started.elapsed(), "inventory read");
    let result = runbook::validate(raw, inventory, path, &mut diags);
    tracing::info!(errors = diags.error_count(), elapsed = ?started.elapsed(), "runbook loaded");
    match result {
        Some(runbook) if !diags.has_errors() => Ok(Loaded { sources, runbook }),
        _ => Err(LoadError {
            sources,
            diagnostics: diags,
        }),
    }
}
