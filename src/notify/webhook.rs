//! A run's webhooks, made from the `[[notify]]` tables of its inventory and runbooks:
//! each one's secrets read and its URL rendered and checked before the run starts, so a
//! missing token is an error at once (exit 2), not a silence during the incident.

use std::collections::BTreeMap;

use crate::config::notify::{Notify, NotifyEvent, NotifyFormat};
use crate::config::template::{Placeholder, Resolve, Resolved};
use crate::engine::secrets::{self, Redactor};

/// One webhook to POST to.
#[derive(Debug)]
pub struct Webhook {
    /// The URL with its secrets filled in: never written anywhere.
    pub url: reqwest::Url,
    /// What the journal and the terminal show of it: scheme and host.
    pub shown: String,
    pub events: Vec<NotifyEvent>,
    pub format: NotifyFormat,
}

/// A run's webhooks, and the secret values read for them (for the run's redactor).
#[derive(Debug, Default)]
pub struct Prepared {
    pub hooks: Vec<Webhook>,
    pub secrets: Vec<(String, String)>,
}

/// The webhooks of `notifies`. The same URL and format named twice is one webhook,
/// told of the events of both.
pub fn prepare(notifies: &[&Notify]) -> Result<Prepared, String> {
    let mut hooks: Vec<Webhook> = Vec::new();
    let mut values = Vec::new();
    for n in notifies {
        let read = secrets::resolve(&n.secrets)
            .map_err(|e| format!("webhook `{}`: {e}", n.webhook.text))?;
        let url = n.webhook.render(&Values(&read), false);
        let url = reqwest::Url::parse(&url).map_err(|e| {
            format!(
                "webhook `{}` is not a URL once its secrets are filled in: {e}",
                n.webhook.text
            )
        })?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err(format!(
                "webhook `{}` is not an http:// or https:// URL once its secrets are filled in",
                n.webhook.text
            ));
        }
        let shown = Redactor::new(&read).redact(&shown(&url));
        values.extend(read);
        match hooks
            .iter_mut()
            .find(|h| h.url == url && h.format == n.format)
        {
            Some(same) => {
                for e in &n.events {
                    if !same.events.contains(e) {
                        same.events.push(*e);
                    }
                }
            }
            None => hooks.push(Webhook {
                url,
                shown,
                events: n.events.clone(),
                format: n.format,
            }),
        }
    }
    Ok(Prepared {
        hooks,
        secrets: values,
    })
}

/// `https://chat.example/…`: enough to tell webhooks apart, nothing of a path's token.
fn shown(url: &reqwest::Url) -> String {
    let port = url.port().map(|p| format!(":{p}")).unwrap_or_default();
    format!(
        "{}://{}{port}/…",
        url.scheme(),
        url.host_str().unwrap_or_default()
    )
}

/// A webhook's placeholders are all secrets (validated).
struct Values<'a>(&'a BTreeMap<String, String>);

impl Resolve for Values<'_> {
    fn resolve<'s>(&'s self, p: &'s Placeholder) -> Resolved<'s> {
        let value = match p {
            Placeholder::Secret(name) => self.0.get(name).map_or("", String::as_str),
            _ => "",
        };
        Resolved::Text(value.into())
    }
}
