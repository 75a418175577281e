//! TCP checks: can a connection to an address be opened, now?

use std::time::Duration;

use super::{Cancel, Request, TransportError};

/// Opens a TCP connection to `address` (`host:port`) and closes it again.
#[derive(Clone)]
pub struct TcpConnect {
    pub address: String,
}

impl Request for TcpConnect {
    /// The connection was made; one that was not is a [`TransportError::Connect`] or
    /// [`TransportError::ConnectTimeout`].
    type Output = ();

    async fn perform(&self, timeout: Duration, cancel: &Cancel) -> Result<(), TransportError> {
        let address = &self.address;
        let connect =
            tokio::time::timeout(timeout, tokio::net::TcpStream::connect(address.as_str()));
        tokio::select! {
            r = connect => match r {
                Ok(Ok(_)) => Ok(()),
                Ok(Err(e)) => Err(TransportError::Connect {
                    address: address.clone(),
                    reason: e.to_string(),
                }),
                Err(_) => Err(TransportError::ConnectTimeout {
                    address: address.clone(),
                    within: timeout,
                }),
            },
            () = cancel.wait() => Err(TransportError::Interrupted),
        }
    }
}
