//! The one owner of a pass's state. A loop starts each job the moment its step's
//! dependencies are met (bounded by `max_parallel`, each host's `max_sessions` and each
//! step's `serial`), and waits in one `tokio::select!` for job results, attempt reports,
//! the operator's answers, Ctrl-C/SIGTERM and the grace period after them. Executors run
//! the jobs and report back; only this loop changes state and emits events.
//!
//! A *pass* is one plan carried out: the switchover itself, or the rollback after it.
//! [`super::drill`] strings passes into a run.

mod pass;
mod people;
mod running;
mod state;
mod stopping;

pub use pass::{Carry, Io, Pass, Settings, Stop, pass};
