//! Following a started command to its end without a thread of its own: the session is
//! switched to non-blocking mode and its socket registered with tokio, so a command that
//! runs for an hour costs a task that wakes when the host sends something, when a
//! keepalive or the deadline falls due, or when the run is cancelled. At 1,000 hosts that
//! is the difference between 1,000 parked threads (each with its stack and allocator
//! caches) and 1,000 small futures.
//!
//! libssh2 reads whole packets from the socket and queues those of other streams, so the
//! socket being quiet says nothing about stderr: both streams are read until libssh2 says
//! "would block" before waiting again. Readiness is forgotten *before* each round of
//! reads, so anything that arrives during them wakes the next wait. When libssh2 is stuck
//! on *sending* (a window adjustment into a full socket buffer) the wait is for
//! writability instead; and no wait lasts longer than [`BACKSTOP`], as a last guard
//! against a wake-up lost between libssh2's buffers and tokio's.

use std::io::{self, Read};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use ssh2::{BlockDirections, Channel, Session};
use tokio::io::Interest;

use super::{Ended, LOST, STOP_GRACE, send_keepalive};
use crate::transport::Cancel;

/// The longest wait without looking again, whatever the socket says.
const BACKSTOP: Duration = Duration::from_secs(1);
/// Reads in one turn before giving other tasks theirs, so a flood of output cannot hold
/// a runtime thread.
const READS_PER_TURN: usize = 64;

/// Puts the session back into blocking mode, whichever way the pump ends, for the next
/// lease (channel opening and logins are blocking).
struct NonBlocking<'s>(&'s Session);

impl<'s> NonBlocking<'s> {
    fn new(session: &'s Session) -> Self {
        session.set_blocking(false);
        NonBlocking(session)
    }
}

impl Drop for NonBlocking<'_> {
    fn drop(&mut self) {
        self.0.set_blocking(true);
    }
}

/// What a command's settings ask of the pump.
pub(super) struct Limits {
    pub started: Instant,
    pub timeout: Duration,
    pub keepalive: Option<Duration>,
    /// How long the server may take to close the channel after EOF.
    pub close_within: Duration,
}

/// Collects the output until EOF and the channel's close, stopping the command (EOF on
/// its stdin, the remote watchdog's signal) when the timeout passes or `cancel` is set.
/// An `Err` means the connection broke.
pub(super) async fn pump(
    host: &str,
    session: &Session,
    socket: &TcpStream,
    channel: &mut Channel,
    limits: &Limits,
    cancel: &Cancel,
) -> Result<Ended, String> {
    let _mode = NonBlocking::new(session);
    // A handle of its own for tokio to register (and close when done): the session's
    // socket stays the session's. Readiness is the socket's, whichever handle shows it.
    let socket = socket
        .try_clone()
        .and_then(|s| {
            s.set_nonblocking(true)?;
            tokio::net::TcpStream::from_std(s)
        })
        .map_err(|e| format!("cannot watch the connection: {e}"))?;
    let mut follow = Follow {
        session,
        socket,
        ended: Ended::default(),
        buf: vec![0; 32 * 1024],
    };
    let deadline = limits.started + limits.timeout;
    let mut next_keepalive = limits.keepalive.map(|k| Instant::now() + k);
    let mut stop_by = None;
    loop {
        follow.forget_readiness();
        if follow.read_available(channel)? {
            break;
        }
        let now = Instant::now();
        if stop_by.is_none() && (now >= deadline || cancel.is_set()) {
            follow.ended.timed_out = true;
            follow
                .until_sent(|| channel.send_eof())
                .await
                .map_err(|e| format!("cannot stop the command: {e}"))?;
            stop_by = Some(now + STOP_GRACE);
            continue;
        }
        let until = stop_by.unwrap_or(deadline);
        if now >= until {
            tracing::warn!(%host, "a timed-out command did not end in time");
            return Ok(follow.ended);
        }
        if let (Some(at), Some(every)) = (next_keepalive, limits.keepalive)
            && now >= at
        {
            send_keepalive(session)
                .or_else(|e| if would_block(&e) { Ok(()) } else { Err(e) })
                .map_err(|e| format!("{LOST} (a keepalive could not be sent: {e})"))?;
            next_keepalive = Some(Instant::now() + every);
        }
        let wake = next_keepalive.map_or(until, |k| k.min(until));
        let stopping = stop_by.is_some();
        tokio::select! {
            () = follow.wait(wake) => {}
            () = cancel.wait(), if !stopping => {}
        }
    }
    follow.drain_stderr(channel)?;
    if !channel.eof() {
        // libssh2 reads a lost connection as the end of the output.
        return Err(LOST.into());
    }
    let close_by = stop_by.unwrap_or_else(|| Instant::now() + limits.close_within);
    follow.ended.closed = follow.wait_close(channel, close_by).await;
    Ok(follow.ended)
}

/// One command being followed.
struct Follow<'s> {
    session: &'s Session,
    socket: tokio::net::TcpStream,
    ended: Ended,
    buf: Vec<u8>,
}

impl Follow<'_> {
    /// Forgets the socket's readiness seen so far, *before* libssh2 reads: what arrives
    /// from now on marks it ready again, so no arrival between libssh2's last read and
    /// the next wait goes unnoticed.
    fn forget_readiness(&self) {
        let _ = self
            .socket
            .try_io(Interest::READABLE | Interest::WRITABLE, || {
                Err::<(), _>(io::ErrorKind::WouldBlock.into())
            });
    }

    /// Reads what both streams have now. `Ok(true)` when stdout has ended.
    fn read_available(&mut self, channel: &mut Channel) -> Result<bool, String> {
        for _ in 0..READS_PER_TURN {
            match channel.read(&mut self.buf) {
                Ok(0) => return Ok(true),
                Ok(n) => self.ended.stdout.push(&self.buf[..n]),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) => return Err(format!("{LOST} ({e})")),
            }
        }
        self.drain_stderr(channel)?;
        Ok(false)
    }

    fn drain_stderr(&mut self, channel: &Channel) -> Result<(), String> {
        let mut stderr = channel.stderr();
        for _ in 0..READS_PER_TURN {
            match stderr.read(&mut self.buf) {
                Ok(0) => break,
                Ok(n) => self.ended.stderr.push(&self.buf[..n]),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) => return Err(format!("{LOST} (reading stderr: {e})")),
            }
        }
        Ok(())
    }

    /// Waits until the socket can do what libssh2 is waiting for, or until `wake`
    /// (at the latest [`BACKSTOP`] from now).
    async fn wait(&self, wake: Instant) {
        let backstop = Instant::now() + BACKSTOP;
        let by_backstop = backstop < wake;
        let wake = wake.min(backstop);
        let interest = match self.session.block_directions() {
            BlockDirections::Outbound => Interest::WRITABLE,
            BlockDirections::Both => Interest::READABLE | Interest::WRITABLE,
            BlockDirections::Inbound | BlockDirections::None => Interest::READABLE,
        };
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

    /// Repeats a libssh2 call that may find the socket full until it goes through.
    async fn until_sent(
        &self,
        mut call: impl FnMut() -> Result<(), ssh2::Error>,
    ) -> Result<(), ssh2::Error> {
        loop {
            self.forget_readiness();
            match call() {
                Err(e) if would_block(&e) => self.wait(Instant::now() + BACKSTOP).await,
                done => return done,
            }
        }
    }

    /// Waits for the server's close of the channel until `by`; whether it came.
    async fn wait_close(&mut self, channel: &mut Channel, by: Instant) -> bool {
        loop {
            self.forget_readiness();
            match channel.wait_close() {
                Ok(()) => return true,
                Err(e) if would_block(&e) && Instant::now() < by => self.wait(by).await,
                Err(_) => return false,
            }
        }
    }
}

/// libssh2's "try again" (`LIBSSH2_ERROR_EAGAIN`) in non-blocking mode; a packet it
/// could not send whole is kept and sent first by the next call.
fn would_block(e: &ssh2::Error) -> bool {
    e.code() == ssh2::ErrorCode::Session(-37)
}
