//! Runs a plan: the scheduler that owns run state ([`scheduler`]), the executors of
//! single jobs ([`executor`]: live or dry run), and the typed [`event`]s it emits.
//! Knows nothing of terminals or files.

pub mod canary;
pub mod drill;
pub mod event;
pub mod executor;
pub mod hangup;
pub mod invariants;
pub mod job;
pub mod kind;
pub mod operator;
pub mod scheduler;
pub mod secrets;
pub mod sink;
pub mod stopwatch;

pub use event::{Event, Outcome, StepStatus};
