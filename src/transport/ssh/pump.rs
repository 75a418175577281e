//! Following a started command to its end without a thread of its own, on the watched
//! session ([`Watched`]): a command that runs for an hour costs a task that wakes when
//! the host sends something, when a keepalive or the deadline falls due, or when the run
//! is cancelled. At 1,000 hosts that is the difference between 1,000 parked threads (each
//! with its stack and allocator caches) and 1,000 small futures.
//!
//! libssh2 reads whole packets from the socket and queues those of other streams, so the
//! socket being quiet says nothing about stderr: both streams are read until libssh2 says
//! "would block" before waiting again. When libssh2 is stuck on *sending* (a window
//! adjustment into a full socket buffer) the wait is for writability instead.

use std::io::{self, Read};
use std::time::{Duration, Instant};

use ssh2::Channel;

use super::watched::{Watched, would_block};
use super::{Ended, LOST, STOP_GRACE, send_keepalive};
use crate::transport::Cancel;

/// Reads in one turn before giving other tasks theirs, so a flood of output cannot hold
/// a runtime thread.
const READS_PER_TURN: usize = 64;

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
    watched: &Watched,
    channel: &mut Channel,
    limits: &Limits,
    cancel: &Cancel,
) -> Result<Ended, String> {
    let session = watched.session();
    let mut follow = Follow {
        watched,
        ended: Ended::default(),
        buf: vec![0; 32 * 1024],
    };
    let deadline = limits.started + limits.timeout;
    let mut next_keepalive = limits.keepalive.map(|k| Instant::now() + k);
    let mut stop_by = None;
    // A look at what libssh2 holds that read nothing: not repeated until something is.
    let mut looked_in_vain = false;
    loop {
        watched.forget_readiness();
        let before = follow.received();
        if follow.read_available(channel)? {
            break;
        }
        let progressed = follow.received() != before;
        let now = Instant::now();
        if stop_by.is_none() && (now >= deadline || cancel.is_set()) {
            follow.ended.timed_out = true;
            watched
                .complete(None, || channel.send_eof())
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
        if taken_in(channel) && (progressed || !looked_in_vain) {
            // Nothing to wait for: only to let other tasks have their turn.
            looked_in_vain = !progressed;
            tokio::task::yield_now().await;
            continue;
        }
        looked_in_vain = false;
        tokio::select! {
            () = watched.wait(wake) => {}
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

/// Whether libssh2 holds more for the channel than was read: reading one stream reads
/// the socket for both, so reading stderr may have taken in stdout's output or its end,
/// which no readiness of the socket would tell of.
fn taken_in(channel: &Channel) -> bool {
    channel.eof() || channel.read_window().available > 0
}

/// One command being followed.
struct Follow<'s> {
    watched: &'s Watched,
    ended: Ended,
    buf: Vec<u8>,
}

impl Follow<'_> {
    /// Bytes read so far, on both streams.
    fn received(&self) -> u64 {
        self.ended.stdout.total() + self.ended.stderr.total()
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

    /// Waits for the server's close of the channel until `by`; whether it came.
    async fn wait_close(&mut self, channel: &mut Channel, by: Instant) -> bool {
        loop {
            self.watched.forget_readiness();
            match channel.wait_close() {
                Ok(()) => return true,
                Err(e) if would_block(&e) && Instant::now() < by => self.watched.wait(by).await,
                Err(_) => return false,
            }
        }
    }
}
