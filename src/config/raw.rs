//! Pass 1: the files as written. A mirror of the TOML with every value spanned and
//! typed, unknown keys rejected, and nothing yet resolved or defaulted.

use std::time::Duration;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::action_kind::ActionKind;
use super::diagnostic::Diagnostic;
use super::model::{HostKeyChecking, On, OnFailure, Phase, Transport};
use super::reader::{Cx, Fields, as_integer, as_string, type_name};
use super::source::{Sp, Span};
use super::template::Template;

/// An array of strings, each with its place, and the array's own.
pub type Strings = Sp<Vec<Sp<String>>>;

/// The most step executions at once a runbook or a site may ask for.
pub const MAX_PARALLEL: i64 = 100_000;

/// SSH settings as written, either a file's `[ssh]` defaults or a host's overrides.
#[derive(Debug, Default, Clone)]
pub struct RawSsh {
    pub user: Option<Sp<String>>,
    pub port: Option<Sp<i64>>,
    pub identity_file: Option<Sp<String>>,
    pub known_hosts: Option<Sp<String>>,
    pub host_key_checking: Option<Sp<HostKeyChecking>>,
    pub connect_timeout: Option<Sp<Duration>>,
    pub keepalive: Option<Sp<Duration>>,
    pub max_sessions: Option<Sp<i64>>,
    /// The inventory host to connect through (`jump`, see [`super::jumps`]).
    pub jump: Option<Sp<String>>,
}

#[derive(Debug)]
pub struct RawHall {
    pub name: Sp<String>,
    pub description: Option<Sp<String>>,
    /// The jump host of the hall's hosts.
    pub jump: Option<Sp<String>>,
}

#[derive(Debug)]
pub struct RawHost {
    pub name: Sp<String>,
    pub span: Span,
    pub address: Option<Sp<String>>,
    pub hall: Option<Sp<String>>,
    pub tags: Vec<Sp<String>>,
    pub transport: Option<Sp<Transport>>,
    pub description: Option<Sp<String>>,
    pub ssh: RawSsh,
    /// No problem was found reading it, so later passes may judge what is missing.
    pub clean: bool,
}

#[derive(Debug)]
pub struct RawInventory {
    /// The start of the file, for problems of the file as a whole.
    pub top: Span,
    pub halls: Vec<RawHall>,
    pub ssh: RawSsh,
    pub hosts: Vec<RawHost>,
    pub groups: Vec<(Sp<String>, Strings)>,
    /// `[evidence] sign_with`: the key that signs run folders, as `--sign-with` takes it.
    pub sign_with: Option<Sp<String>>,
    /// `[secrets]`: what this file's `[[notify]]` webhooks may name.
    pub secrets: Vec<(Sp<String>, RawSecret)>,
    /// `[[notify]]` (see [`super::notify`]).
    pub notify: Vec<super::notify::RawNotify>,
}

#[derive(Debug)]
pub struct RawHeader {
    pub span: Span,
    pub name: Option<Sp<String>>,
    pub title: Option<Sp<String>>,
    pub owner: Option<Sp<String>>,
    pub description: Option<Sp<String>>,
    pub rto: Option<Sp<Duration>>,
    pub inventory: Option<Strings>,
    pub halls: Option<Strings>,
    pub max_parallel: Option<Sp<i64>>,
    pub on_failure: Option<Sp<OnFailure>>,
    /// How often the runbook must be drilled (`switchyard status`).
    pub drill_every: Option<Sp<Duration>>,
    /// Whether `inventory` was written at all (it may be present but invalid).
    pub has_inventory_key: bool,
}

#[derive(Debug)]
pub enum RawSecret {
    Env(Sp<String>),
    File(Sp<String>),
    /// Declared, but its definition is wrong (already reported).
    Invalid,
}

#[derive(Debug)]
pub enum RawAction {
    Run(Template),
    Local(Template),
    Http(Template),
    Tcp(Template),
    Manual(Template),
    Sleep(Duration),
}

impl RawAction {
    pub fn kind(&self) -> ActionKind {
        match self {
            RawAction::Run(_) => ActionKind::Run,
            RawAction::Local(_) => ActionKind::Local,
            RawAction::Http(_) => ActionKind::Http,
            RawAction::Tcp(_) => ActionKind::Tcp,
            RawAction::Manual(_) => ActionKind::Manual,
            RawAction::Sleep(_) => ActionKind::Sleep,
        }
    }

    /// The template the kind's key holds: the command, URL, address or instruction.
    pub fn template(&self) -> Option<&Template> {
        match self {
            RawAction::Run(t)
            | RawAction::Local(t)
            | RawAction::Http(t)
            | RawAction::Tcp(t)
            | RawAction::Manual(t) => Some(t),
            RawAction::Sleep(_) => None,
        }
    }
}

/// The options only an `http` step has.
#[derive(Debug, Default)]
pub struct RawHttp {
    pub method: Option<Sp<String>>,
    pub headers: Vec<(Sp<String>, Template)>,
    pub body: Option<Template>,
    pub expect_status: Option<Sp<Vec<u16>>>,
    pub expect_body: Option<Template>,
    pub ca_file: Option<Sp<String>>,
    pub insecure_tls: Option<Sp<bool>>,
}

#[derive(Debug)]
pub struct RawStep {
    pub span: Span,
    pub phase: Phase,
    /// 1-based position within its phase.
    pub index: usize,
    pub name: Option<Sp<String>>,
    pub action: Option<Sp<RawAction>>,
    pub on: Option<Sp<On>>,
    pub hosts: Option<Strings>,
    pub timeout: Option<Sp<Duration>>,
    pub retries: Option<Sp<i64>>,
    pub retry_interval: Option<Sp<Duration>>,
    pub within: Option<Sp<Duration>>,
    pub interval: Option<Sp<Duration>>,
    pub consecutive: Option<Sp<i64>>,
    pub expect_exit: Option<Sp<i64>>,
    pub expect_stdout: Option<Template>,
    pub serial: Option<Sp<i64>>,
    pub continue_on_error: Option<Sp<bool>>,
    pub http: RawHttp,
    /// Keys present that only `http` steps take, for a clear error on other kinds.
    pub http_keys: Vec<(&'static str, Span)>,
    pub clean: bool,
}

impl RawStep {
    /// The keys written that only some kinds of step take (see
    /// [`ActionKind::own_keys`]), with where each is. A command's keys count only when
    /// their value was read: a value already reported is not reported a second time.
    pub fn kind_keys(&self) -> Vec<(&'static str, &Span)> {
        let mut keys = Vec::new();
        if let Some(e) = &self.expect_exit {
            keys.push(("expect_exit", &e.span));
        }
        if let Some(e) = &self.expect_stdout {
            keys.push(("expect_stdout", &e.span));
        }
        keys.extend(self.http_keys.iter().map(|(key, span)| (*key, span)));
        keys
    }
}

#[derive(Debug)]
pub struct RawService {
    pub name: Sp<String>,
    pub span: Span,
    pub title: Option<Sp<String>>,
    pub description: Option<Sp<String>>,
    pub rto: Option<Sp<Duration>>,
    pub hosts: Option<Strings>,
    pub depends_on: Option<Strings>,
    pub phases: [Vec<RawStep>; 4],
    /// `rpo`: the data loss the business accepts (SPEC §8).
    pub rpo: Option<Sp<Duration>>,
    /// `[services.NAME.canary]`, which measures it.
    pub canary: Option<super::canary::RawCanary>,
    /// The service's own keys were read without a problem.
    pub clean: bool,
}

#[derive(Debug)]
pub struct RawRunbook {
    pub header: Option<RawHeader>,
    /// `None`: declared, but not a string (already reported).
    pub vars: Vec<(Sp<String>, Option<Sp<String>>)>,
    pub secrets: Vec<(Sp<String>, RawSecret)>,
    pub services: Vec<RawService>,
    /// `[[invariants]]` (see [`super::invariant`]).
    pub invariants: Vec<super::invariant::RawInvariant>,
    /// `[[notify]]` (see [`super::notify`]).
    pub notify: Vec<super::notify::RawNotify>,
    /// Where the document starts, for errors about a missing `[runbook]`.
    pub top: Span,
}

/// Parses TOML syntax; on a syntax error, reports it and returns `None`.
pub fn parse_document<'i>(cx: &mut Cx<'_>, text: &'i str) -> Option<Spanned<DeTable<'i>>> {
    let (doc, errors) = DeTable::parse_recoverable(text);
    if errors.is_empty() {
        return Some(doc);
    }
    let mut seen = Vec::new();
    for e in errors {
        if seen.contains(&(e.span(), e.message().to_string())) {
            continue;
        }
        seen.push((e.span(), e.message().to_string()));
        let range = e.span().unwrap_or(0..0);
        let mut lines = e.message().trim().lines();
        let first = lines.next().unwrap_or("invalid TOML").to_string();
        let rest: Vec<&str> = lines.map(str::trim).filter(|l| !l.is_empty()).collect();
        let key = cx.text.get(range.clone()).unwrap_or("").trim();
        let line_start = cx.text[..range.start.min(cx.text.len())]
            .rfind('\n')
            .map_or(0, |i| i + 1);
        let is_header = cx.text[line_start..].trim_start().starts_with('[');
        let d = if first.starts_with("duplicate key") && !key.is_empty() {
            let d = Diagnostic::error(
                cx.span(range),
                format!("invalid TOML: `{key}` is defined twice"),
            )
            .with_label("a key, or a table header, may appear only once in its table");
            if is_header {
                d.with_help("to add another step to a phase, use an array of tables: `[[services.NAME.stop]]`")
            } else {
                d
            }
        } else {
            Diagnostic::error(cx.span(range), format!("invalid TOML: {first}"))
                .with_label(rest.join("; "))
        };
        cx.error(d);
    }
    None
}

fn ssh_fields(cx: &mut Cx<'_>, f: &mut Fields<'_, '_>) -> RawSsh {
    RawSsh {
        user: f.string(cx, "user"),
        port: f.integer(cx, "port", 1, 65535),
        identity_file: f.string(cx, "identity_file"),
        known_hosts: f.string(cx, "known_hosts"),
        host_key_checking: f.choice(cx, "host_key_checking", HostKeyChecking::CHOICES),
        connect_timeout: f.duration(cx, "connect_timeout", false),
        keepalive: f.duration(cx, "keepalive", true),
        max_sessions: f.integer(cx, "max_sessions", 1, 1024),
        jump: f.string(cx, "jump"),
    }
}

/// Reads one inventory file.
pub fn read_inventory(cx: &mut Cx<'_>, doc: &Spanned<DeTable<'_>>) -> RawInventory {
    let mut top = Fields::new(doc.get_ref(), cx.span(0..0), "the inventory");
    let mut inv = RawInventory {
        top: cx.span(0..0),
        halls: Vec::new(),
        ssh: RawSsh::default(),
        hosts: Vec::new(),
        groups: Vec::new(),
        sign_with: None,
        secrets: Vec::new(),
        notify: Vec::new(),
    };
    if let Some(halls) = top.table(cx, "halls", "[halls]") {
        for (key, value) in halls.entries() {
            let name = key_sp(cx, key);
            if let Some(mut f) = Fields::of(cx, value, format!("hall `{}`", name.value)) {
                inv.halls.push(RawHall {
                    description: f.string(cx, "description"),
                    jump: f.string(cx, "jump"),
                    name,
                });
                f.finish(cx);
            }
        }
    }
    if let Some(mut f) = top.table(cx, "ssh", "[ssh]") {
        inv.ssh = ssh_fields(cx, &mut f);
        f.finish(cx);
    }
    if let Some(mut f) = top.table(cx, "evidence", "[evidence]") {
        inv.sign_with = f.string(cx, "sign_with");
        f.finish(cx);
    }
    inv.secrets = read_secrets(cx, &mut top);
    let tables = top.tables(cx, "notify");
    inv.notify = super::notify::read(cx, tables);
    if let Some(hosts) = top.table(cx, "hosts", "[hosts]") {
        for (key, value) in hosts.entries() {
            let name = key_sp(cx, key);
            let Some(mut f) = Fields::of(cx, value, format!("host `{}`", name.value)) else {
                continue;
            };
            let before = cx.diags.error_count();
            let mut host = RawHost {
                span: f.span.clone(),
                address: f.string(cx, "address"),
                hall: f.string(cx, "hall"),
                tags: f.strings(cx, "tags").map(|t| t.value).unwrap_or_default(),
                transport: f.choice(cx, "transport", Transport::CHOICES),
                description: f.string(cx, "description"),
                ssh: ssh_fields(cx, &mut f),
                name,
                clean: false,
            };
            f.finish(cx);
            host.clean = cx.diags.error_count() == before;
            inv.hosts.push(host);
        }
    }
    if let Some(groups) = top.table(cx, "groups", "[groups]") {
        for (key, value) in groups.entries() {
            let name = key_sp(cx, key);
            match strings_value(cx, value) {
                Some(members) => inv.groups.push((name, members)),
                None => cx.error(
                    Diagnostic::error(
                        cx.span(value.span()),
                        format!("group `{}` must be an array of host selectors", name.value),
                    )
                    .with_label(format!(
                        "expected an array of strings like [\"web-a1\", \"tag:web\"], found {}",
                        type_name(value.get_ref())
                    )),
                ),
            }
        }
    }
    top.finish(cx);
    inv
}

/// Reads one runbook file.
/// Reads the `[runbook]` table alone: it names the inventory files, which can then be
/// read while the rest of the runbook is (see [`read_runbook`]).
pub fn read_header(cx: &mut Cx<'_>, doc: &Spanned<DeTable<'_>>) -> Option<RawHeader> {
    let mut top = Fields::new(doc.get_ref(), cx.span(0..0), "the runbook");
    top.table(cx, "runbook", "[runbook]").map(|mut f| {
        let h = RawHeader {
            span: f.span.clone(),
            name: f.required_string(cx, "name"),
            title: f.string(cx, "title"),
            owner: f.string(cx, "owner"),
            description: f.string(cx, "description"),
            rto: {
                if !f.has("rto") {
                    f.missing(
                        cx,
                        "rto",
                        "the business's recovery time objective, like \"30m\"",
                    );
                }
                f.duration(cx, "rto", false)
            },
            has_inventory_key: f.has("inventory"),
            inventory: f.strings(cx, "inventory"),
            halls: f.strings(cx, "halls"),
            max_parallel: f.integer(cx, "max_parallel", 1, MAX_PARALLEL),
            on_failure: f.choice(cx, "on_failure", OnFailure::CHOICES),
            drill_every: f.duration(cx, "drill_every", false),
        };
        f.finish(cx);
        h
    })
}

/// Reads everything but the `[runbook]` table, which `header` holds.
pub fn read_runbook(
    cx: &mut Cx<'_>,
    doc: &Spanned<DeTable<'_>>,
    header: Option<RawHeader>,
) -> RawRunbook {
    let mut top = Fields::new(doc.get_ref(), cx.span(0..0), "the runbook");
    top.value("runbook");
    let mut vars = Vec::new();
    if let Some(f) = top.table(cx, "vars", "[vars]") {
        for (key, value) in f.entries() {
            let name = key_sp(cx, key);
            let v = as_string(cx, value);
            if v.is_none() {
                let raw = cx.text.get(value.span()).unwrap_or("");
                cx.error(
                    Diagnostic::error(
                        cx.span(value.span()),
                        format!("variable `{}` must be a string", name.value),
                    )
                    .with_label(format!(
                        "expected a string, found {}",
                        type_name(value.get_ref())
                    ))
                    .with_help(format!(
                        "quote it: {} = \"{}\"",
                        name.value,
                        raw.trim()
                    )),
                );
            }
            vars.push((name, v));
        }
    }
    let secrets = read_secrets(cx, &mut top);
    let mut services = Vec::new();
    if let Some(f) = top.table(cx, "services", "[services]") {
        for (key, value) in f.entries() {
            let name = key_sp(cx, key);
            if let Some(fields) = Fields::of(cx, value, format!("service `{}`", name.value)) {
                services.push(read_service(cx, name, fields));
            }
        }
    }
    let tables = top.tables(cx, "invariants");
    let invariants = super::invariant::read_invariants(cx, tables);
    let tables = top.tables(cx, "notify");
    let notify = super::notify::read(cx, tables);
    if header.is_none() && !top.has("runbook") {
        cx.error(
            Diagnostic::error(cx.span(0..0), "this runbook has no `[runbook]` table")
                .with_label("expected a `[runbook]` table with at least `name` and `rto`"),
        );
    }
    top.finish(cx);
    RawRunbook {
        header,
        vars,
        secrets,
        services,
        invariants,
        notify,
        top: cx.span(0..0),
    }
}

/// A file's `[secrets]` table: each secret's name and source.
fn read_secrets(cx: &mut Cx<'_>, top: &mut Fields<'_, '_>) -> Vec<(Sp<String>, RawSecret)> {
    let mut secrets = Vec::new();
    if let Some(f) = top.table(cx, "secrets", "[secrets]") {
        for (key, value) in f.entries() {
            let name = key_sp(cx, key);
            let s = read_secret(cx, &name, value).unwrap_or(RawSecret::Invalid);
            secrets.push((name, s));
        }
    }
    secrets
}

fn read_secret(
    cx: &mut Cx<'_>,
    name: &Sp<String>,
    value: &Spanned<DeValue<'_>>,
) -> Option<RawSecret> {
    let mut f = Fields::of(cx, value, format!("secret `{}`", name.value))?;
    let before = cx.diags.error_count();
    let env = f.string(cx, "env");
    let file = f.string(cx, "file");
    let span = f.span.clone();
    f.finish(cx);
    match (env, file) {
        (Some(e), None) => Some(RawSecret::Env(e)),
        (None, Some(p)) => Some(RawSecret::File(p)),
        // A misspelt key was reported already; "no source" would only repeat it.
        (None, None) if cx.diags.error_count() > before => None,
        (Some(_), Some(_)) | (None, None) => {
            cx.error(
                Diagnostic::error(
                    span,
                    format!("secret `{}` must name exactly one source", name.value),
                )
                .with_label("expected { env = \"VARIABLE\" } or { file = \"/path\" }"),
            );
            None
        }
    }
}

fn read_service(cx: &mut Cx<'_>, name: Sp<String>, mut f: Fields<'_, '_>) -> RawService {
    let before = cx.diags.error_count();
    let mut svc = RawService {
        span: f.span.clone(),
        title: f.string(cx, "title"),
        description: f.string(cx, "description"),
        rto: f.duration(cx, "rto", false),
        hosts: f.strings(cx, "hosts"),
        depends_on: f.strings(cx, "depends_on"),
        phases: Default::default(),
        rpo: f.duration(cx, "rpo", true),
        canary: None,
        name,
        clean: true,
    };
    svc.clean = cx.diags.error_count() == before;
    let what = format!("`[services.{}.canary]`", svc.name.value);
    svc.canary = f
        .table(cx, "canary", what)
        .map(|c| super::canary::read(cx, c));
    for phase in Phase::ALL {
        for (i, value) in f.tables(cx, phase.as_str()).into_iter().enumerate() {
            let id = format!("{}.{}.{}", svc.name.value, phase, i + 1);
            let name = match value.get_ref() {
                DeValue::Table(t) => t
                    .iter()
                    .find(|(k, _)| k.get_ref() == "name")
                    .and_then(|(_, v)| v.get_ref().as_str().map(str::to_string)),
                _ => None,
            };
            let what = step_what(&id, name.as_deref());
            if let Some(step) = Fields::of(cx, value, what) {
                svc.phases[phase.index()].push(read_step(cx, phase, i + 1, step));
            }
        }
    }
    f.finish(cx);
    svc
}

/// How messages name a step: `step \`stop primary\` (db.stop.1)`, or `step db.stop.1`.
pub fn step_what(id: &str, name: Option<&str>) -> String {
    match name {
        Some(n) => format!("step `{n}` ({id})"),
        None => format!("step {id}"),
    }
}

pub(super) fn read_step(
    cx: &mut Cx<'_>,
    phase: Phase,
    index: usize,
    mut f: Fields<'_, '_>,
) -> RawStep {
    let before = cx.diags.error_count();
    let action = read_action(cx, &mut f);
    let template = |cx: &mut Cx<'_>, f: &mut Fields<'_, '_>, key| {
        f.string(cx, key).map(|s| Template::parse(cx, &s))
    };
    let mut http_keys = Vec::new();
    let mut http = RawHttp::default();
    for &key in ActionKind::Http.own_keys() {
        if let Some(v) = f.value(key) {
            http_keys.push((key, cx.span(v.span())));
        }
    }
    http.method = f.string(cx, "method");
    if let Some(h) = f.table(cx, "headers", "`headers`") {
        for (key, value) in h.entries() {
            let name = key_sp(cx, key);
            match as_string(cx, value) {
                Some(v) => http.headers.push((name, Template::parse(cx, &v))),
                None => cx.error(
                    Diagnostic::error(
                        cx.span(value.span()),
                        format!("header `{}` must be a string", name.value),
                    )
                    .with_label(format!(
                        "expected a string, found {}",
                        type_name(value.get_ref())
                    )),
                ),
            }
        }
    }
    http.body = template(cx, &mut f, "body");
    http.expect_status = read_status(cx, &mut f);
    http.expect_body = template(cx, &mut f, "expect_body");
    http.ca_file = f.string(cx, "ca_file");
    http.insecure_tls = f.bool(cx, "insecure_tls");
    let step = RawStep {
        span: f.span.clone(),
        phase,
        index,
        name: f.string(cx, "name"),
        action,
        on: f.choice(cx, "on", On::CHOICES),
        hosts: f.strings(cx, "hosts"),
        timeout: f.duration(cx, "timeout", false),
        retries: f.integer(cx, "retries", 0, 1000),
        retry_interval: f.duration(cx, "retry_interval", true),
        within: f.duration(cx, "within", false),
        interval: f.duration(cx, "interval", false),
        consecutive: f.integer(cx, "consecutive", 1, 1000),
        expect_exit: f.integer(cx, "expect_exit", 0, 255),
        expect_stdout: template(cx, &mut f, "expect_stdout"),
        serial: f.integer(cx, "serial", 1, 100_000),
        continue_on_error: f.bool(cx, "continue_on_error"),
        http,
        http_keys,
        clean: false,
    };
    f.finish(cx);
    RawStep {
        clean: cx.diags.error_count() == before,
        ..step
    }
}

/// Exactly one of the action kinds' keys.
fn read_action(cx: &mut Cx<'_>, f: &mut Fields<'_, '_>) -> Option<Sp<RawAction>> {
    let mut found: Vec<Sp<RawAction>> = Vec::new();
    for kind in ActionKind::ALL {
        let key = kind.key();
        if !f.has(key) {
            f.value(key);
            continue;
        }
        let action = match kind {
            ActionKind::Run => template_action(cx, f, key, RawAction::Run),
            ActionKind::Local => template_action(cx, f, key, RawAction::Local),
            ActionKind::Http => template_action(cx, f, key, RawAction::Http),
            ActionKind::Tcp => template_action(cx, f, key, RawAction::Tcp),
            ActionKind::Manual => template_action(cx, f, key, RawAction::Manual),
            ActionKind::Sleep => f
                .duration(cx, key, false)
                .map(|d| Sp::new(RawAction::Sleep(d.value), d.span)),
        };
        found.extend(action);
    }
    let given: Vec<&str> = ActionKind::ALL
        .into_iter()
        .map(ActionKind::key)
        .filter(|k| f.has(k))
        .collect();
    let keys: Vec<&str> = ActionKind::ALL.into_iter().map(ActionKind::key).collect();
    let expected = format!("expected exactly {}", super::reader::one_of(&keys));
    match given.len() {
        0 => {
            cx.error(
                Diagnostic::error(f.span.clone(), format!("{} says nothing to do", f.what()))
                    .with_label(expected),
            );
            None
        }
        1 => found.pop(),
        _ => {
            let second = found.get(1).map_or(f.span.clone(), |a| a.span.clone());
            cx.error(
                Diagnostic::error(
                    second,
                    format!("{} has more than one thing to do", f.what()),
                )
                .with_label(format!(
                    "{expected}; found {}",
                    super::reader::list_and(&given)
                ))
                .with_help("split it into one step per command"),
            );
            None
        }
    }
}

/// An action whose value is a template string, spanned as the string is.
fn template_action(
    cx: &mut Cx<'_>,
    f: &mut Fields<'_, '_>,
    key: &'static str,
    make: fn(Template) -> RawAction,
) -> Option<Sp<RawAction>> {
    let s = f.string(cx, key)?;
    let t = Template::parse(cx, &s);
    Some(Sp::new(make(t), s.span))
}

/// `expect_status = 200` or `expect_status = [200, 204]`, each from 100 to 599.
fn read_status(cx: &mut Cx<'_>, f: &mut Fields<'_, '_>) -> Option<Sp<Vec<u16>>> {
    let v = f.value("expect_status")?;
    let items: Vec<&Spanned<DeValue<'_>>> = match v.get_ref() {
        DeValue::Array(a) => a.iter().collect(),
        _ => vec![v],
    };
    let mut codes = Vec::new();
    for item in items {
        match as_integer(item.get_ref()) {
            Some(n @ 100..=599) => codes.push(n as u16),
            other => cx.error(
                Diagnostic::error(
                    cx.span(item.span()),
                    format!(
                        "`expect_status` in {} must be an HTTP status code",
                        f.what()
                    ),
                )
                .with_label(match other {
                    Some(n) => format!("expected an integer from 100 to 599, found {n}"),
                    None => format!(
                        "expected an integer from 100 to 599 or an array of them, found {}",
                        type_name(item.get_ref())
                    ),
                }),
            ),
        }
    }
    Some(Sp::new(codes, cx.span(v.span())))
}

/// A table's key as a name, with its place.
pub fn key_sp(cx: &Cx<'_>, key: &Spanned<std::borrow::Cow<'_, str>>) -> Sp<String> {
    Sp::new(key.get_ref().to_string(), cx.span(key.span()))
}

fn strings_value(cx: &mut Cx<'_>, v: &Spanned<DeValue<'_>>) -> Option<Strings> {
    let DeValue::Array(items) = v.get_ref() else {
        return None;
    };
    let mut out = Vec::new();
    for item in items.iter() {
        out.push(as_string(cx, item)?);
    }
    Some(Sp::new(out, cx.span(v.span())))
}
