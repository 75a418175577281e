//! `switchyard validate`: one line per good runbook, every problem of a bad one.

use std::path::PathBuf;

use crate::config::diagnostic::render_all;
use crate::config::duration;
use crate::config::load_runbook;

use super::args::{Global, ValidateArgs};
use super::{exit, paint, report_load_error};

/// The runbooks to check: those named, or every `runbooks/*.toml`.
fn targets(a: &ValidateArgs) -> Result<Vec<PathBuf>, String> {
    if !a.runbooks.is_empty() {
        return Ok(a.runbooks.clone());
    }
    let dir = std::fs::read_dir("runbooks")
        .map_err(|e| format!("no runbook given, and cannot read `runbooks/`: {e}"))?;
    let mut found: Vec<PathBuf> = dir
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    found.sort();
    if found.is_empty() {
        return Err("no runbook given, and `runbooks/` has no *.toml files".into());
    }
    Ok(found)
}

pub fn run(g: &Global, a: &ValidateArgs) -> u8 {
    let files = match targets(a) {
        Ok(f) => f,
        Err(msg) => {
            eprintln!("error: {msg}");
            return exit::INVALID;
        }
    };
    let mut bad = 0;
    for path in &files {
        match load_runbook(path, &g.inventory) {
            Ok(loaded) => {
                let rb = &loaded.runbook;
                let steps: usize = rb
                    .services
                    .iter()
                    .map(|s| s.phases.iter().map(Vec::len).sum::<usize>())
                    .sum();
                if !g.quiet {
                    super::print_stdout(&format!(
                        "ok  {}  {}: {} services, {} steps, {} hosts, RTO {}\n",
                        path.display(),
                        rb.name,
                        rb.services.len(),
                        steps,
                        rb.inventory.hosts.len(),
                        duration::format(rb.rto)
                    ));
                    if !loaded.warnings.is_empty() {
                        eprint!(
                            "{}",
                            paint(g, &render_all(&loaded.sources, &loaded.warnings))
                        );
                    }
                }
            }
            Err(e) => {
                bad += 1;
                report_load_error(g, &e);
            }
        }
    }
    if bad > 0 {
        eprintln!(
            "{bad} of {} runbook{} invalid",
            files.len(),
            if files.len() == 1 { " is" } else { "s are" }
        );
        exit::INVALID
    } else {
        exit::PASSED
    }
}
