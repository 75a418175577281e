//! The only code with side effects on managed hosts: commands over SSH ([`ssh`]) or
//! `sh -c` on this machine ([`local`]). Everything here is blocking and bounded by a
//! timeout; the engine calls it from blocking threads.

pub mod capture;
pub mod local;
pub mod ssh;
mod watchdog;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

pub use capture::{Captured, excerpt};

/// Tells running commands to stop now — after the grace period that follows Ctrl-C, or
/// at a second Ctrl-C. Blocking transports check it between reads, as they check their
/// timeout, and stop the command the same way (the process group, or the remote
/// watchdog); async work awaits it.
#[derive(Clone, Debug, Default)]
pub struct Cancel(Arc<CancelInner>);

#[derive(Debug, Default)]
struct CancelInner {
    set: AtomicBool,
    notify: tokio::sync::Notify,
}

impl Cancel {
    pub fn set(&self) {
        self.0.set.store(true, Ordering::SeqCst);
        self.0.notify.notify_waiters();
    }

    pub fn is_set(&self) -> bool {
        self.0.set.load(Ordering::SeqCst)
    }

    /// Returns once [`Cancel::set`] was called.
    pub async fn wait(&self) {
        let notified = self.0.notify.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        if !self.is_set() {
            notified.await;
        }
    }
}

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
