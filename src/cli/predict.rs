//! What `plan` predicts from (spec §7 "Predicted RTO"): the live runs of the same
//! runbook, direction and mode in the evidence folders that verify and passed, and what
//! each step of the plan measured in them. The figures are `plan::predict`'s.
//!
//! A site's run counts for each of its runbooks with that runbook's own outcome, its
//! steps (`runbook/service.phase.N`) read without the `runbook/`. For a site's plan,
//! each of its runbooks' steps come from that runbook's runs, alone or in a site's.

use std::collections::HashMap;
use std::time::Duration;

use crate::engine::event::StepStatus;
use crate::evidence::record::Record;
use crate::plan::Plan;
use crate::plan::predict::Measurement;

use super::history::{self, Scanned};

/// Per step of `plan`: what a live run expects it to take, for its RTO-at-risk projection
/// (SPEC §10): the median of its last measurements in the evidence folders under
/// `evidence_dir`, else its worst case. Evidence that cannot be read leaves the worst
/// cases; scanned once, before the run.
pub fn expected(plan: &Plan<'_>, evidence_dir: &std::path::Path) -> Vec<Duration> {
    let measured = history::scan(&[evidence_dir.to_path_buf()], None)
        .ok()
        .and_then(|scanned| crate::plan::predict::predict(plan, &measurements(plan, &scanned)));
    match measured {
        Some(p) => p.weights,
        None => plan.steps.iter().map(|s| s.worst_case).collect(),
    }
}

/// Per step of `plan`: its measurements in the runs that count, oldest run first; a run
/// is told apart by its place in `scanned`.
pub fn measurements(plan: &Plan<'_>, scanned: &[Scanned]) -> Vec<Vec<Measurement>> {
    let rb = plan.runbook;
    let index: HashMap<&str, usize> = plan
        .steps
        .iter()
        .enumerate()
        .map(|(i, s)| (s.id.as_str(), i))
        .collect();
    // Whose runs, and the prefix their step ids take in this plan.
    let names: Vec<(&str, Option<&str>)> = if rb.site {
        rb.origins
            .iter()
            .map(|o| (o.name.as_str(), Some(o.name.as_str())))
            .collect()
    } else {
        vec![(rb.name.as_str(), None)]
    };
    let mut out = vec![Vec::new(); plan.steps.len()];
    for (name, prefix) in names {
        let mut runs: Vec<(String, &std::path::Path, usize, &Record)> = scanned
            .iter()
            .enumerate()
            .filter_map(|(n, (folder, loaded))| {
                let (record, problems) = loaded.as_ref().ok()?;
                let e = history::entry(name, folder, record, problems)?;
                let counts = e.trusted
                    && !e.dry_run
                    && e.outcome == "passed"
                    && e.from == plan.from.as_str()
                    && e.to == plan.to.as_str()
                    && e.mode == plan.mode.as_str();
                counts.then_some((e.started_at, folder.as_path(), n, record))
            })
            .collect();
        runs.sort_by(|a, b| (a.0.as_str(), a.1).cmp(&(b.0.as_str(), b.1)));
        for (_, _, n, record) in runs {
            for (id, d) in step_durations(record, name) {
                let id = match prefix {
                    Some(p) => format!("{p}/{id}"),
                    None => id,
                };
                if let Some(&i) = index.get(id.as_str()) {
                    out[i].push((n, d));
                }
            }
        }
    }
    out
}

/// Each step of runbook `name` that ended well on every host in `record`, by its id
/// within the runbook, with its wall time: from its first host's start to its last
/// host's end, less any wait for a person (left out as the worst case leaves it out).
fn step_durations(record: &Record, name: &str) -> Vec<(String, Duration)> {
    let site = !record.start.runbooks.is_empty();
    // id → (start, end, wait, every host ok), in seconds on the run's clock.
    let mut spans: HashMap<&str, (f64, f64, f64, bool)> = HashMap::new();
    for s in &record.steps {
        let e = &s.end;
        let id = if site {
            match e.step.strip_prefix(name).and_then(|r| r.strip_prefix('/')) {
                Some(id) => id,
                None => continue,
            }
        } else {
            e.step.as_str()
        };
        let (start, end) = (e.start_s, e.start_s + e.duration_s);
        let ok = e.status == StepStatus::Ok;
        spans
            .entry(id)
            .and_modify(|x| {
                x.0 = x.0.min(start);
                x.1 = x.1.max(end);
                x.2 = x.2.max(e.human_wait_s);
                x.3 &= ok;
            })
            .or_insert((start, end, e.human_wait_s, ok));
    }
    spans
        .into_iter()
        .filter(|(_, x)| x.3)
        .map(|(id, (start, end, wait, _))| {
            let s = (end - start - wait).max(0.0);
            (
                id.to_string(),
                Duration::from_millis((s * 1000.0).round() as u64),
            )
        })
        .collect()
}
