//! The operator's terminal hung up (SIGHUP: an SSH session dropped, a terminal window
//! closed). A switchover must not die halfway for that: once [`Hangup::listen`] has
//! registered the signal, a hangup no longer ends the process, for the rest of its life
//! (tokio's registration replaces the default action and is never undone). The run goes
//! on; the pass (or the drill, between passes) records one `terminal_lost` event, and
//! the display, which consumes it, stops writing to the terminal. Running commands are
//! not touched: their SSH channels stay open because switchyard stays alive.

use std::task::{Context, Poll, Waker};

use tokio::signal::unix::{Signal, SignalKind, signal};

use super::event::Event;

/// The run's SIGHUP listener, and whether the terminal was already said lost.
#[derive(Default)]
pub struct Hangup {
    signal: Option<Signal>,
    lost: bool,
}

impl Hangup {
    /// Registers SIGHUP: from now on a hangup does not end the process. Must be called
    /// within a tokio runtime; without one (or if registration fails) the listener is
    /// absent and the default action stays.
    pub fn listen() -> Hangup {
        Hangup {
            signal: signal(SignalKind::hangup()).ok(),
            lost: false,
        }
    }

    /// No listener (tests, or a pass whose listener was lent out).
    pub fn none() -> Hangup {
        Hangup::default()
    }

    /// Waits for the first hangup; pending forever once it was seen (later hangups say
    /// nothing new) or without a listener.
    pub async fn recv(&mut self) {
        if let Some(s) = self.signal.as_mut().filter(|_| !self.lost)
            && s.recv().await.is_some()
        {
            self.lost = true;
            return;
        }
        std::future::pending().await
    }

    /// Whether a hangup arrived since the last look, without waiting.
    pub fn arrived(&mut self) -> bool {
        let Some(s) = self.signal.as_mut().filter(|_| !self.lost) else {
            return false;
        };
        let mut cx = Context::from_waker(Waker::noop());
        if let Poll::Ready(Some(())) = s.poll_recv(&mut cx) {
            self.lost = true;
            return true;
        }
        false
    }

    /// The event that records it.
    pub fn event() -> Event {
        Event::TerminalLost {
            signal: "SIGHUP".to_string(),
        }
    }
}
