//! Inventories kept by other tools, turned into switchyard's: `switchyard
//! import-inventory`. A team that already describes its hosts elsewhere should not have
//! to type them again, nor keep two lists in step by hand.
//!
//! Each importer is pure — text in, inventory TOML (or every problem found) out — so the
//! command line only reads and writes files. The TOML it produces is switchyard's
//! inventory format (`config`), and `cli` loads it through `config` before writing it.

pub mod ansible;
