//! The entry point of pass 2 for sites, [`validate_site`]: with every runbook loaded on
//! its own, it checks what only the site can — its `[site]` table, that the runbooks are
//! told apart by name, what `[systems]` says of them (`systems`), and that they agree on
//! halls and hosts (`shared`) — and builds the [`Site`] only when nothing is wrong.

use std::path::{Path, PathBuf};

use super::runbook::check_name;
use super::{shared, systems};
use crate::config::diagnostic::Diagnostics;
use crate::config::raw_site::RawSite;
use crate::config::runbook::Runbook;
use crate::config::site::{Site, System};
use crate::config::source::{Sources, Sp, Span};

/// One runbook file of a site, loaded on its own: what the site's checks need of it
/// beyond the model, which exists only when the runbook is valid.
#[derive(Debug)]
pub struct RunbookFile {
    pub path: PathBuf,
    /// The `[runbook]` name as written, valid or not: a site refers to runbooks by it.
    pub name: Option<Sp<String>>,
    /// The `[runbook]` table.
    pub header: Option<Span>,
    /// `None` when any problem was found in the runbook or its inventory.
    pub runbook: Option<Runbook>,
}

/// Builds the validated site; `None` if any error was found, here or in a runbook.
/// `found_all`: every `runbooks` entry found its files (when one did not, a name may be
/// unknown only because its runbook is missing, so none is reported unknown).
/// `sources` names the files that disagree about a host.
pub fn validate_site(
    raw: RawSite,
    runbooks: Vec<RunbookFile>,
    found_all: bool,
    path: &Path,
    sources: &Sources,
    diags: &mut Diagnostics,
) -> Option<Site> {
    let errors_before = diags.error_count();
    let header = raw.header.as_ref();
    if let Some(n) = header.and_then(|h| h.name.as_ref()) {
        check_name(diags, "site", "riverton", n);
    }
    let names = systems::Names::new(diags, &runbooks, found_all);
    let links = systems::resolve(diags, &raw.systems, &names, runbooks.len());
    systems::report_cycles(diags, &links.requires, &runbooks);
    shared::check_halls(diags, &runbooks);
    shared::check_hosts(diags, sources, &runbooks);
    if diags.error_count() > errors_before {
        return None;
    }
    let header = header?;
    let name = header.name.as_ref()?.value.clone();
    let drill_every = header.drill_every.as_ref().map(|d| d.value);
    let systems = runbooks
        .into_iter()
        .zip(links.tiers)
        .zip(links.requires)
        .map(|((file, tier), requires)| {
            let mut runbook = file.runbook?;
            // The site's `drill_every` is the default of its runbooks.
            runbook.drill_every = runbook.drill_every.or(drill_every);
            Some(System {
                runbook,
                path: file.path,
                tier,
                requires: requires.into_iter().map(|r| r.value).collect(),
            })
        })
        .collect::<Option<Vec<_>>>()?;
    Some(Site {
        title: header
            .title
            .as_ref()
            .map_or_else(|| name.clone(), |t| t.value.clone()),
        name,
        rto: header.rto.as_ref()?.value,
        max_parallel: header.max_parallel.as_ref().map(|m| m.value as u32),
        drill_every,
        path: path.to_path_buf(),
        file: header.span.file,
        systems,
    })
}
