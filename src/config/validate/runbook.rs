//! The entry point of pass 2 for runbooks, [`validate`]: it runs the checks of each subject
//! in order (the runbook's own table here; halls, services, steps and actions in their
//! modules) and builds the [`Runbook`] only when none found a problem.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Arc;

use super::context::StepCx;
use super::hosts;
use super::service;
use crate::config::diagnostic::{Diagnostic, Diagnostics};
use crate::config::ids::is_var_name;
use crate::config::inventory::{Inventory, expand_path};
use crate::config::model::OnFailure;
use crate::config::raw::{RawRunbook, RawSecret};
use crate::config::raw_site::LAST_TIER;
use crate::config::runbook::{Origin, Runbook, SecretSource};
use crate::config::source::Sp;

/// Builds the validated runbook; `None` if any error was found.
pub fn validate(
    raw: RawRunbook,
    inventory: Option<Arc<Inventory>>,
    path: &Path,
    diags: &mut Diagnostics,
) -> Option<Runbook> {
    let errors_before = diags.error_count();
    let file = raw.top.file;
    let header = raw.header.as_ref();
    if let Some(n) = header.and_then(|h| h.name.as_ref()) {
        check_name(diags, "runbook", "recruitment", n);
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
                RawSecret::File(f) => Some(SecretSource::File(expand_path(path, &f.value))),
                RawSecret::Invalid => None,
            };
            (n, source)
        }),
    );
    let halls = inventory
        .as_ref()
        .and_then(|inv| hosts::runbook_halls(diags, header, inv, &raw.top));
    let services_by_name: HashMap<&str, usize> = raw
        .services
        .iter()
        .enumerate()
        .map(|(i, s)| (s.name.value.as_str(), i))
        .collect();
    let cx = StepCx {
        inventory: inventory.as_deref(),
        halls: halls.as_ref(),
        vars: &var_names,
        var_values: &vars,
        secrets: &secret_names,
        path,
    };
    let mut services = Vec::new();
    for svc in &raw.services {
        services.push(service::validate_service(
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
    service::report_cycles(diags, &raw.services, &services);
    let invariants = super::invariant::validate_invariants(diags, &cx, &raw.invariants);
    let notify = crate::config::notify::validate(diags, &raw.notify, &secrets);
    if diags.error_count() > errors_before {
        return None;
    }
    let header = header?;
    let name = header.name.as_ref()?.value.clone();
    let title = header
        .title
        .as_ref()
        .map_or_else(|| name.clone(), |t| t.value.clone());
    let rto = header.rto.as_ref()?.value;
    let origin = Origin {
        name: name.clone(),
        title: title.clone(),
        rto,
        on_failure: header
            .on_failure
            .as_ref()
            .map_or(OnFailure::Pause, |o| o.value),
        vars,
        secrets,
        tier: LAST_TIER,
        requires: Vec::new(),
        assumes: Vec::new(),
        plan_hash: None,
        invariants,
        notify,
    };
    Some(Runbook {
        title,
        name,
        owner: header.owner.as_ref().map(|o| o.value.clone()),
        description: header.description.as_ref().map(|d| d.value.clone()),
        rto,
        drill_every: header.drill_every.as_ref().map(|d| d.value),
        halls: halls?,
        max_parallel: header.max_parallel.as_ref().map_or(32, |m| m.value as u32),
        origins: vec![origin],
        site: false,
        assumed: Vec::new(),
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

/// The name of a runbook or a site (`what`): lowercase letters, digits and `-`.
pub(super) fn check_name(diags: &mut Diagnostics, what: &str, example: &str, n: &Sp<String>) {
    if n.value.is_empty() {
        diags.push(
            Diagnostic::error(n.span.clone(), format!("the {what} name is empty")).with_label(
                format!("expected a name of lowercase letters, digits and `-`, like \"{example}\""),
            ),
        );
    } else if !n
        .value
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        diags.push(
            Diagnostic::error(
                n.span.clone(),
                format!("`{}` is not a valid {what} name", n.value),
            )
            .with_label("expected lowercase letters, digits and `-` only"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{HEADER, accepted, error, messages};
    use crate::config::model::OnFailure;
    use crate::config::runbook::SecretSource;

    /// One service with one step, after whatever a case puts before it.
    const SERVICE: &str =
        "[services.db]\nhosts = [\"tag:db\"]\n[[services.db.stop]]\nrun = \"x\"\n";

    #[test]
    fn rejects() {
        let table: &[(&str, &str)] = &[
            (
                "[runbook]\nname = \"\"\nrto = \"30m\"\n",
                "the runbook name is empty: expected a name of lowercase letters, digits and `-`, like \"recruitment\"",
            ),
            (
                "[runbook]\nname = \"Dr_Drill\"\nrto = \"30m\"\n",
                "`Dr_Drill` is not a valid runbook name: expected lowercase letters, digits and `-` only",
            ),
            (
                "[runbook]\nname = \"t\"\nrto = \"30m\"\n[vars]\n\"db-port\" = \"5432\"\n",
                "`db-port` is not a valid variable name: expected letters, digits and `_` only, so templates can name it",
            ),
            (
                "[runbook]\nname = \"t\"\nrto = \"30m\"\n[secrets]\n\"pg.pw\" = { env = \"PW\" }\n",
                "`pg.pw` is not a valid secret name: expected letters, digits and `_` only, so templates can name it",
            ),
        ];
        for (head, expected) in table {
            assert_eq!(error(&format!("{head}{SERVICE}")), *expected, "{head}");
        }
    }

    #[test]
    fn a_runbook_without_services_says_so() {
        assert_eq!(messages(HEADER), ["the runbook has no services"]);
    }

    #[test]
    fn defaults_and_values() {
        let rb = accepted(&format!("{HEADER}{SERVICE}"));
        assert_eq!(rb.title, "t");
        assert_eq!(rb.max_parallel, 32);
        assert_eq!(rb.origins[0].on_failure, OnFailure::Pause);
        let rb = accepted(&format!(
            "[runbook]\nname = \"t\"\ntitle = \"T\"\nrto = \"30m\"\nmax_parallel = 4\n\
             on_failure = \"abort\"\n\
             [vars]\nport = \"5432\"\n[secrets]\npw = {{ env = \"PW\" }}\n{SERVICE}"
        ));
        assert_eq!(rb.title, "T");
        assert_eq!(rb.max_parallel, 4);
        let origin = &rb.origins[0];
        assert_eq!(origin.on_failure, OnFailure::Abort);
        assert_eq!(origin.vars["port"], "5432");
        assert!(matches!(&origin.secrets["pw"], SecretSource::Env(v) if v == "PW"));
    }

    #[test]
    fn drill_every() {
        let rb = accepted(&format!("{HEADER}drill_every = \"180d\"\n{SERVICE}"));
        assert_eq!(
            rb.drill_every,
            Some(std::time::Duration::from_secs(180 * 86_400))
        );
        assert_eq!(accepted(&format!("{HEADER}{SERVICE}")).drill_every, None);
        assert_eq!(
            error(&format!("{HEADER}drill_every = \"0s\"\n{SERVICE}")),
            "`drill_every` in [runbook] must be longer than zero: expected a duration greater than zero"
        );
        assert!(
            messages(&format!("{HEADER}drill_every = \"often\"\n{SERVICE}"))[0]
                .starts_with("`drill_every` in [runbook] is not a valid duration")
        );
    }
}
