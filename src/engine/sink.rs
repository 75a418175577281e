//! Where a run's events go. The engine hands every event to a [`Sink`] and knows nothing
//! of what is behind it (the journal, the progress display, log lines).
//!
//! Writes are grouped: an event is recorded at once and put on disk by the next
//! [`Sink::flush`], one fsync for every event recorded since the last. The engine
//! flushes before anything happens that the record must precede — before a wave of jobs
//! starts (their `step_started` lines, and the ends that released them, are on disk
//! before any command runs) — and before it waits for anything, so no event stays off
//! the disk while time passes.

use super::event::Event;

pub trait Sink {
    /// Records one event; it is on disk once [`Sink::flush`] returns.
    fn emit(&mut self, event: Event);

    /// Puts every event recorded so far on disk.
    fn flush(&mut self);

    /// Why events can no longer be recorded, once that happened. A run whose evidence
    /// cannot be written starts no new step.
    fn broken(&self) -> Option<String>;
}
