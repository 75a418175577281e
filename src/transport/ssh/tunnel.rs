//! One SSH connection to a jump host, shared by every connection made through it (as
//! OpenSSH's ProxyJump does with a ControlMaster on the jump).
//!
//! Each connection through the jump is a `direct-tcpip` channel of that one session, and
//! the target's own SSH session runs inside it, end to end: its host key is checked and
//! its login made by the target's session as for any host, and the jump host carries
//! only encrypted bytes. libssh2 wants a file descriptor to read and write, so each
//! channel is bridged to one end of a Unix socket pair, and the target's session is
//! given the other end.
//!
//! One thread per jump connection drives the jump's session and all its bridges.
//! libssh2 takes in whatever arrives for any channel while reading for one, so the
//! socket's readiness cannot be split among tasks without losing wake-ups; one loop
//! that moves what it can through every bridge, then `poll`s every socket it waits on at
//! once, cannot miss one. At 100 hosts behind a jump that is one thread, not 100.
//!
//! libssh2 opens one channel of a session at a time, so opens are queued and made one
//! after the other (each is one exchange with the jump). A target that the jump host
//! cannot reach, and whose packets are dropped rather than refused, holds up the opens
//! behind it until the jump's sshd gives up connecting to it; its own caller is told
//! after its `connect_timeout`.
//!
//! Keepalives go out every `keepalive` of the jump host while the connection is open,
//! whether or not anything runs through it.

mod bridge;

use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::os::fd::AsFd;
use std::os::unix::net::UnixStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use ssh2::{BlockDirections, ErrorCode, Session};
use tokio::sync::oneshot;

use super::socket::Socket;
use super::watched::{BACKSTOP, would_block};
use super::{FAREWELL, millis, send_keepalive};
use bridge::Bridge;

/// The open connection to a jump host, through which connections to the hosts behind
/// it are made. The thread that drives it ends when this is dropped.
pub(super) struct Tunnel {
    requests: mpsc::Sender<Open>,
    /// Wakes the thread from its `poll` when a request is queued or this is dropped.
    wake: UnixStream,
    alive: Arc<AtomicBool>,
}

/// A request for a connection through the jump to `host:port`.
struct Open {
    host: String,
    port: u16,
    within: Duration,
    reply: oneshot::Sender<Result<UnixStream, String>>,
}

impl Tunnel {
    /// Takes over `session`, logged in to the jump host over `socket`, and starts the
    /// thread that drives it.
    pub(super) fn start(
        jump: &str,
        session: Session,
        socket: Socket,
        keepalive: Option<Duration>,
    ) -> io::Result<Tunnel> {
        let (requests, queue) = mpsc::channel();
        let (wake, woken) = UnixStream::pair()?;
        woken.set_nonblocking(true)?;
        wake.set_nonblocking(true)?;
        let alive = Arc::new(AtomicBool::new(true));
        let mut driver = Driver {
            session,
            socket,
            queue,
            woken,
            waiting: VecDeque::new(),
            opening: None,
            bridges: Vec::new(),
            keepalive,
            next_keepalive: keepalive.map(|k| Instant::now() + k),
            alive: Arc::clone(&alive),
            dropped: None,
        };
        std::thread::Builder::new()
            .name(format!("jump {jump}"))
            .spawn(move || driver.run())?;
        Ok(Tunnel {
            requests,
            wake,
            alive,
        })
    }

    /// Whether the connection to the jump host is still open.
    pub(super) fn is_alive(&self) -> bool {
        self.alive.load(Ordering::Relaxed)
    }

    /// A connection through the jump host to `host:port`: the local end of a socket
    /// pair, whose other end the thread carries to and from a `direct-tcpip` channel.
    /// The jump's sshd has `within` (from when its turn comes) to connect to it.
    pub(super) async fn open(
        &self,
        host: &str,
        port: u16,
        within: Duration,
    ) -> Result<UnixStream, String> {
        let (reply, answer) = oneshot::channel();
        let lost = || "the connection to the jump host was lost".to_string();
        self.requests
            .send(Open {
                host: host.to_string(),
                port,
                within,
                reply,
            })
            .map_err(|_| lost())?;
        self.nudge();
        answer.await.unwrap_or_else(|_| Err(lost()))
    }

    fn nudge(&self) {
        // A full socket buffer already holds a wake-up.
        let _ = (&self.wake).write(&[1]);
    }
}

impl Drop for Tunnel {
    fn drop(&mut self) {
        // The queue's sender goes with `self`: the thread sees it gone once woken.
        self.nudge();
    }
}

/// The thread's side: the jump's session, its bridges and the queue of opens.
struct Driver {
    session: Session,
    socket: Socket,
    queue: mpsc::Receiver<Open>,
    woken: UnixStream,
    waiting: VecDeque<Open>,
    opening: Option<Opening>,
    bridges: Vec<Bridge>,
    keepalive: Option<Duration>,
    next_keepalive: Option<Instant>,
    alive: Arc<AtomicBool>,
    /// When the [`Tunnel`] was dropped: the connections still open through it have
    /// [`FAREWELL`] from then to end.
    dropped: Option<Instant>,
}

/// The open under way: libssh2 must be asked again with the same request until it is
/// done, even when its caller has given up.
struct Opening {
    host: String,
    port: u16,
    within: Duration,
    by: Instant,
    /// `None` once told it took too long.
    reply: Option<oneshot::Sender<Result<UnixStream, String>>>,
}

/// Why the driver stops.
enum End {
    /// The [`Tunnel`] was dropped: nothing more will be asked of it.
    Dropped,
    /// The connection to the jump host broke.
    Lost(String),
}

impl Driver {
    fn run(&mut self) {
        self.session.set_blocking(false);
        let end = loop {
            if let Err(end) = self.turn() {
                break end;
            }
        };
        self.alive.store(false, Ordering::Relaxed);
        let why = match end {
            End::Dropped => "switchyard is done".to_string(),
            End::Lost(why) => why,
        };
        tracing::debug!("jump connection closing: {why}");
        let reason = format!("the connection to the jump host was lost ({why})");
        if let Some(reply) = self.opening.take().and_then(|o| o.reply) {
            let _ = reply.send(Err(reason.clone()));
        }
        for open in self.waiting.drain(..).chain(self.queue.try_iter()) {
            let _ = open.reply.send(Err(reason.clone()));
        }
        self.bridges.clear();
        self.session.set_blocking(true);
        self.session.set_timeout(millis(FAREWELL));
        let _ = self.session.disconnect(None, "switchyard is done", None);
    }

    /// Moves what can be moved, then waits for something to move.
    fn turn(&mut self) -> Result<(), End> {
        self.take_requests()?;
        let mut waits = Waits::default();
        loop {
            let mut moved = self.open_next(&mut waits)?;
            for bridge in &mut self.bridges {
                moved |= bridge.step(&mut waits).map_err(End::Lost)?;
            }
            self.bridges.retain(|b| !b.done);
            if !moved {
                break;
            }
            waits = Waits::default();
        }
        self.keep_alive()?;
        self.wait(&waits)
    }

    /// Queues every request sent so far; `Dropped` once the [`Tunnel`] is gone and no
    /// connection through it is left.
    fn take_requests(&mut self) -> Result<(), End> {
        if let Some(at) = self.dropped {
            // Connections still open through it end on their own (their hosts were let
            // go first, so that is at once), or are cut.
            let ended = self.bridges.is_empty() && self.opening.is_none();
            return if ended || at.elapsed() > FAREWELL {
                Err(End::Dropped)
            } else {
                Ok(())
            };
        }
        let mut buf = [0; 64];
        while matches!((&self.woken).read(&mut buf), Ok(n) if n > 0) {}
        loop {
            match self.queue.try_recv() {
                Ok(open) => self.waiting.push_back(open),
                Err(mpsc::TryRecvError::Empty) => return Ok(()),
                Err(mpsc::TryRecvError::Disconnected) => {
                    self.dropped = Some(Instant::now());
                    return self.take_requests();
                }
            }
        }
    }

    /// Starts or goes on with the open at the head of the queue; whether anything
    /// changed.
    fn open_next(&mut self, waits: &mut Waits) -> Result<bool, End> {
        if self.opening.is_none() {
            // A caller that gave up before its turn is not asked for.
            while self.waiting.front().is_some_and(|o| o.reply.is_closed()) {
                self.waiting.pop_front();
            }
            let Some(open) = self.waiting.pop_front() else {
                return Ok(false);
            };
            self.opening = Some(Opening {
                host: open.host,
                port: open.port,
                within: open.within,
                by: Instant::now() + open.within,
                reply: Some(open.reply),
            });
        }
        let Some(opening) = &mut self.opening else {
            return Ok(false);
        };
        let opened = self
            .session
            .channel_direct_tcpip(&opening.host, opening.port, None);
        let reply = match opened {
            Err(e) if would_block(&e) => {
                waits.session = true;
                if Instant::now() >= opening.by
                    && let Some(reply) = opening.reply.take()
                {
                    let _ = reply.send(Err(format!(
                        "the jump host did not connect to it within {} (connect_timeout)",
                        crate::config::duration::format(opening.within)
                    )));
                }
                if opening.reply.is_some() {
                    waits.until(opening.by);
                }
                return Ok(false);
            }
            Err(e) if session_lost(&e) => return Err(End::Lost(e.message().to_string())),
            Err(e) => Err(format!(
                "the jump host could not open a connection to it: {}",
                e.message()
            )),
            Ok(channel) => Bridge::new(channel).map_err(|e| format!("cannot bridge it: {e}")),
        };
        let to = self.opening.take().and_then(|o| o.reply);
        match (reply, to) {
            (Ok((bridge, local)), to) => {
                // A caller told it took too long, or gone meanwhile, drops its end (with
                // the answer): the bridge then sees it closed and closes the channel.
                if let Some(to) = to {
                    let _ = to.send(Ok(local));
                }
                self.bridges.push(bridge);
            }
            (Err(e), Some(to)) => {
                let _ = to.send(Err(e));
            }
            (Err(_), None) => {}
        }
        Ok(true)
    }

    fn keep_alive(&mut self) -> Result<(), End> {
        let (Some(at), Some(every)) = (self.next_keepalive, self.keepalive) else {
            return Ok(());
        };
        if Instant::now() < at {
            return Ok(());
        }
        match send_keepalive(&self.session) {
            Err(e) if !would_block(&e) => {
                return Err(End::Lost(format!("a keepalive could not be sent: {e}")));
            }
            _ => {}
        }
        self.next_keepalive = Some(Instant::now() + every);
        Ok(())
    }

    /// Waits until a socket can do what was waited on, a keepalive or an open's
    /// deadline falls due, or [`BACKSTOP`] passes.
    fn wait(&self, waits: &Waits) -> Result<(), End> {
        let mut fds = Vec::with_capacity(self.bridges.len() + 2);
        let jump = match (waits.session, self.session.block_directions()) {
            (false, _) => PollFlags::empty(),
            (true, BlockDirections::Outbound) => PollFlags::POLLOUT,
            (true, BlockDirections::Both) => PollFlags::POLLIN | PollFlags::POLLOUT,
            (true, _) => PollFlags::POLLIN,
        };
        fds.push(PollFd::new(self.socket.as_fd(), jump));
        // Once the `Tunnel` is gone, its wake-up socket reads as ended for good.
        if self.dropped.is_none() {
            fds.push(PollFd::new(self.woken.as_fd(), PollFlags::POLLIN));
        }
        for bridge in &self.bridges {
            let wanted = bridge.wants();
            if !wanted.is_empty() {
                fds.push(PollFd::new(bridge.local.as_fd(), wanted));
            }
        }
        let mut wake = Instant::now() + BACKSTOP;
        if let Some(at) = self.next_keepalive {
            wake = wake.min(at);
        }
        if let Some(at) = waits.by {
            wake = wake.min(at);
        }
        if let Some(at) = self.dropped {
            wake = wake.min(at + FAREWELL);
        }
        let timeout = wake.saturating_duration_since(Instant::now());
        let timeout = PollTimeout::try_from(timeout).unwrap_or(PollTimeout::MAX);
        match poll(&mut fds, timeout) {
            Ok(_) | Err(nix::errno::Errno::EINTR) => {}
            Err(e) => return Err(End::Lost(format!("cannot wait on the socket: {e}"))),
        }
        let broken = PollFlags::POLLHUP | PollFlags::POLLERR;
        if fds[0].revents().is_some_and(|r| r.intersects(broken)) {
            return Err(End::Lost("the jump host closed the connection".into()));
        }
        Ok(())
    }
}

/// What the last sweep found it must wait for.
#[derive(Default)]
struct Waits {
    /// Something waits on the jump's session (to read or to send, as libssh2 says).
    session: bool,
    /// The earliest deadline of an open under way.
    by: Option<Instant>,
}

impl Waits {
    fn until(&mut self, at: Instant) {
        self.by = Some(self.by.map_or(at, |b| b.min(at)));
    }
}

/// Whether a libssh2 error means the whole session is gone, not one channel.
fn session_lost(e: &ssh2::Error) -> bool {
    // LIBSSH2_ERROR_SOCKET_NONE, _SOCKET_SEND, _SOCKET_DISCONNECT, _SOCKET_TIMEOUT,
    // _SOCKET_RECV
    matches!(e.code(), ErrorCode::Session(-1 | -7 | -13 | -30 | -43))
}
