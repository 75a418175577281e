//! `switchyard validate`: one line per good runbook, every problem of a bad one.

use std::path::PathBuf;

use crate::config::duration;
use crate::config::load_runbook;

use super::args::{Global, ValidateArgs};
use super::{Error, exit};

/// The runbooks to check: those named, or every `runbooks/*.toml`.
fn targets(a: &ValidateArgs) -> Result<Vec<PathBuf>, Error> {
    if !a.runbooks.is_empty() {
        return Ok(a.runbooks.clone());
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
    let files = targets(a)?;
    let mut bad = 0;
    for path in &files {
        match load_runbook(path, &g.inventory) {
            Ok(loaded) if !g.quiet => {
                let rb = &loaded.runbook;
                let steps: usize = rb
                    .services
                    .iter()
                    .map(|s| s.phases.iter().map(Vec::len).sum::<usize>())
                    .sum();
                crate::ui::terminal::to_stdout(&format!(
                    "ok  {}  {}: {} services, {} steps, {} hosts, RTO {}\n",
                    path.display(),
                    rb.name,
                    rb.services.len(),
                    steps,
                    rb.inventory.hosts.len(),
                    duration::format(rb.rto)
                ));
            }
            Ok(_) => {}
            Err(e) => {
                bad += 1;
                super::dispatch::report_error(g, &Error::from(e));
            }
        }
    }
    if bad > 0 {
        return Err(Error::SomeInvalid {
            bad,
            total: files.len(),
        });
    }
    Ok(exit::PASSED)
}
