//! Pass 2 for runbooks: from the raw mirror to the validated
//! [`Runbook`](super::runbook::Runbook), split by subject — the runbook's own table and
//! the entry point (`runbook`), hosts and halls (`hosts`), services (`service`), steps
//! (`step`) and actions (`action`), and the context they share (`context`) — so that
//! each can be read and tested alone.
//!
//! Pass 2 for sites: from the raw site and its runbooks, each validated on its own, to
//! the [`Site`](super::site::Site) — the entry point (`site`), the runbooks' names, tiers
//! and `requires` (`systems`), and what the runbooks must agree on (`shared`).

mod action;
mod canary;
mod context;
mod hosts;
mod invariant;
mod runbook;
mod service;
mod shared;
mod site;
mod step;
mod systems;
#[cfg(test)]
pub(crate) mod testing;

pub use runbook::validate;
pub use site::{RunbookFile, validate_site};
