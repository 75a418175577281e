//! `switchyard verify-evidence`: exit 0 when a run folder is intact, 1 naming every line
//! or file that breaks.
//!
//! A journal without its `run_finished` breaks too: a chain cut short still verifies, so
//! only its end tells a whole run from part of one. When a live run of the runbook holds
//! its lock, the run is said to be in progress rather than cut; `--allow-incomplete`
//! accepts either, and says so.

use crate::evidence::report::Format;
use crate::evidence::sign::Signature;
use crate::evidence::verify::{self, Findings};

use super::args::VerifyEvidenceArgs;
use super::lock::{self, Held};
use super::{Error, exit};

pub fn run(a: &VerifyEvidenceArgs) -> Result<u8, Error> {
    if !a.run_dir.is_dir() {
        return Err(Error::RunFolder(format!(
            "`{}` is not a run folder (no such directory)",
            a.run_dir.display()
        )));
    }
    let dir = a.run_dir.display();
    let found = match verify::verify(&a.run_dir, a.allowed_signers.as_deref()) {
        Ok(found) => found,
        Err(broken) => {
            crate::ui::terminal::to_stdout(&format!("{dir}: BROKEN — {broken}\n"));
            return Ok(exit::FAILED);
        }
    };
    let unended = (!found.ended).then(|| Unended::of(&found.record.start.runbook));
    let mut text = String::new();
    if let Some(unended) = unended.as_ref().filter(|_| !a.allow_incomplete) {
        text.push_str(&format!(
            "{dir}: {}\n",
            unended.failure(found.record.events)
        ));
    }
    for problem in &found.problems {
        text.push_str(&format!("{dir}: BROKEN — {problem}\n"));
    }
    let intact = found.problems.is_empty() && (found.ended || a.allow_incomplete);
    if intact {
        let state = unended.map_or(String::new(), |u| u.accepted(found.record.events));
        text.push_str(&format!("{dir}: intact{state} — {}\n", checked(&found)));
    }
    match &found.signature {
        Signature::Good(s) => text.push_str(&format!(
            "{dir}: signed by {} ({}): manifest.txt.sig verifies and every file matches manifest.txt\n",
            s.principal, s.fingerprint
        )),
        Signature::Unchecked => text.push_str(&format!(
            "{dir}: signature present (manifest.txt.sig) but not checked: give --allowed-signers FILE to check it\n"
        )),
        Signature::Absent => {}
    }
    for note in &found.notes {
        text.push_str(&format!("note: {note}\n"));
    }
    crate::ui::terminal::to_stdout(&text);
    Ok(if intact { exit::PASSED } else { exit::FAILED })
}

/// Why a journal has no `run_finished`.
enum Unended {
    /// A live run of its runbook holds the lock: most likely this very run.
    InProgress(Held),
    /// Cut, or its run was killed and never resumed.
    Cut,
}

impl Unended {
    fn of(runbook: &str) -> Unended {
        lock::held(runbook).map_or(Unended::Cut, Unended::InProgress)
    }

    /// What is said of it without `--allow-incomplete`; `last` is the last line.
    fn failure(&self, last: u64) -> String {
        match self {
            Unended::Cut => format!(
                "BROKEN — journal.jsonl line {last} is its last: the journal ends before run_finished: cut, or a run killed and never resumed (`switchyard resume` continues a killed run; --allow-incomplete checks the rest)"
            ),
            Unended::InProgress(held) => format!(
                "IN PROGRESS — journal.jsonl line {last} is its last and has no run_finished yet: a live run holds the lock `{}` ({}); check the folder once the run has ended",
                held.path.display(),
                held.holder
            ),
        }
    }

    /// What the verdict `intact` says of it with `--allow-incomplete`.
    fn accepted(&self, last: u64) -> String {
        match self {
            Unended::Cut => format!(
                " without its end (--allow-incomplete): the journal ends before run_finished, at line {last}"
            ),
            Unended::InProgress(held) => format!(
                " so far, in progress (--allow-incomplete): the journal is at line {last}, and a live run holds the lock `{}` ({})",
                held.path.display(),
                held.holder
            ),
        }
    }
}

/// What an intact folder was checked for.
fn checked(found: &Findings) -> String {
    let reports = match found.compared.len() {
        0 => "no summary or report to compare".to_string(),
        n if n == Format::ALL.len() => "summary and reports agree with the journal".to_string(),
        _ => format!("{} agree with the journal", found.compared.join(", ")),
    };
    format!(
        "{} journal events, chain ends in {}; {} inputs and {} output files match their hashes; {reports}",
        found.record.events, found.record.last_hash, found.inputs, found.outputs
    )
}
