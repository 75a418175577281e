//! Stopping what a transport started, from outside: the run's Ctrl-C handling sets it,
//! every request in flight sees it.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

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
