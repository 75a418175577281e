//! `switchyard validate`: one line per good runbook or site, every problem of a bad one.

use std::path::{Path, PathBuf};

use crate::config::{Document, Runbook, Site, duration, is_site_file, load_any};

use super::args::{Global, ValidateArgs};
use super::{Error, exit};

/// The files named, or every `runbooks/*.toml` (what `validate` and `status` look at
/// when given nothing).
pub(super) fn targets(given: &[PathBuf]) -> Result<Vec<PathBuf>, Error> {
    if !given.is_empty() {
        return Ok(given.to_vec());
    }
    let dir = std::fs::read_dir("runbooks").map_err(Error::NoRunbookDir)?;
    let mut found: Vec<PathBuf> = dir
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    found.sort();
    if found.is_empty() {
        return Err(Error::NoRunbooks);
    }
    Ok(found)
}

pub fn run(g: &Global, a: &ValidateArgs) -> Result<u8, Error> {
    let files = targets(&a.runbooks)?;
    let mut bad = 0;
    let mut sites = false;
    for path in &files {
        match load_any(path, &g.inventory) {
            Ok(_) if g.quiet => {}
            Ok(Document::Runbook(loaded)) => {
                crate::ui::terminal::to_stdout(&runbook_line(path, &loaded.runbook));
            }
            Ok(Document::Site(loaded)) => {
                crate::ui::terminal::to_stdout(&site_line(path, &loaded.site));
            }
            Err(e) => {
                bad += 1;
                sites |= is_site_file(path);
                super::dispatch::report_error(g, &Error::from(e));
            }
        }
    }
    if bad > 0 {
        return Err(Error::SomeInvalid {
            bad,
            total: files.len(),
            sites,
        });
    }
    Ok(exit::PASSED)
}

fn steps(rb: &Runbook) -> usize {
    rb.services
        .iter()
        .map(|s| s.phases.iter().map(Vec::len).sum::<usize>())
        .sum()
}

fn runbook_line(path: &Path, rb: &Runbook) -> String {
    format!(
        "ok  {}  {}: {} services, {} steps, {} hosts, RTO {}\n",
        path.display(),
        rb.name,
        rb.services.len(),
        steps(rb),
        rb.inventory.hosts.len(),
        duration::format(rb.rto)
    )
}

fn site_line(path: &Path, site: &Site) -> String {
    let runbooks = site.systems.iter().map(|s| &s.runbook);
    format!(
        "ok  {}  site {}: {} runbooks, {} services, {} steps, {} hosts, RTO {}\n",
        path.display(),
        site.name,
        site.systems.len(),
        runbooks.clone().map(|rb| rb.services.len()).sum::<usize>(),
        runbooks.map(steps).sum::<usize>(),
        site.host_names().len(),
        duration::format(site.rto)
    )
}
