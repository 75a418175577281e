//! Why a request could not be performed — as opposed to performed with a result the
//! engine then judges (a non-zero exit, a 503).

use std::time::Duration;

/// Why a request could not be performed at all (as opposed to running and failing).
/// Which of these count as an unreachable host is the engine's call, not transport's.
#[derive(Clone, Debug, thiserror::Error)]
pub enum TransportError {
    #[error("cannot connect to {address}: {reason}")]
    Connect { address: String, reason: String },
    /// A TCP connection that was neither made nor refused within the timeout.
    #[error("no connection to {address} within {}", format(.within))]
    ConnectTimeout { address: String, within: Duration },
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
    /// A host behind a jump host that could not be reached through it: the jump itself
    /// failed (`cause` is its error), or it could not connect on to the host.
    #[error("cannot reach {target} through {jump}: {cause}")]
    Jump {
        target: String,
        jump: String,
        cause: Box<TransportError>,
    },
    #[error("cannot start `sh`: {0}")]
    Spawn(String),
    /// An HTTP request (`request` is its method and URL) that got no answer.
    #[error("{request}: {reason}")]
    NoAnswer { request: String, reason: String },
    /// An HTTP answer whose body broke off: part of a body is never passed on as if it
    /// were the whole.
    #[error("{request} answered {status}, but its body could not be read: {reason}")]
    BodyUnread {
        request: String,
        status: u16,
        reason: String,
    },
    /// The registry had no SSH pool for the host: a bug in switchyard, never a reason
    /// to run the command somewhere else.
    #[error(
        "SSH session to {host} failed: switchyard prepared no connection for this host (a bug in switchyard); the command was not run anywhere"
    )]
    NoSshPool { host: String },
    /// The registry had no HTTP client for the check's TLS settings: a bug in switchyard.
    #[error(
        "{request}: switchyard prepared no HTTP client for this check's TLS settings (a bug in switchyard); no request was sent"
    )]
    NoHttpClient { request: String },
    /// [`Cancel`](super::Cancel) was set before an answer came.
    #[error("stopped by switchyard: the run was interrupted")]
    Interrupted,
}

impl TransportError {
    /// Whether the host could not be reached at all, as opposed to reached and refusing
    /// (a host key, a login): through a jump, the hop that failed decides.
    pub fn is_unreachable(&self) -> bool {
        match self {
            TransportError::Connect { .. } => true,
            TransportError::Jump { cause, .. } => cause.is_unreachable(),
            _ => false,
        }
    }
}

fn format(d: &Duration) -> String {
    crate::config::duration::format(*d)
}
