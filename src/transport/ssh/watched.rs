//! libssh2 driven from tokio instead of a thread: the session in non-blocking mode, and
//! a handle of its socket registered with tokio. A call that would block is made again
//! once the socket is ready for what libssh2 waits on (reading, or sending what it could
//! not send whole), so a login, a channel being opened or a command being followed costs
//! a task, not a thread parked in libssh2.
//!
//! Readiness is forgotten *before* each call, so anything that arrives during it wakes
//! the next wait. But libssh2 may also give up with bytes already waiting in the socket
//! (having buffered the start of a packet, it reads the rest only on the next call), and
//! tokio tells only of what arrives *after* readiness was forgotten: so before a wait,
//! the socket is asked once, as libssh2's own blocking wait asks it (`poll`), whether it
//! can do what libssh2 waits on already. No wait lasts longer than [`BACKSTOP`], as a
//! last guard against a wake-up lost between libssh2's buffers and tokio's.

use std::io;
use std::os::fd::AsFd;
use std::time::{Duration, Instant};

use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use ssh2::{BlockDirections, ErrorCode, Session};
use tokio::io::Interest;

use super::socket::{Socket, Watchable};

/// The longest wait without looking again, whatever the socket says.
pub(super) const BACKSTOP: Duration = Duration::from_secs(1);

/// A session in non-blocking mode, watched through a handle of its socket of its own;
/// the session is back in blocking mode, and the handle closed, when this is dropped.
pub(super) struct Watched {
    session: Session,
    socket: Watchable,
}

impl Watched {
    /// Watches `session` through `socket`, a handle of the session's socket that is
    /// already registered with tokio.
    pub(super) fn new(session: &Session, socket: Watchable) -> Watched {
        session.set_blocking(false);
        Watched {
            session: session.clone(),
            socket,
        }
    }

    /// Watches `session` through a new handle of `socket`, the session's socket.
    /// Readiness is the socket's, whichever handle shows it.
    pub(super) fn dup(session: &Session, socket: &Socket) -> io::Result<Watched> {
        Ok(Watched::new(session, socket.try_clone()?.watchable()?))
    }

    pub(super) fn session(&self) -> &Session {
        &self.session
    }

    /// Forgets the socket's readiness seen so far, *before* libssh2 reads: what arrives
    /// from now on marks it ready again, so no arrival between libssh2's last read and
    /// the next wait goes unnoticed. One direction at a time: tokio clears nothing for
    /// an interest of both at once.
    pub(super) fn forget_readiness(&self) {
        for interest in [Interest::READABLE, Interest::WRITABLE] {
            self.socket.forget(interest);
        }
    }

    /// Waits until the socket can do what libssh2 is waiting for, or until `wake`
    /// (at the latest [`BACKSTOP`] from now); at once if it can already.
    pub(super) async fn wait(&self, wake: Instant) {
        let backstop = Instant::now() + BACKSTOP;
        let by_backstop = backstop < wake;
        let wake = wake.min(backstop);
        let (interest, now) = match self.session.block_directions() {
            BlockDirections::Outbound => (Interest::WRITABLE, PollFlags::POLLOUT),
            // Stuck sending: what waits to be read is read once that is done.
            BlockDirections::Both => (Interest::READABLE | Interest::WRITABLE, PollFlags::POLLOUT),
            BlockDirections::Inbound | BlockDirections::None => {
                (Interest::READABLE, PollFlags::POLLIN)
            }
        };
        if self.can_already(now) {
            return;
        }
        tokio::select! {
            ready = self.socket.ready(interest) => {
                if ready.is_err() {
                    tokio::time::sleep_until(wake.into()).await;
                }
            }
            () = tokio::time::sleep_until(wake.into()) => {
                if by_backstop {
                    tracing::debug!("no readiness within the backstop; looking again");
                }
            }
        }
    }

    /// Whether the socket can do `what` now (or has an end or an error to report).
    fn can_already(&self, what: PollFlags) -> bool {
        let mut fds = [PollFd::new(self.socket.as_fd(), what)];
        matches!(poll(&mut fds, PollTimeout::ZERO), Ok(n) if n > 0)
    }

    /// Makes `call` (one libssh2 call) again each time it would block, until it is done,
    /// or until `within` has passed since the first try: then it fails as libssh2's own
    /// blocking calls do past the session's timeout ("API timeout expired"). `None`: no
    /// limit.
    pub(super) async fn complete<T>(
        &self,
        within: Option<Duration>,
        mut call: impl FnMut() -> Result<T, ssh2::Error>,
    ) -> Result<T, ssh2::Error> {
        let by = within.map(|w| Instant::now() + w);
        loop {
            self.forget_readiness();
            match call() {
                Err(e) if would_block(&e) => {
                    let now = Instant::now();
                    match by {
                        Some(by) if now > by => return Err(api_timeout()),
                        Some(by) => self.wait(by).await,
                        None => self.wait(now + BACKSTOP).await,
                    }
                }
                done => return done,
            }
        }
    }
}

impl Drop for Watched {
    fn drop(&mut self) {
        self.session.set_blocking(true);
    }
}

/// libssh2's "try again" (`LIBSSH2_ERROR_EAGAIN`) in non-blocking mode; a packet it
/// could not send whole is kept and sent first by the next call.
pub(super) fn would_block(e: &ssh2::Error) -> bool {
    e.code() == ErrorCode::Session(-37)
}

/// What libssh2 says when a blocking call outlasts the session's timeout
/// (`LIBSSH2_ERROR_TIMEOUT`).
fn api_timeout() -> ssh2::Error {
    ssh2::Error::new(ErrorCode::Session(-9), "API timeout expired")
}
