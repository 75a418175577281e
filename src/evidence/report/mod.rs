//! The reports people read — `report.html`, `report.md`, `junit.xml` — and
//! `summary.json`, each rendered from a run's [`Record`](super::record::Record) alone (spec §5).
//!
//! Renderers are pure functions of the record: no clock, no environment, no file
//! system. That is what makes `switchyard report RUN_DIR` rebuild a run's reports byte
//! for byte, and what makes them safe to snapshot.

mod controls;
#[cfg(test)]
mod fixtures;
mod format;
mod html;
mod invariants;
mod junit;
mod markdown;
mod rpo;
mod shared;

pub use format::{Format, render};
/// The run report's look and escaping, shared with `status --format html` so the
/// programme report reads as part of the same tool.
pub(crate) use html::{STYLE as HTML_STYLE, esc as html_escape};
pub use shared::{
    Judgement, Standing, by_start, by_tier, detailed, lanes, own_id, secs, status_word,
    system_result, system_status, systems_tally, verdict, verdict_sentence,
};
