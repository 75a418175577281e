//! The validated runbook model: [`Runbook`], its services, steps and actions, with
//! defaults applied, selectors resolved to hosts and references checked. Built only by
//! [`validate`](super::validate::validate); everything later (plan, engine) works only
//! from this model and never sees the raw file.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use super::action_kind::ActionKind;
use super::ids::{HallId, ServiceId};
use super::inventory::{HostIdx, Inventory};
use super::model::{On, OnFailure, Phase};
use super::source::{FileId, Span};
use super::template::Template;

/// Where a secret's value comes from at run time. The value itself is never stored here.
#[derive(Clone, Debug)]
pub enum SecretSource {
    Env(String),
    File(PathBuf),
}

#[derive(Clone, Debug)]
pub struct HttpCheck {
    pub url: Template,
    pub method: String,
    pub headers: Vec<(String, Template)>,
    pub body: Option<Template>,
    /// Empty: any 2xx.
    pub expect_status: Vec<u16>,
    pub expect_body: Option<Template>,
    pub ca_file: Option<PathBuf>,
    pub insecure_tls: bool,
}

#[derive(Clone, Debug)]
pub enum Action {
    /// A command on each selected host (or locally with `on = "local"`).
    Run(Template),
    /// A command once on the machine running switchyard.
    Local(Template),
    Http(Box<HttpCheck>),
    Tcp(Template),
    Manual(Template),
    Sleep(Duration),
}

impl Action {
    pub fn action_kind(&self) -> ActionKind {
        match self {
            Action::Run(_) => ActionKind::Run,
            Action::Local(_) => ActionKind::Local,
            Action::Http(_) => ActionKind::Http,
            Action::Tcp(_) => ActionKind::Tcp,
            Action::Manual(_) => ActionKind::Manual,
            Action::Sleep(_) => ActionKind::Sleep,
        }
    }

    /// The key that names the kind, as the file and the plan's JSON spell it.
    pub fn kind(&self) -> &'static str {
        self.action_kind().key()
    }
}

#[derive(Clone, Debug)]
pub struct Step {
    pub name: String,
    /// `name` was written in the file; otherwise it is derived from what the step does.
    pub named: bool,
    pub phase: Phase,
    /// 1-based position within the phase; with service and phase it makes the step id.
    pub index: usize,
    pub action: Action,
    pub on: On,
    /// Every host the step's selectors match, in both halls; empty for steps without hosts.
    pub hosts: Vec<HostIdx>,
    /// Whether the step runs once per selected host (else once, on no host).
    pub per_host: bool,
    pub timeout: Duration,
    /// `timeout` was written in the file (a `manual` step waits without limit otherwise).
    pub timeout_set: bool,
    pub retries: u32,
    pub retry_interval: Duration,
    /// Checks: keep trying until success or this much time has passed; `None`: one attempt.
    pub within: Option<Duration>,
    pub interval: Duration,
    pub consecutive: u32,
    pub expect_exit: i32,
    pub expect_stdout: Option<Template>,
    /// How many hosts at once; `None`: all.
    pub serial: Option<u32>,
    pub continue_on_error: bool,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct Service {
    pub name: ServiceId,
    /// Index into [`Runbook::origins`]: the runbook the service was written in.
    pub origin: usize,
    pub title: String,
    pub description: Option<String>,
    pub rto: Option<Duration>,
    /// Indices into [`Runbook::services`].
    pub depends_on: Vec<usize>,
    pub phases: [Vec<Step>; 4],
    pub span: Span,
    /// `rpo`: the data loss accepted; only with a canary.
    pub rpo: Option<Duration>,
    /// `[services.NAME.canary]`: measures the data lost (SPEC §8).
    pub canary: Option<super::canary::Canary>,
}

impl Service {
    pub fn steps(&self, phase: Phase) -> &[Step] {
        &self.phases[phase.index()]
    }
}

/// A runbook's own settings for the services it brings into a plan. A site's runbooks
/// are planned and run together, but each keeps its variables, secrets, failure handling
/// and target; for a single runbook there is one origin, the runbook itself.
#[derive(Clone, Debug)]
pub struct Origin {
    pub name: String,
    pub title: String,
    pub rto: Duration,
    pub on_failure: OnFailure,
    pub vars: BTreeMap<String, String>,
    pub secrets: BTreeMap<String, SecretSource>,
    /// The business's priority in a site: 0 first.
    pub tier: u8,
    /// Indices into [`Runbook::origins`] of the runbooks recovered before this one.
    pub requires: Vec<usize>,
    /// Names of the runbooks it requires that `--only` left out: taken as recovered.
    pub assumes: Vec<String>,
    /// In a site's run: the hash of this runbook's own plan alone for the run's direction
    /// and mode, set by the CLI (`Subject::hash_runbooks`) for the evidence.
    pub plan_hash: Option<String>,
    /// Its `[[invariants]]`, checked during its part of a run.
    pub invariants: Vec<super::invariant::Invariant>,
    /// Its `[[notify]]` webhooks.
    pub notify: Vec<super::notify::Notify>,
}

#[derive(Debug)]
pub struct Runbook {
    pub name: String,
    pub title: String,
    pub owner: Option<String>,
    pub description: Option<String>,
    pub rto: Duration,
    /// How often it must be drilled: its own `drill_every`, else its site's (`None` for
    /// a site's runbooks taken together; see `Site::drill_every`).
    pub drill_every: Option<Duration>,
    /// The two halls this runbook switches between.
    pub halls: [HallId; 2],
    pub max_parallel: u32,
    /// Where the services come from: the runbook itself, or each runbook of a site.
    pub origins: Vec<Origin>,
    /// Whether this is a site's runbooks taken together (step ids then name the runbook).
    pub site: bool,
    /// A site's runbooks that `--only` left out but a selected one requires: taken as
    /// already recovered, and said so in the evidence. Their `requires` is empty.
    pub assumed: Vec<Origin>,
    /// In the order the file lists them; a site's, runbook after runbook.
    pub services: Vec<Service>,
    /// Shared by the runbooks of a site that name the same inventory files.
    pub inventory: Arc<Inventory>,
    pub file: FileId,
}

impl Runbook {
    /// Every `[[notify]]` a run of it tells: its inventory's, then each runbook's.
    pub fn notifies(&self) -> impl Iterator<Item = &super::notify::Notify> {
        self.inventory
            .notify
            .iter()
            .chain(self.origins.iter().flat_map(|o| o.notify.iter()))
    }

    /// The origin of service `svc`.
    pub fn origin(&self, svc: usize) -> &Origin {
        &self.origins[self.services[svc].origin]
    }

    /// The name service `svc` has in its own runbook. In a site a service is named
    /// `runbook/service` (in step ids, events and reports), since two runbooks may each
    /// have a `web`; its templates still mean the runbook's own name.
    pub fn local_name(&self, svc: usize) -> &str {
        let name = self.services[svc].name.as_str();
        if self.site {
            name.split_once('/').map_or(name, |(_, local)| local)
        } else {
            name
        }
    }
}
