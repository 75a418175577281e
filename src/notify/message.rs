//! What a webhook is told of an event: which notifiable event it is, one line for people,
//! and the fields a program reading the JSON body wants (the step, the host, the choices).
//!
//! Pure: an [`Event`] and the run's [`Context`] in, a [`Message`] out; its bodies are
//! what `deliver.rs` POSTs.

use std::time::Duration;

use serde_json::{Map, Value, json};

use crate::config::duration::format as duration;
use crate::config::model::Mode;
use crate::config::notify::{NotifyEvent, NotifyFormat};
use crate::engine::operator::{self, Kind};
use crate::engine::{Event, StepStatus};

/// The run a message is about, the same for all its events.
#[derive(Clone, Debug)]
pub struct Context {
    pub runbook: String,
    pub from: String,
    pub to: String,
    pub mode: Mode,
    pub live: bool,
    /// The run folder, absolute: what `switchyard answer` and `watch` take.
    pub run_dir: String,
    pub rto_target_s: f64,
}

/// One notifiable event, ready to be sent in either format.
#[derive(Clone, Debug)]
pub struct Message {
    pub event: NotifyEvent,
    pub text: String,
    /// What the JSON body carries besides the run's own fields.
    pub fields: Map<String, Value>,
}

impl Message {
    /// The body POSTed to a webhook of `format`.
    pub fn body(&self, ctx: &Context, format: NotifyFormat) -> Value {
        match format {
            NotifyFormat::Slack => json!({ "text": self.chat_line(ctx) }),
            NotifyFormat::Json => {
                let mut body = Map::new();
                body.insert("event".into(), self.event.as_str().into());
                body.insert("runbook".into(), ctx.runbook.clone().into());
                body.insert("from".into(), ctx.from.clone().into());
                body.insert("to".into(), ctx.to.clone().into());
                body.insert("mode".into(), ctx.mode.as_str().into());
                body.insert("live".into(), ctx.live.into());
                body.insert("text".into(), self.text.clone().into());
                body.insert("run_dir".into(), ctx.run_dir.clone().into());
                let mut rto = json!({ "target_s": ctx.rto_target_s });
                for (k, v) in &self.fields {
                    match k.as_str() {
                        "achieved_s" | "met" | "projected_s" => {
                            rto[k] = v.clone();
                        }
                        _ => {
                            body.insert(k.clone(), v.clone());
                        }
                    }
                }
                body.insert("rto".into(), rto);
                Value::Object(body)
            }
        }
    }

    /// The one line a chat shows: what, which run, where its evidence is.
    fn chat_line(&self, ctx: &Context) -> String {
        let how = if ctx.live { "live" } else { "dry run" };
        format!(
            "switchyard · {} {} → {} ({how} {}): {}\nrun folder: {}",
            ctx.runbook,
            ctx.from,
            ctx.to,
            ctx.mode.as_str(),
            self.text,
            ctx.run_dir
        )
    }
}

/// The message for `e`, or `None` when no webhook is ever told of it.
pub fn of(ctx: &Context, e: &Event) -> Option<Message> {
    let mut fields = Map::new();
    let mut put = |k: &str, v: Value| {
        fields.insert(k.to_string(), v);
    };
    let (event, text) = match e {
        Event::RunStarted(r) => {
            let how = if r.dry_run { "dry run" } else { "live" };
            let text = format!(
                "{how} {} of `{}` from {} to {} started by {} (RTO {})",
                r.mode.as_str(),
                r.runbook,
                r.from,
                r.to,
                r.operator,
                secs(r.rto_target_s)
            );
            put("operator", r.operator.clone().into());
            (NotifyEvent::RunStarted, text)
        }
        Event::Question {
            step,
            host,
            kind,
            text,
            choices,
        } => {
            // As `switchyard answer` takes them: `confirm` for a manual step.
            let words: Vec<&str> = choices.iter().map(|c| operator::word(*c)).collect();
            let what = match kind {
                Kind::Failed => first_line(text).to_string(),
                Kind::Manual => format!(
                    "manual step at {}: {}",
                    at(step, host.as_deref()),
                    first_line(text)
                ),
            };
            let text = format!(
                "{what} — waiting for an answer: `switchyard answer {} {}`",
                ctx.run_dir,
                words.join("|")
            );
            put("step", step.clone().into());
            put("host", host.clone().into());
            put("kind", kind.as_str().into());
            put("choices", words.into());
            (NotifyEvent::Question, text)
        }
        Event::Decision {
            step,
            host,
            choice,
            by,
            comment,
            ..
        } => {
            let said = comment
                .as_deref()
                .map(|c| format!(" (\"{c}\")"))
                .unwrap_or_default();
            let text = format!(
                "{by} answered {} at {}{said}",
                choice.as_str(),
                at(step, host.as_deref())
            );
            put("step", step.clone().into());
            put("host", host.clone().into());
            put("choice", choice.as_str().into());
            put("by", by.clone().into());
            (NotifyEvent::Decision, text)
        }
        Event::StepFinished(f) if f.status == StepStatus::Failed => {
            let why = f.message.as_deref().unwrap_or("failed");
            let text = format!("step failed at {}: {why}", at(&f.step, f.host.as_deref()));
            put("step", f.step.clone().into());
            put("host", f.host.clone().into());
            put("service", f.service.clone().into());
            (NotifyEvent::StepFailed, text)
        }
        Event::InvariantChecked(c) if !c.holds => {
            let why = c.message.as_deref().unwrap_or("does not hold");
            let text = format!("safety invariant `{}` breached: {why}", c.name);
            put("invariant", c.name.clone().into());
            (NotifyEvent::InvariantBreached, text)
        }
        Event::RtoAtRisk {
            service,
            projected_s,
            ..
        } => {
            put("service", service.clone().into());
            put("projected_s", (*projected_s).into());
            (NotifyEvent::RtoAtRisk, e.at_risk().unwrap_or_default())
        }
        Event::ServiceRecovered {
            service,
            achieved_s,
            rto,
        } => {
            let against = rto
                .as_ref()
                .map(|r| {
                    let met = if r.met { "met" } else { "MISSED" };
                    format!(" against {} ({met})", secs(r.target_s))
                })
                .unwrap_or_default();
            put("service", service.clone().into());
            (
                NotifyEvent::ServiceRecovered,
                format!("{service} recovered in {}{against}", secs(*achieved_s)),
            )
        }
        Event::RollbackStarted { services, .. } => (
            NotifyEvent::RollbackStarted,
            format!("rolling back {}", services.join(", ")),
        ),
        Event::RunbookStopped {
            runbook, message, ..
        } => (
            NotifyEvent::RunbookStopped,
            format!("runbook `{runbook}` stopped: {message}"),
        ),
        Event::TerminalLost { .. } => (
            NotifyEvent::TerminalLost,
            format!(
                "the operator's terminal hung up; the run goes on (follow it with `switchyard watch {}`)",
                ctx.run_dir
            ),
        ),
        Event::Resumed { operator, .. } => (NotifyEvent::Resumed, format!("resumed by {operator}")),
        Event::RunFinished { outcome, rto, .. } => {
            let timed = rto
                .as_ref()
                .map(|r| {
                    format!(
                        ": recovered in {} against an RTO of {}",
                        secs(r.achieved_s),
                        secs(r.target_s)
                    )
                })
                .unwrap_or_default();
            put("outcome", outcome.as_str().into());
            if let Some(r) = rto {
                put("achieved_s", r.achieved_s.into());
                put("met", r.met.into());
            }
            (
                NotifyEvent::RunFinished,
                format!("finished {}{timed}", outcome.as_str()),
            )
        }
        _ => return None,
    };
    Some(Message {
        event,
        text,
        fields,
    })
}

/// `db.start.1 on db-b1`, or just the step.
fn at(step: &str, host: Option<&str>) -> String {
    match host {
        Some(h) => format!("{step} on {h}"),
        None => step.to_string(),
    }
}

/// A question's text may hold a failed step's last lines; the chat gets the first.
fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or("")
}

fn secs(s: f64) -> String {
    duration(Duration::from_millis((s.max(0.0) * 1000.0).min(1e15) as u64))
}
