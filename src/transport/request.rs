//! The one interface between the engine and the transports: a request is performed and
//! answered with a raw result, which the engine judges.

use std::future::Future;
use std::time::Duration;

use super::{Cancel, TransportError};

/// A side effect on a host or a service: a [`Command`](super::Command) on a target, an
/// [`HttpRequest`](super::HttpRequest), a [`TcpConnect`](super::TcpConnect).
pub trait Request {
    /// What came back, uninterpreted: an exit code and captured output, an HTTP status
    /// and body, a connection made.
    type Output;

    /// Performs the request, within `timeout` and until `cancel` is set. `Err`: it could
    /// not be performed (no connection, no answer, interrupted).
    fn perform(
        &self,
        timeout: Duration,
        cancel: &Cancel,
    ) -> impl Future<Output = Result<Self::Output, TransportError>> + Send;
}
