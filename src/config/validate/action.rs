//! Actions: the keys only some kinds of step take (see
//! [`ActionKind`]), the target of `tcp` and `http` steps, the HTTP method, and the
//! validated [`Action`] with the name a step gets from what it does.

use std::path::Path;

use crate::config::action_kind::ActionKind;
use crate::config::diagnostic::{Diagnostic, Diagnostics};
use crate::config::duration;
use crate::config::inventory::expand_path;
use crate::config::raw::{RawAction, RawStep};
use crate::config::reader::{list_and, one_of};
use crate::config::runbook::{Action, HttpCheck};
use crate::config::template::{Part, Placeholder, Template};

/// Keys of other kinds (see [`ActionKind::own_keys`]): `expect_exit` on an `http` step,
/// `ca_file` on a `run` step, ... each named with the kinds that take it.
pub(super) fn check_kind_keys(
    diags: &mut Diagnostics,
    raw: &RawStep,
    kind: ActionKind,
    what: &str,
) {
    for (key, span) in raw.kind_keys() {
        if kind.own_keys().contains(&key) {
            continue;
        }
        let label = match kind.instead_of(key) {
            Some(instead) => format!("remove it; {instead}"),
            None => "remove it".to_string(),
        };
        diags.push(
            Diagnostic::error(
                span.clone(),
                format!(
                    "`{key}` applies only to {} steps, not to {what}",
                    list_and(&ActionKind::taking(key))
                ),
            )
            .with_label(label),
        );
    }
}

/// The template's shape for static checks: a variable or secret (which may hold anything)
/// becomes `\0`, any other placeholder a plain word.
fn shape(t: &Template) -> String {
    t.parts
        .iter()
        .map(|p| match p {
            Part::Text(s) => s.as_str(),
            Part::Value(Placeholder::Var(_) | Placeholder::Secret(_), _) => "\0",
            Part::Value(..) => "host",
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

/// The validated action, after checking its target and HTTP method; `None` for an
/// unknown method. `path` is the runbook's, for `ca_file`.
pub(super) fn build_action(
    diags: &mut Diagnostics,
    path: &Path,
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
                    .map(|c| expand_path(path, &c.value)),
                insecure_tls: raw.http.insecure_tls.as_ref().is_some_and(|b| b.value),
            }))
        }
    })
}

/// A name for a step that has none: what it does, in one short line.
pub(super) fn default_name(a: &Action) -> String {
    let text = match a {
        Action::Run(t) | Action::Local(t) => t.text.clone(),
        Action::Http(h) => format!("{} {}", h.method, h.url.text),
        Action::Tcp(t) => format!("connect to {}", t.text),
        Action::Manual(t) => t.text.clone(),
        Action::Sleep(d) => format!("wait {}", duration::format(*d)),
    };
    let line = text.lines().next().unwrap_or("").trim();
    if line.chars().count() > 60 {
        format!("{}…", line.chars().take(59).collect::<String>())
    } else {
        line.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{HEADER, accepted, error, one_step};
    use crate::config::action_kind::ActionKind;
    use crate::config::runbook::Action;

    #[test]
    fn keys_of_other_kinds() {
        let table: &[(&str, &str)] = &[
            (
                "http = \"http://vip/\"\nexpect_exit = 0",
                "`expect_exit` applies only to `run` and `local` steps, not to step db.verify.1: remove it",
            ),
            (
                "http = \"http://vip/\"\nexpect_stdout = \"ok\"",
                "`expect_stdout` applies only to `run` and `local` steps, not to step db.verify.1: remove it; an `http` step checks the response with `expect_body`",
            ),
            (
                "tcp = \"vip:5432\"\nexpect_stdout = \"ok\"",
                "`expect_stdout` applies only to `run` and `local` steps, not to step db.verify.1: remove it",
            ),
            (
                "run = \"x\"\nexpect_body = \"ok\"",
                "`expect_body` applies only to `http` steps, not to step db.verify.1: remove it; a command's output is checked with `expect_stdout`",
            ),
            (
                "local = \"x\"\nca_file = \"ca.pem\"",
                "`ca_file` applies only to `http` steps, not to step db.verify.1: remove it",
            ),
            (
                "tcp = \"vip:5432\"\ninsecure_tls = true",
                "`insecure_tls` applies only to `http` steps, not to step db.verify.1: remove it",
            ),
            (
                "manual = \"x\"\nexpect_body = \"ok\"",
                "`expect_body` applies only to `http` steps, not to step db.verify.1: remove it",
            ),
            (
                "sleep = \"1s\"\nmethod = \"GET\"",
                "`method` applies only to `http` steps, not to step db.verify.1: remove it",
            ),
        ];
        for (step, expected) in table {
            assert_eq!(error(&one_step("verify", step)), *expected, "{step}");
        }
    }

    /// Every key of [`ActionKind::kind_keys`] on every kind: accepted where the kind
    /// takes it, reported where it does not. A new kind or key without a sample here
    /// fails to compile or panics.
    #[test]
    fn every_kind_key_on_every_kind() {
        let sample = |kind: ActionKind| match kind {
            ActionKind::Run => "run = \"x\"",
            ActionKind::Local => "local = \"x\"",
            ActionKind::Http => "http = \"http://vip/\"",
            ActionKind::Tcp => "tcp = \"vip:1\"",
            ActionKind::Manual => "manual = \"x\"",
            ActionKind::Sleep => "sleep = \"1s\"",
        };
        let values: &[(&str, &str)] = &[
            ("expect_exit", "0"),
            ("expect_stdout", "\"ok\""),
            ("method", "\"GET\""),
            ("headers", "{ A = \"b\" }"),
            ("body", "\"x\""),
            ("expect_status", "200"),
            ("expect_body", "\"ok\""),
            ("ca_file", "\"ca.pem\""),
            ("insecure_tls", "true"),
        ];
        for kind in ActionKind::ALL {
            for key in ActionKind::kind_keys() {
                let value = values
                    .iter()
                    .find(|(k, _)| *k == key)
                    .map(|(_, v)| *v)
                    .unwrap_or_else(|| panic!("no sample value for `{key}`"));
                let runbook = one_step("verify", &format!("{}\n{key} = {value}", sample(kind)));
                if kind.own_keys().contains(&key) {
                    accepted(&runbook);
                } else {
                    let e = error(&runbook);
                    assert!(e.starts_with(&format!("`{key}` applies only to")), "{e}");
                }
            }
        }
    }

    #[test]
    fn targets_and_methods() {
        let table: &[(&str, &str)] = &[
            (
                "tcp = \"vip\"",
                "`vip` in step db.verify.1 is not a TCP address: expected HOST:PORT with a port from 1 to 65535, like \"{{host.address}}:5432\"",
            ),
            (
                "tcp = \"vip:0\"",
                "`vip:0` in step db.verify.1 is not a TCP address: expected HOST:PORT with a port from 1 to 65535, like \"{{host.address}}:5432\"",
            ),
            (
                "tcp = \":5432\"",
                "`:5432` in step db.verify.1 is not a TCP address: expected HOST:PORT with a port from 1 to 65535, like \"{{host.address}}:5432\"",
            ),
            (
                "http = \"ftp://vip/\"",
                "`ftp://vip/` in step db.verify.1 is not an HTTP URL: expected a URL starting with http:// or https://",
            ),
            (
                "http = \"vip/health\"",
                "`vip/health` in step db.verify.1 is not an HTTP URL: expected a URL starting with http:// or https://",
            ),
            (
                "http = \"http://vip/\"\nmethod = \"FETCH\"",
                "unknown HTTP method `FETCH`: expected one of `GET`, `HEAD`, `POST`, `PUT`, `PATCH`, `DELETE` or `OPTIONS`",
            ),
        ];
        for (step, expected) in table {
            assert_eq!(error(&one_step("verify", step)), *expected, "{step}");
        }
    }

    #[test]
    fn exactly_one_kind() {
        let table: &[(&str, &str)] = &[
            (
                "name = \"n\"",
                "step `n` (db.stop.1) says nothing to do: expected exactly one of `run`, `local`, `http`, `tcp`, `manual` or `sleep`",
            ),
            (
                "run = \"x\"\nsleep = \"1s\"",
                "step db.stop.1 has more than one thing to do: expected exactly one of `run`, `local`, `http`, `tcp`, `manual` or `sleep`; found `run` and `sleep`",
            ),
        ];
        for (step, expected) in table {
            assert_eq!(error(&one_step("stop", step)), *expected, "{step}");
        }
    }

    #[test]
    fn every_kind_is_read_and_named() {
        let long = "x".repeat(70);
        let table: &[(String, ActionKind, String)] = &[
            (
                "run = \"systemctl stop pg\"".into(),
                ActionKind::Run,
                "systemctl stop pg".into(),
            ),
            (
                "local = \"echo a\\necho b\"".into(),
                ActionKind::Local,
                "echo a".into(),
            ),
            (
                "http = \"https://vip/health\"\nmethod = \"HEAD\"".into(),
                ActionKind::Http,
                "HEAD https://vip/health".into(),
            ),
            (
                "tcp = \"{{vars.addr}}\"".into(),
                ActionKind::Tcp,
                "connect to {{vars.addr}}".into(),
            ),
            (
                "manual = \"  check the dashboard  \"".into(),
                ActionKind::Manual,
                "check the dashboard".into(),
            ),
            (
                "sleep = \"90s\"".into(),
                ActionKind::Sleep,
                "wait 1m 30s".into(),
            ),
            (
                format!("run = \"{long}\""),
                ActionKind::Run,
                format!("{}…", "x".repeat(59)),
            ),
            (
                "name = \"stop it\"\nrun = \"x\"".into(),
                ActionKind::Run,
                "stop it".into(),
            ),
        ];
        for (step, kind, name) in table {
            let runbook = one_step("verify", step).replacen(
                HEADER,
                &format!("{HEADER}[vars]\naddr = \"vip:5432\"\n"),
                1,
            );
            let rb = accepted(&runbook);
            let s = &rb.services[0].phases[3][0];
            assert_eq!(
                (s.action.action_kind(), s.name.as_str()),
                (*kind, name.as_str()),
                "{step}"
            );
            assert_eq!(s.action.kind(), kind.key());
        }
    }

    #[test]
    fn an_http_check_with_every_option() {
        let rb = accepted(&one_step(
            "verify",
            "http = \"https://vip/\"\nmethod = \"POST\"\nheaders = { Accept = \"text/plain\" }\n\
             body = \"ping\"\nexpect_status = [200, 204]\nexpect_body = \"pong\"\n\
             ca_file = \"ca.pem\"\ninsecure_tls = true",
        ));
        let Action::Http(h) = &rb.services[0].phases[3][0].action else {
            panic!("an http check");
        };
        assert_eq!(h.method, "POST");
        assert_eq!(h.headers[0].0, "Accept");
        assert_eq!(h.body.as_ref().map(|t| t.text.as_str()), Some("ping"));
        assert_eq!(h.expect_status, [200, 204]);
        assert_eq!(
            h.expect_body.as_ref().map(|t| t.text.as_str()),
            Some("pong")
        );
        assert_eq!(
            h.ca_file.as_deref(),
            Some(std::path::Path::new("/t/ca.pem"))
        );
        assert!(h.insecure_tls);
    }
}
