//! A service's measured RPO: `rpo` and `[services.NAME.canary]` (SPEC §8), as written
//! and as validated. The engine's writer and reader are in `engine/canary.rs`.

use std::time::Duration;

use super::diagnostic::Diagnostic;
use super::inventory::HostIdx;
use super::raw::Strings;
use super::reader::{Cx, Fields};
use super::source::{Sp, Span};
use super::template::Template;

/// How often the canary writes when `interval` is not given.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(1);
/// How long one canary command may take on one host when `timeout` is not given (as
/// for checks).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// `[services.NAME.canary]` as written.
#[derive(Debug)]
pub struct RawCanary {
    pub span: Span,
    pub write: Option<Template>,
    pub read: Option<Template>,
    pub interval: Option<Sp<Duration>>,
    pub timeout: Option<Sp<Duration>>,
    pub hosts: Option<Strings>,
}

/// A validated canary: `write` runs on its hosts in the source hall, `read` on those in
/// the target hall.
#[derive(Clone, Debug)]
pub struct Canary {
    pub write: Template,
    pub read: Template,
    pub interval: Duration,
    pub timeout: Duration,
    /// Its hosts in both halls (the canary's `hosts`, or else the service's).
    pub hosts: Vec<HostIdx>,
    pub span: Span,
}

/// Reads `[services.NAME.canary]`; a missing `write` or `read` is reported here.
pub fn read(cx: &mut Cx<'_>, mut f: Fields<'_, '_>) -> RawCanary {
    let write = f
        .required_string(cx, "write")
        .map(|s| Template::parse_canary_write(cx, &s));
    let read = f
        .required_string(cx, "read")
        .map(|s| Template::parse(cx, &s));
    let c = RawCanary {
        span: f.span.clone(),
        write,
        read,
        interval: f.duration(cx, "interval", false),
        timeout: f.duration(cx, "timeout", false),
        hosts: f.strings(cx, "hosts"),
    };
    f.finish(cx);
    c
}

/// A service's `rpo` needs a canary to measure it.
pub fn rpo_without_canary(service: &str, rpo: &Span) -> Diagnostic {
    Diagnostic::error(
        rpo.clone(),
        format!("service `{service}` has an `rpo` but no canary to measure it"),
    )
    .with_label("nothing measures this target")
    .with_help(format!(
        "add `[services.{service}.canary]` with `write` and `read`, or remove `rpo`"
    ))
}
