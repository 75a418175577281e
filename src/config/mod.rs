//! From TOML files to a validated model, in passes: the raw mirror of each file
//! ([`raw`]), then the merged and checked inventory ([`inventory`]) and the runbook
//! model ([`runbook`]) that [`validate`] builds. Every problem found on the way is a
//! [`Diagnostic`] pointing into the file. Knows nothing of SSH or of how a runbook is
//! executed.

pub mod action_kind;
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
pub mod validate;

pub use action_kind::ActionKind;
pub use diagnostic::{Diagnostic, Diagnostics};
pub use load::{LoadError, Loaded, load_inventory, load_runbook};
pub use runbook::Runbook;
