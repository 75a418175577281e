//! From TOML files to a validated model, in passes: the raw mirror of each file
//! ([`raw`]), then the merged and checked inventory and runbook ([`inventory`],
//! [`runbook`]). Every problem found on the way is a [`Diagnostic`] pointing into the
//! file. Knows nothing of SSH or of how a runbook is executed.

pub mod diagnostic;
pub mod duration;
pub mod ids;
pub mod inventory;
pub mod load;
pub mod model;
pub mod raw;
pub mod reader;
pub mod runbook;
pub mod shell;
pub mod source;
pub mod template;

pub use diagnostic::{Diagnostic, Diagnostics};
pub use load::{LoadError, Loaded, load_inventory, load_runbook};
pub use runbook::Runbook;
