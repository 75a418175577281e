//! switchyard: disaster-recovery switchovers between two data halls, planned from
//! runbooks, timed against RTO targets, and recorded as evidence.
//!
//! The pipeline, in the order data flows: [`config`] (TOML → validated model),
//! [`plan`] (model + direction → step graph), and [`cli`] (commands, output, exit codes).

pub mod cli;
pub mod config;
pub mod demo;
pub mod engine;
pub mod evidence;
pub mod plan;
pub mod transport;
pub mod ui;
