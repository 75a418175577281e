//! argv → typed options → a command. The one place that sets up logging and the
//! terminal and that maps every outcome to an exit code (see [`exit`]); [`main`] is
//! the entry point.

mod answer;
mod args;
mod atomic_file;
mod check_inventory;
mod demo;
mod dispatch;
mod error;
pub mod exit;
mod history;
mod import_inventory;
mod lock;
mod plan;
mod predict;
mod report;
mod reporter;
mod resume;
mod run;
mod status;
mod subject;
mod validate;
mod verify_evidence;
mod watch;

pub use args::Cli;
pub use dispatch::main;
pub use error::Error;
