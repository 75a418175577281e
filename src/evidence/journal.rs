//! `journal.jsonl`: every event, one JSON line each, written and fsynced as it happens,
//! chained by SHA-256 so that any edit, insertion or deletion is detectable.
//!
//! Each line is `{"seq":N,"ts":"…","event":"…",…data…,"prev":"<hash of the line before>","hash":"…"}`.
//! `hash` is the SHA-256 (hex) of the previous line's hash followed by this line's text
//! up to (and without) `,"hash":…`, closed with `}`. The first line's `prev` is 64 zeros.
//! `summary.json` pins the last hash, so a removed last line is detected too.

use std::fs::File;
use std::io::Write;
use std::path::Path;

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::engine::event::Event;

pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

pub struct Journal {
    file: File,
    seq: u64,
    prev: String,
    /// Bytes of whole lines written: a line that fails half-way is cut back to here.
    len: u64,
    /// A failed line could not be cut back: a line after it would not verify.
    torn: bool,
    /// Bytes of the file known to be on disk.
    synced: u64,
}

fn hash(prev: &str, content: &str) -> String {
    let mut h = Sha256::new();
    h.update(prev.as_bytes());
    h.update(content.as_bytes());
    hex::encode(h.finalize())
}

impl Journal {
    pub fn create(path: &Path) -> std::io::Result<Journal> {
        let file = File::options().create_new(true).append(true).open(path)?;
        Ok(Journal {
            file,
            seq: 0,
            prev: GENESIS.to_string(),
            len: 0,
            torn: false,
            synced: 0,
        })
    }

    /// Opens an existing journal to go on with its chain after `seq` events ending in
    /// `last_hash` (`resume`). A torn last line — the writer was killed in the middle
    /// of it — is cut off first, since no reader could trust it; returns whether one was.
    pub fn reopen(
        path: &Path,
        seq: u64,
        last_hash: &str,
        intact_len: u64,
    ) -> std::io::Result<(Journal, bool)> {
        let file = File::options().append(true).open(path)?;
        let torn = file.metadata()?.len() > intact_len;
        if torn {
            file.set_len(intact_len)?;
            file.sync_data()?;
        }
        Ok((
            Journal {
                file,
                seq,
                prev: last_hash.to_string(),
                len: intact_len,
                torn: false,
                synced: intact_len,
            },
            torn,
        ))
    }

    /// Appends one event (a JSON object with an `event` key); [`Journal::sync`] puts it
    /// on disk. A line that cannot be written whole is cut off again, and neither the
    /// sequence number nor the chain moves on: the journal stays a valid chain of the
    /// lines before it.
    pub fn append(&mut self, ts: &str, event: Value) -> std::io::Result<()> {
        let seq = self.seq + 1;
        let mut line = Map::new();
        line.insert("seq".into(), Value::from(seq));
        line.insert("ts".into(), Value::from(ts));
        if let Value::Object(fields) = event {
            line.extend(fields);
        }
        line.insert("prev".into(), Value::from(self.prev.clone()));
        let content = Value::Object(line).to_string();
        let h = hash(&self.prev, &content);
        let text = format!("{},\"hash\":\"{h}\"}}\n", &content[..content.len() - 1]);
        if self.torn {
            return Err(std::io::Error::other(
                "a line that failed half-way could not be cut off again; nothing more is appended after it",
            ));
        }
        if let Err(e) = self.file.write_all(text.as_bytes()) {
            self.torn = self.file.set_len(self.len).is_err();
            return Err(e);
        }
        self.len += text.len() as u64;
        self.seq = seq;
        self.prev = h;
        Ok(())
    }

    /// Flushes every line appended so far to disk; nothing to do when none was since the
    /// last time.
    pub fn sync(&mut self) -> std::io::Result<()> {
        if self.synced == self.len {
            return Ok(());
        }
        self.file.sync_data()?;
        self.synced = self.len;
        Ok(())
    }

    pub fn events(&self) -> u64 {
        self.seq
    }

    pub fn last_hash(&self) -> &str {
        &self.prev
    }
}

/// Where a journal stops being trustworthy.
#[derive(Debug, PartialEq, Eq)]
pub struct Broken {
    /// 1-based line number.
    pub line: usize,
    pub reason: String,
}

/// One line of the journal, read back.
#[derive(Clone, Debug)]
pub struct Entry {
    pub seq: u64,
    pub ts: String,
    pub event: Event,
}

/// A journal read back and checked: its events, and the hash of its last line.
#[derive(Debug)]
pub struct Read {
    pub entries: Vec<Entry>,
    pub last_hash: String,
}

/// Checks every line's chain and reads each line as an event.
pub fn read(text: &str) -> Result<Read, Broken> {
    read_after(text, 0, GENESIS)
}

/// As [`read`], for the whole lines that follow the first `after` lines of a journal,
/// whose last hash is `prev` (a reader following a journal as it grows). Line numbers
/// and `seq` count on from `after`.
pub fn read_after(text: &str, after: u64, prev: &str) -> Result<Read, Broken> {
    let mut entries = Vec::new();
    let last_hash = walk(text, after as usize, prev, |line, value| {
        let ts = value.get("ts").and_then(Value::as_str).unwrap_or_default();
        let ts = ts.to_string();
        let event = serde_json::from_value::<Event>(value).map_err(|e| Broken {
            line,
            reason: format!("not an event this switchyard knows: {e}"),
        })?;
        entries.push(Entry {
            seq: after + entries.len() as u64 + 1,
            ts,
            event,
        });
        Ok(())
    })?;
    Ok(Read { entries, last_hash })
}

/// Checks every line's chain; returns the number of events and the last hash.
pub fn verify(text: &str) -> Result<(u64, String), Broken> {
    let mut n = 0;
    let last = walk(text, 0, GENESIS, |_, _| {
        n += 1;
        Ok(())
    })?;
    Ok((n, last))
}

/// Walks the chain line by line, handing each intact line's JSON to `each`; the text
/// follows `after` lines whose last hash is `prev`.
fn walk(
    text: &str,
    after: usize,
    prev: &str,
    mut each: impl FnMut(usize, Value) -> Result<(), Broken>,
) -> Result<String, Broken> {
    let mut prev = prev.to_string();
    if !text.is_empty() && !text.ends_with('\n') {
        let line = after + text.lines().count();
        return Err(Broken {
            line,
            reason: "the last line is incomplete (the writer stopped in the middle of it)".into(),
        });
    }
    for (i, line) in text.lines().enumerate() {
        let i = after + i;
        let broken = |reason: String| Broken {
            line: i + 1,
            reason,
        };
        let (content, tail) = line
            .rsplit_once(",\"hash\":\"")
            .ok_or_else(|| broken("no hash".into()))?;
        let claimed = tail
            .strip_suffix("\"}")
            .ok_or_else(|| broken("malformed hash".into()))?;
        let content = format!("{content}}}");
        let value: Value =
            serde_json::from_str(&content).map_err(|e| broken(format!("not JSON: {e}")))?;
        if value.get("prev").and_then(Value::as_str) != Some(prev.as_str()) {
            return Err(broken("`prev` does not match the hash of the line before (a line was removed, added or reordered)".into()));
        }
        if value.get("seq").and_then(Value::as_u64) != Some(i as u64 + 1) {
            return Err(broken(format!("`seq` is not {}", i + 1)));
        }
        let actual = hash(&prev, &content);
        if actual != claimed {
            return Err(broken(
                "the line's content does not match its hash (it was edited)".into(),
            ));
        }
        prev = actual;
        each(i + 1, value)?;
    }
    Ok(prev)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn journal() -> (tempfile::TempDir, String) {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("journal.jsonl");
        let mut j = Journal::create(&path).expect("create");
        for i in 0..3 {
            j.append(
                "2026-11-27T10:00:00.000Z",
                serde_json::json!({"event": "notice", "message": format!("n{i}")}),
            )
            .expect("append");
        }
        j.sync().expect("sync");
        let text = std::fs::read_to_string(&path).expect("read");
        (dir, text)
    }

    #[test]
    fn an_intact_chain_verifies() {
        let (_d, text) = journal();
        let (n, last) = verify(&text).expect("intact");
        assert_eq!(n, 3);
        assert_eq!(last.len(), 64);
    }

    #[test]
    fn a_flipped_byte_is_found_on_its_line() {
        let (_d, text) = journal();
        let at = text.find("n1").expect("n1");
        let mut bytes = text.into_bytes();
        bytes[at + 1] = b'7';
        let err = verify(&String::from_utf8(bytes).expect("utf8")).expect_err("tampered");
        assert_eq!(err.line, 2);
    }

    #[test]
    fn a_failed_append_moves_neither_the_sequence_nor_the_chain() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("journal.jsonl");
        let mut j = Journal::create(&path).expect("create");
        let notice = |m: &str| serde_json::json!({"event": "notice", "message": m});
        let ts = "2026-11-27T10:00:00.000Z";
        j.append(ts, notice("before")).expect("append");
        let last = j.last_hash().to_string();
        // `/dev/full` refuses every write, as a full disk does.
        let full = File::options()
            .append(true)
            .open("/dev/full")
            .expect("/dev/full");
        let file = std::mem::replace(&mut j.file, full);
        let err = j.append(ts, notice("lost")).expect_err("a full disk");
        assert_eq!(err.kind(), std::io::ErrorKind::StorageFull, "{err}");
        assert_eq!((j.events(), j.last_hash()), (1, last.as_str()));
        // `/dev/full` cannot be cut back as a file on a full disk is: until the journal
        // knows its failed line is gone, it appends nothing more.
        assert!(j.torn);
        assert!(j.append(ts, notice("refused")).is_err());
        // Room again, on a file that holds whole lines: the next line follows the last
        // one written.
        j.file = file;
        j.torn = false;
        j.append(ts, notice("after")).expect("append");
        j.sync().expect("sync");
        let text = std::fs::read_to_string(&path).expect("read");
        assert_eq!(verify(&text), Ok((2, j.last_hash().to_string())), "{text}");
    }

    #[test]
    fn a_deleted_line_breaks_the_chain() {
        let (_d, text) = journal();
        let lines: Vec<&str> = text.lines().collect();
        let without = format!("{}\n{}\n", lines[0], lines[2]);
        assert_eq!(verify(&without).expect_err("deleted").line, 2);
    }

    #[test]
    fn a_journal_read_in_pieces_reads_as_a_whole_and_an_edit_is_found_by_its_line() {
        let (_d, text) = journal();
        let whole = read(&text).expect("whole");
        let split = text.find('\n').expect("a line") + 1;
        let first = read(&text[..split]).expect("first");
        let rest = read_after(&text[split..], 1, &first.last_hash).expect("rest");
        assert_eq!(rest.last_hash, whole.last_hash);
        assert_eq!(rest.entries.len(), 2);
        assert_eq!(rest.entries[0].seq, 2);
        let edited = text[split..].replacen("n1", "nX", 1);
        let broken = read_after(&edited, 1, &first.last_hash).expect_err("edited");
        assert_eq!(broken.line, 2, "{}", broken.reason);
    }
}
