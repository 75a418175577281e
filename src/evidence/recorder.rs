//! Writes a run folder as the run goes — the journal, each step's output — and its
//! reports once it ends; and reads a run folder back into a record.

use std::path::{Path, PathBuf};

use crate::engine::event::{Event, StepFinished};

use super::journal::{self, Journal};
use super::report::{self, Format};
use super::{folder, record};

/// Writes the evidence of one run as its events arrive.
pub struct Recorder {
    dir: PathBuf,
    journal: Journal,
}

impl Recorder {
    pub fn new(dir: &Path) -> Result<Recorder, String> {
        let journal = Journal::create(&dir.join("journal.jsonl")).map_err(|e| {
            format!(
                "cannot create `{}`: {e}",
                dir.join("journal.jsonl").display()
            )
        })?;
        Ok(Recorder {
            dir: dir.to_path_buf(),
            journal,
        })
    }

    /// Goes on writing the run folder `dir`, whose journal was read as `read` (`resume`).
    /// Returns the recorder and whether a torn last line was cut off.
    pub fn reopen(
        dir: &Path,
        read: &journal::Read,
        intact_len: u64,
    ) -> Result<(Recorder, bool), String> {
        let path = dir.join("journal.jsonl");
        let (journal, torn) = Journal::reopen(
            &path,
            read.entries.len() as u64,
            &read.last_hash,
            intact_len,
        )
        .map_err(|e| format!("cannot reopen `{}`: {e}", path.display()))?;
        Ok((
            Recorder {
                dir: dir.to_path_buf(),
                journal,
            },
            torn,
        ))
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Records one event: output files first (each on disk, its hash in the event),
    /// then the journal line that names them. [`Recorder::sync`] puts the line on disk.
    /// An output file that cannot be written does not cost the event: its line is still
    /// appended (naming the files that were written), and the error is returned.
    pub fn record(&mut self, ts: &str, mut event: Event) -> std::io::Result<()> {
        let mut failed = Ok(());
        if let Event::StepFinished(end) = &mut event {
            failed = self.write_output(end);
        }
        let value = serde_json::to_value(&event).map_err(std::io::Error::other)?;
        self.journal.append(ts, value).and(failed)
    }

    /// Writes a step's output to `output/`; only streams that said something get a file.
    /// A site's step ids (`runbook/service.phase.N`) are flattened, `/` becoming `+`
    /// (which no runbook or service name contains): `output/` holds files only.
    fn write_output(&self, end: &mut StepFinished) -> std::io::Result<()> {
        let step = end.step.replace('/', "+");
        let base = match &end.host {
            Some(h) => format!("output/{step}.{h}"),
            None => format!("output/{step}"),
        };
        let mut result = Ok(());
        let mut written = Vec::new();
        for (ext, text) in [("stdout", &end.stdout), ("stderr", &end.stderr)] {
            let Some(text) = text.as_deref().filter(|t| !t.is_empty()) else {
                continue;
            };
            let rel = format!("{base}.{ext}");
            match folder::write_synced(&self.dir.join(&rel), text.as_bytes()) {
                Ok(()) => written.push(folder::hashed(rel, text.as_bytes())),
                Err(e) => result = result.and(Err(e)),
            }
        }
        if !written.is_empty() {
            end.output = Some(base);
            end.files.extend(written);
        }
        result
    }

    /// Flushes the journal lines recorded so far to disk.
    pub fn sync(&mut self) -> std::io::Result<()> {
        self.journal.sync()
    }

    /// Writes `summary.json` and the reports, built from the journal as written, so that
    /// `switchyard report` rebuilds them byte for byte.
    pub fn finish(self) -> Result<(PathBuf, record::Record), String> {
        drop(self.journal);
        let record = write_all(&self.dir)?;
        Ok((self.dir, record))
    }
}

/// Reads a run folder's journal and builds its record.
pub fn load(dir: &Path) -> Result<record::Record, String> {
    let path = dir.join("journal.jsonl");
    let text = std::fs::read_to_string(&path)
        .map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
    let read = journal::read(&text)
        .map_err(|b| format!("`{}` line {}: {}", path.display(), b.line, b.reason))?;
    record::Record::from_entries(&read.entries, &read.last_hash)
        .map_err(|e| format!("`{}`: {e}", path.display()))
}

/// Writes `summary.json`, `report.html`, `report.md` and `junit.xml` from the journal,
/// and gives back the record they were built from.
pub fn write_all(dir: &Path) -> Result<record::Record, String> {
    let record = load(dir)?;
    for format in Format::ALL {
        let path = dir.join(format.file_name());
        let text = report::render(format, &record);
        folder::write_synced(&path, text.as_bytes())
            .map_err(|e| format!("cannot write `{}`: {e}", path.display()))?;
    }
    Ok(record)
}
