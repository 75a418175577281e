//! Commands on managed hosts over SSH (libssh2, through `ssh2`), from a small pool of open,
//! authenticated connections per host.
//!
//! - **One connection per session slot, reused.** A host gets up to `max_sessions` SSH
//!   connections, each made on first need and then kept for every later command: a login
//!   costs a TCP and key exchange, a signature and sshd's per-connection fork, a command
//!   on an open connection only a channel (measured in `tests/e2e/ssh.rs`). Callers past
//!   `max_sessions` wait for a free slot. A connection that breaks is dropped and made
//!   anew on next use; a command is retried on a new connection only when the old one
//!   failed before the command was sent, so no command ever runs twice.
//! - **Bounded.** The TCP connect within `connect_timeout`, and each exchange of the
//!   handshake, the login and a command's start within it too (as libssh2's session
//!   timeout bounds each blocking call); a command within its own timeout, after which it
//!   is stopped *on the remote host* by a watchdog started with it (`watchdog.rs`).
//! - **Host keys** are checked against `known_hosts` before anything is sent to the host
//!   (`ssh/known_hosts.rs`): `strict` refuses unknown and changed keys, `accept-new`
//!   records unknown ones; a changed key is always an error.
//! - **Exit status** is read only after EOF and the server's close of the channel.
//!   libssh2 reports 0 when no status arrived, so a command that timed out, lost its
//!   connection, did not see its channel closed, or ended by a signal has no exit code:
//!   the engine counts that as failure, never as success. The remote shell also reports
//!   its status itself, as the last line of its stderr (taken off again here), so a
//!   server that sends no `exit-status` at all cannot make a failed command read as 0.
//! - **Keepalives** are sent while a command runs (libssh2 sends them only when asked),
//!   so that a long silent command keeps NAT and firewall state alive.
//! - **Jump hosts**: a host with a `jump` is connected to through a `direct-tcpip`
//!   channel of the jump host's one connection, shared by every host behind it
//!   (`ssh/tunnel.rs`); its own session runs inside that channel end to end, host key
//!   and login checked as for any host. An error of the jump's says which hop failed.
//! - **No thread per host**: logging in, starting a command and following it are tasks
//!   driving libssh2 in non-blocking mode on the session's socket (`ssh/watched.rs`,
//!   `ssh/pump.rs`), logins taking turns process-wide (`ssh/logins.rs`). Output is
//!   bounded ([`Captured`]).

mod auth;
mod known_hosts;
mod logins;
mod pump;
mod socket;
mod tunnel;
mod watched;

use std::collections::HashMap;
use std::io;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use ssh2::{Channel, MethodType, Session};
use tokio::sync::Semaphore;

use super::{Cancel, Captured, CommandOutput, TransportError};
use crate::config::inventory::{Host, HostIdx, Inventory, SshSettings};
use crate::config::model::Transport;
use known_hosts::KnownHostsFile;
use socket::{Socket, Watchable};
use tunnel::Tunnel;
use watched::Watched;

/// How long a timed-out command has to end once told to stop (the remote watchdog
/// sends SIGKILL 2 s after SIGTERM); past that its connection is dropped.
const STOP_GRACE: Duration = Duration::from_secs(5);
/// How long a connection being given up may take to say goodbye.
const FAREWELL: Duration = Duration::from_millis(200);

/// One inventory host reached over SSH, with its pool of connections.
pub struct SshHost {
    name: String,
    address: String,
    ssh: SshSettings,
    /// Connections ready for a command; the last one used is taken first.
    idle: Mutex<Vec<Connection>>,
    /// A permit per connection slot (`max_sessions`), held by each lease and by each
    /// login under way: callers past the limit wait for a slot, first come first served.
    slots: Semaphore,
    /// The host this one is reached through.
    jump: Option<Arc<SshHost>>,
    /// Some host is reached through this one.
    is_jump: bool,
    /// The connection to this host that the hosts behind it go through.
    tunnel: tokio::sync::Mutex<TunnelSlot>,
}

/// A jump host's connection for the hosts behind it, made on first need; or why it
/// could not be made, for the callers that were waiting while it was tried.
#[derive(Default)]
struct TunnelSlot {
    open: Option<Arc<Tunnel>>,
    failed: Option<(Instant, TransportError)>,
}

impl SshHost {
    /// The pool for `host`, reached directly (whatever its `jump`: [`SshHost::pools`]
    /// gives hosts their jumps), shared by every command on it; nothing is connected yet.
    pub fn new(host: &Host) -> Arc<SshHost> {
        Self::behind(host, None, false)
    }

    fn behind(host: &Host, jump: Option<Arc<SshHost>>, is_jump: bool) -> Arc<SshHost> {
        Arc::new(SshHost {
            name: host.name.as_str().to_string(),
            address: host.address.clone(),
            ssh: host.ssh.clone(),
            idle: Mutex::default(),
            slots: Semaphore::new(host.ssh.max_sessions.max(1) as usize),
            jump,
            is_jump,
            tunnel: tokio::sync::Mutex::default(),
        })
    }

    /// A pool for every SSH host of `inventory`, each host behind a jump given its
    /// jump's pool: so one connection to a jump host serves every host behind it.
    pub fn pools(inventory: &Inventory) -> HashMap<HostIdx, Arc<SshHost>> {
        let jumps: Vec<&str> = inventory
            .hosts
            .iter()
            .filter_map(|h| h.ssh.jump.as_ref().map(|j| j.as_str()))
            .collect();
        let mut pools: HashMap<HostIdx, Arc<SshHost>> = HashMap::new();
        for (h, host) in inventory.hosts.iter().enumerate() {
            if host.transport != Transport::Ssh {
                continue;
            }
            // Outermost first, so each jump's pool is made before the hosts behind it.
            let mut jump = None;
            for hop in inventory.route(h) {
                let hop_host = &inventory.hosts[hop];
                let pool = pools.entry(hop).or_insert_with(|| {
                    let is_jump = jumps.contains(&hop_host.name.as_str());
                    Self::behind(hop_host, jump.clone(), is_jump)
                });
                jump = Some(Arc::clone(pool));
            }
        }
        pools
    }

    /// Connects and authenticates one session (kept in the pool), for dry runs and
    /// check-inventory. A jump host's check is its connection for the hosts behind it,
    /// which they then share: one login, not two.
    pub async fn check_async(self: &Arc<Self>) -> Result<(), TransportError> {
        if self.is_jump {
            return self.tunnel().await.map(drop);
        }
        let (lease, watched) = self.lease().await?;
        // Blocking again before it goes back to the pool.
        drop(watched);
        drop(lease);
        Ok(())
    }

    /// [`SshHost::check_async`] from a thread outside any runtime, on a runtime of its
    /// own.
    pub fn check(self: &Arc<Self>) -> Result<(), TransportError> {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| self.session_error(format!("cannot start a runtime: {e}")))?
            .block_on(self.check_async())
    }

    /// Runs `command` (a shell command line, run by the remote user's shell) on a pooled
    /// session, logging in first when none is free. Stops the command on the remote host
    /// when `timeout` passes and returns `timed_out: true, exit_code: None`.
    pub async fn run(
        self: &Arc<Self>,
        command: &str,
        timeout: Duration,
        cancel: &Cancel,
    ) -> Result<CommandOutput, TransportError> {
        let line = super::watchdog::remote_command(command);
        let (mut lease, watched, mut channel, started) = self.start(&line).await?;
        let limits = pump::Limits {
            started,
            timeout,
            keepalive: self.ssh.keepalive,
            close_within: self.ssh.connect_timeout,
        };
        let pumped = pump::pump(&self.name, &watched, &mut channel, &limits, cancel).await;
        // Blocking again: the channel is let go in blocking mode, so that its close is
        // sent whole.
        drop(watched);
        let elapsed = started.elapsed();
        let mut ended = match pumped {
            Ok(ended) => ended,
            Err(reason) => {
                lease.discard();
                drop(channel);
                return Err(self.lost(reason));
            }
        };
        // The shell's own report of its exit status, taken off its stderr; libssh2 reads
        // a missing `exit-status` message as 0, so the report comes first.
        // A command that sent the shell's stderr to stdout (`exec 2>&1`) sends the
        // report there too.
        let reported = ended
            .stderr
            .take_exit_report()
            .or_else(|| ended.stdout.take_exit_report());
        let signal = channel.exit_signal().ok().and_then(|s| s.exit_signal);
        let exit_code = if ended.timed_out || !ended.closed || signal.is_some() {
            None
        } else {
            reported.or_else(|| channel.exit_status().ok())
        };
        if let Some(signal) = &signal {
            tracing::debug!(host = %self.name, "command ended by SIG{signal}");
        }
        if !ended.closed {
            // Whatever is still going on in that channel, it is not worth waiting for.
            lease.discard();
        }
        drop(channel);
        Ok(CommandOutput {
            exit_code,
            stdout: ended.stdout,
            stderr: ended.stderr,
            timed_out: ended.timed_out,
            elapsed,
        })
    }

    /// Opens a channel on a pooled connection and starts `line` in it. A pooled
    /// connection that cannot open a channel has gone stale: it is dropped and the next
    /// one (or a new one) tried, since nothing was sent to the host yet. Each exchange
    /// may take `connect_timeout`, as libssh2's session timeout allows a blocking call.
    async fn start(
        self: &Arc<Self>,
        line: &str,
    ) -> Result<(Lease, Watched, Channel, Instant), TransportError> {
        let within = Some(self.ssh.connect_timeout);
        loop {
            let (mut lease, watched) = self.lease().await?;
            // Half-opened if this is given up midway: not for reuse until started.
            lease.broken = true;
            let session = watched.session();
            let opened = watched.complete(within, || session.channel_session()).await;
            let mut channel = match opened {
                Ok(channel) => channel,
                Err(e) if lease.reused => {
                    tracing::debug!(host = %self.name, "dropping a stale connection: {e}");
                    lease.discard();
                    continue;
                }
                Err(e) => {
                    lease.discard();
                    return Err(self.session_error(format!("cannot open a channel: {e}")));
                }
            };
            let started = Instant::now();
            if let Err(e) = watched.complete(within, || channel.exec(line)).await {
                // It may or may not have started: never send it again.
                lease.discard();
                drop(channel);
                return Err(self.session_error(format!("cannot start the command: {e}")));
            }
            lease.broken = false;
            return Ok((lease, watched, channel, started));
        }
    }

    /// A free connection from the pool, a new one while slots are free, or else the next
    /// one given back; watched, for the caller to drive.
    async fn lease(self: &Arc<Self>) -> Result<(Lease, Watched), TransportError> {
        let slot = self
            .slots
            .acquire()
            .await
            .map_err(|e| self.session_error(e.to_string()))?;
        let idle = self.idle().pop();
        let lease = match idle {
            Some(connection) => {
                let watched = Watched::dup(&connection.session, &connection.socket)
                    .map_err(|e| self.session_error(format!("cannot watch the connection: {e}")))?;
                (Lease::new(self, connection, true), watched)
            }
            None => {
                let (connection, watched) = self.connect().await?;
                (Lease::new(self, connection, false), watched)
            }
        };
        // The lease gives the slot back when dropped.
        slot.forget();
        Ok(lease)
    }

    fn give_back(&self, connection: Option<Connection>) {
        if let Some(connection) = connection {
            self.idle().push(connection);
        }
        self.slots.add_permits(1);
    }

    fn idle(&self) -> MutexGuard<'_, Vec<Connection>> {
        self.idle.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A new connection: TCP, handshake, host key, login — when its turn comes among the
    /// logins of the whole process (`logins`); `connect_timeout` runs from then, for the
    /// TCP connect and again for each exchange of the login, as libssh2's session
    /// timeout did for each blocking call.
    async fn connect(&self) -> Result<(Connection, Watched), TransportError> {
        // Through a jump, the turn is taken once the way is open: the jump's own login
        // takes a turn too, and must not wait behind the hosts waiting for it.
        let (stream, _turn) = match &self.jump {
            None => {
                let turn = logins::turn().await;
                (self.tcp_connect().await?, turn)
            }
            Some(jump) => {
                let stream = self.through(jump).await?;
                (stream, logins::turn().await)
            }
        };
        self.login(stream).await
    }

    /// A connection to this host through `jump`'s tunnel, made for it on first need.
    async fn through(&self, jump: &Arc<SshHost>) -> Result<Watchable, TransportError> {
        let hop = |cause: TransportError| TransportError::Jump {
            target: self.name.clone(),
            jump: jump.name.clone(),
            cause: Box::new(cause),
        };
        // Boxed: the jump's connection may itself go through a jump.
        let mut tunnel = Box::pin(jump.tunnel()).await.map_err(hop)?;
        let fail = |reason: String| {
            hop(TransportError::Connect {
                address: self.endpoint(),
                reason,
            })
        };
        let mut retried = false;
        let local = loop {
            let opened = tunnel
                .open(&self.address, self.ssh.port, self.ssh.connect_timeout)
                .await;
            match opened {
                Ok(local) => break local,
                // The jump's connection was found lost on the way (a rebooted jump host):
                // nothing reached this host yet, so once more on a new connection.
                Err(_) if !tunnel.is_alive() && !retried => {
                    retried = true;
                    tunnel = Box::pin(jump.tunnel()).await.map_err(hop)?;
                }
                Err(reason) => return Err(fail(reason)),
            }
        };
        Socket::Unix(local)
            .watchable()
            .map_err(|e| fail(format!("cannot watch the connection: {e}")))
    }

    /// This host's connection for the hosts behind it: the open one, or a new one. A
    /// caller that waited while another's attempt failed gets that failure, instead of
    /// trying again: a hundred hosts behind a dead jump wait for it once, not in turn.
    async fn tunnel(&self) -> Result<Arc<Tunnel>, TransportError> {
        let asked = Instant::now();
        let mut slot = self.tunnel.lock().await;
        if let Some(open) = slot.open.as_ref().filter(|t| t.is_alive()) {
            return Ok(Arc::clone(open));
        }
        if let Some((at, e)) = &slot.failed
            && *at >= asked
        {
            return Err(e.clone());
        }
        let (connection, watched) = match self.connect().await {
            Ok(made) => made,
            Err(e) => {
                slot.failed = Some((Instant::now(), e.clone()));
                return Err(e);
            }
        };
        drop(watched);
        let Connection { session, socket } = connection;
        let started = socket
            .try_clone()
            .and_then(|socket| Tunnel::start(&self.name, session, socket, self.ssh.keepalive))
            .map_err(|e| self.session_error(format!("cannot start the jump connection: {e}")))?;
        let tunnel = Arc::new(started);
        slot.open = Some(Arc::clone(&tunnel));
        slot.failed = None;
        Ok(tunnel)
    }

    /// The SSH login over `stream`: handshake, host key, authentication.
    async fn login(&self, stream: Watchable) -> Result<(Connection, Watched), TransportError> {
        let begun = Instant::now();
        let within = Some(self.ssh.connect_timeout);
        let fail = |reason: String| self.session_error(reason);
        let mut session = Session::new().map_err(|e| fail(e.to_string()))?;
        session.set_timeout(millis(self.ssh.connect_timeout));
        let lookup = known_hosts::lookup_name(&self.address, self.ssh.port);
        let known_hosts = crate::local_user::expand_tilde(&self.ssh.known_hosts);
        let known = {
            let known = KnownHostsFile::load(&session, &known_hosts, &lookup)
                .map_err(|e| fail(e.to_string()))?;
            let supported = session
                .supported_algs(MethodType::HostKey)
                .unwrap_or_default();
            session
                .method_pref(
                    MethodType::HostKey,
                    &known.preferred_algorithms(&lookup, &supported),
                )
                .map_err(|e| fail(e.to_string()))?;
            known.keep()
        };
        // The session's own handle of the socket, and one kept for watching it later.
        let handle = |e: io::Error| fail(format!("cannot keep a handle of the socket: {e}"));
        let own = stream.dup().map_err(handle)?;
        let socket = own.try_clone().map(Arc::new).map_err(handle)?;
        session.set_tcp_stream(own);
        let watched = Watched::new(&session, stream);
        watched
            .complete(within, || session.handshake())
            .await
            .map_err(|e| TransportError::Connect {
                address: self.endpoint(),
                reason: format!("SSH handshake failed: {}", e.message()),
            })?;
        known
            .reopen(&session)
            .map_err(|e| fail(e.to_string()))?
            .verify(&session, &lookup, self.ssh.host_key_checking)?;
        let Some(user) = self.ssh.user.clone().or_else(crate::local_user::name) else {
            return Err(TransportError::Auth {
                address: self.endpoint(),
                user: "?".into(),
                reason: "cannot tell the local user's name; set `user` in [ssh]".into(),
            });
        };
        let identity = self
            .ssh
            .identity_file
            .as_deref()
            .map(crate::local_user::expand_tilde);
        auth::authenticate(
            &watched,
            &user,
            identity.as_deref(),
            self.ssh.connect_timeout,
        )
        .await
        .map_err(|reason| TransportError::Auth {
            address: self.endpoint(),
            user: user.clone(),
            reason,
        })?;
        tracing::debug!(host = %self.name, "logged in to {} as {user} in {:?}", self.endpoint(), begun.elapsed());
        Ok((Connection { session, socket }, watched))
    }

    /// A TCP connection to the host's first address that answers, each address given
    /// `connect_timeout`.
    async fn tcp_connect(&self) -> Result<Watchable, TransportError> {
        let fail = |reason: String| TransportError::Connect {
            address: self.endpoint(),
            reason,
        };
        let addrs = tokio::net::lookup_host((self.address.as_str(), self.ssh.port))
            .await
            .map_err(|e| fail(format!("cannot resolve the address: {e}")))?;
        let mut last = None;
        for addr in addrs {
            let connecting = tokio::net::TcpStream::connect(addr);
            match tokio::time::timeout(self.ssh.connect_timeout, connecting).await {
                Ok(Ok(stream)) => {
                    let _ = stream.set_nodelay(true);
                    return Ok(Watchable::Tcp(stream));
                }
                Ok(Err(e)) => last = Some(e),
                Err(_) => last = Some(io::ErrorKind::TimedOut.into()),
            }
        }
        Err(fail(match last {
            Some(e) if e.kind() == io::ErrorKind::TimedOut => format!(
                "no answer within {} (connect_timeout)",
                crate::config::duration::format(self.ssh.connect_timeout)
            ),
            Some(e) => e.to_string(),
            None => "the name resolves to no address".into(),
        }))
    }

    /// `addr:port`, bracketed for IPv6.
    fn endpoint(&self) -> String {
        if self.address.contains(':') {
            format!("[{}]:{}", self.address, self.ssh.port)
        } else {
            format!("{}:{}", self.address, self.ssh.port)
        }
    }

    /// Why a command's connection was lost, naming the jump host when the connection
    /// through it is gone too: then the jump host went away, or the way to it, and this
    /// host's own address alone would send whoever reads it to the wrong host.
    fn lost(&self, reason: String) -> TransportError {
        match self.jump.as_ref().filter(|j| j.tunnel_lost()) {
            Some(jump) => self.session_error(format!(
                "{reason}: the connection through jump host `{}` broke",
                jump.name
            )),
            None => self.session_error(reason),
        }
    }

    /// Whether this jump host's connection for the hosts behind it is gone: its thread
    /// has ended (it marks that before letting go of the connections through it), or a
    /// new one is being made in its place.
    fn tunnel_lost(&self) -> bool {
        self.tunnel.try_lock().map_or(true, |slot| {
            !slot.open.as_ref().is_some_and(|t| t.is_alive())
        })
    }

    fn session_error(&self, reason: String) -> TransportError {
        TransportError::Session {
            address: self.endpoint(),
            reason,
        }
    }
}

impl Drop for SshHost {
    fn drop(&mut self) {
        for Connection { session, .. } in self.idle().drain(..) {
            session.set_timeout(millis(FAREWELL));
            let _ = session.disconnect(None, "switchyard is done", None);
        }
    }
}

/// An open, authenticated connection: the libssh2 session and a second handle of its TCP
/// socket, through which tokio learns when the socket is ready ([`pump`]).
struct Connection {
    session: Session,
    socket: Arc<Socket>,
}

/// What came back from a command.
#[derive(Default)]
struct Ended {
    stdout: Captured,
    stderr: Captured,
    timed_out: bool,
    /// EOF and the server's close were both seen, so an exit status is meaningful.
    closed: bool,
}

/// A pooled connection in use; goes back to the pool when dropped, unless discarded,
/// and gives its slot back either way.
struct Lease {
    host: Arc<SshHost>,
    session: Session,
    socket: Arc<Socket>,
    /// Came from the pool rather than a fresh login.
    reused: bool,
    broken: bool,
}

impl Lease {
    fn new(host: &Arc<SshHost>, connection: Connection, reused: bool) -> Self {
        Lease {
            host: Arc::clone(host),
            session: connection.session,
            socket: connection.socket,
            reused,
            broken: false,
        }
    }

    /// Marks the connection for dropping instead of reuse. Channels still open on it are
    /// given only a moment to close.
    fn discard(&mut self) {
        self.broken = true;
        self.session.set_blocking(true);
        self.session.set_timeout(millis(FAREWELL));
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        let kept = (!self.broken).then(|| Connection {
            session: self.session.clone(),
            socket: Arc::clone(&self.socket),
        });
        self.host.give_back(kept);
    }
}

/// Sends one keepalive now. libssh2's own keepalive setting stays off: while it is on,
/// every blocking call (opening a channel, starting a command) gives up with "Timed out
/// waiting on socket" as soon as the next keepalive falls due, however long the session's
/// timeout — seen under load as commands failing to start after ~1 s.
fn send_keepalive(session: &Session) -> Result<(), ssh2::Error> {
    // An interval of 1 (libssh2 makes it 2 s) is always due when we call this.
    session.set_keepalive(true, 1);
    let sent = session.keepalive_send();
    session.set_keepalive(true, 0);
    sent.map(|_| ())
}

/// What a broken connection during a command is called, whichever read or write saw it
/// (libssh2 itself says little more than "transport read").
const LOST: &str = "the connection was lost while the command ran";

/// libssh2's timeout in milliseconds, never 0 (which would mean "wait forever").
fn millis(d: Duration) -> u32 {
    u32::try_from(d.as_millis()).unwrap_or(u32::MAX).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ssh_hosts_can_be_shared_between_threads() {
        fn shared<T: Send + Sync>() {}
        shared::<SshHost>();
    }

    #[test]
    fn a_zero_timeout_never_means_forever() {
        assert_eq!(millis(Duration::ZERO), 1);
        assert_eq!(millis(Duration::from_secs(3)), 3000);
        assert_eq!(millis(Duration::MAX), u32::MAX);
    }
}
