//! A file named on the command line may be a runbook or a site (a file with a `[site]`
//! table); [`load_any`] tells which and loads it as what it is.

use std::path::{Path, PathBuf};

use super::runbook::{LoadError, Loaded, load_runbook};
use super::site::{LoadedSite, load_site};
use crate::config::raw_site::is_site;

/// A runbook or a site, loaded and valid.
#[derive(Debug)]
pub enum Document {
    Runbook(Box<Loaded>),
    Site(LoadedSite),
}

/// Loads `path` as a site if it is one, else as a runbook (which also reports a file
/// that cannot be read).
pub fn load_any(path: &Path, extra_inventory: &[PathBuf]) -> Result<Document, LoadError> {
    if is_site_file(path) {
        load_site(path, extra_inventory).map(Document::Site)
    } else {
        load_runbook(path, extra_inventory).map(|l| Document::Runbook(Box::new(l)))
    }
}

/// Whether the file at `path` is a site's (see [`is_site`]); a file that cannot be read
/// is not.
pub fn is_site_file(path: &Path) -> bool {
    std::fs::read(path).is_ok_and(|bytes| is_site(&String::from_utf8_lossy(&bytes)))
}
