//! `verify-evidence`: is this run folder still what the run wrote? Checks the journal's
//! hash chain, every input against the hash the journal recorded, and `summary.json` and
//! the reports against what the journal gives.

use std::path::Path;

use sha2::{Digest, Sha256};

use super::journal;
use super::record::Record;
use super::report::{self, Format};

/// What was checked, when everything is intact.
#[derive(Debug)]
pub struct Intact {
    pub events: u64,
    pub last_hash: String,
    pub inputs: usize,
    /// Things worth saying that are not tampering (an unfinished run, an older tool).
    pub notes: Vec<String>,
}

/// Checks the run folder `dir`; `Err` names the first line or file that breaks.
pub fn verify(dir: &Path) -> Result<Intact, String> {
    let path = dir.join("journal.jsonl");
    let text = std::fs::read_to_string(&path)
        .map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
    let read =
        journal::read(&text).map_err(|b| format!("journal.jsonl line {}: {}", b.line, b.reason))?;
    let record = Record::from_entries(&read.entries, &read.last_hash)
        .map_err(|e| format!("journal.jsonl: {e}"))?;
    for input in &record.start.inputs {
        check_input(dir, &input.path, &input.sha256)?;
    }
    let mut notes = Vec::new();
    if !record.finished {
        notes.push(
            "the journal ends before `run_finished`: the run was stopped during it (resume it with `switchyard resume`)".to_string(),
        );
    }
    let ours = record.start.tool_version == env!("CARGO_PKG_VERSION");
    for format in Format::ALL {
        let name = format.file_name();
        let file = dir.join(name);
        let Ok(written) = std::fs::read_to_string(&file) else {
            if record.finished || format == Format::Json && file.exists() {
                return Err(format!("{name}: missing or unreadable"));
            }
            continue;
        };
        if format == Format::Json {
            check_pin(&written, &record)?;
        }
        if !ours {
            notes.push(format!(
                "{name} not compared: written by switchyard {}, this is {}",
                record.start.tool_version,
                env!("CARGO_PKG_VERSION")
            ));
            continue;
        }
        let expected = report::render(format, &record);
        if let Some(line) = first_difference(&written, &expected) {
            return Err(format!(
                "{name} line {line} does not agree with the journal (it was edited after the run)"
            ));
        }
    }
    Ok(Intact {
        events: record.events,
        last_hash: record.last_hash,
        inputs: record.start.inputs.len(),
        notes,
    })
}

fn check_input(dir: &Path, rel: &str, recorded: &str) -> Result<(), String> {
    let bytes = std::fs::read(dir.join(rel)).map_err(|e| format!("{rel}: cannot read: {e}"))?;
    let actual = hex::encode(Sha256::digest(&bytes));
    if actual != recorded {
        return Err(format!(
            "{rel}: its SHA-256 is {actual}, the journal recorded {recorded} (the file was changed)"
        ));
    }
    Ok(())
}

/// `summary.json` pins the journal's length and last hash: lines cut off the end of the
/// journal leave a chain that verifies, but not this pin.
fn check_pin(summary: &str, record: &Record) -> Result<(), String> {
    let value: serde_json::Value =
        serde_json::from_str(summary).map_err(|e| format!("summary.json: not JSON ({e})"))?;
    let pinned = &value["journal"];
    let hash = pinned["last_hash"].as_str().unwrap_or_default();
    let events = pinned["events"].as_u64().unwrap_or_default();
    if hash != record.last_hash || events != record.events {
        return Err(format!(
            "summary.json pins the journal at {events} events ending in {hash}, but journal.jsonl has {} events ending in {} (lines were removed from or added to its end)",
            record.events, record.last_hash
        ));
    }
    Ok(())
}

/// The 1-based line where two texts first differ.
fn first_difference(a: &str, b: &str) -> Option<usize> {
    if a == b {
        return None;
    }
    let mut lines = a.split('\n').zip(b.split('\n'));
    Some(lines.position(|(x, y)| x != y).map_or_else(
        || a.split('\n').count().min(b.split('\n').count()),
        |i| i + 1,
    ))
}
