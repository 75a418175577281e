//! Loading a site: its file, then every runbook its `runbooks` patterns find — each
//! loaded as on its own, but into one set of files and one list of problems, so that
//! every problem of every file shows its `path:line:col` — then pass 2 for the site.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use super::read::read;
use super::runbook::{LoadError, runbook_into};
use crate::config::diagnostic::{Diagnostic, Diagnostics};
use crate::config::inventory::{expand_path, normalize};
use crate::config::raw::{self, Strings};
use crate::config::raw_site;
use crate::config::reader::Cx;
use crate::config::site::Site;
use crate::config::source::{Sources, Sp, Span};
use crate::config::validate::validate_site;

/// A site whose file and runbooks passed every check, with the files they came from.
#[derive(Debug)]
pub struct LoadedSite {
    pub sources: Sources,
    pub site: Site,
}

/// Loads and validates a site and each of its runbooks; `extra_inventory` (from
/// `--inventory`) is added to every runbook's inventory, as for one runbook.
pub fn load_site(path: &Path, extra_inventory: &[PathBuf]) -> Result<LoadedSite, LoadError> {
    let started = std::time::Instant::now();
    let _span = tracing::info_span!("load", site = %path.display()).entered();
    let mut sources = Sources::default();
    let mut diags = Diagnostics::default();
    let site = site_into(&mut sources, &mut diags, path, extra_inventory);
    diags.dedup();
    tracing::info!(errors = diags.error_count(), elapsed = ?started.elapsed(), "site loaded");
    match site {
        Some(site) if !diags.has_errors() => Ok(LoadedSite { sources, site }),
        _ => Err(LoadError {
            sources,
            diagnostics: diags,
        }),
    }
}

fn site_into(
    sources: &mut Sources,
    diags: &mut Diagnostics,
    path: &Path,
    extra_inventory: &[PathBuf],
) -> Option<Site> {
    let id = read(sources, diags, path, None)?;
    let text = sources.file(id).text.clone();
    let mut cx = Cx {
        file: id,
        text: &text,
        diags,
    };
    let doc = raw::parse_document(&mut cx, &text)?;
    let raw = raw_site::read_site(&mut cx, &doc);
    drop(doc);
    let listed = raw.header.as_ref().and_then(|h| h.runbooks.as_ref());
    let (files, found_all) = listed.map_or((Vec::new(), false), |l| runbook_paths(diags, path, l));
    let runbooks = files
        .iter()
        .map(|(p, at)| runbook_into(sources, diags, p, extra_inventory, Some(at)))
        .collect();
    validate_site(raw, runbooks, found_all, path, sources, diags)
}

/// The runbook files a site lists, each with the entry that found it: the entries in
/// order, each glob's matches sorted by path, a file found twice taken once; and whether
/// every entry found a file.
fn runbook_paths(
    diags: &mut Diagnostics,
    site: &Path,
    listed: &Strings,
) -> (Vec<(PathBuf, Span)>, bool) {
    if listed.value.is_empty() {
        diags.push(
            Diagnostic::error(listed.span.clone(), "the site lists no runbooks")
                .with_label("expected at least one file or glob, like [\"runbooks/*.toml\"]"),
        );
    }
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    let mut found_all = !listed.value.is_empty();
    for entry in &listed.value {
        let found = expand(diags, site, entry);
        found_all &= !found.is_empty();
        for p in found {
            if seen.insert(p.clone()) {
                out.push((p, entry.span.clone()));
            }
        }
    }
    (out, found_all)
}

/// Whether a `runbooks` entry is a glob rather than a file's path.
fn is_glob(entry: &str) -> bool {
    entry.contains(['*', '?', '['])
}

/// The files one `runbooks` entry stands for. A file's path is taken as it is (reading
/// it reports it missing); a glob must match at least one file. The site file itself is
/// never one of its runbooks, even when a glob like `*.toml` matches it.
fn expand(diags: &mut Diagnostics, site: &Path, entry: &Sp<String>) -> Vec<PathBuf> {
    if !is_glob(&entry.value) {
        return vec![expand_path(site, &entry.value)];
    }
    let dir = site.parent().unwrap_or(Path::new(""));
    let pattern = if Path::new(&entry.value).is_absolute() || dir.as_os_str().is_empty() {
        entry.value.clone()
    } else {
        // The folder is taken literally: only the entry is a pattern.
        let dir = glob::Pattern::escape(&dir.to_string_lossy());
        format!("{dir}/{}", entry.value)
    };
    let options = glob::MatchOptions {
        case_sensitive: true,
        require_literal_separator: true,
        require_literal_leading_dot: true,
    };
    let matches = match glob::glob_with(&pattern, options) {
        Ok(m) => m,
        Err(e) => {
            diags.push(
                Diagnostic::error(
                    entry.span.clone(),
                    format!("`{}` is not a valid glob: {}", entry.value, e.msg),
                )
                .with_label(
                    "expected a path where `*` matches within a name, `**` any folders, `?` one character and `[...]` one of those",
                ),
            );
            return Vec::new();
        }
    };
    let site = normalize(site);
    let mut found: Vec<PathBuf> = matches
        .filter_map(Result::ok)
        .map(|p| normalize(&p))
        .filter(|p| *p != site)
        .collect();
    found.sort();
    if found.is_empty() {
        diags.push(
            Diagnostic::error(
                entry.span.clone(),
                format!("`{}` matches no file", entry.value),
            )
            .with_label(format!(
                "no file matches it in `{}`",
                if dir.as_os_str().is_empty() {
                    Path::new(".")
                } else {
                    dir
                }
                .display()
            )),
        );
    }
    found
}
