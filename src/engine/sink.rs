//! Where a run's events go. The engine hands every event to a [`Sink`] and knows nothing
//! of what is behind it (the journal, the progress display, log lines).

use super::event::Event;

pub trait Sink {
    /// Records one event; it is on disk when this returns.
    fn emit(&mut self, event: Event);

    /// Records several events with one flush to disk: all are on disk when this returns.
    /// The jobs of a wave start only after their `step_started` lines are durable, and
    /// one flush for the wave keeps a hundred starts from being staggered by a hundred.
    fn emit_all(&mut self, events: Vec<Event>);

    /// Why events can no longer be recorded, once that happened. A run whose evidence
    /// cannot be written starts no new step.
    fn broken(&self) -> Option<String>;
}
