//! `switchyard status`: for each runbook and each direction, whether its drill is
//! current — the last live run, the last passing one, whether today's plan is still the
//! one that passed, and whether `drill_every` has run out. Only evidence that verifies
//! counts; folders that do not are listed.
//!
//! This module computes the register (the states); each output format is its own
//! module that only renders it: [`text`] for a terminal, [`md`] for a ticket or wiki,
//! [`html`] for the programme report an auditor reads, [`prometheus`] for
//! node_exporter's textfile collector. JSON is the register serialized as it is.

mod html;
mod md;
mod prometheus;
mod text;

use std::path::PathBuf;

use serde::Serialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::config::model::Mode;
use crate::config::{Document, Runbook, load_any};
use crate::engine::stopwatch::timestamp;

use super::args::{Global, StatusArgs, StatusFormat};
use super::history::{self, DEFAULT_EVIDENCE, RunEntry};
use super::{Error, atomic_file, exit};

/// Worst first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    Never,
    Failing,
    Changed,
    Overdue,
    Ok,
}

impl State {
    /// Every state, worst first.
    const ALL: [State; 5] = [
        State::Never,
        State::Failing,
        State::Changed,
        State::Overdue,
        State::Ok,
    ];

    fn as_str(self) -> &'static str {
        match self {
            State::Never => "never",
            State::Failing => "failing",
            State::Changed => "changed",
            State::Overdue => "overdue",
            State::Ok => "ok",
        }
    }
}

#[derive(Debug, Serialize)]
struct RunRef {
    at: String,
    mode: String,
    outcome: String,
    recovered_s: Option<f64>,
    rto_target_s: f64,
    folder: PathBuf,
    #[serde(skip_serializing_if = "Option::is_none")]
    site: Option<String>,
    last_hash: String,
}

impl RunRef {
    fn of(r: &RunEntry) -> RunRef {
        RunRef {
            at: r.started_at.clone(),
            mode: r.mode.clone(),
            outcome: r.outcome.clone(),
            recovered_s: r.recovered_s,
            rto_target_s: r.rto_target_s,
            folder: r.folder.clone(),
            site: r.site.clone(),
            last_hash: r.last_hash.clone(),
        }
    }
}

#[derive(Debug, Serialize)]
struct DirectionStatus {
    runbook: String,
    from: String,
    to: String,
    state: State,
    last_live: Option<RunRef>,
    last_pass: Option<RunRef>,
    /// The plan hash the passing run recorded, and today's for the same direction and mode.
    recorded_plan_hash: Option<String>,
    plan_hash: Option<String>,
    drill_every_s: Option<f64>,
    due: Option<String>,
}

#[derive(Debug, Serialize)]
struct Untrusted {
    runbook: String,
    folder: PathBuf,
    problems: Vec<String>,
}

/// One runbook of the register: what the programme report and the metrics say of it
/// beyond its two directions' states.
#[derive(Debug)]
struct System {
    name: String,
    title: String,
    /// The runbook's RTO target today, in seconds.
    rto_s: f64,
    drill_every_s: Option<f64>,
    /// Its two directions, in the order of its halls: `[(a, b), (b, a)]`.
    directions: [(String, String); 2],
    /// Every trusted live run, either direction, oldest first.
    drills: Vec<Drill>,
}

/// A trusted live run of a system, in one direction.
#[derive(Debug)]
struct Drill {
    from: String,
    to: String,
    run: RunRef,
}

/// The whole register as evaluated at `at`: what every format renders.
#[derive(Debug)]
struct Register {
    at: OffsetDateTime,
    evidence_dirs: Vec<PathBuf>,
    /// In the order the runbooks were named.
    systems: Vec<System>,
    /// Worst first, then by runbook name.
    rows: Vec<DirectionStatus>,
    untrusted: Vec<Untrusted>,
}

impl Register {
    fn all_ok(&self) -> bool {
        self.rows.iter().all(|r| r.state == State::Ok)
    }

    /// The status of `system` from `from` to `to`.
    fn row(&self, system: &str, from: &str, to: &str) -> Option<&DirectionStatus> {
        self.rows
            .iter()
            .find(|r| r.runbook == system && r.from == from && r.to == to)
    }
}

/// `2026-11-30T17:00:01.123Z` as Unix seconds.
fn unix_seconds(rfc3339: &str) -> Option<f64> {
    let t = OffsetDateTime::parse(rfc3339, &Rfc3339).ok()?;
    Some(t.unix_timestamp_nanos() as f64 / 1e9)
}

pub fn run(g: &Global, a: &StatusArgs) -> Result<u8, Error> {
    let at = match &a.at {
        None => OffsetDateTime::now_utc(),
        Some(t) => OffsetDateTime::parse(t, &Rfc3339).map_err(|e| {
            Error::Setup(format!(
                "--at `{t}` is not an RFC 3339 time ({e}), like 2026-11-30T12:00:00Z"
            ))
        })?,
    };
    let mut runbooks: Vec<Runbook> = Vec::new();
    for path in super::validate::targets(&a.targets)? {
        match load_any(&path, &g.inventory)? {
            Document::Runbook(loaded) => runbooks.push(loaded.runbook),
            Document::Site(loaded) => {
                runbooks.extend(loaded.site.systems.into_iter().map(|s| s.runbook));
            }
        }
    }
    // A runbook named twice (alone and through a site) is shown once; the site's
    // `drill_every` default wins over none.
    let mut unique: Vec<Runbook> = Vec::new();
    for rb in runbooks {
        match unique.iter_mut().find(|u| u.name == rb.name) {
            Some(u) => u.drill_every = u.drill_every.or(rb.drill_every),
            None => unique.push(rb),
        }
    }
    let register = evaluate(&unique, &a.evidence_dir, at)?;
    let text = match a.format {
        StatusFormat::Json => json(&register),
        StatusFormat::Text => text::render(&register),
        StatusFormat::Md => md::render(&register),
        StatusFormat::Html => html::render(&register),
        StatusFormat::Prometheus => prometheus::render(&register),
    };
    match &a.output {
        Some(path) => atomic_file::write(path, text.as_bytes()).map_err(|e| {
            Error::Setup(format!("cannot write --output `{}`: {e}", path.display()))
        })?,
        None => crate::ui::terminal::to_stdout(&text),
    }
    Ok(if register.all_ok() {
        exit::PASSED
    } else {
        exit::FAILED
    })
}

/// The register of `runbooks` from the run folders under `dirs`, judged at `at`.
fn evaluate(runbooks: &[Runbook], dirs: &[PathBuf], at: OffsetDateTime) -> Result<Register, Error> {
    let scanned = history::scan(dirs)?;
    let mut rows = Vec::new();
    let mut untrusted = Vec::new();
    let mut systems = Vec::new();
    for rb in runbooks {
        let (runs, _) = history::runs_of(&rb.name, &scanned);
        for r in runs.iter().filter(|r| !r.trusted) {
            untrusted.push(Untrusted {
                runbook: rb.name.clone(),
                folder: r.folder.clone(),
                problems: r.problems.clone(),
            });
        }
        let [ha, hb] = &rb.halls;
        systems.push(System {
            name: rb.name.clone(),
            title: rb.title.clone(),
            rto_s: rb.rto.as_secs_f64(),
            drill_every_s: rb.drill_every.map(|d| d.as_secs_f64()),
            directions: [
                (ha.to_string(), hb.to_string()),
                (hb.to_string(), ha.to_string()),
            ],
            drills: runs
                .iter()
                .filter(|r| r.trusted && !r.dry_run)
                .map(|r| Drill {
                    from: r.from.clone(),
                    to: r.to.clone(),
                    run: RunRef::of(r),
                })
                .collect(),
        });
        for (from, to) in [(ha, hb), (hb, ha)] {
            let live: Vec<&RunEntry> = runs
                .iter()
                .filter(|r| {
                    r.trusted && !r.dry_run && r.from == from.as_str() && r.to == to.as_str()
                })
                .collect();
            let last_live = live.last().copied();
            let last_pass = live.iter().rev().find(|r| r.outcome == "passed").copied();
            let today = last_pass.map(|p| {
                let mode = if p.mode == Mode::Failover.as_str() {
                    Mode::Failover
                } else {
                    Mode::Switchover
                };
                super::subject::plan_hash(&crate::plan::build(rb, from, to, mode))
            });
            let due = last_pass.zip(rb.drill_every).and_then(|(p, every)| {
                let t = OffsetDateTime::parse(&p.started_at, &Rfc3339).ok()?;
                Some(t + every)
            });
            let state = match (last_live, last_pass) {
                (None, _) => State::Never,
                (Some(l), _) if l.outcome != "passed" => State::Failing,
                (_, Some(p)) if p.plan_hash != today => State::Changed,
                _ if due.is_some_and(|d| d < at) => State::Overdue,
                _ => State::Ok,
            };
            rows.push(DirectionStatus {
                runbook: rb.name.clone(),
                from: from.to_string(),
                to: to.to_string(),
                state,
                last_live: last_live.map(RunRef::of),
                last_pass: last_pass.map(RunRef::of),
                recorded_plan_hash: last_pass.and_then(|p| p.plan_hash.clone()),
                plan_hash: today,
                drill_every_s: rb.drill_every.map(|d| d.as_secs_f64()),
                due: due.map(timestamp),
            });
        }
    }
    rows.sort_by(|x, y| (x.state, &x.runbook).cmp(&(y.state, &y.runbook)));
    Ok(Register {
        at,
        evidence_dirs: if dirs.is_empty() {
            vec![PathBuf::from(DEFAULT_EVIDENCE)]
        } else {
            dirs.to_vec()
        },
        systems,
        rows,
        untrusted,
    })
}

/// `switchyard.status/v1`.
fn json(r: &Register) -> String {
    let doc = serde_json::json!({
        "schema": "switchyard.status/v1",
        "at": timestamp(r.at),
        "ok": r.all_ok(),
        "directions": r.rows,
        "untrusted": r.untrusted,
    });
    format!(
        "{}\n",
        serde_json::to_string_pretty(&doc).expect("status serializes")
    )
}
