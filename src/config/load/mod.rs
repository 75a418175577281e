//! Reading files from disk and running the passes in order: bytes → TOML → raw mirror →
//! validated model, for one runbook (`runbook`), a site and its runbooks (`site`), or
//! whichever a file is (`any`); `read` holds the steps they share. The one place in
//! `config` that touches the file system.

mod any;
mod read;
mod runbook;
mod site;

pub use any::{Document, is_site_file, load_any};
pub use runbook::{LoadError, Loaded, inventory_from_text, load_inventory, load_runbook};
pub use site::{LoadedSite, load_site};
