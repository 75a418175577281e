//! The connections a run uses, made ready before its first step: an SSH pool per host,
//! an HTTP client per TLS setting. A lookup that finds none is a bug in switchyard, and
//! surfaces as an error when the request is performed; it never picks another transport.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::path::PathBuf;
use std::sync::Arc;

use super::ssh::SshHost;
use super::{Target, http};
use crate::config::inventory::{HostIdx, Inventory};
use crate::config::model::Transport;
use crate::config::runbook::{Action, HttpCheck, Runbook};

/// The connections a run uses: one SSH pool per host, HTTP clients by TLS settings.
pub struct Transports {
    ssh: HashMap<HostIdx, Arc<SshHost>>,
    http: HashMap<TlsSettings, reqwest::Client>,
}

/// An HTTP check's `ca_file` and `insecure_tls`.
type TlsSettings = (Option<PathBuf>, bool);

fn tls_settings(check: &HttpCheck) -> TlsSettings {
    (check.ca_file.clone(), check.insecure_tls)
}

impl Transports {
    /// A connection pool for every SSH host of the runbook's inventory and an HTTP client
    /// for every TLS setting its steps use: whatever any pass touches — the switchover,
    /// a rollback in the opposite direction, a resumed run — finds its transport here.
    /// Opens nothing yet: SSH sessions are made on first use.
    pub fn new(rb: &Runbook) -> Result<Transports, String> {
        let ssh = SshHost::pools(&rb.inventory);
        let mut clients = HashMap::new();
        let invariants = rb
            .origins
            .iter()
            .flat_map(|o| &o.invariants)
            .map(|i| &i.step);
        for step in rb
            .services
            .iter()
            .flat_map(|s| s.phases.iter().flatten())
            .chain(invariants)
        {
            if let Action::Http(check) = &step.action
                && let Entry::Vacant(e) = clients.entry(tls_settings(check))
            {
                e.insert(http::client(check.ca_file.as_deref(), check.insecure_tls)?);
            }
        }
        Ok(Transports { ssh, http: clients })
    }

    /// The SSH hosts among `hosts` of `inventory` (a plan's, say), by name, in name
    /// order, each once.
    pub fn ssh_hosts(
        &self,
        inventory: &Inventory,
        hosts: impl IntoIterator<Item = HostIdx>,
    ) -> Vec<(String, Arc<SshHost>)> {
        let mut hosts: Vec<HostIdx> = hosts.into_iter().collect();
        hosts.sort_unstable();
        hosts.dedup();
        let mut v: Vec<(String, Arc<SshHost>)> = hosts
            .into_iter()
            .filter_map(|h| {
                let name = inventory.hosts[h].name.to_string();
                self.ssh.get(&h).map(|s| (name, s.clone()))
            })
            .collect();
        v.sort_by(|a, b| a.0.cmp(&b.0));
        v
    }

    /// Where a command for host `h` of `rb`'s inventory (or for none) runs.
    pub fn target(&self, rb: &Runbook, host: Option<HostIdx>) -> Target {
        match host.map(|h| (h, &rb.inventory.hosts[h])) {
            Some((h, host)) if host.transport == Transport::Ssh => match self.ssh.get(&h) {
                Some(c) => Target::Ssh(c.clone()),
                None => Target::Unprepared(host.name.to_string()),
            },
            _ => Target::Local,
        }
    }

    /// The client for `check`'s TLS settings; `None` is a bug, and the request built
    /// with it fails without being sent.
    pub fn http_client(&self, check: &HttpCheck) -> Option<reqwest::Client> {
        self.http.get(&tls_settings(check)).cloned()
    }
}
