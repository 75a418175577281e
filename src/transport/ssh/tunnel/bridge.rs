//! One connection through the jump host: a `direct-tcpip` channel of the jump's session
//! and the local end of the Unix socket pair whose other end the target's session reads
//! and writes. The driver (`tunnel.rs`) steps every bridge in turn; a step moves what it
//! can each way without blocking and says what it would wait for.

use std::io::{self, Read, Write};
use std::net::Shutdown;
use std::os::unix::net::UnixStream;

use nix::poll::PollFlags;
use ssh2::Channel;

use super::super::watched::would_block;
use super::{Waits, session_lost};

/// What one bridge moves at a time, each way.
const CHUNK: usize = 32 * 1024;

/// One connection through the jump: a `direct-tcpip` channel and the local end of the
/// socket pair whose other end the target's session uses.
pub(super) struct Bridge {
    channel: Channel,
    pub(super) local: UnixStream,
    /// Read from the channel, not yet written to the local end.
    inbound: Pending,
    /// Read from the local end, not yet written to the channel.
    outbound: Pending,
    /// The channel's far end sent EOF: once `inbound` is written, the local end is shut.
    far_ended: bool,
    /// The target's session closed the local end: the channel is being closed.
    near_ended: bool,
    wants_read: bool,
    wants_write: bool,
    pub(super) done: bool,
}

/// Bytes read on one side and not yet written on the other, in a buffer kept for the
/// bridge's life.
struct Pending {
    buf: Vec<u8>,
    len: usize,
    at: usize,
}

impl Pending {
    fn new() -> Pending {
        Pending {
            buf: vec![0; CHUNK],
            len: 0,
            at: 0,
        }
    }

    fn is_empty(&self) -> bool {
        self.at >= self.len
    }

    fn rest(&self) -> &[u8] {
        &self.buf[self.at..self.len]
    }

    /// `n` bytes were read into the buffer.
    fn filled(&mut self, n: usize) {
        self.len = n;
        self.at = 0;
    }
}

impl Bridge {
    /// The bridge of `channel`, and the socket pair's other end for the target's session.
    pub(super) fn new(channel: Channel) -> io::Result<(Bridge, UnixStream)> {
        let (local, theirs) = UnixStream::pair()?;
        local.set_nonblocking(true)?;
        let bridge = Bridge {
            channel,
            local,
            inbound: Pending::new(),
            outbound: Pending::new(),
            far_ended: false,
            near_ended: false,
            wants_read: false,
            wants_write: false,
            done: false,
        };
        Ok((bridge, theirs))
    }

    /// What the local end is waited on for.
    pub(super) fn wants(&self) -> PollFlags {
        let mut flags = PollFlags::empty();
        if self.wants_read {
            flags |= PollFlags::POLLIN;
        }
        if self.wants_write {
            flags |= PollFlags::POLLOUT;
        }
        flags
    }

    /// Moves what it can both ways; whether anything moved. An `Err` means the jump's
    /// connection is lost (for every bridge).
    pub(super) fn step(&mut self, waits: &mut Waits) -> Result<bool, String> {
        self.wants_read = false;
        self.wants_write = false;
        let moved = self.move_in(waits)? | self.move_out(waits)?;
        if self.far_ended && self.inbound.is_empty() && !self.near_ended {
            // The target's session sees the end of its connection.
            let _ = self.local.shutdown(Shutdown::Both);
            self.near_ended = true;
        }
        if self.near_ended {
            // The target's session is gone: the channel closes, whatever it still sends.
            match self.channel.close() {
                Ok(()) => self.done = true,
                Err(e) if would_block(&e) => waits.session = true,
                Err(e) if session_lost(&e) => return Err(e.message().to_string()),
                Err(_) => self.done = true,
            }
        }
        Ok(moved)
    }

    /// From the channel to the local end.
    fn move_in(&mut self, waits: &mut Waits) -> Result<bool, String> {
        let mut moved = false;
        if self.inbound.is_empty() && !self.far_ended && !self.near_ended {
            match self.channel.read(&mut self.inbound.buf) {
                Ok(0) => self.far_ended = true,
                Ok(n) => self.inbound.filled(n),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => waits.session = true,
                Err(e) => return self.channel_failed(&e).map(|()| true),
            }
            moved = self.far_ended || !self.inbound.is_empty();
        }
        if !self.inbound.is_empty() && !self.near_ended {
            match (&self.local).write(self.inbound.rest()) {
                Ok(n) => {
                    self.inbound.at += n;
                    moved = true;
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.wants_write = true,
                Err(_) => {
                    self.near_ended = true;
                    moved = true;
                }
            }
        }
        Ok(moved)
    }

    /// From the local end to the channel.
    fn move_out(&mut self, waits: &mut Waits) -> Result<bool, String> {
        let mut moved = false;
        if self.outbound.is_empty() && !self.near_ended {
            match (&self.local).read(&mut self.outbound.buf) {
                Ok(0) => {
                    self.near_ended = true;
                    moved = true;
                }
                Ok(n) => {
                    self.outbound.filled(n);
                    moved = true;
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.wants_read = true,
                Err(_) => {
                    self.near_ended = true;
                    moved = true;
                }
            }
        }
        if !self.outbound.is_empty() && !self.near_ended && !self.far_ended {
            match self.channel.write(self.outbound.rest()) {
                Ok(n) => {
                    self.outbound.at += n;
                    moved |= n > 0;
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => waits.session = true,
                Err(e) => return self.channel_failed(&e).map(|()| true),
            }
        }
        Ok(moved)
    }

    /// A read or write of the channel failed: the jump's connection is lost, or only
    /// this channel, which then ends.
    fn channel_failed(&mut self, e: &io::Error) -> Result<(), String> {
        let code = e
            .get_ref()
            .and_then(|inner| inner.downcast_ref::<ssh2::Error>());
        if code.is_some_and(session_lost) {
            return Err(e.to_string());
        }
        self.far_ended = true;
        self.inbound.filled(0);
        Ok(())
    }
}
