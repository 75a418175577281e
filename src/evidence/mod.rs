//! The evidence a run leaves (spec §5): the run folder, the hash-chained journal, the
//! per-step output and `summary.json`. A consumer of engine events, like the display.

pub mod folder;
pub mod journal;
pub mod summary;

use std::path::{Path, PathBuf};

use crate::engine::event::Event;

use journal::Journal;

/// Writes the evidence of one run as its events arrive.
pub struct Recorder {
    dir: PathBuf,
    journal: Journal,
    summary: summary::Builder,
}

impl Recorder {
    pub fn new(
        dir: &Path,
        services: Vec<String>,
        inputs: Vec<folder::Input>,
    ) -> Result<Recorder, String> {
        let journal = Journal::create(&dir.join("journal.jsonl")).map_err(|e| {
            format!(
                "cannot create `{}`: {e}",
                dir.join("journal.jsonl").display()
            )
        })?;
        Ok(Recorder {
            dir: dir.to_path_buf(),
            journal,
            summary: summary::Builder::new(services, inputs),
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Records one event: output files first, then the journal line that points at them.
    pub fn on_event(&mut self, ts: &str, event: &Event) -> std::io::Result<()> {
        let mut event = event.clone();
        if let Event::StepFinished {
            step,
            host,
            stdout,
            stderr,
            output,
            ..
        } = &mut event
        {
            let base = match host {
                Some(h) => format!("output/{step}.{h}"),
                None => format!("output/{step}"),
            };
            // Only streams that said something get a file.
            for (ext, text) in [("stdout", stdout.as_ref()), ("stderr", stderr.as_ref())] {
                if let Some(text) = text.filter(|t| !t.is_empty()) {
                    let path = self.dir.join(format!("{base}.{ext}"));
                    std::fs::write(&path, text)?;
                    std::fs::File::open(&path)?.sync_all()?;
                    *output = Some(base.clone());
                }
            }
        }
        self.summary.on_event(&event);
        let value = serde_json::to_value(&event).map_err(std::io::Error::other)?;
        self.journal.append(ts, value)
    }

    /// Writes `summary.json`, pinning the journal's last hash.
    pub fn finish(mut self) -> std::io::Result<PathBuf> {
        self.summary.summary.journal = summary::JournalSummary {
            events: self.journal.events(),
            last_hash: self.journal.last_hash().to_string(),
        };
        let path = self.dir.join("summary.json");
        let text =
            serde_json::to_string_pretty(&self.summary.summary).map_err(std::io::Error::other)?;
        std::fs::write(&path, text + "\n")?;
        std::fs::File::open(&path)?.sync_all()?;
        Ok(self.dir)
    }
}
