//! The evidence a run leaves (spec §5): the run folder, the hash-chained journal, the
//! per-step output and `summary.json`. A consumer of engine events, like the display.

pub mod folder;
pub mod invariants;
pub mod journal;
pub mod record;
mod recorder;
pub mod report;
pub mod sign;
pub mod summary;
pub mod verify;

pub use recorder::{Recorder, load, write_all};
