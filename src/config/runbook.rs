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
use super::reader::{list_and, one_of};
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
    if let Some(n) = name.filter(|n| n.value.is_empty()) {
        diags.push(
            Diagnostic::error(n.span.clone(), "the runbook name is empty").with_label(
                "expected a name of lowercase letters, digits and `-`, like \"recruitment\"",
            ),
        );
    } else if let Some(n) = name
        && !n
            .value
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        diags.push(
            Diagnostic::error(
                n.span.clone(),
                format!("`{}` is not a valid runbook name", n.value),
            )
            .with_label("expected lowercase letters, digits and `-` only"),
        );
    }
    let (vars, var_names) = names_checked(
        diags,
        "variable",
        raw.vars
            .iter()
            .map(|(n, v)| (n, v.as_ref().map(|v| v.value.clone()))),
    );
    let (secrets, secret_names) = names_checked(
        diags,
        "secret",
        raw.secrets.iter().map(|(n, s)| {
            let source = match s {
                RawSecret::Env(e) => Some(SecretSource::Env(e.value.clone())),
                RawSecret::File(f) => Some(SecretSource::File(super::inventory::expand_path(
                    path, &f.value,
                ))),
                RawSecret::Invalid => None,
            };
            (n, source)
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
        vars: &var_names,
        var_values: &vars,
        secrets: &secret_names,
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

/// Collects names and their valid definitions, after checking that each name can be
/// used in a template. A name whose definition was invalid is still declared, so that a
/// template using it is not reported a second time.
fn names_checked<'a, T>(
    diags: &mut Diagnostics,
    what: &str,
    items: impl Iterator<Item = (&'a Sp<String>, Option<T>)>,
) -> (BTreeMap<String, T>, Vec<String>) {
    let mut out = BTreeMap::new();
    let mut names = Vec::new();
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
        names.push(name.value.clone());
        if let Some(v) = value {
            out.insert(name.value.clone(), v);
        }
    }
    (out, names)
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
                .with_label(format!("add `halls = [\"...\", \"...\"]` with two of {}", list_and(&known))),
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
                .with_label(format!("expected {}", one_of(&known)))
                .suggest(&h.value, known.iter().copied()),
            );
        }
    }
    match &given.value[..] {
        [a, b] if a.value != b.value => {
            ok.then(|| [HallId::new(a.value.clone()), HallId::new(b.value.clone())])
        }
        [a, b] => {
            diags.push(
                Diagnostic::error(b.span.clone(), format!("`halls` names `{}` twice", a.value))
                    .with_label("expected two different halls, like [\"a\", \"b\"]"),
            );
            None
        }
        other => {
            diags.push(
                Diagnostic::error(
                    given.span.clone(),
                    format!("`halls` must name exactly two halls, not {}", other.len()),
                )
                .with_label("a runbook switches between two halls, like [\"a\", \"b\"]"),
            );
            None
        }
    }
}

/// What step validation needs to know about the runbook around it.
struct StepCx<'a> {
    inventory: Option<&'a Inventory>,
    halls: Option<&'a [HallId; 2]>,
    /// Every declared variable and secret, valid or not.
    vars: &'a [String],
    /// The valid variables' values.
    var_values: &'a BTreeMap<String, String>,
    secrets: &'a [String],
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
    // The other services, for "expected ..." in an error; built only when needed.
    let others = || {
        let mut v: Vec<&str> = by_name
            .keys()
            .copied()
            .filter(|n| *n != raw.name.value)
            .collect();
        v.sort_unstable();
        v
    };
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
                .with_label(format!("expected {}", one_of(&others())))
                .suggest(&dep.value, others()),
            ),
        }
    }
    let service_hosts = match (cx.inventory, &raw.hosts) {
        (Some(inv), Some(h)) => Some(resolve(diags, inv, h)),
        // `hosts` was written but could not be read: the hosts are unknown, not absent.
        _ if !raw.clean => Some(Resolved {
            hosts: Vec::new(),
            complete: false,
        }),
        _ => None,
    };
    let mut phases: [Vec<Step>; 4] = Default::default();
    let mut names: HashMap<&str, &Span> = HashMap::new();
    for phase in Phase::ALL {
        for step in &raw.phases[phase.index()] {
            if let Some(n) = &step.name
                && let Some(first) = names.insert(n.value.as_str(), &n.span)
            {
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
            if let Some(s) = validate_step(diags, cx, raw, service_hosts.as_ref(), step) {
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

/// The hosts a list of selectors stands for.
#[derive(Clone, Debug)]
struct Resolved {
    hosts: Vec<HostIdx>,
    /// Every selector resolved; when not, the problem is reported and `hosts` is partial.
    complete: bool,
}

/// Resolves selectors to hosts, reporting each that matches nothing.
fn resolve(diags: &mut Diagnostics, inv: &Inventory, selectors: &Sp<Vec<Sp<String>>>) -> Resolved {
    let mut out = Resolved {
        hosts: Vec::new(),
        complete: true,
    };
    if selectors.value.is_empty() {
        diags.push(
            Diagnostic::error(selectors.span.clone(), "`hosts` is empty").with_label(
                "expected at least one selector: a host name, `tag:NAME` or `group:NAME`",
            ),
        );
        out.complete = false;
    }
    for sel in &selectors.value {
        match inv.select(sel) {
            Ok(h) => out.hosts.extend(h),
            Err(d) => {
                diags.push(*d);
                out.complete = false;
            }
        }
    }
    out.hosts.sort_unstable();
    out.hosts.dedup();
    out
}

fn validate_step(
    diags: &mut Diagnostics,
    cx: &StepCx<'_>,
    svc: &RawService,
    service_hosts: Option<&Resolved>,
    raw: &RawStep,
) -> Option<Step> {
    let id = format!("{}.{}.{}", svc.name.value, raw.phase, raw.index);
    let what = super::raw::step_what(&id, raw.name.as_ref().map(|n| n.value.as_str()));
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
            let label = if matches!(action.value, RawAction::Http(_)) {
                "remove it; an `http` step checks the response with `expect_body`"
            } else {
                "remove it"
            };
            err(
                &e.span,
                format!("`expect_stdout` applies only to `run` and `local` steps, not to {what}"),
                label,
            );
        }
    }
    if !matches!(action.value, RawAction::Http(_)) {
        for (key, span) in &raw.http_keys {
            let label = if *key == "expect_body" && is_command {
                "remove it; a command's output is checked with `expect_stdout`"
            } else {
                "remove it"
            };
            err(
                span,
                format!("`{key}` applies only to `http` steps, not to {what}"),
                label,
            );
        }
    }
    if let (Some(w), Some(i)) = (&raw.within, &raw.interval)
        && w.value < i.value
    {
        err(
            &i.span,
            format!("`interval` is longer than `within` in {what}"),
            &format!(
                "expected at most the `within` of {}",
                super::duration::format(w.value)
            ),
        );
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
    let resolved = match (&raw.hosts, cx.inventory) {
        (Some(h), Some(inv)) => Some(resolve(diags, inv, h)),
        (Some(_), None) => None,
        (None, _) => service_hosts.cloned(),
    };
    let hosts = resolved
        .as_ref()
        .map(|r| r.hosts.clone())
        .unwrap_or_default();
    // Judge where the step runs only when its hosts were read and resolved in full;
    // otherwise the problem is already reported and a second error would mislead.
    let hosts_known = raw.clean && resolved.as_ref().is_none_or(|r| r.complete);
    if per_host {
        if hosts_known {
            check_halls(diags, cx, &what, raw, on, &hosts, svc);
        }
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
    if let RawAction::Run(t) | RawAction::Local(t) = &action.value {
        check_quoting(diags, cx, t, &what);
    }
    let built = build_action(diags, cx, raw, &action.value, &what)?;
    Some(Step {
        named: raw.name.is_some(),
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
        timeout_set: raw.timeout.is_some(),
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
    // `on = "both"` runs on its hosts in either hall: some host, in any hall, is enough.
    if on == On::Both {
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
                .with_label(format!("matches only {}", list_and(&found)))
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
    let unknown = |kind: &str, section: &str, name: &str, known: &[String], span: &Span| {
        let known: Vec<&str> = known.iter().map(String::as_str).collect();
        let label = if known.is_empty() {
            format!("the runbook has no `[{section}]`")
        } else {
            format!("expected {}", one_of(&known))
        };
        Diagnostic::error(span.clone(), format!("unknown {kind} `{name}` in {what}"))
            .with_label(label)
            .suggest(name, known.iter().copied())
    };
    for (p, span) in t.placeholders() {
        match p {
            Placeholder::Var(name) if !cx.vars.contains(name) => {
                diags.push(unknown("variable", "vars", name, cx.vars, span));
            }
            Placeholder::Secret(name) if !cx.secrets.contains(name) => {
                diags.push(unknown("secret", "secrets", name, cx.secrets, span));
            }
            p if p.uses_host() && !has_host => diags.push(
                Diagnostic::error(span.clone(), format!("{what} uses a `host.*` placeholder but runs on no host"))
                    .with_label("there is no host to take this value from")
                    .with_help("`local`, `manual` and `sleep` steps, steps with `on = \"local\"`, and `http`/`tcp` steps whose target does not use `host.*` run once, on no host"),
            ),
            _ => {}
        }
    }
}

/// A command's placeholders whose values switchyard may quote must be bare words to `sh`.
fn check_quoting(diags: &mut Diagnostics, cx: &StepCx<'_>, t: &Template, what: &str) {
    for m in t.misquoted(cx.var_values) {
        diags.push(
            Diagnostic::error(
                m.span.clone(),
                format!(
                    "`{{{{{}}}}}` is {} in {what}",
                    m.placeholder,
                    m.quote.place()
                ),
            )
            .with_label(m.why)
            .with_help(m.quote.help()),
        );
    }
}

/// The template's shape for static checks: a variable or secret (which may hold anything)
/// becomes `\0`, any other placeholder a plain word.
fn shape(t: &Template) -> String {
    t.parts
        .iter()
        .map(|p| match p {
            super::template::Part::Text(s) => s.as_str(),
            super::template::Part::Value(Placeholder::Var(_) | Placeholder::Secret(_), _) => "\0",
            super::template::Part::Value(..) => "host",
        })
        .collect()
}

/// `HOST:PORT` with a port from 1 to 65535, unless a variable may supply it.
fn check_tcp(diags: &mut Diagnostics, t: &Template, what: &str) {
    let s = shape(t);
    let ok = match s.rsplit_once(':') {
        Some((host, port)) => {
            !host.is_empty() && (port.contains('\0') || port.parse::<u16>().is_ok_and(|p| p > 0))
        }
        None => s.contains('\0'),
    };
    if !ok {
        diags.push(
            Diagnostic::error(
                t.span.clone(),
                format!("`{}` in {what} is not a TCP address", t.text),
            )
            .with_label(
                "expected HOST:PORT with a port from 1 to 65535, like \"{{host.address}}:5432\"",
            ),
        );
    }
}

/// An `http://` or `https://` URL, unless a variable may supply the start of it.
fn check_url(diags: &mut Diagnostics, t: &Template, what: &str) {
    let s = shape(t);
    if !(s.starts_with("http://") || s.starts_with("https://") || s.starts_with('\0')) {
        diags.push(
            Diagnostic::error(
                t.span.clone(),
                format!("`{}` in {what} is not an HTTP URL", t.text),
            )
            .with_label("expected a URL starting with http:// or https://"),
        );
    }
}

const METHODS: [&str; 7] = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];

fn build_action(
    diags: &mut Diagnostics,
    cx: &StepCx<'_>,
    raw: &RawStep,
    action: &RawAction,
    what: &str,
) -> Option<Action> {
    Some(match action {
        RawAction::Run(t) => Action::Run(t.clone()),
        RawAction::Local(t) => Action::Local(t.clone()),
        RawAction::Tcp(t) => {
            check_tcp(diags, t, what);
            Action::Tcp(t.clone())
        }
        RawAction::Manual(t) => Action::Manual(t.clone()),
        RawAction::Sleep(d) => Action::Sleep(*d),
        RawAction::Http(url) => {
            check_url(diags, url, what);
            let method = match &raw.http.method {
                Some(m) if METHODS.contains(&m.value.as_str()) => m.value.clone(),
                Some(m) => {
                    diags.push(
                        Diagnostic::error(
                            m.span.clone(),
                            format!("unknown HTTP method `{}`", m.value),
                        )
                        .with_label(format!("expected {}", one_of(&METHODS)))
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
