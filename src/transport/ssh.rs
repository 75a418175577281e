//! SSH transport (being written; this placeholder only fixes the interface).

use std::time::Duration;

use super::{CommandOutput, TransportError};
use crate::config::inventory::Host;

pub struct SshHost {
    address: String,
}

impl SshHost {
    pub fn new(host: &Host) -> SshHost {
        SshHost {
            address: host.address.clone(),
        }
    }

    pub fn check(&self) -> Result<(), TransportError> {
        Err(TransportError::Session {
            address: self.address.clone(),
            reason: "not built yet".into(),
        })
    }

    pub fn run(&self, _command: &str, _timeout: Duration) -> Result<CommandOutput, TransportError> {
        self.check().map(|()| unreachable!())
    }
}
