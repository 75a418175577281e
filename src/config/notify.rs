//! Notifications (`[[notify]]`): webhooks told of a run's events, so that the people on
//! an incident call learn that a run waits for them, failed, or is about to miss its
//! RTO without watching a terminal.
//!
//! A `[[notify]]` table may sit in an inventory (every runbook run against it notifies)
//! or in a runbook. Its `webhook` is a URL template whose only placeholders are
//! `{{secrets.NAME}}`, secrets declared in the same file's `[secrets]`: a chat token
//! belongs in the environment or a file, never in the TOML. This module reads the tables
//! and validates them; `src/notify/` delivers.

use std::collections::BTreeMap;

use super::diagnostic::{Diagnostic, Diagnostics};
use super::raw::Strings;
use super::reader::{Cx, Fields, list_or};
use super::runbook::SecretSource;
use super::source::{Sp, Span};
use super::template::{Part, Placeholder, Template};

/// The events a webhook may be told of, by the names `events` takes (and the body's
/// `event` carries).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum NotifyEvent {
    RunStarted,
    /// The run waits for a person (a manual step, a paused failure).
    Question,
    /// Somebody answered a question.
    Decision,
    StepFailed,
    InvariantBreached,
    RtoAtRisk,
    ServiceRecovered,
    RollbackStarted,
    RunbookStopped,
    /// The operator's terminal hung up; the run goes on.
    TerminalLost,
    Resumed,
    RunFinished,
}

impl NotifyEvent {
    pub const ALL: &[(&str, NotifyEvent)] = &[
        ("run_started", NotifyEvent::RunStarted),
        ("question", NotifyEvent::Question),
        ("decision", NotifyEvent::Decision),
        ("step_failed", NotifyEvent::StepFailed),
        ("invariant_breached", NotifyEvent::InvariantBreached),
        ("rto_at_risk", NotifyEvent::RtoAtRisk),
        ("service_recovered", NotifyEvent::ServiceRecovered),
        ("rollback_started", NotifyEvent::RollbackStarted),
        ("runbook_stopped", NotifyEvent::RunbookStopped),
        ("terminal_lost", NotifyEvent::TerminalLost),
        ("resumed", NotifyEvent::Resumed),
        ("run_finished", NotifyEvent::RunFinished),
    ];

    /// What a `[[notify]]` without `events` is told of: what needs people.
    pub const DEFAULT: &[NotifyEvent] = &[
        NotifyEvent::RunStarted,
        NotifyEvent::Question,
        NotifyEvent::StepFailed,
        NotifyEvent::RtoAtRisk,
        NotifyEvent::RunFinished,
    ];

    pub fn as_str(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, e)| *e == self)
            .map_or("", |(n, _)| n)
    }
}

/// The shape of the body POSTed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum NotifyFormat {
    /// switchyard's own JSON object (`event`, `runbook`, `from`, `to`, …).
    Json,
    /// `{"text": "..."}`: what Slack's and Mattermost's incoming webhooks take.
    Slack,
}

impl NotifyFormat {
    pub const CHOICES: &[(&str, NotifyFormat)] =
        &[("json", NotifyFormat::Json), ("slack", NotifyFormat::Slack)];

    pub fn as_str(self) -> &'static str {
        Self::CHOICES
            .iter()
            .find(|(_, f)| *f == self)
            .map_or("", |(n, _)| n)
    }
}

/// `[[notify]]` as written.
#[derive(Debug)]
pub struct RawNotify {
    pub span: Span,
    pub webhook: Option<Template>,
    pub events: Option<Strings>,
    pub format: Option<Sp<NotifyFormat>>,
}

/// Reads every `[[notify]]` table of a file.
pub fn read(cx: &mut Cx<'_>, values: Vec<&toml::Spanned<toml::de::DeValue<'_>>>) -> Vec<RawNotify> {
    let mut out = Vec::new();
    for (i, value) in values.into_iter().enumerate() {
        let Some(mut f) = Fields::of(cx, value, format!("notify {}", i + 1)) else {
            continue;
        };
        let webhook = f.required_string(cx, "webhook");
        let raw = RawNotify {
            span: f.span.clone(),
            webhook: webhook.map(|w| Template::parse(cx, &w)),
            events: f.strings(cx, "events"),
            format: f.choice(cx, "format", NotifyFormat::CHOICES),
        };
        f.finish(cx);
        out.push(raw);
    }
    out
}

/// A validated `[[notify]]`.
#[derive(Clone, Debug)]
pub struct Notify {
    /// The URL template; its placeholders are all `{{secrets.NAME}}`.
    pub webhook: Template,
    /// Where to read each secret `webhook` names.
    pub secrets: BTreeMap<String, SecretSource>,
    pub events: Vec<NotifyEvent>,
    pub format: NotifyFormat,
}

/// Validates a file's `[[notify]]` tables against the secrets the file declares.
pub fn validate(
    diags: &mut Diagnostics,
    raws: &[RawNotify],
    secrets: &BTreeMap<String, SecretSource>,
) -> Vec<Notify> {
    raws.iter()
        .filter_map(|raw| validate_one(diags, raw, secrets))
        .collect()
}

fn validate_one(
    diags: &mut Diagnostics,
    raw: &RawNotify,
    declared: &BTreeMap<String, SecretSource>,
) -> Option<Notify> {
    let errors = diags.error_count();
    let webhook = raw.webhook.as_ref()?;
    let mut secrets = BTreeMap::new();
    for (p, span) in webhook.placeholders() {
        match p {
            Placeholder::Secret(name) => match declared.get(name) {
                Some(source) => {
                    secrets.insert(name.clone(), source.clone());
                }
                None => diags.push(
                    Diagnostic::error(span.clone(), format!("no secret `{name}` is declared"))
                        .with_label(
                            "a webhook's secrets are declared in the same file's `[secrets]`",
                        )
                        .suggest(name, declared.keys().map(String::as_str)),
                ),
            },
            other => diags.push(
                Diagnostic::error(
                    span.clone(),
                    format!("`{{{{{other}}}}}` cannot be used in a webhook"),
                )
                .with_label("a webhook takes only `{{secrets.NAME}}` placeholders"),
            ),
        }
    }
    check_scheme(diags, webhook);
    let events = events(diags, raw.events.as_ref());
    if diags.error_count() > errors {
        return None;
    }
    Some(Notify {
        webhook: webhook.clone(),
        secrets,
        events,
        format: raw.format.as_ref().map_or(NotifyFormat::Json, |f| f.value),
    })
}

/// A webhook that begins with text must begin with `http://` or `https://`; one that
/// begins with a secret is checked once the secret is read, as the run starts.
fn check_scheme(diags: &mut Diagnostics, webhook: &Template) {
    let Some(Part::Text(first)) = webhook.parts.first() else {
        if webhook.parts.is_empty() {
            diags.push(
                Diagnostic::error(webhook.span.clone(), "the webhook is empty")
                    .with_label("expected an https:// URL"),
            );
        }
        return;
    };
    let lower = first.to_ascii_lowercase();
    let schemes = ["https://", "http://"];
    let fits = schemes
        .iter()
        .any(|s| lower.starts_with(s) || (s.starts_with(&lower) && webhook.parts.len() > 1));
    if !fits {
        diags.push(
            Diagnostic::error(
                webhook.span.clone(),
                format!("`{}` is not an http:// or https:// URL", webhook.text),
            )
            .with_label("expected a URL like \"https://chat.example/hooks/{{secrets.token}}\""),
        );
    }
}

/// `events` as written, or the default; each name must be one of [`NotifyEvent::ALL`].
fn events(diags: &mut Diagnostics, written: Option<&Strings>) -> Vec<NotifyEvent> {
    let Some(list) = written else {
        return NotifyEvent::DEFAULT.to_vec();
    };
    if list.value.is_empty() {
        diags.push(
            Diagnostic::error(list.span.clone(), "`events` lists no event")
                .with_label("leave `events` out for the default, or name at least one"),
        );
    }
    let names: Vec<&str> = NotifyEvent::ALL.iter().map(|(n, _)| *n).collect();
    let mut out = Vec::new();
    for name in &list.value {
        match NotifyEvent::ALL.iter().find(|(n, _)| *n == name.value) {
            Some((_, e)) if !out.contains(e) => out.push(*e),
            Some(_) => {}
            None => diags.push(
                Diagnostic::error(
                    name.span.clone(),
                    format!("`{}` is not an event a webhook can be told of", name.value),
                )
                .with_label(format!("expected {}", list_or(&names)))
                .suggest(&name.value, names.iter().copied()),
            ),
        }
    }
    out
}
