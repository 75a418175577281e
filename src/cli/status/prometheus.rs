//! The register in Prometheus's text exposition format, for node_exporter's textfile
//! collector: an alert can then fire on a drill gone stale or failing without anyone
//! running `status` by hand.
//!
//! Every series has the labels `runbook` and `direction` (`a->b`: the halls it switches
//! from and to). A state is the usual enum pattern: one series per state, 1 for the
//! current one and 0 for the others. A value that does not exist (no pass yet, no due
//! date) is left out rather than written as 0.

use std::fmt::Write;

use super::{DirectionStatus, Register, State, System, unix_seconds};

pub(super) fn render(reg: &Register) -> String {
    let mut out = String::new();
    family(
        &mut out,
        "switchyard_runbook_state",
        "The drill state of a runbook in one direction: 1 for its current state (never, failing, changed, overdue, ok), 0 for the others.",
        series(reg, |_, row| {
            State::ALL
                .iter()
                .map(|&s| {
                    (
                        vec![("state", s.as_str().to_string())],
                        if row.is_some_and(|r| r.state == s) {
                            1.0
                        } else {
                            0.0
                        },
                    )
                })
                .collect()
        }),
    );
    family(
        &mut out,
        "switchyard_drill_last_success_timestamp_seconds",
        "When the last passing live drill in this direction started (Unix seconds); absent if none passed.",
        series(reg, |_, row| {
            one(row
                .and_then(|r| r.last_pass.as_ref())
                .and_then(|p| unix_seconds(&p.at)))
        }),
    );
    family(
        &mut out,
        "switchyard_drill_recovery_seconds",
        "The recovery time the last live drill in this direction achieved; absent if it did not recover.",
        series(reg, |_, row| {
            one(row
                .and_then(|r| r.last_live.as_ref())
                .and_then(|l| l.recovered_s))
        }),
    );
    family(
        &mut out,
        "switchyard_drill_rto_seconds",
        "The runbook's RTO target today.",
        series(reg, |sys, _| one(Some(sys.rto_s))),
    );
    family(
        &mut out,
        "switchyard_drill_due_timestamp_seconds",
        "When the next drill in this direction is due (last pass plus drill_every, Unix seconds); absent without either.",
        series(reg, |_, row| {
            one(row.and_then(|r| r.due.as_deref()).and_then(unix_seconds))
        }),
    );
    let _ = writeln!(
        out,
        "# HELP switchyard_status_untrusted_folders Run folders of these runbooks whose evidence does not verify (not counted).\n\
         # TYPE switchyard_status_untrusted_folders gauge\n\
         switchyard_status_untrusted_folders {}",
        reg.untrusted.len()
    );
    out
}

/// Extra labels and the value of one series.
type Sample = (Vec<(&'static str, String)>, f64);

fn one(value: Option<f64>) -> Vec<Sample> {
    value.map(|v| (Vec::new(), v)).into_iter().collect()
}

/// The series of every system and direction, in register order, labelled with both.
fn series(
    reg: &Register,
    value: impl Fn(&System, Option<&DirectionStatus>) -> Vec<Sample>,
) -> Vec<Sample> {
    let mut out = Vec::new();
    for sys in &reg.systems {
        for (from, to) in &sys.directions {
            for (extra, v) in value(sys, reg.row(&sys.name, from, to)) {
                let mut labels = vec![
                    ("runbook", sys.name.clone()),
                    ("direction", format!("{from}->{to}")),
                ];
                labels.extend(extra);
                out.push((labels, v));
            }
        }
    }
    out
}

/// One gauge with its `# HELP` and `# TYPE` lines.
fn family(out: &mut String, name: &str, help: &str, samples: Vec<Sample>) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge");
    for (labels, v) in samples {
        let labels: Vec<String> = labels
            .iter()
            .map(|(k, v)| format!("{k}=\"{}\"", label_value(v)))
            .collect();
        let _ = writeln!(out, "{name}{{{}}} {v}", labels.join(","));
    }
}

/// A label value as the exposition format escapes it: backslash, double quote, newline.
fn label_value(s: &str) -> String {
    s.replace('\\', r"\\")
        .replace('"', "\\\"")
        .replace('\n', r"\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_escape_backslash_quote_and_newline() {
        assert_eq!(label_value("a\\b\"c\nd"), r#"a\\b\"c\nd"#);
        assert_eq!(label_value("plain"), "plain");
    }
}
