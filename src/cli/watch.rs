//! `switchyard watch RUN_DIR`: a run's progress, as `run` shows it, rebuilt from its
//! journal, from any terminal. It follows `journal.jsonl` as the run appends to it,
//! checking the hash chain line by line, and hands each event to the same display `run`
//! uses; it ends when the run does, with the run's exit code. A finished run's record
//! is printed at once.
//!
//! Watching only reads: it never writes to the run folder and never takes the run's
//! lock. Whether the run is still going is told by its lock (as `verify-evidence` tells
//! "in progress" from "killed"): a journal without `run_finished` whose lock no live
//! process holds is a run that was killed or crashed. A dry run takes no lock, so a dry
//! run is followed until its `run_finished`.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::time::Duration;

use time::OffsetDateTime;

use crate::engine::event::{Event, Outcome, RunStarted};
use crate::engine::stopwatch::parse_timestamp;
use crate::evidence::journal::{self, Broken, Entry, GENESIS};
use crate::evidence::record::Record;

use super::args::{Global, WatchArgs};
use super::reporter::Display;
use super::run::{code_of, summary_lines};
use super::{Error, exit, lock};

/// How often the journal is read again for appended lines.
const POLL: Duration = Duration::from_millis(150);
/// How long a journal with no line yet (a run just starting) is waited for.
const FIRST_LINE: Duration = Duration::from_secs(10);

pub fn run(g: &Global, a: &WatchArgs) -> Result<u8, Error> {
    let dir = &a.run_dir;
    let path = dir.join("journal.jsonl");
    let not_a_run =
        |why: &str| Error::RunFolder(format!("`{}` is not a run folder ({why})", dir.display()));
    if !dir.is_dir() {
        return Err(not_a_run("no such directory"));
    }
    let file = File::open(&path).map_err(|_| not_a_run("it has no journal.jsonl"))?;
    let mut journal = Follow::new(file);
    let mut entries = Vec::new();
    let waited = std::time::Instant::now();
    while entries.is_empty() {
        match journal.more() {
            Ok(more) => entries.extend(more),
            Err(why) => return Ok(broken(dir, &why)),
        }
        if entries.is_empty() {
            if waited.elapsed() > FIRST_LINE {
                return Err(not_a_run("its journal.jsonl has no line"));
            }
            std::thread::sleep(POLL);
        }
    }
    let Event::RunStarted(start) = &entries[0].event else {
        return Err(not_a_run(
            "its journal.jsonl does not begin with run_started",
        ));
    };
    let start = start.clone();
    let origin = parse_timestamp(&start.clock_origin).map_err(Error::RunFolder)?;
    let rto = Duration::try_from_secs_f64(start.rto_target_s).unwrap_or_default();
    let since = |ts: &str| -> f64 {
        parse_timestamp(ts).map_or(0.0, |t| (t - origin).as_seconds_f64().max(0.0))
    };
    // The lock is looked at before the journal is read again: a run that ends in
    // between has written its `run_finished` before it let go of the lock.
    let mut live = running(&start);
    match journal.more() {
        Ok(more) => entries.extend(more),
        Err(why) => return Ok(broken(dir, &why)),
    }
    if finished(dir, live, &entries, &journal) {
        // A finished run: its record, as plain lines, and its end.
        let mut display = Display::new(g, true, Duration::ZERO, rto, asked(dir));
        for e in &entries {
            show(&mut display, since(&e.ts), &e.event);
        }
        return Ok(finish(dir, &entries, &journal));
    }
    let now = (OffsetDateTime::now_utc() - origin)
        .try_into()
        .unwrap_or_default();
    let mut display = Display::new(g, false, now, rto, asked(dir));
    for e in &entries {
        show(&mut display, since(&e.ts), &e.event);
    }
    loop {
        if finished(dir, live, &entries, &journal) {
            return Ok(finish(dir, &entries, &journal));
        }
        if !live && !start.dry_run {
            crate::ui::terminal::to_stderr(&format!(
                "error: the run is not running: killed or crashed (its journal ends at line {} without run_finished, and no live process holds its lock); `switchyard resume {}` continues it\n",
                entries.len(),
                dir.display()
            ));
            return Ok(exit::FAILED);
        }
        std::thread::sleep(POLL);
        live = running(&start);
        match journal.more() {
            Ok(more) => {
                for e in &more {
                    show(&mut display, since(&e.ts), &e.event);
                }
                entries.extend(more);
            }
            Err(why) => return Ok(broken(dir, &why)),
        }
    }
}

/// Shows one event. A `terminal_lost` of the run is its terminal, not this one: it is
/// said, and the display goes on.
fn show(display: &mut Display, elapsed_s: f64, e: &Event) {
    match e {
        Event::TerminalLost { signal } => display.show(
            elapsed_s,
            &Event::Notice {
                message: format!("the run's terminal was lost ({signal}); the run went on"),
            },
        ),
        e => display.show(elapsed_s, e),
    }
}

/// The outcome of the journal's last event, if it is the run's end (the results of the
/// last notifications may follow it). A run resumed after its end (`resumed` follows
/// `run_finished`) has not ended until its next one.
fn ended(entries: &[Entry]) -> Option<Outcome> {
    match Event::last_of_run(entries.iter().map(|e| &e.event)) {
        Some(Event::RunFinished { outcome, .. }) => Some(*outcome),
        _ => None,
    }
}

/// Whether the run has ended: its journal ends with `run_finished`, and either no live
/// process holds its lock or its `summary.json` pins that very end (the run wrote its
/// reports; the lock may be another run's of the same runbook).
fn finished(dir: &Path, live: bool, entries: &[Entry], journal: &Follow) -> bool {
    ended(entries).is_some() && (!live || pinned(dir).as_deref() == Some(journal.prev.as_str()))
}

/// The last hash of the journal that `summary.json` was written for.
pub(super) fn pinned(dir: &Path) -> Option<String> {
    let text = std::fs::read_to_string(dir.join("summary.json")).ok()?;
    let summary: serde_json::Value = serde_json::from_str(&text).ok()?;
    summary["journal"]["last_hash"].as_str().map(str::to_string)
}

/// What `run` prints at its end; returns the run's exit code.
fn finish(dir: &Path, entries: &[Entry], journal: &Follow) -> u8 {
    let outcome = ended(entries).unwrap_or(Outcome::Failed);
    let record = Record::from_entries(entries, &journal.prev).ok();
    crate::ui::terminal::to_stdout(&summary_lines(outcome, dir, record.as_ref()));
    code_of(outcome)
}

/// Says where the journal breaks; exit 1.
fn broken(dir: &Path, why: &Broken) -> u8 {
    crate::ui::terminal::to_stderr(&format!(
        "error: {}: journal.jsonl line {} does not verify: {} — the evidence was changed\n",
        dir.display(),
        why.line,
        why.reason
    ));
    exit::FAILED
}

/// A watcher answers a question with `switchyard answer`, not at its own terminal.
fn asked(dir: &Path) -> crate::ui::lines::Asked {
    crate::ui::lines::Asked::Answer {
        run_dir: super::run::absolute(dir),
    }
}

/// Whether a live process holds the lock of the run's runbook (or of one of its site's).
pub(super) fn running(start: &RunStarted) -> bool {
    std::iter::once(start.runbook.as_str())
        .chain(
            start
                .runbooks
                .iter()
                .filter(|rb| !rb.assumed)
                .map(|rb| rb.name.as_str()),
        )
        .any(|name| lock::held(name).is_some())
}

/// A journal followed as it grows: whole lines only, each checked against the chain.
struct Follow {
    file: File,
    /// Bytes of the whole lines taken.
    whole: u64,
    /// Bytes read after them that do not end a line yet.
    partial: Vec<u8>,
    lines: u64,
    prev: String,
}

impl Follow {
    fn new(file: File) -> Follow {
        Follow {
            file,
            whole: 0,
            partial: Vec::new(),
            lines: 0,
            prev: GENESIS.to_string(),
        }
    }

    /// The events of the whole lines appended since the last call.
    fn more(&mut self) -> Result<Vec<Entry>, Broken> {
        let line = self.lines as usize + 1;
        let unreadable = |reason: String| Broken { line, reason };
        let len = self
            .file
            .metadata()
            .map_err(|e| unreadable(format!("cannot read it: {e}")))?
            .len();
        if len < self.whole {
            return Err(unreadable(format!(
                "the journal got shorter ({len} bytes, {} read): lines were removed",
                self.whole
            )));
        }
        let mut now = vec![0; self.partial.len()];
        let same = self.file.read_exact_at(&mut now, self.whole).is_ok() && now == self.partial;
        if !same {
            // A torn last line was cut off (`resume` does, before it goes on): the line
            // that replaces it is read from where it begins.
            self.partial.clear();
            self.file
                .seek(SeekFrom::Start(self.whole))
                .map_err(|e| unreadable(format!("cannot read it: {e}")))?;
        }
        let mut bytes = Vec::new();
        self.file
            .read_to_end(&mut bytes)
            .map_err(|e| unreadable(format!("cannot read it: {e}")))?;
        self.partial.extend(bytes);
        let Some(end) = self.partial.iter().rposition(|b| *b == b'\n') else {
            return Ok(Vec::new());
        };
        let rest = self.partial.split_off(end + 1);
        let whole = std::mem::replace(&mut self.partial, rest);
        self.whole += whole.len() as u64;
        let text = String::from_utf8(whole).map_err(|_| unreadable("not UTF-8".into()))?;
        let read = journal::read_after(&text, self.lines, &self.prev)?;
        self.lines += read.entries.len() as u64;
        self.prev = read.last_hash;
        Ok(read.entries)
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    #[test]
    fn only_whole_lines_are_taken_and_a_partial_last_line_is_waited_for() {
        let dir = tempfile::tempdir().expect("tempdir");
        let source = dir.path().join("source.jsonl");
        let mut j = journal::Journal::create(&source).expect("create");
        for i in 0..2 {
            j.append(
                "2026-11-27T10:00:00.000Z",
                serde_json::json!({"event": "notice", "message": format!("n{i}")}),
            )
            .expect("append");
        }
        let text = std::fs::read(&source).expect("read");
        let first = text.iter().position(|b| *b == b'\n').expect("a line") + 1;
        let path = dir.path().join("journal.jsonl");
        let mut writer = File::create(&path).expect("create");
        let mut follow = Follow::new(File::open(&path).expect("open"));
        assert!(follow.more().expect("empty").is_empty());
        writer.write_all(&text[..first + 10]).expect("write");
        let read = follow.more().expect("first line");
        assert_eq!(read.len(), 1);
        assert!(follow.more().expect("nothing whole").is_empty());
        writer.write_all(&text[first + 10..]).expect("write");
        let read = follow.more().expect("second line");
        assert_eq!(read.len(), 1);
        assert_eq!(read[0].seq, 2);
        assert_eq!(follow.prev, j.last_hash());
    }

    #[test]
    fn a_torn_last_line_cut_off_and_written_again_is_read_from_where_it_begins() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("journal.jsonl");
        let mut j = journal::Journal::create(&path).expect("create");
        let notice = |m: &str| serde_json::json!({"event": "notice", "message": m});
        j.append("2026-11-27T10:00:00.000Z", notice("first"))
            .expect("append");
        let intact = std::fs::metadata(&path).expect("meta").len();
        let mut follow = Follow::new(File::open(&path).expect("open"));
        assert_eq!(follow.more().expect("first").len(), 1);
        let mut torn = File::options().append(true).open(&path).expect("open");
        torn.write_all(b"{\"seq\":2,\"ts\":\"2026-11-27T09:59:59.9")
            .expect("torn");
        assert!(follow.more().expect("nothing whole").is_empty());
        let (mut again, cut) =
            journal::Journal::reopen(&path, 1, &follow.prev, intact).expect("reopen");
        assert!(cut);
        again
            .append("2026-11-27T10:00:01.000Z", notice("second"))
            .expect("append");
        let read = follow.more().expect("the line written again");
        assert_eq!(read.len(), 1);
        assert_eq!(read[0].seq, 2);
    }
}
