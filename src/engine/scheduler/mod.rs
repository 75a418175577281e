//! Runs one pass of a plan: the switchover itself, or the rollback after it.
//! [`super::drill`] strings passes into a run.
//!
//! - `dispatcher`: the one owner of a pass's state and its loop (`select!` → internal
//!   event → `handle`), and the one path by which a job ends;
//! - `progress`: where the pass stands on its step graph and which jobs may start
//!   within `max_parallel`, each host's `max_sessions` and each step's `serial`;
//! - `containment`: what a failure stops (the run, or in a site one runbook and those
//!   that require it);
//! - `questions` and `stopping`: the dispatcher's handling of a person's answers and
//!   of Ctrl-C/SIGTERM;
//! - `risk`: the RTO-at-risk projection of a live run (SPEC §10);
//! - `running`: the jobs under way, a panicking one included;
//! - `types`: what a pass is given and gives back (a leaf).

mod canary;
mod containment;
mod dispatcher;
mod invariants;
mod progress;
mod questions;
mod risk;
mod running;
mod stopping;
mod types;

pub use dispatcher::{Role, pass};
pub use types::{Carry, Halted, Io, Pass, Settings, Stop};

#[cfg(test)]
mod tests;
