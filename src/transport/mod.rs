//! Transport owns every side effect on a managed host or a service: commands over SSH
//! ([`ssh`]) or `sh -c` on this machine ([`local`]), HTTP requests ([`http`]), TCP
//! connects ([`tcp`]), and the connections they use ([`Transports`]: an SSH pool per
//! host, the hosts behind a jump host sharing its one connection; an HTTP client per TLS
//! setting).
//!
//! Each is a [`Request`] that transport performs, bounded by a timeout and stopped by
//! [`Cancel`], and answers with a raw result — an exit code and captured output, an
//! HTTP status and the body read, a connection made — or a [`TransportError`] saying it
//! could not be performed. What a result means (the expected exit, status or body,
//! retries, an unreachable source host in a failover) is for the engine to judge.

mod cancel;
pub mod capture;
mod command;
mod error;
pub mod http;
pub mod local;
mod registry;
mod request;
pub mod ssh;
pub mod tcp;
mod watchdog;

pub use cancel::Cancel;
pub use capture::{Captured, excerpt};
pub use command::{Command, CommandOutput, Target};
pub use error::TransportError;
pub use http::{HttpRequest, HttpResponse};
pub use registry::Transports;
pub use request::Request;
pub use tcp::TcpConnect;
