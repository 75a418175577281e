//! One step on one host (or on none), made concrete: every template rendered (with the
//! secrets' values for the host, redacted for people), every transport chosen. The
//! scheduler starts jobs; an executor runs them.

use std::time::Duration;

use crate::config::inventory::HostIdx;
use crate::config::model::{On, Phase};
use crate::config::runbook::{Action, Step};
use crate::config::template::Template;
use crate::plan::Plan;
use crate::plan::bindings::Bindings;
use crate::transport::{Command, HttpRequest, TcpConnect, Transports};

/// What one attempt does: a request a transport performs, with what its result must show
/// (judged by the executor), or a person's or the clock's part.
#[derive(Clone)]
pub enum Work {
    Command {
        request: Command,
        expect_exit: i32,
        expect_stdout: Option<String>,
    },
    Http {
        request: Box<HttpRequest>,
        /// Empty: any 2xx.
        expect_status: Vec<u16>,
        expect_body: Option<String>,
    },
    Tcp(TcpConnect),
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
    pub fn of(step: &Step) -> Policy {
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
    /// A safety invariant's check on one host, not a step of the plan: the index into
    /// the plan's invariants ([`crate::engine::invariants::of_plan`]); `step` is then 0
    /// and means nothing.
    pub invariant: Option<usize>,
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

/// The jobs of plan step `step`: one per host, or one on no host.
pub fn jobs(
    plan: &Plan<'_>,
    step: usize,
    transports: &Transports,
    secrets: &crate::engine::secrets::Values,
    run_id: Option<&str>,
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
            let bind = |secrets| Bindings::of(plan, s.service, host, secrets, run_id);
            let own = &secrets[rb.services[s.service].origin];
            let (real, shown) = (bind(Some(own)), bind(None));
            let work = work_of(s.step, &real, &shown, transports, rb, host);
            let does = crate::plan::render::describe_in(plan, step, host, run_id);
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
                invariant: None,
            }
        })
        .collect()
}

/// What one attempt of `step` on `host` does, its templates rendered with `real` (the
/// secrets' values) and, for what people read, `shown`.
pub fn work_of(
    step: &Step,
    real: &Bindings<'_>,
    shown: &Bindings<'_>,
    transports: &Transports,
    rb: &crate::config::Runbook,
    host: Option<HostIdx>,
) -> Work {
    let s = step;
    let text = |t: &Template| t.render(real, false);
    match &s.action {
        Action::Run(t) | Action::Local(t) => Work::Command {
            request: Command {
                target: transports.target(rb, host),
                line: t.render(real, true),
            },
            expect_exit: s.expect_exit,
            expect_stdout: s.expect_stdout.as_ref().map(text),
        },
        Action::Http(h) => Work::Http {
            request: Box::new(HttpRequest {
                client: transports.http_client(h),
                method: reqwest::Method::from_bytes(h.method.as_bytes())
                    .unwrap_or(reqwest::Method::GET),
                url: text(&h.url),
                headers: h
                    .headers
                    .iter()
                    .map(|(k, v)| (k.clone(), text(v)))
                    .collect(),
                body: h.body.as_ref().map(text),
            }),
            expect_status: h.expect_status.clone(),
            expect_body: h.expect_body.as_ref().map(text),
        },
        Action::Tcp(t) => Work::Tcp(TcpConnect { address: text(t) }),
        Action::Manual(t) => Work::Manual {
            text: t.render(shown, false),
            limit: s.timeout_set.then_some(s.timeout),
        },
        Action::Sleep(d) => Work::Sleep(*d),
    }
}
