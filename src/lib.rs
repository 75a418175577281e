//! switchyard: disaster-recovery switchovers between two data halls, planned from
//! runbooks, timed against RTO targets, and recorded as evidence.
//!
//! The modules, in the order data flows (`docs/architecture.md` draws the same map):
//!
//! - [`cli`]: argv → typed options → a command; the one place that sets up the terminal
//!   and logging and maps every outcome to an exit code.
//! - [`config`]: TOML → a validated runbook and inventory, in passes. Knows nothing of
//!   SSH.
//! - [`plan`]: validated model + direction + mode → the step graph, its critical path
//!   and worst case against the RTO. Pure; no I/O.
//! - [`engine`]: runs a plan — the scheduler that owns run state, the executor of one
//!   step — and emits typed events. Knows nothing of terminals or files.
//! - [`transport`]: SSH, local commands, and the other side effects on managed hosts.
//! - [`evidence`]: the run folder, the hash-chained journal, the summary and the
//!   reports: consumers of engine events.
//! - [`ui`]: progress bars and plain lines on the terminal: consumers of engine events.
//! - [`notify`]: webhooks told of a run's events (`[[notify]]`): consumers of engine
//!   events, delivered off the run's critical path.
//! - [`import`]: inventories of other tools (Ansible) as switchyard inventory TOML;
//!   pure, used by `cli`'s `import-inventory`.
//! - [`demo`]: the self-contained lab behind `switchyard demo`.
//! - [`local_user`]: who runs switchyard (name, home), for SSH and for signing.
//!
//! Arrows point one way: `cli` uses everything; `engine` uses `plan`, `config` and
//! `transport`; `evidence`, `ui` and `notify` read engine events; nothing points back at
//! `cli`, and `config` and `plan` never import `engine`.

pub mod cli;
pub mod config;
pub mod demo;
pub mod engine;
pub mod evidence;
pub mod import;
pub mod local_user;
pub mod notify;
pub mod plan;
pub mod transport;
pub mod ui;
