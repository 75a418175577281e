//! What template placeholders stand for in one step execution.
//!
//! The plan renders with secrets redacted; the engine will render the same templates
//! with the secrets' values. Both go through [`Bindings`], so what a plan shows is exactly
//! what a run executes, but for the secrets.

use std::borrow::Cow;
use std::collections::BTreeMap;

use crate::config::Runbook;
use crate::config::inventory::Host;
use crate::config::model::Mode;
use crate::config::template::{Placeholder, Resolve, Resolved};

pub struct Bindings<'a> {
    pub runbook: &'a Runbook,
    /// Index into the runbook's services.
    pub service: usize,
    pub host: Option<&'a Host>,
    pub source: &'a str,
    pub target: &'a str,
    pub mode: Mode,
    /// Secret values by name; `None` renders every secret as `[REDACTED:NAME]`.
    pub secrets: Option<&'a BTreeMap<String, String>>,
    /// The run folder's name; `None` (a plan, which belongs to no run) shows
    /// `{{run.id}}` as written.
    pub run_id: Option<&'a str>,
}

/// What `{{canary.seq}}` renders as until a write is numbered: digits and letters
/// only, so shell quoting leaves it alone and [`number`] can replace it.
pub const CANARY_SEQ: &str = "SWITCHYARDCANARYSEQ";

/// What `{{run.id}}` renders as where there is no run (a plan): see [`shown`].
const RUN_ID: &str = "SWITCHYARDRUNID";

/// A rendered text as people read it before a run: `{{canary.seq}}` and, without a
/// run, `{{run.id}}` as written (unquoted: their values never need quoting).
pub fn shown(text: &str) -> String {
    text.replace(CANARY_SEQ, "{{canary.seq}}")
        .replace(RUN_ID, "{{run.id}}")
}

/// A rendered canary `write` with its sequence number put in.
pub fn number(line: &str, seq: u64) -> String {
    line.replace(CANARY_SEQ, &seq.to_string())
}

impl<'a> Bindings<'a> {
    /// The bindings of service `service` of `plan` on `host` (an index into its
    /// inventory), with `secrets` and `run_id` as the fields say.
    pub fn of(
        plan: &'a crate::plan::Plan<'_>,
        service: usize,
        host: Option<crate::config::inventory::HostIdx>,
        secrets: Option<&'a BTreeMap<String, String>>,
        run_id: Option<&'a str>,
    ) -> Bindings<'a> {
        let rb = plan.runbook;
        Bindings {
            runbook: rb,
            service,
            host: host.map(|h| &rb.inventory.hosts[h]),
            source: plan.from.as_str(),
            target: plan.to.as_str(),
            mode: plan.mode,
            secrets,
            run_id,
        }
    }
}

impl Bindings<'_> {
    /// The runbook the service was written in: its name and variables are the ones meant.
    fn origin(&self) -> &crate::config::runbook::Origin {
        self.runbook.origin(self.service)
    }
}

impl Resolve for Bindings<'_> {
    fn resolve<'s>(&'s self, p: &'s Placeholder) -> Resolved<'s> {
        let text = |s: &str| Resolved::Text(Cow::Owned(s.to_string()));
        match p {
            Placeholder::HostName => text(self.host.map_or("", |h| h.name.as_str())),
            Placeholder::HostAddress => text(self.host.map_or("", |h| h.address.as_str())),
            Placeholder::HostHall => text(self.host.map_or("", |h| h.hall.as_str())),
            Placeholder::Source => text(self.source),
            Placeholder::Target => text(self.target),
            Placeholder::Service => text(self.runbook.local_name(self.service)),
            Placeholder::Runbook => text(&self.origin().name),
            Placeholder::Mode => text(self.mode.as_str()),
            Placeholder::RunId => text(self.run_id.unwrap_or(RUN_ID)),
            Placeholder::CanarySeq => text(CANARY_SEQ),
            Placeholder::Var(name) => text(self.origin().vars.get(name).map_or("", String::as_str)),
            Placeholder::Secret(name) => match self.secrets.and_then(|s| s.get(name)) {
                Some(v) => Resolved::Text(Cow::Borrowed(v)),
                None => Resolved::Redacted(name),
            },
        }
    }
}
