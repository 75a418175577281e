//! What the operator sees while a run goes on: progress bars on a terminal, one plain
//! line per event otherwise. A consumer of engine events, like the evidence. Every
//! write to the terminal goes through [`terminal`].

mod invariant_line;
pub mod lines;
pub mod progress;
pub mod terminal;
