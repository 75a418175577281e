//! Pass 2 for runbooks: the validated [`Runbook`], with defaults applied, selectors
//! resolved to hosts, templates checked against vars, secrets and hosts, and the service
//! graph proven acyclic. Everything later (plan, engine) works only from this model.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::Duration;

use petgraph::graph::DiGraph;

use super::diagnostic::{Diagnostic, Diagnostics};
use super::ids::{HallId, ServiceId, is_simple_name, is_var_name};
use super::inventory::{HostIdx, Inventory};
use super::model::{On, OnFailure, Phase};
use super::raw::{RawAction, RawHeader, RawRunbook, RawSecret, RawService, RawStep};
use super::reader::list;
use super::source::{FileId, Sp, Span};
use super::template::{Placeholder, Template};

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
    pub fn kind(&self) -> &'static str {
        match self {
            Action::Run(_) => "run",
            Action::Local(_) => "local",
            Action::Http(_) => "http",
            Action::Tcp(_) => "tcp",
            Action::Manual(_) => "manual",
            Action::Sleep(_) => "sleep",
        }
    }
}

#[derive(Clone, Debug)]
pub struct Step {
    pub name: String,
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
    pub title: String,
    pub description: Option<String>,
    pub rto: Option<Duration>,
    /// Indices into [`Runbook::services`].
    pub depends_on: Vec<usize>,
    pub phases: [Vec<Step>; 4],
    pub span: Span,
}

impl Service {
    pub fn steps(&self, phase: Phase) -> &[Step] {
        &self.phases[phase.index()]
    }
}

#[derive(Debug)]
pub struct Runbook {
    pub name: String,
    pub title: String,
    pub owner: Option<String>,
    pub description: Option<String>,
    pub rto: Duration,
    /// The two halls this runbook switches between.
    pub halls: [HallId; 2],
    pub max_parallel: u32,
    pub on_failure: OnFailure,
    pub vars: BTreeMap<String, String>,
    pub secrets: BTreeMap<String, SecretSource>,
    /// In the order the file lists them.
    pub services: Vec<Service>,
    pub inventory: Inventory,
    pub file: FileId,
}

/// Builds the validated runbook; `None` if any error was found.
pub fn validate(
    raw: RawRunbook,
    inventory: Option<Inventory>,
    path: &Path,
    diags: &mut Diagnostics,
) -> Option<Runbook> {
    let errors_before = diags.error_count();
    let file = raw.top.file;
    let header = raw.header.as_ref();
    let name = header.and_then(|h| h.name.as_ref());
    if let Some(n) = name {
        if !n
            .value
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            || n.value.is_empty()
        {
            diags.push(
                Diagnostic::error(
                    n.span.clone(),
                    format!("`{}` is not a valid runbook name", n.value),
                )
                .with_label("expected lowercase letters, digits and `-` only"),
            );
        }
    }
    let vars = names_checked(
        diags,
        "variable",
        raw.vars.iter().map(|(n, v)| (n, v.value.clone())),
    );
    let secrets = names_checked(
        diags,
        "secret",
        raw.secrets.iter().map(|(n, s)| {
            (
                n,
                match s {
                    RawSecret::Env(e) => SecretSource::Env(e.value.clone()),
                    RawSecret::File(f) => {
                        SecretSource::File(super::inventory::expand_path(path, &f.value))
                    }
                },
            )
        }),
    );
    let halls = inventory
        .as_ref()
        .and_then(|inv| runbook_halls(diags, header, inv, &raw.top));
    let services_by_name: HashMap<&str, usize> = raw
        .services
        .iter()
        .enumerate()
        .map(|(i, s)| (s.name.value.as_str(), i))
        .collect();
    let cx = StepCx {
        inventory: inventory.as_ref(),
        halls: halls.as_ref(),
        vars: &vars,
        secrets: &secrets,
        path,
    };
    let mut services = Vec::new();
    for svc in &raw.services {
        services.push(validate_service(
            diags,
            &cx,
            svc,
            &services_by_name,
            &raw.services,
        ));
    }
    if raw.services.is_empty() && header.is_some() {
        diags.push(
            Diagnostic::error(
                header.map_or(raw.top.clone(), |h| h.span.clone()),
                "the runbook has no services",
            )
            .with_label("expected at least one `[services.NAME]` table"),
        );
    }
    report_cycles(diags, &raw.services, &services);
    if diags.error_count() > errors_before {
        return None;
    }
    let header = header?;
    let name = header.name.as_ref()?.value.clone();
    Some(Runbook {
        title: header
            .title
            .as_ref()
            .map_or_else(|| name.clone(), |t| t.value.clone()),
        name,
        owner: header.owner.as_ref().map(|o| o.value.clone()),
        description: header.description.as_ref().map(|d| d.value.clone()),
        rto: header.rto.as_ref()?.value,
        halls: halls?,
        max_parallel: header.max_parallel.as_ref().map_or(32, |m| m.value as u32),
        on_failure: header
            .on_failure
            .as_ref()
            .map_or(OnFailure::Pause, |o| o.value),
        vars,
        secrets,
        services,
        inventory: inventory?,
        file,
    })
}

/// Collects names into a map after checking that each can be used in a template.
fn names_checked<'a, T>(
    diags: &mut Diagnostics,
    what: &str,
    items: impl Iterator<Item = (&'a Sp<String>, T)>,
) -> BTreeMap<String, T> {
    let mut out = BTreeMap::new();
    for (name, value) in items {
        if !is_var_name(&name.value) {
            diags.push(
                Diagnostic::error(
                    name.span.clone(),
                    format!("`{}` is not a valid {what} name", name.value),
                )
                .with_label("expected letters, digits and `_` only, so templates can name it"),
            );
        }
        out.insert(name.value.clone(), value);
    }
    out
}

fn runbook_halls(
    diags: &mut Diagnostics,
    header: Option<&RawHeader>,
    inv: &Inventory,
    top: &Span,
) -> Option<[HallId; 2]> {
    let known = inv.hall_names();
    let Some(given) = header.and_then(|h| h.halls.as_ref()) else {
        if let [a, b] = known[..] {
            return Some([HallId::new(a), HallId::new(b)]);
        }
        if !known.is_empty() {
            diags.push(
                Diagnostic::error(header.map_or(top.clone(), |h| h.span.clone()), format!(
                    "the inventory has {} halls, so the runbook must say which two it switches between",
                    known.len()
                ))
                .with_label(format!("add `halls = [\"...\", \"...\"]` with two of {}", list(&known))),
            );
        }
        return None;
    };
    let mut ok = true;
    for h in &given.value {
        if !known.contains(&h.value.as_str()) {
            ok = false;
            diags.push(
                Diagnostic::error(
                    h.span.clone(),
                    format!("hall `{}` is not in the inventory", h.value),
                )
                .with_label(format!("expected one of {}", list(&known)))
                .suggest(&h.value, known.iter().copied()),
            );
        }
    }
    match &given.value[..] {
        [a, b] if a.value != b.value => {
            ok.then(|| [HallId::new(a.value.clone()), HallId::new(b.value.clone())])
        }
        _ => {
            diags.push(
                Diagnostic::error(given.span.clone(), "`halls` must name two different halls")
                    .with_label("expected exactly two hall names, like [\"a\", \"b\"]"),
            );
            None
        }
    }
}

/// What step validation needs to know about the runbook around it.
struct StepCx<'a> {
    inventory: Option<&'a Inventory>,
    halls: Option<&'a [HallId; 2]>,
    vars: &'a BTreeMap<String, String>,
    secrets: &'a BTreeMap<String, SecretSource>,
    path: &'a Path,
}

fn validate_service(
    diags: &mut Diagnostics,
    cx: &StepCx<'_>,
    raw: &RawService,
    by_name: &HashMap<&str, usize>,
    all: &[RawService],
) -> Service {
    if !is_simple_name(&raw.name.value) {
        diags.push(
            Diagnostic::error(raw.name.span.clone(), format!("`{}` is not a valid service name", raw.name.value))
                .with_label("expected lowercase letters, digits, `-` and `_`, starting with a letter or digit (no dots: step ids are `service.phase.N`)"),
        );
    }
    let mut depends_on = Vec::new();
    for dep in raw.depends_on.iter().flat_map(|d| &d.value) {
        match by_name.get(dep.value.as_str()) {
            Some(&i) if all[i].name.value == raw.name.value => diags.push(
                Diagnostic::error(
                    dep.span.clone(),
                    format!("service `{}` depends on itself", raw.name.value),
                )
                .with_label("a service cannot wait for itself"),
            ),
            Some(&i) if depends_on.contains(&i) => diags.push(
                Diagnostic::error(
                    dep.span.clone(),
                    format!("`{}` is listed twice in `depends_on`", dep.value),
                )
                .with_label("duplicate dependency"),
            ),
            Some(&i) => depends_on.push(i),
            None => diags.push(
                Diagnostic::error(
                    dep.span.clone(),
                    format!(
                        "service `{}` depends on unknown service `{}`",
                        raw.name.value, dep.value
                    ),
                )
                .with_label(format!(
                    "expected one of {}",
                    list(&by_name.keys().copied().collect::<Vec<_>>().tap_sort())
                ))
                .suggest(&dep.value, by_name.keys().copied()),
            ),
        }
    }
    let service_hosts = cx
        .inventory
        .and_then(|inv| raw.hosts.as_ref().map(|h| resolve(diags, inv, &h.value)));
    let mut phases: [Vec<Step>; 4] = Default::default();
    let mut names: HashMap<&str, &Span> = HashMap::new();
    for phase in Phase::ALL {
        for step in &raw.phases[phase.index()] {
            if let Some(n) = &step.name {
                if let Some(first) = names.insert(n.value.as_str(), &n.span) {
                    diags.push(
                        Diagnostic::error(
                            n.span.clone(),
                            format!(
                                "service `{}` has two steps named `{}`",
                                raw.name.value, n.value
                            ),
                        )
                        .with_label("second step with this name")
                        .with_note(first.clone(), "first step with this name")
                        .with_help("step names appear in reports and must tell steps apart"),
                    );
                }
            }
            if let Some(s) = validate_step(diags, cx, raw, service_hosts.as_deref(), step) {
                phases[phase.index()].push(s);
            }
        }
    }
    if raw.phases.iter().all(Vec::is_empty) {
        diags.push(
            Diagnostic::error(raw.name.span.clone(), format!("service `{}` has no steps", raw.name.value))
                .with_label("expected at least one `[[services.NAME.precheck]]`, `stop`, `start` or `verify` step"),
        );
    }
    Service {
        name: ServiceId::new(raw.name.value.clone()),
        title: raw
            .title
            .as_ref()
            .map_or_else(|| raw.name.value.clone(), |t| t.value.clone()),
        description: raw.description.as_ref().map(|d| d.value.clone()),
        rto: raw.rto.as_ref().map(|r| r.value),
        depends_on,
        phases,
        span: raw.span.clone(),
    }
}

trait TapSort {
    fn tap_sort(self) -> Self;
}

impl<T: Ord> TapSort for Vec<T> {
    fn tap_sort(mut self) -> Self {
        self.sort();
        self
    }
}

/// Resolves selectors to hosts, reporting each that matches nothing.
fn resolve(diags: &mut Diagnostics, inv: &Inventory, selectors: &[Sp<String>]) -> Vec<HostIdx> {
    let mut out = Vec::new();
    for sel in selectors {
        match inv.select(sel) {
            Ok(h) => out.extend(h),
            Err(d) => diags.push(*d),
        }
    }
    out.sort_unstable();
    out.dedup();
    out
}

fn step_what(svc: &RawService, step: &RawStep) -> String {
    match &step.name {
        Some(n) => format!(
            "step `{}` ({}.{}.{})",
            n.value, svc.name.value, step.phase, step.index
        ),
        None => format!("step {}.{}.{}", svc.name.value, step.phase, step.index),
    }
}

fn validate_step(
    diags: &mut Diagnostics,
    cx: &StepCx<'_>,
    svc: &RawService,
    service_hosts: Option<&[HostIdx]>,
    raw: &RawStep,
) -> Option<Step> {
    let what = step_what(svc, raw);
    let action = raw.action.as_ref()?;
    let on = raw.on.as_ref().map_or(raw.phase.default_on(), |o| o.value);
    let mut err = |span: &Span, msg: String, label: &str| {
        diags.push(Diagnostic::error(span.clone(), msg).with_label(label));
    };
    // Keys that belong to other kinds of step.
    let is_check = raw.phase.is_check();
    for (key, span) in [
        ("within", raw.within.as_ref().map(|v| &v.span)),
        ("interval", raw.interval.as_ref().map(|v| &v.span)),
        ("consecutive", raw.consecutive.as_ref().map(|v| &v.span)),
    ] {
        if let (Some(span), false) = (span, is_check) {
            err(
                span,
                format!("`{key}` applies only to checks, but {what} is an action"),
                "remove it, or use `retries` and `retry_interval` for actions",
            );
        }
    }
    for (key, span) in [
        ("retries", raw.retries.as_ref().map(|v| &v.span)),
        (
            "retry_interval",
            raw.retry_interval.as_ref().map(|v| &v.span),
        ),
    ] {
        if let (Some(span), true) = (span, is_check) {
            err(
                span,
                format!("`{key}` applies only to actions, but {what} is a check"),
                "remove it, or use `within` and `interval` for checks",
            );
        }
    }
    let is_command = matches!(action.value, RawAction::Run(_) | RawAction::Local(_));
    if !is_command {
        if let Some(e) = &raw.expect_exit {
            err(
                &e.span,
                format!("`expect_exit` applies only to `run` and `local` steps, not to {what}"),
                "remove it",
            );
        }
        if let Some(e) = &raw.expect_stdout {
            err(
                &e.span,
                format!("`expect_stdout` applies only to `run` and `local` steps, not to {what}"),
                "remove it",
            );
        }
    }
    if !matches!(action.value, RawAction::Http(_)) {
        for span in &raw.http_keys {
            err(
                span,
                format!("this option applies only to `http` steps, not to {what}"),
                "remove it",
            );
        }
    }
    if let (Some(w), Some(i)) = (&raw.within, &raw.interval) {
        if w.value < i.value {
            err(
                &i.span,
                format!("`interval` is longer than `within` in {what}"),
                &format!(
                    "expected at most the `within` of {}",
                    super::duration::format(w.value)
                ),
            );
        }
    }
    let interval = raw
        .interval
        .as_ref()
        .map_or(Duration::from_secs(2), |i| i.value);
    let consecutive = raw.consecutive.as_ref().map_or(1, |c| c.value as u32);
    if consecutive > 1 && is_check {
        let needed = interval * (consecutive - 1);
        match &raw.within {
            None => err(
                &raw.consecutive.as_ref()?.span,
                format!("`consecutive = {consecutive}` needs `within` in {what}"),
                "without `within` a check is tried only once",
            ),
            Some(w) if w.value < needed => err(
                &w.span,
                format!("`within` is too short for {consecutive} consecutive successes in {what}"),
                &format!(
                    "expected at least {} ({} intervals of {})",
                    super::duration::format(needed),
                    consecutive - 1,
                    super::duration::format(interval)
                ),
            ),
            Some(_) => {}
        }
    }
    // Hosts.
    let per_host = on != On::Local
        && match &action.value {
            RawAction::Run(_) => true,
            RawAction::Http(t) | RawAction::Tcp(t) => t.uses_host(),
            _ => false,
        };
    let hosts = match (&raw.hosts, service_hosts, cx.inventory) {
        (Some(h), _, Some(inv)) => resolve(diags, inv, &h.value),
        (None, Some(h), _) => h.to_vec(),
        _ => Vec::new(),
    };
    if per_host {
        check_halls(diags, cx, &what, raw, on, &hosts, svc);
    } else if let Some(h) = &raw.hosts {
        let why = if on == On::Local {
            "it runs on the machine running switchyard (`on = \"local\"`)".to_string()
        } else {
            format!(
                "a `{}` step runs once, on no host",
                RawAction::KEYS
                    .iter()
                    .find(|k| action_key(&action.value) == **k)
                    .unwrap_or(&"")
            )
        };
        diags.push(Diagnostic::error(h.span.clone(), format!("`hosts` has no effect on {what}")).with_label(format!("remove it: {why}")).with_help("an `http` or `tcp` step runs once per host only when its target uses `{{host.address}}` or another `host.*` placeholder"));
    }
    if let (Some(s), false) = (&raw.serial, per_host) {
        diags.push(
            Diagnostic::error(s.span.clone(), format!("`serial` has no effect on {what}"))
                .with_label("it runs once, not once per host"),
        );
    }
    // Templates.
    let mut templates: Vec<&Template> = Vec::new();
    match &action.value {
        RawAction::Run(t)
        | RawAction::Local(t)
        | RawAction::Http(t)
        | RawAction::Tcp(t)
        | RawAction::Manual(t) => templates.push(t),
        RawAction::Sleep(_) => {}
    }
    templates.extend(raw.expect_stdout.iter());
    templates.extend(raw.http.headers.iter().map(|(_, t)| t));
    templates.extend(raw.http.body.iter());
    templates.extend(raw.http.expect_body.iter());
    for t in templates {
        check_template(diags, cx, t, per_host, &what);
    }
    let built = build_action(diags, cx, raw, &action.value, &action.span)?;
    Some(Step {
        name: raw
            .name
            .as_ref()
            .map_or_else(|| default_name(&built), |n| n.value.clone()),
        phase: raw.phase,
        index: raw.index,
        action: built,
        on,
        hosts: if per_host { hosts } else { Vec::new() },
        per_host,
        timeout: raw.timeout.as_ref().map_or(
            if is_check {
                Duration::from_secs(10)
            } else {
                Duration::from_secs(300)
            },
            |t| t.value,
        ),
        retries: raw.retries.as_ref().map_or(0, |r| r.value as u32),
        retry_interval: raw
            .retry_interval
            .as_ref()
            .map_or(Duration::from_secs(5), |r| r.value),
        within: raw.within.as_ref().map(|w| w.value),
        interval,
        consecutive,
        expect_exit: raw.expect_exit.as_ref().map_or(0, |e| e.value as i32),
        expect_stdout: raw.expect_stdout.clone(),
        serial: raw.serial.as_ref().map(|s| s.value as u32),
        continue_on_error: raw.continue_on_error.as_ref().is_some_and(|c| c.value),
        span: raw.span.clone(),
    })
}

fn action_key(a: &RawAction) -> &'static str {
    match a {
        RawAction::Run(_) => "run",
        RawAction::Local(_) => "local",
        RawAction::Http(_) => "http",
        RawAction::Tcp(_) => "tcp",
        RawAction::Manual(_) => "manual",
        RawAction::Sleep(_) => "sleep",
    }
}

/// A step that runs on hosts must find hosts in every hall it can run in: the runbook is
/// symmetric, so `source` and `target` are each of its two halls in one direction or the other.
fn check_halls(
    diags: &mut Diagnostics,
    cx: &StepCx<'_>,
    what: &str,
    raw: &RawStep,
    on: On,
    hosts: &[HostIdx],
    svc: &RawService,
) {
    let (Some(inv), Some(halls)) = (cx.inventory, cx.halls) else {
        return;
    };
    if hosts.is_empty() {
        if raw.hosts.is_none() && svc.hosts.is_none() {
            diags.push(
                Diagnostic::error(raw.span.clone(), format!("{what} runs on hosts, but neither it nor service `{}` names any", svc.name.value))
                    .with_label("add `hosts = [...]` to the step or the service, or use `local = ...` / `on = \"local\"`"),
            );
        }
        return;
    }
    for (i, hall) in halls.iter().enumerate() {
        if hosts.iter().any(|&h| &inv.hosts[h].hall == hall) {
            continue;
        }
        let other = &halls[1 - i];
        let side = match on {
            On::Source => format!("the source, which is `{hall}` when switching {hall} → {other}"),
            On::Target | On::Both | On::Local => {
                format!("the target, which is `{hall}` when switching {other} → {hall}")
            }
        };
        let found: Vec<&str> = hosts.iter().map(|&h| inv.hosts[h].name.as_str()).collect();
        let span = raw.hosts.as_ref().map_or(
            svc.hosts
                .as_ref()
                .map_or(raw.span.clone(), |h| h.span.clone()),
            |h| h.span.clone(),
        );
        diags.push(
            Diagnostic::error(span, format!("{what} needs hosts in hall `{hall}`, but its selectors match none there"))
                .with_label(format!("matches only {}", list(&found)))
                .with_help(format!("the step runs on {side}; a runbook switches both ways, so each hall needs a host for it")),
        );
    }
}

fn check_template(
    diags: &mut Diagnostics,
    cx: &StepCx<'_>,
    t: &Template,
    has_host: bool,
    what: &str,
) {
    for (p, span) in t.placeholders() {
        match p {
            Placeholder::Var(name) if !cx.vars.contains_key(name) => diags.push(
                Diagnostic::error(span.clone(), format!("unknown variable `{name}` in {what}"))
                    .with_label(if cx.vars.is_empty() { "the runbook has no `[vars]`".to_string() } else { format!("expected one of {}", list(&cx.vars.keys().map(String::as_str).collect::<Vec<_>>())) })
                    .suggest(name, cx.vars.keys().map(String::as_str)),
            ),
            Placeholder::Secret(name) if !cx.secrets.contains_key(name) => diags.push(
                Diagnostic::error(span.clone(), format!("unknown secret `{name}` in {what}"))
                    .with_label(if cx.secrets.is_empty() { "the runbook has no `[secrets]`".to_string() } else { format!("expected one of {}", list(&cx.secrets.keys().map(String::as_str).collect::<Vec<_>>())) })
                    .suggest(name, cx.secrets.keys().map(String::as_str)),
            ),
            p if p.uses_host() && !has_host => diags.push(
                Diagnostic::error(span.clone(), format!("{what} uses a `host.*` placeholder but runs on no host"))
                    .with_label("there is no host to take this value from")
                    .with_help("`local`, `manual` and `sleep` steps, steps with `on = \"local\"`, and `http`/`tcp` steps whose target does not use `host.*` run once, on no host"),
            ),
            _ => {}
        }
    }
}

const METHODS: [&str; 7] = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];

fn build_action(
    diags: &mut Diagnostics,
    cx: &StepCx<'_>,
    raw: &RawStep,
    action: &RawAction,
    span: &Span,
) -> Option<Action> {
    Some(match action {
        RawAction::Run(t) => Action::Run(t.clone()),
        RawAction::Local(t) => Action::Local(t.clone()),
        RawAction::Tcp(t) => {
            if let [super::template::Part::Text(s)] = &t.parts[..] {
                let port = s
                    .rsplit_once(':')
                    .and_then(|(h, p)| (!h.is_empty()).then_some(p));
                if port
                    .and_then(|p| p.parse::<u16>().ok())
                    .is_none_or(|p| p == 0)
                {
                    diags.push(Diagnostic::error(span.clone(), format!("`{s}` is not a TCP address")).with_label("expected HOST:PORT, like \"db-b1:5432\" or \"{{host.address}}:5432\""));
                }
            }
            Action::Tcp(t.clone())
        }
        RawAction::Manual(t) => Action::Manual(t.clone()),
        RawAction::Sleep(d) => Action::Sleep(*d),
        RawAction::Http(url) => {
            if let Some(super::template::Part::Text(s)) = url.parts.first() {
                if !(s.starts_with("http://") || s.starts_with("https://")) {
                    diags.push(
                        Diagnostic::error(
                            span.clone(),
                            format!("`{}` is not an HTTP URL", url.text),
                        )
                        .with_label("expected a URL starting with http:// or https://"),
                    );
                }
            }
            let method = match &raw.http.method {
                Some(m) if METHODS.contains(&m.value.as_str()) => m.value.clone(),
                Some(m) => {
                    diags.push(
                        Diagnostic::error(
                            m.span.clone(),
                            format!("unknown HTTP method `{}`", m.value),
                        )
                        .with_label(format!("expected one of {}", list(&METHODS)))
                        .suggest(&m.value.to_uppercase(), METHODS),
                    );
                    return None;
                }
                None => "GET".into(),
            };
            Action::Http(Box::new(HttpCheck {
                url: url.clone(),
                method,
                headers: raw
                    .http
                    .headers
                    .iter()
                    .map(|(n, t)| (n.value.clone(), t.clone()))
                    .collect(),
                body: raw.http.body.clone(),
                expect_status: raw
                    .http
                    .expect_status
                    .as_ref()
                    .map(|s| s.value.clone())
                    .unwrap_or_default(),
                expect_body: raw.http.expect_body.clone(),
                ca_file: raw
                    .http
                    .ca_file
                    .as_ref()
                    .map(|c| super::inventory::expand_path(cx.path, &c.value)),
                insecure_tls: raw.http.insecure_tls.as_ref().is_some_and(|b| b.value),
            }))
        }
    })
}

/// A name for a step that has none: what it does, in one short line.
fn default_name(a: &Action) -> String {
    let text = match a {
        Action::Run(t) | Action::Local(t) => t.text.clone(),
        Action::Http(h) => format!("{} {}", h.method, h.url.text),
        Action::Tcp(t) => format!("connect to {}", t.text),
        Action::Manual(t) => t.text.clone(),
        Action::Sleep(d) => format!("wait {}", super::duration::format(*d)),
    };
    let line = text.lines().next().unwrap_or("").trim();
    if line.chars().count() > 60 {
        format!("{}…", line.chars().take(59).collect::<String>())
    } else {
        line.to_string()
    }
}

/// Reports every dependency cycle, named whole in the order the services wait for each other.
fn report_cycles(diags: &mut Diagnostics, raw: &[RawService], services: &[Service]) {
    let mut g = DiGraph::<usize, ()>::new();
    let nodes: Vec<_> = (0..services.len()).map(|i| g.add_node(i)).collect();
    for (i, s) in services.iter().enumerate() {
        for &d in &s.depends_on {
            g.add_edge(nodes[i], nodes[d], ());
        }
    }
    for scc in petgraph::algo::tarjan_scc(&g) {
        if scc.len() < 2 {
            continue;
        }
        let members: Vec<usize> = scc.iter().map(|n| g[*n]).collect();
        // Walk dependency edges inside the component until a service repeats.
        let mut path = vec![*members.iter().min().unwrap_or(&0)];
        loop {
            let here = *path.last().unwrap_or(&0);
            let next = services[here]
                .depends_on
                .iter()
                .copied()
                .filter(|d| members.contains(d))
                .min();
            let Some(next) = next else { break };
            if let Some(at) = path.iter().position(|&p| p == next) {
                path.drain(..at);
                path.push(next);
                break;
            }
            path.push(next);
        }
        let names: Vec<&str> = path.iter().map(|&i| raw[i].name.value.as_str()).collect();
        let first = path[0];
        let second_name = names.get(1).copied().unwrap_or("");
        let span = raw[first]
            .depends_on
            .iter()
            .flat_map(|d| &d.value)
            .find(|d| d.value == second_name)
            .map_or(raw[first].span.clone(), |d| d.span.clone());
        diags.push(
            Diagnostic::error(span, format!("services depend on each other in a cycle: {}", names.join(" -> ")))
                .with_label("this dependency closes the cycle")
                .with_help("a service cannot start before the services it depends on, so one of these `depends_on` entries must go"),
        );
    }
}
