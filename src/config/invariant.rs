//! Safety invariants (`[[invariants]]`): conditions across both halls that must hold at
//! every moment of a switchover. A check is a `run`, `http` or `tcp` step run on every
//! host of both halls; `holds_on` says how many hosts must hold.
//!
//! This module has the raw mirror (read with the step reader, so the keys of `run`,
//! `http` and `tcp` mean exactly what they mean on a step), the validated model and the
//! counting rule; `validate/invariant.rs` builds the model, `engine/invariants.rs` runs
//! the checks.

use super::diagnostic::Diagnostic;
use super::model::Phase;
use super::raw::{RawStep, read_step};
use super::reader::{Cx, Fields};
use super::runbook::Step;
use super::source::{Sp, Span};

/// How many of an invariant's hosts must hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HoldsOn {
    AtMostOne,
    ExactlyOne,
    AtLeastOne,
    All,
    None,
}

impl HoldsOn {
    pub const CHOICES: &[(&str, HoldsOn)] = &[
        ("at_most_one", HoldsOn::AtMostOne),
        ("exactly_one", HoldsOn::ExactlyOne),
        ("at_least_one", HoldsOn::AtLeastOne),
        ("all", HoldsOn::All),
        ("none", HoldsOn::None),
    ];

    pub fn as_str(self) -> &'static str {
        Self::CHOICES
            .iter()
            .find(|(_, h)| *h == self)
            .map_or("", |(n, _)| n)
    }

    /// Whether `holding` hosts out of `counted` satisfy the rule.
    pub fn satisfied(self, holding: usize, counted: usize) -> bool {
        match self {
            HoldsOn::AtMostOne => holding <= 1,
            HoldsOn::ExactlyOne => holding == 1,
            HoldsOn::AtLeastOne => holding >= 1,
            HoldsOn::All => holding == counted,
            HoldsOn::None => holding == 0,
        }
    }
}

/// `[[invariants]]` as written: a step (a check) and `holds_on`.
#[derive(Debug)]
pub struct RawInvariant {
    pub span: Span,
    /// 1-based position among the runbook's invariants.
    pub index: usize,
    pub holds_on: Option<Sp<HoldsOn>>,
    pub step: RawStep,
}

/// Reads every `[[invariants]]` table of a runbook document.
pub fn read_invariants(
    cx: &mut Cx<'_>,
    values: Vec<&toml::Spanned<toml::de::DeValue<'_>>>,
) -> Vec<RawInvariant> {
    let mut out = Vec::new();
    for (i, value) in values.into_iter().enumerate() {
        let what = match value.get_ref() {
            toml::de::DeValue::Table(t) => t
                .iter()
                .find(|(k, _)| k.get_ref() == "name")
                .and_then(|(_, v)| v.get_ref().as_str().map(|n| format!("invariant `{n}`"))),
            _ => None,
        }
        .unwrap_or_else(|| format!("invariant {}", i + 1));
        let Some(mut f) = Fields::of(cx, value, what) else {
            continue;
        };
        let span = f.span.clone();
        if !f.has("holds_on") {
            f.missing(
                cx,
                "holds_on",
                "how many hosts must hold: \"at_most_one\", \"exactly_one\", \"at_least_one\", \"all\" or \"none\"",
            );
        }
        let holds_on = f.choice(cx, "holds_on", HoldsOn::CHOICES);
        let step = read_step(cx, Phase::Precheck, i + 1, f);
        out.push(RawInvariant {
            span,
            index: i + 1,
            holds_on,
            step,
        });
    }
    out
}

/// A validated invariant of one runbook (an [`Origin`](super::runbook::Origin)).
#[derive(Clone, Debug)]
pub struct Invariant {
    pub name: String,
    pub holds_on: HoldsOn,
    /// The check, run once per host of `step.hosts` (hosts of both halls): a check step
    /// with `on = "both"`, one attempt, a 10 s default `timeout`.
    pub step: Step,
}

/// An error for a key an invariant does not take.
pub fn not_for_invariants(span: &Span, key: &str, what: &str) -> Diagnostic {
    Diagnostic::error(span.clone(), format!("`{key}` does not apply to {what}"))
        .with_label("an invariant is checked once per host of both halls, one attempt each")
}
