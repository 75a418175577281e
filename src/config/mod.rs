//! From TOML files to a validated model, in passes: the raw mirror of each file
//! ([`raw`]), then the merged and checked inventory ([`inventory`]) and the runbook
//! model ([`runbook`]) that [`validate`] builds; for a site file, its raw mirror
//! ([`raw_site`]) and the [`site`] model of its runbooks, which [`combine`] makes one
//! runbook for planning and running. Every problem found on the way is a
//! [`Diagnostic`] pointing into the file. Knows nothing of SSH or of how a runbook is
//! executed.

pub mod action_kind;
pub mod canary;
pub mod combine;
pub mod diagnostic;
pub mod duration;
pub mod ids;
pub mod invariant;
pub mod inventory;
pub mod jumps;
pub mod load;
pub mod model;
pub mod notify;
pub mod raw;
pub mod raw_site;
pub mod reader;
pub mod runbook;
pub mod shell;
pub mod site;
pub mod source;
pub mod template;
pub mod validate;

pub use action_kind::ActionKind;
pub use diagnostic::{Diagnostic, Diagnostics};
pub use load::{
    Document, LoadError, Loaded, LoadedSite, inventory_from_text, is_site_file, load_any,
    load_inventory, load_runbook, load_site,
};
pub use raw_site::is_site;
pub use runbook::Runbook;
pub use site::{Site, System};
