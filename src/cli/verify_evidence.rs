//! `switchyard verify-evidence`: exit 0 when a run folder is intact, 1 naming the first
//! line or file that breaks.

use crate::evidence::verify;

use super::args::VerifyEvidenceArgs;
use super::{Error, exit};

pub fn run(a: &VerifyEvidenceArgs) -> Result<u8, Error> {
    if !a.run_dir.is_dir() {
        return Err(Error::RunFolder(format!(
            "`{}` is not a run folder (no such directory)",
            a.run_dir.display()
        )));
    }
    match verify::verify(&a.run_dir) {
        Ok(ok) => {
            let mut text = format!(
                "{}: intact — {} journal events, chain ends in {}; {} inputs match their hashes; summary and reports agree with the journal\n",
                a.run_dir.display(),
                ok.events,
                ok.last_hash,
                ok.inputs
            );
            for note in &ok.notes {
                text.push_str(&format!("note: {note}\n"));
            }
            super::print_stdout(&text);
            Ok(exit::PASSED)
        }
        Err(broken) => {
            super::print_stdout(&format!("{}: BROKEN — {broken}\n", a.run_dir.display()));
            Ok(exit::FAILED)
        }
    }
}
