//! The delivery task of one webhook: POSTs its queue's messages one at a time, each
//! within [`TIMEOUT`], and journals each result.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use super::{Context, Journal, Message, TIMEOUT, Webhook};
use crate::config::notify::NotifyEvent;
use crate::engine::Event;
use crate::engine::secrets::Redactor;

/// Why a message got less than [`TIMEOUT`], or no try at all.
const ENDED: &str = "the run had ended, and its time for last notifications was up";

/// When the run has ended: the moment after which nothing more is sent.
#[derive(Default)]
pub(super) struct Ending(Mutex<Option<Instant>>);

impl Ending {
    pub(super) fn begin(&self, deadline: Instant) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = Some(deadline);
    }

    /// How long the next POST may take: [`TIMEOUT`], or less as the deadline nears;
    /// `None` once it has passed.
    fn budget(&self) -> Option<Duration> {
        match *self.0.lock().unwrap_or_else(PoisonError::into_inner) {
            None => Some(TIMEOUT),
            Some(deadline) => deadline
                .checked_duration_since(Instant::now())
                .filter(|d| !d.is_zero())
                .map(|d| d.min(TIMEOUT)),
        }
    }
}

/// A client for webhooks: certificates verified against the system's roots, the
/// environment's proxy honoured (chat services are usually outside), no redirects
/// followed (a token in the URL must not travel on to another address).
pub(super) fn client() -> Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(TIMEOUT)
        .user_agent(concat!("switchyard/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| format!("cannot set up HTTP for notifications: {e}"))
}

/// Everything one webhook's task needs.
pub(super) struct Courier {
    pub hook: Arc<Webhook>,
    pub client: reqwest::Client,
    pub ctx: Arc<Context>,
    pub ending: Arc<Ending>,
    pub redactor: Arc<Redactor>,
    pub journal: Journal,
}

impl Courier {
    pub(super) async fn run(self, mut queue: mpsc::Receiver<Message>) {
        while let Some(m) = queue.recv().await {
            let event = match self.ending.budget() {
                Some(budget) => self.post(&m, budget).await,
                None => failed(
                    &self.hook,
                    m.event,
                    format!("not sent: {ENDED}"),
                    Duration::ZERO,
                ),
            };
            (self.journal)(event);
        }
    }

    /// POSTs `m`; the `notified` event says how it went.
    async fn post(&self, m: &Message, budget: Duration) -> Event {
        let body = m.body(&self.ctx, self.hook.format);
        let started = Instant::now();
        let sent = self
            .client
            .post(self.hook.url.clone())
            .timeout(budget)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body.to_string())
            .send()
            .await;
        let took = started.elapsed();
        match sent {
            Ok(resp) if resp.status().is_success() => Event::Notified {
                webhook: self.hook.shown.clone(),
                about: m.event.as_str().into(),
                ok: true,
                status: Some(resp.status().as_u16()),
                message: None,
                duration_s: took.as_secs_f64(),
            },
            Ok(resp) => {
                let status = resp.status();
                let mut e = failed(
                    &self.hook,
                    m.event,
                    format!("the webhook answered HTTP {status}"),
                    took,
                );
                if let Event::Notified { status: s, .. } = &mut e {
                    *s = Some(status.as_u16());
                }
                e
            }
            Err(err) => {
                let why = if err.is_timeout() {
                    let within = crate::config::duration::format(budget);
                    if budget < TIMEOUT {
                        format!("no answer within {within}: {ENDED}")
                    } else {
                        format!("no answer within {within}")
                    }
                } else {
                    self.redactor.redact(&chain(&err.without_url()))
                };
                failed(&self.hook, m.event, why, took)
            }
        }
    }
}

/// A `notified` event for a message that did not get through.
pub(super) fn failed(hook: &Webhook, about: NotifyEvent, why: String, took: Duration) -> Event {
    Event::Notified {
        webhook: hook.shown.clone(),
        about: about.as_str().into(),
        ok: false,
        status: None,
        message: Some(why),
        duration_s: took.as_secs_f64(),
    }
}

/// An error and its causes, in one line ("error sending request: … connection refused").
fn chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut cause = err.source();
    while let Some(c) = cause {
        let said = c.to_string();
        if !text.contains(&said) {
            text.push_str(": ");
            text.push_str(&said);
        }
        cause = c.source();
    }
    text
}
