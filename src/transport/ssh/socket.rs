//! The socket under an SSH session: a TCP connection to the host, or, for a host reached
//! through a jump host, one end of a Unix socket pair whose other end the jump's tunnel
//! carries to it (`tunnel.rs`). The session reads and writes it alike; only how tokio
//! watches it differs.

use std::io;
use std::net::TcpStream;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::os::unix::net::UnixStream;

use tokio::io::{Interest, Ready};

/// A session's socket, as the session and the pool keep it.
pub(super) enum Socket {
    Tcp(TcpStream),
    Unix(UnixStream),
}

impl Socket {
    pub(super) fn try_clone(&self) -> io::Result<Socket> {
        Ok(match self {
            Socket::Tcp(s) => Socket::Tcp(s.try_clone()?),
            Socket::Unix(s) => Socket::Unix(s.try_clone()?),
        })
    }

    /// This handle, non-blocking and registered with tokio.
    pub(super) fn watchable(self) -> io::Result<Watchable> {
        Ok(match self {
            Socket::Tcp(s) => {
                s.set_nonblocking(true)?;
                Watchable::Tcp(tokio::net::TcpStream::from_std(s)?)
            }
            Socket::Unix(s) => {
                s.set_nonblocking(true)?;
                Watchable::Unix(tokio::net::UnixStream::from_std(s)?)
            }
        })
    }
}

impl AsFd for Socket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        match self {
            Socket::Tcp(s) => s.as_fd(),
            Socket::Unix(s) => s.as_fd(),
        }
    }
}

impl AsRawFd for Socket {
    fn as_raw_fd(&self) -> RawFd {
        self.as_fd().as_raw_fd()
    }
}

/// A session's socket registered with tokio, which tells when it is ready.
pub(super) enum Watchable {
    Tcp(tokio::net::TcpStream),
    Unix(tokio::net::UnixStream),
}

impl Watchable {
    pub(super) async fn ready(&self, interest: Interest) -> io::Result<Ready> {
        match self {
            Watchable::Tcp(s) => s.ready(interest).await,
            Watchable::Unix(s) => s.ready(interest).await,
        }
    }

    /// Forgets the readiness for `interest` seen so far.
    pub(super) fn forget(&self, interest: Interest) {
        let would_block = || Err::<(), _>(io::ErrorKind::WouldBlock.into());
        let _ = match self {
            Watchable::Tcp(s) => s.try_io(interest, would_block),
            Watchable::Unix(s) => s.try_io(interest, would_block),
        };
    }

    /// Another handle of the same socket, for the session to own.
    pub(super) fn dup(&self) -> io::Result<Socket> {
        let fd = self.as_fd().try_clone_to_owned()?;
        Ok(match self {
            Watchable::Tcp(_) => Socket::Tcp(TcpStream::from(fd)),
            Watchable::Unix(_) => Socket::Unix(UnixStream::from(fd)),
        })
    }
}

impl AsFd for Watchable {
    fn as_fd(&self) -> BorrowedFd<'_> {
        match self {
            Watchable::Tcp(s) => s.as_fd(),
            Watchable::Unix(s) => s.as_fd(),
        }
    }
}
