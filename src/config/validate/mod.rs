//! Pass 2 for runbooks: from the raw mirror to the validated
//! [`Runbook`](super::runbook::Runbook), split by subject — the runbook's own table and
//! the entry point (`runbook`), hosts and halls (`hosts`), services (`service`), steps
//! (`step`) and actions (`action`), and the context they share (`context`) — so that
//! each can be read and tested alone.

mod action;
mod context;
mod hosts;
mod runbook;
mod service;
mod step;
#[cfg(test)]
mod testing;

pub use runbook::validate;
