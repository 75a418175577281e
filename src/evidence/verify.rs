//! `verify-evidence`: is this run folder still what the run wrote? Checks the journal's
//! hash chain and whether it ends with `run_finished`, every file of `inputs/` and
//! `output/` against the hash the journal recorded for it, and `summary.json` and the
//! reports against what the journal gives.
//!
//! A hash chain cannot tell a cut-off journal from a whole one, and a file the journal
//! never names escapes every hash: so the end is checked, and the folders are walked
//! rather than only the files the journal lists. What the journal's missing end means —
//! cut, still running, or accepted — is for the caller to judge: it knows the run locks.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::engine::event::Event;

use super::journal;
use super::record::Record;
use super::report::{self, Format};
use super::sign;

/// The folders whose every file the journal must name.
const HASHED: [&str; 2] = ["inputs", "output"];

/// What a run folder holds, checked.
#[derive(Debug)]
pub struct Findings {
    /// Whether the journal's last event is `run_finished` (notifications' results may
    /// follow it).
    pub ended: bool,
    pub inputs: usize,
    pub outputs: usize,
    /// The summary and reports compared with the journal.
    pub compared: Vec<&'static str>,
    /// Each file or line that does not match, named; empty when the folder is intact.
    pub problems: Vec<String>,
    /// Things worth saying that are not tampering (an older tool).
    pub notes: Vec<String>,
    /// The run folder's signature (`manifest.txt.sig`), checked or not.
    pub signature: sign::Signature,
    /// The run as its journal tells it.
    pub record: Record,
}

/// Checks the run folder `dir`. `Err` is a journal that cannot be read or does not
/// verify, naming its line: nothing else can be checked against it.
pub fn verify(dir: &Path, allowed_signers: Option<&Path>) -> Result<Findings, String> {
    let path = dir.join("journal.jsonl");
    let text = std::fs::read_to_string(&path)
        .map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
    let read =
        journal::read(&text).map_err(|b| format!("journal.jsonl line {}: {}", b.line, b.reason))?;
    let record = Record::from_entries(&read.entries, &read.last_hash)
        .map_err(|e| format!("journal.jsonl: {e}"))?;
    let ended = matches!(
        Event::last_of_run(read.entries.iter().map(|e| &e.event)),
        Some(Event::RunFinished { .. })
    );
    let recorded = recorded(&read.entries);
    let mut found = Findings {
        ended,
        inputs: under(&recorded, "inputs"),
        outputs: under(&recorded, "output"),
        compared: Vec::new(),
        problems: Vec::new(),
        notes: Vec::new(),
        signature: sign::Signature::Absent,
        record,
    };
    check_files(dir, &recorded, &mut found.problems);
    found.signature = sign::check(
        dir,
        &found.record.last_hash,
        allowed_signers,
        &mut found.problems,
    );
    for format in Format::ALL {
        match check_report(dir, format, &found.record, ended) {
            Ok(Report::Agrees) => found.compared.push(format.file_name()),
            Ok(Report::Absent) => {}
            Ok(Report::NotCompared(note)) => found.notes.push(note),
            Err(problem) => found.problems.push(problem),
        }
    }
    Ok(found)
}

/// The SHA-256 the journal recorded for each file of the run folder: the inputs from
/// `run_started`, the output from each `step_finished`. A step run again after `resume`
/// overwrites its output, so the last event to name a file counts.
fn recorded(entries: &[journal::Entry]) -> BTreeMap<String, String> {
    let mut files = BTreeMap::new();
    for entry in entries {
        let named = match &entry.event {
            Event::RunStarted(start) => &start.inputs,
            Event::StepFinished(end) => &end.files,
            _ => continue,
        };
        for file in named {
            files.insert(file.path.clone(), file.sha256.clone());
        }
    }
    files
}

/// How many recorded files are in `folder`.
fn under(recorded: &BTreeMap<String, String>, folder: &str) -> usize {
    let prefix = format!("{folder}/");
    recorded.keys().filter(|p| p.starts_with(&prefix)).count()
}

/// Every file of `inputs/` and `output/` against its recorded hash, and every recorded
/// file against the folders.
fn check_files(dir: &Path, recorded: &BTreeMap<String, String>, problems: &mut Vec<String>) {
    let mut present = BTreeSet::new();
    for folder in HASHED {
        present.extend(files_in(dir, folder, problems));
    }
    for rel in &present {
        match recorded.get(rel) {
            Some(sha256) => problems.extend(check_hash(dir, rel, sha256).err()),
            None => problems.push(format!(
                "{rel}: not recorded in the journal (the run did not write it, or the journal lost the event that did)"
            )),
        }
    }
    for (rel, sha256) in recorded {
        if !present.contains(rel) {
            problems.push(format!(
                "{rel}: missing (the journal recorded it with SHA-256 {sha256})"
            ));
        }
    }
}

/// The regular files directly in `folder` of the run folder, as `folder/NAME`. Anything
/// else there is a problem: the run writes only regular files.
fn files_in(dir: &Path, folder: &str, problems: &mut Vec<String>) -> Vec<String> {
    let entries = match std::fs::read_dir(dir.join(folder)) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Vec::new(),
        Err(e) => {
            problems.push(format!("{folder}/: cannot read: {e}"));
            return Vec::new();
        }
    };
    let mut files = Vec::new();
    for entry in entries {
        let entry = match entry {
            Ok(entry) => entry,
            Err(e) => {
                problems.push(format!("{folder}/: cannot read: {e}"));
                continue;
            }
        };
        let rel = format!("{folder}/{}", entry.file_name().to_string_lossy());
        match entry.file_type() {
            Ok(kind) if kind.is_file() => files.push(rel),
            Ok(_) => problems.push(format!(
                "{rel}: not a regular file (the run writes only regular files there)"
            )),
            Err(e) => problems.push(format!("{rel}: cannot read: {e}")),
        }
    }
    files
}

fn check_hash(dir: &Path, rel: &str, recorded: &str) -> Result<(), String> {
    let bytes = std::fs::read(dir.join(rel)).map_err(|e| format!("{rel}: cannot read: {e}"))?;
    let actual = hex::encode(Sha256::digest(&bytes));
    if actual != recorded {
        return Err(format!(
            "{rel}: its SHA-256 is {actual}, the journal recorded {recorded} (the file was changed)"
        ));
    }
    Ok(())
}

/// What became of one of `summary.json` and the reports.
enum Report {
    Agrees,
    /// Not written, as the run has not ended.
    Absent,
    /// Written by another version of switchyard, whose reports this one cannot rebuild.
    NotCompared(String),
}

/// One of `summary.json` and the reports against the journal; `Err` says how it does
/// not agree. A run writes them when it ends, so only a journal with its end needs them;
/// any that is there must agree.
fn check_report(
    dir: &Path,
    format: Format,
    record: &Record,
    ended: bool,
) -> Result<Report, String> {
    let name = format.file_name();
    let written = match std::fs::read_to_string(dir.join(name)) {
        Ok(written) => written,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !ended => return Ok(Report::Absent),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(format!(
                "{name}: missing (a run writes it when it ends; one killed after its end, before its reports, gets them from `switchyard resume`)"
            ));
        }
        Err(e) => return Err(format!("{name}: cannot read: {e}")),
    };
    if format == Format::Json {
        check_pin(&written, record)?;
    }
    if record.start.tool_version != env!("CARGO_PKG_VERSION") {
        return Ok(Report::NotCompared(format!(
            "{name} not compared: written by switchyard {}, this is {}",
            record.start.tool_version,
            env!("CARGO_PKG_VERSION")
        )));
    }
    match first_difference(&written, &report::render(format, record)) {
        Some(line) => Err(format!(
            "{name} line {line} does not agree with the journal (one of them was changed after the run)"
        )),
        None => Ok(Report::Agrees),
    }
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
