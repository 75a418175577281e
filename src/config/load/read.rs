//! Reading files from disk into [`Sources`], and parsing inventory files: the steps every
//! load shares, whether it loads one runbook, a site's many, or inventories alone.

use std::path::{Path, PathBuf};

use super::runbook::LoadError;
use crate::config::diagnostic::{Diagnostic, Diagnostics};
use crate::config::inventory::InventoryFile;
use crate::config::raw;
use crate::config::reader::Cx;
use crate::config::source::{FileId, Sources, Span};

/// Reads a file, reporting a missing file or invalid UTF-8 as a diagnostic.
///
/// A file read before in the same load is not read again: the runbooks of a site share
/// their inventory files, and a problem in one must point at one place, not one per runbook.
pub(super) fn read(
    sources: &mut Sources,
    diags: &mut Diagnostics,
    path: &Path,
    cited_at: Option<&Span>,
) -> Option<FileId> {
    if let Some(id) = sources.find(path) {
        return Some(id);
    }
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
            let id = sources.add_lossy(path.to_path_buf(), text);
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
pub(super) struct Pending {
    pub(super) id: FileId,
    pub(super) path: PathBuf,
    pub(super) tier: u8,
}

/// Parses and reads inventory files. Runs on its own thread, with its own diagnostics:
/// the files are registered in `sources` already, so their ids are fixed.
pub(super) fn read_inventories(
    sources: &Sources,
    pending: &[Pending],
) -> (Vec<InventoryFile>, Diagnostics) {
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

/// Runs `into` (a runbook's or a site's pass) over fresh sources and diagnostics: what it
/// loaded, with the files it read, when nothing is wrong; else every problem found.
pub(super) fn load_with<T>(
    what: &'static str,
    path: &Path,
    into: impl FnOnce(&mut Sources, &mut Diagnostics) -> Option<T>,
) -> Result<(Sources, T), LoadError> {
    let started = std::time::Instant::now();
    let _span = tracing::info_span!("load", what, path = %path.display()).entered();
    let mut sources = Sources::default();
    let mut diagnostics = Diagnostics::default();
    let loaded = into(&mut sources, &mut diagnostics);
    tracing::info!(errors = diagnostics.error_count(), elapsed = ?started.elapsed(), "{what} loaded");
    match loaded {
        Some(loaded) if !diagnostics.has_errors() => Ok((sources, loaded)),
        _ => Err(LoadError {
            sources,
            diagnostics,
        }),
    }
}
