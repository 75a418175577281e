//! The run folder: `EVIDENCE_DIR/<runbook>-<from>-to-<to>-<YYYYMMDDTHHMMSSZ>/` (with
//! `-2`, `-3`, … when it exists), created before anything changes, with exact copies of
//! the input files in `inputs/`.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::config::source::Sources;
use crate::engine::event::FileHash;

/// Creates the run folder, `inputs/` and `output/`; an error says which path failed.
pub fn create(
    evidence_dir: &Path,
    name: &str,
    from: &str,
    to: &str,
    at: OffsetDateTime,
) -> Result<PathBuf, String> {
    let stamp = format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second()
    );
    std::fs::create_dir_all(evidence_dir).map_err(|e| {
        format!(
            "cannot create the evidence folder `{}`: {e}",
            evidence_dir.display()
        )
    })?;
    let base = format!("{name}-{from}-to-{to}-{stamp}");
    for n in 1.. {
        let dir = evidence_dir.join(if n == 1 {
            base.clone()
        } else {
            format!("{base}-{n}")
        });
        match std::fs::create_dir(&dir) {
            Ok(()) => {
                for sub in ["inputs", "output"] {
                    std::fs::create_dir(dir.join(sub))
                        .map_err(|e| format!("cannot create `{}`: {e}", dir.join(sub).display()))?;
                }
                return Ok(dir);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => {
                return Err(format!(
                    "cannot write to the evidence folder `{}`: {e}",
                    evidence_dir.display()
                ));
            }
        }
    }
    unreachable!("an unbounded range ends only by returning")
}

/// Writes `bytes` to a new file at `path` and flushes it to disk before returning: a
/// piece of evidence is either whole on disk or reported as not written (and a part
/// written before the error, on a full disk say, is removed again).
pub fn write_synced(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    let written = std::fs::File::create(path)
        .and_then(|mut file| file.write_all(bytes).and_then(|()| file.sync_all()));
    if written.is_err() {
        let _ = std::fs::remove_file(path);
    }
    written
}

/// A file of the run folder (`rel`, relative to it) with the SHA-256 of its bytes.
pub fn hashed(rel: String, bytes: &[u8]) -> FileHash {
    FileHash {
        path: rel,
        sha256: hex::encode(Sha256::digest(bytes)),
    }
}

/// Copies every file that was read into `inputs/`, byte for byte, and hashes it.
pub fn copy_inputs(run_dir: &Path, sources: &Sources) -> Result<Vec<FileHash>, String> {
    let mut out = Vec::new();
    let mut used = std::collections::HashSet::new();
    for (_, file) in sources.iter() {
        let name = file
            .path
            .file_name()
            .map_or("input.toml".into(), |n| n.to_string_lossy().into_owned());
        let mut candidate = name.clone();
        let mut n = 2;
        while !used.insert(candidate.clone()) {
            candidate = format!("{n}-{name}");
            n += 1;
        }
        let rel = format!("inputs/{candidate}");
        write_synced(&run_dir.join(&rel), file.text.as_bytes())
            .map_err(|e| format!("cannot write `{}`: {e}", run_dir.join(&rel).display()))?;
        out.push(hashed(rel, file.text.as_bytes()));
    }
    Ok(out)
}
