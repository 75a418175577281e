//! The only code with side effects on managed hosts: commands over SSH ([`ssh`]) or
//! `sh -c` on this machine ([`local`]). Everything here is blocking and bounded by a
//! timeout; the engine calls it from blocking threads.

pub mod capture;
pub mod local;
pub mod ssh;

use std::time::Duration;

pub use capture::{Captured, excerpt};

/// What one command did.
#[derive(Debug)]
pub struct CommandOutput {
    /// `None` when no exit status arrived (killed, timed out, or the channel closed
    /// early): that always counts as a failure, never as success.
    pub exit_code: Option<i32>,
    pub stdout: Captured,
    pub stderr: Captured,
    /// The command ran past its timeout and was stopped.
    pub timed_out: bool,
    /// How long it ran.
    pub elapsed: Duration,
}

/// Why a command could not be run at all (as opposed to running and failing).
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    #[error("cannot connect to {address}: {reason}")]
    Connect { address: String, reason: String },
    #[error(
        "host key of {address} is not trusted: {reason} ({key_type} key, fingerprint SHA256:{fingerprint})"
    )]
    HostKey {
        address: String,
        key_type: String,
        fingerprint: String,
        reason: String,
    },
    #[error("authentication as `{user}` on {address} failed: {reason}")]
    Auth {
        address: String,
        user: String,
        reason: String,
    },
    #[error("SSH session to {address} failed: {reason}")]
    Session { address: String, reason: String },
    #[error("cannot start `sh`: {0}")]
    Spawn(String),
}
