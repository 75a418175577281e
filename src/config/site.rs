//! The validated site model: [`Site`], the runbooks a lost hall moves together, each a
//! [`System`] with its business tier and the runbooks it requires. Built only by
//! [`validate_site`](super::validate::validate_site), once every runbook is valid on its
//! own and they agree on halls and hosts; later passes never see the site file.

use std::collections::{BTreeSet, HashSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use super::runbook::Runbook;
use super::source::FileId;

/// One runbook of a site.
#[derive(Debug)]
pub struct System {
    pub runbook: Runbook,
    /// The runbook's file, as the site's `runbooks` found it.
    pub path: PathBuf,
    /// Business priority: 0 first, [`LAST_TIER`](super::raw_site::LAST_TIER) by default.
    pub tier: u8,
    /// Indices into [`Site::systems`] of the runbooks that must be recovered first.
    pub requires: Vec<usize>,
}

#[derive(Debug)]
pub struct Site {
    pub name: String,
    pub title: String,
    /// The business's target for the whole site.
    pub rto: Duration,
    /// Step executions at once over all runbooks; `None`: the site sets no limit of its own.
    pub max_parallel: Option<u32>,
    /// The default `drill_every` of its runbooks.
    pub drill_every: Option<Duration>,
    pub path: PathBuf,
    pub file: FileId,
    /// In the order the site's `runbooks` list them: patterns in order, each glob's
    /// matches sorted by path, a file matched twice taken once.
    pub systems: Vec<System>,
}

impl Site {
    /// Every host of every runbook, by name: runbooks that share a host agree on it.
    pub fn host_names(&self) -> BTreeSet<&str> {
        // An inventory that runbooks share is counted once.
        let mut seen = HashSet::new();
        self.systems
            .iter()
            .map(|s| &s.runbook.inventory)
            .filter(|inv| seen.insert(Arc::as_ptr(inv)))
            .flat_map(|inv| &inv.hosts)
            .map(|h| h.name.as_str())
            .collect()
    }
}
