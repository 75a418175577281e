//! HTTP checks (reqwest): one request sent, its answer read — the body only up to
//! [`BODY_LIMIT_MIB`] — and the clients that send them.

use std::path::Path;
use std::time::Duration;

use super::{Cancel, Request, TransportError};

/// How much of a response body a check reads, in MiB. A health page is a few bytes or
/// KiB; a check pointed at a download or an endless stream must not fill switchyard's
/// memory, so reading stops here and `expect_body` is matched against what was read.
pub const BODY_LIMIT_MIB: usize = 1;
const BODY_LIMIT: usize = BODY_LIMIT_MIB * 1024 * 1024;

/// One HTTP request, fully resolved.
#[derive(Clone)]
pub struct HttpRequest {
    /// `None`: no client was prepared for its TLS settings (a bug); nothing is sent.
    pub client: Option<reqwest::Client>,
    pub method: reqwest::Method,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<String>,
}

/// The answer to an [`HttpRequest`].
#[derive(Debug)]
pub struct HttpResponse {
    pub status: u16,
    /// The body as far as it was read.
    pub body: Vec<u8>,
    /// The body went on past [`BODY_LIMIT_MIB`]; reading stopped there.
    pub cut: bool,
}

impl HttpRequest {
    /// "GET https://…", for messages.
    pub fn describe(&self) -> String {
        format!("{} {}", self.method, self.url)
    }

    async fn send(&self, timeout: Duration) -> Result<HttpResponse, TransportError> {
        let Some(client) = &self.client else {
            return Err(TransportError::NoHttpClient {
                request: self.describe(),
            });
        };
        let mut r = client
            .request(self.method.clone(), &self.url)
            .timeout(timeout);
        for (k, v) in &self.headers {
            r = r.header(k, v);
        }
        if let Some(body) = &self.body {
            r = r.body(body.clone());
        }
        let mut resp = r.send().await.map_err(|e| TransportError::NoAnswer {
            request: self.describe(),
            reason: cause(&e, timeout, "no answer"),
        })?;
        let status = resp.status().as_u16();
        let (body, cut) = read_body(&mut resp)
            .await
            .map_err(|e| TransportError::BodyUnread {
                request: self.describe(),
                status,
                reason: cause(&e, timeout, "the rest did not arrive"),
            })?;
        Ok(HttpResponse { status, body, cut })
    }
}

impl Request for HttpRequest {
    type Output = HttpResponse;

    async fn perform(
        &self,
        timeout: Duration,
        cancel: &Cancel,
    ) -> Result<HttpResponse, TransportError> {
        tokio::select! {
            r = self.send(timeout) => r,
            () = cancel.wait() => Err(TransportError::Interrupted),
        }
    }
}

/// A client for checks with these TLS settings: `ca_file` trusted besides the system's
/// roots, or any certificate accepted (`insecure_tls`).
pub fn client(ca_file: Option<&Path>, insecure_tls: bool) -> Result<reqwest::Client, String> {
    // A check speaks to the service itself: no proxy from the environment
    // (`HTTP_PROXY`) in between, which would test the proxy, or fail on loopback.
    let mut b = reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("switchyard/", env!("CARGO_PKG_VERSION")));
    if let Some(ca) = ca_file {
        let pem = std::fs::read(ca)
            .map_err(|e| format!("cannot read ca_file `{}`: {e}", ca.display()))?;
        let cert = reqwest::Certificate::from_pem(&pem)
            .map_err(|e| format!("ca_file `{}` is not a PEM certificate: {e}", ca.display()))?;
        b = b.add_root_certificate(cert);
    }
    if insecure_tls {
        b = b.danger_accept_invalid_certs(true);
    }
    b.build().map_err(|e| format!("cannot set up HTTP: {e}"))
}

/// Reads a body chunk by chunk, up to [`BODY_LIMIT`], and whether it went on past it.
/// Any error — a reset connection, a body shorter than its `Content-Length`, the timeout
/// — is an `Err`: part of a body must never be judged as if it were the whole.
async fn read_body(resp: &mut reqwest::Response) -> Result<(Vec<u8>, bool), reqwest::Error> {
    let mut bytes = Vec::new();
    while let Some(chunk) = resp.chunk().await? {
        let room = BODY_LIMIT - bytes.len();
        if chunk.len() > room {
            bytes.extend_from_slice(&chunk[..room]);
            return Ok((bytes, true));
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok((bytes, false))
}

/// Why a request failed, in words: the timeout (`what` did not happen within it), or
/// reqwest's causes — its own text repeats the URL, which the message already names.
fn cause(e: &reqwest::Error, timeout: Duration, what: &str) -> String {
    if e.is_timeout() {
        format!(
            "{what} within {} (timeout)",
            crate::config::duration::format(timeout)
        )
    } else {
        std::error::Error::source(e).map_or_else(|| e.to_string(), error_chain)
    }
}

/// reqwest's error with its causes, which say what actually went wrong.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_request_without_a_client_is_an_error_and_is_not_sent() {
        let request = HttpRequest {
            client: None,
            method: reqwest::Method::GET,
            url: "http://127.0.0.1:9/health".into(),
            headers: Vec::new(),
            body: None,
        };
        let e = request
            .perform(Duration::from_secs(5), &Cancel::default())
            .await
            .expect_err("no client, no request");
        assert_eq!(
            e.to_string(),
            "GET http://127.0.0.1:9/health: switchyard prepared no HTTP client for this \
             check's TLS settings (a bug in switchyard); no request was sent"
        );
    }
}
