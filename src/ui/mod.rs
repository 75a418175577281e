//! What the operator sees while a run goes on: one plain line per event on stderr.
//! A consumer of engine events, like the evidence.

pub mod lines;
