//! One step on one host (or on none), made concrete: every template rendered (with the
//! secrets' values for the host, redacted for people), every transport chosen. The
//! scheduler starts jobs; an executor runs them.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use crate::config::inventory::HostIdx;
use crate::config::model::{On, Phase, Transport};
use crate::config::runbook::{Action, HttpCheck, Runbook, Step};
use crate::config::template::Template;
use crate::plan::Plan;
use crate::plan::bindings::Bindings;
use crate::transport::ssh::SshHost;

/// Where a command runs.
#[derive(Clone)]
pub enum Target {
    Local,
    Ssh(Arc<SshHost>),
    /// An SSH host for which no connection was prepared: a bug in switchyard. The
    /// command fails and says so; it never runs anywhere else instead.
    Unprepared(String),
}

/// An HTTP check, fully resolved.
#[derive(Clone)]
pub struct HttpRequest {
    /// `None`: no client was prepared for its TLS settings (a bug); the check fails.
    pub client: Option<reqwest::Client>,
    pub method: reqwest::Method,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<String>,
    /// Empty: any 2xx.
    pub expect_status: Vec<u16>,
    pub expect_body: Option<String>,
}

/// What one attempt does.
#[derive(Clone)]
pub enum Work {
    Command {
        target: Target,
        command: String,
        expect_exit: i32,
        expect_stdout: Option<String>,
    },
    Http(Box<HttpRequest>),
    Tcp {
        address: String,
    },
    Manual {
        text: String,
        /// How long a person has to confirm it; `None`: as long as it takes.
        limit: Option<Duration>,
    },
    Sleep(Duration),
}

/// How often and how long to try.
#[derive(Clone, Copy, Debug)]
pub struct Policy {
    pub check: bool,
    pub timeout: Duration,
    pub retries: u32,
    pub retry_interval: Duration,
    pub within: Option<Duration>,
    pub interval: Duration,
    pub consecutive: u32,
}

impl Policy {
    fn of(step: &Step) -> Policy {
        Policy {
            check: step.phase.is_check(),
            timeout: step.timeout,
            retries: step.retries,
            retry_interval: step.retry_interval,
            within: step.within,
            interval: step.interval,
            consecutive: step.consecutive,
        }
    }
}

#[derive(Clone)]
pub struct Job {
    /// Index into [`Plan::steps`].
    pub step: usize,
    pub host: Option<HostIdx>,
    pub id: String,
    pub service: String,
    pub name: String,
    pub phase: Phase,
    pub host_name: Option<String>,
    /// What it does, for people: secrets redacted.
    pub does: String,
    pub work: Work,
    pub policy: Policy,
    /// Runs in the hall being left (matters in failover mode, where that hall may be
    /// gone).
    pub source_side: bool,
}

impl Job {
    /// "step db.stop.1 on db-a1", for messages that must name step and host.
    pub fn place(&self) -> String {
        match &self.host_name {
            Some(h) => format!("step {} on {h}", self.id),
            None => format!("step {}", self.id),
        }
    }
}

/// The connections a run uses: one SSH pool per host, HTTP clients by TLS settings.
pub struct Transports {
    ssh: HashMap<HostIdx, Arc<SshHost>>,
    http: HashMap<(Option<std::path::PathBuf>, bool), reqwest::Client>,
}

impl Transports {
    /// A connection pool for every SSH host of the runbook's inventory and an HTTP client
    /// for every TLS setting its steps use: whatever any pass touches — the switchover,
    /// a rollback in the opposite direction, a resumed run — finds its transport here.
    /// Opens nothing yet: SSH sessions are made on first use.
    pub fn new(rb: &Runbook) -> Result<Transports, String> {
        let ssh = rb
            .inventory
            .hosts
            .iter()
            .enumerate()
            .filter(|(_, h)| h.transport == Transport::Ssh)
            .map(|(i, h)| (i, Arc::new(SshHost::new(h))))
            .collect();
        let mut http = HashMap::new();
        for step in rb.services.iter().flat_map(|s| s.phases.iter().flatten()) {
            if let Action::Http(check) = &step.action {
                let key = (check.ca_file.clone(), check.insecure_tls);
                if let std::collections::hash_map::Entry::Vacant(e) = http.entry(key) {
                    e.insert(http_client(check)?);
                }
            }
        }
        Ok(Transports { ssh, http })
    }

    /// Every SSH host `plan` will touch, by name, in name order.
    pub fn ssh_hosts(&self, plan: &Plan<'_>) -> Vec<(String, Arc<SshHost>)> {
        let mut hosts: Vec<HostIdx> = plan
            .steps
            .iter()
            .flat_map(|s| s.hosts.iter().copied())
            .collect();
        hosts.sort_unstable();
        hosts.dedup();
        let mut v: Vec<(String, Arc<SshHost>)> = hosts
            .into_iter()
            .filter_map(|h| {
                let name = plan.runbook.inventory.hosts[h].name.to_string();
                self.ssh.get(&h).map(|s| (name, s.clone()))
            })
            .collect();
        v.sort_by(|a, b| a.0.cmp(&b.0));
        v
    }

    /// Where a command for host `h` (or for none) runs.
    fn target(&self, rb: &Runbook, host: Option<HostIdx>) -> Target {
        match host.map(|h| (h, &rb.inventory.hosts[h])) {
            Some((h, host)) if host.transport == Transport::Ssh => match self.ssh.get(&h) {
                Some(c) => Target::Ssh(c.clone()),
                None => Target::Unprepared(host.name.to_string()),
            },
            _ => Target::Local,
        }
    }
}

fn http_client(check: &HttpCheck) -> Result<reqwest::Client, String> {
    // A check speaks to the service itself: no proxy from the environment
    // (`HTTP_PROXY`) in between, which would test the proxy, or fail on loopback.
    let mut b = reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("switchyard/", env!("CARGO_PKG_VERSION")));
    if let Some(ca) = &check.ca_file {
        let pem = std::fs::read(ca)
            .map_err(|e| format!("cannot read ca_file `{}`: {e}", ca.display()))?;
        let cert = reqwest::Certificate::from_pem(&pem)
            .map_err(|e| format!("ca_file `{}` is not a PEM certificate: {e}", ca.display()))?;
        b = b.add_root_certificate(cert);
    }
    if check.insecure_tls {
        b = b.danger_accept_invalid_certs(true);
    }
    b.build().map_err(|e| format!("cannot set up HTTP: {e}"))
}

/// The jobs of plan step `step`: one per host, or one on no host.
pub fn jobs(
    plan: &Plan<'_>,
    step: usize,
    transports: &Transports,
    secrets: &BTreeMap<String, String>,
) -> Vec<Job> {
    let s = &plan.steps[step];
    let hosts: Vec<Option<HostIdx>> = if s.hosts.is_empty() {
        vec![None]
    } else {
        s.hosts.iter().copied().map(Some).collect()
    };
    hosts
        .into_iter()
        .map(|host| {
            let rb = plan.runbook;
            let host_ref = host.map(|h| &rb.inventory.hosts[h]);
            let bind = |secrets| Bindings {
                runbook: rb,
                service: rb.services[s.service].name.as_str(),
                host: host_ref,
                source: plan.from.as_str(),
                target: plan.to.as_str(),
                mode: plan.mode,
                secrets,
            };
            let (real, shown) = (bind(Some(secrets)), bind(None));
            let text = |t: &Template| t.render(&real, false);
            let work = match &s.step.action {
                Action::Run(t) | Action::Local(t) => Work::Command {
                    target: transports.target(rb, host),
                    command: t.render(&real, true),
                    expect_exit: s.step.expect_exit,
                    expect_stdout: s.step.expect_stdout.as_ref().map(text),
                },
                Action::Http(h) => Work::Http(Box::new(HttpRequest {
                    client: transports
                        .http
                        .get(&(h.ca_file.clone(), h.insecure_tls))
                        .cloned(),
                    method: reqwest::Method::from_bytes(h.method.as_bytes())
                        .unwrap_or(reqwest::Method::GET),
                    url: text(&h.url),
                    headers: h
                        .headers
                        .iter()
                        .map(|(k, v)| (k.clone(), text(v)))
                        .collect(),
                    body: h.body.as_ref().map(text),
                    expect_status: h.expect_status.clone(),
                    expect_body: h.expect_body.as_ref().map(text),
                })),
                Action::Tcp(t) => Work::Tcp { address: text(t) },
                Action::Manual(t) => Work::Manual {
                    text: t.render(&shown, false),
                    limit: s.step.timeout_set.then_some(s.step.timeout),
                },
                Action::Sleep(d) => Work::Sleep(*d),
            };
            let does = crate::plan::render::describe(plan, step, host);
            Job {
                step,
                host,
                id: s.id.clone(),
                service: rb.services[s.service].name.to_string(),
                // An unnamed step is called by what it does here, rendered for this host.
                name: if s.step.named {
                    s.step.name.clone()
                } else {
                    does.clone()
                },
                phase: s.step.phase,
                host_name: host_ref.map(|h| h.name.to_string()),
                does,
                work,
                policy: Policy::of(s.step),
                // A host in the hall being left is source-side whatever `on` selected it
                // (`both` selects hosts of both halls).
                source_side: host_ref.map_or(s.step.on == On::Source, |h| h.hall == plan.from),
            }
        })
        .collect()
}
