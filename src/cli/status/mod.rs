//! `switchyard status`: for each runbook and each direction, whether its drill is
//! current — the last live run, the last passing one, whether today's plan is still the
//! one that passed, and whether `drill_every` has run out. Only evidence that verifies
//! counts; folders that do not are listed.
//!
//! [`register`] computes the register (the states); each output format is its own
//! module that only renders it: [`text`] for a terminal, [`md`] for a ticket or wiki,
//! [`html`] for the programme report an auditor reads, [`prometheus`] for
//! node_exporter's textfile collector. JSON is the register serialized as it is.

mod html;
mod md;
mod prometheus;
mod register;
mod text;

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::config::{Document, Runbook, load_any};
use crate::engine::stopwatch::timestamp;

use super::args::{Global, StatusArgs, StatusFormat};
use super::{Error, atomic_file, exit};
use register::{DirectionStatus, Drill, Register, State, System, evaluate, unix_seconds};

pub fn run(g: &Global, a: &StatusArgs) -> Result<u8, Error> {
    let at = match &a.at {
        None => OffsetDateTime::now_utc(),
        Some(t) => OffsetDateTime::parse(t, &Rfc3339).map_err(|e| {
            Error::Setup(format!(
                "--at `{t}` is not an RFC 3339 time ({e}), like 2026-11-30T12:00:00Z"
            ))
        })?,
    };
    let mut runbooks: Vec<Runbook> = Vec::new();
    for path in super::validate::targets(&a.targets)? {
        match load_any(&path, &g.inventory)? {
            Document::Runbook(loaded) => runbooks.push(loaded.runbook),
            Document::Site(loaded) => {
                runbooks.extend(loaded.site.systems.into_iter().map(|s| s.runbook));
            }
        }
    }
    // A runbook named twice (alone and through a site) is shown once; the site's
    // `drill_every` default wins over none.
    let mut unique: Vec<Runbook> = Vec::new();
    for rb in runbooks {
        match unique.iter_mut().find(|u| u.name == rb.name) {
            Some(u) => u.drill_every = u.drill_every.or(rb.drill_every),
            None => unique.push(rb),
        }
    }
    let register = evaluate(&unique, &a.evidence_dir, a.allowed_signers.as_deref(), at)?;
    let text = match a.format {
        StatusFormat::Json => json(&register),
        StatusFormat::Text => text::render(&register),
        StatusFormat::Md => md::render(&register),
        StatusFormat::Html => html::render(&register),
        StatusFormat::Prometheus => prometheus::render(&register),
    };
    match &a.output {
        Some(path) => atomic_file::write(path, text.as_bytes()).map_err(|e| {
            Error::Setup(format!("cannot write --output `{}`: {e}", path.display()))
        })?,
        None => crate::ui::terminal::to_stdout(&text),
    }
    Ok(if register.all_ok() {
        exit::PASSED
    } else {
        exit::FAILED
    })
}

/// `switchyard.status/v1`.
fn json(r: &Register) -> String {
    let doc = serde_json::json!({
        "schema": "switchyard.status/v1",
        "at": timestamp(r.at),
        "ok": r.all_ok(),
        "allowed_signers": r.signers,
        "directions": r.rows,
        "untrusted": r.untrusted,
    });
    format!(
        "{}\n",
        serde_json::to_string_pretty(&doc).expect("status serializes")
    )
}
