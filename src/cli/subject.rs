//! What `plan`, `run` and `resume` work on: a runbook file, or a site file whose runbooks
//! are taken together as one runbook ([`combine`]). `--only` selects services of a
//! runbook, or runbooks of a site.

use std::path::{Path, PathBuf};

use crate::config::combine::combine;
use crate::config::diagnostic::did_you_mean;
use crate::config::source::Sources;
use crate::config::{Document, Runbook, load_any};

use crate::config::ids::HallId;
use crate::config::model::Mode;

use super::Error;

/// A loaded runbook, or a site's selected runbooks as one.
pub struct Subject {
    /// Every file read, for the evidence's `inputs/` and for error messages.
    pub sources: Sources,
    pub runbook: Runbook,
    /// Per service of `runbook`: whether the run covers it.
    pub included: Vec<bool>,
    /// The site, when `runbook` is a site's runbooks taken together.
    pub site: Option<crate::config::site::Site>,
}

/// SHA-256 of the plan as `switchyard plan --format json` prints it without a predicted
/// RTO (that changes as evidence accumulates; the plan does not): what a run records as
/// its `plan_hash`.
pub fn plan_hash(plan: &crate::plan::Plan) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(crate::plan::render::json(plan).as_bytes()))
}

impl Subject {
    /// Loads `path` and applies `--only`.
    pub fn load(path: &Path, inventory: &[PathBuf], only: &[String]) -> Result<Subject, Error> {
        match load_any(path, inventory)? {
            Document::Runbook(loaded) => {
                let included = only_services(&loaded.runbook, only)?;
                Ok(Subject {
                    sources: loaded.sources,
                    runbook: loaded.runbook,
                    included,
                    site: None,
                })
            }
            Document::Site(loaded) => {
                let selected = only_runbooks(&loaded.site, only)?;
                let runbook = combine(&loaded.site, &selected);
                Ok(Subject {
                    sources: loaded.sources,
                    included: vec![true; runbook.services.len()],
                    runbook,
                    site: Some(loaded.site),
                })
            }
        }
    }

    /// For a site: gives each runbook of the run the hash of its own plan alone from
    /// `from` to `to` in `mode`, for `run_started.runbooks[]` (`status` compares it with
    /// the runbook's plan today).
    pub fn hash_runbooks(&mut self, from: &HallId, to: &HallId, mode: Mode) {
        let Some(site) = &self.site else { return };
        for origin in &mut self.runbook.origins {
            if let Some(sys) = site.systems.iter().find(|s| s.runbook.name == origin.name) {
                let plan = crate::plan::build(&sys.runbook, from, to, mode);
                origin.plan_hash = Some(plan_hash(&plan));
            }
        }
    }

    /// The run locks to take: every runbook's (a site's run holds all of them).
    pub fn lock_names(&self) -> Vec<&str> {
        if self.runbook.site {
            self.runbook
                .origins
                .iter()
                .map(|o| o.name.as_str())
                .collect()
        } else {
            vec![self.runbook.name.as_str()]
        }
    }
}

/// `--only` as a mask over the runbook's services.
fn only_services(rb: &Runbook, names: &[String]) -> Result<Vec<bool>, Error> {
    if names.is_empty() {
        return Ok(vec![true; rb.services.len()]);
    }
    let mut mask = vec![false; rb.services.len()];
    for name in names {
        match rb.services.iter().position(|s| s.name.as_str() == name) {
            Some(i) => mask[i] = true,
            None => {
                let known = rb.services.iter().map(|s| s.name.as_str());
                return Err(unknown(
                    name,
                    format!("runbook `{}`", rb.name),
                    "service",
                    known,
                ));
            }
        }
    }
    Ok(mask)
}

/// `--only` as the indices of the site's runbooks it names, in site order.
fn only_runbooks(site: &crate::config::Site, names: &[String]) -> Result<Vec<usize>, Error> {
    if names.is_empty() {
        return Ok((0..site.systems.len()).collect());
    }
    let find = |name: &String| {
        site.systems
            .iter()
            .position(|s| s.runbook.name == *name)
            .ok_or_else(|| {
                let known = site.systems.iter().map(|s| s.runbook.name.as_str());
                unknown(name, format!("site `{}`", site.name), "runbook", known)
            })
    };
    let mut selected = names.iter().map(find).collect::<Result<Vec<_>, _>>()?;
    selected.sort_unstable();
    selected.dedup();
    Ok(selected)
}

/// `--only NAME` names nothing `within` has.
fn unknown<'a>(
    name: &str,
    within: String,
    what: &'static str,
    known: impl Iterator<Item = &'a str>,
) -> Error {
    let hint =
        did_you_mean(name, known).map_or(String::new(), |m| format!(" (did you mean `{m}`?)"));
    Error::UnknownOnly {
        name: name.to_string(),
        within,
        what,
        hint,
    }
}
