//! The register: for each runbook and direction its state, computed from the runs its
//! evidence folders hold, with what every format shows beside it (the runbook's RTO, its
//! live drills, the folders that do not verify). Computed once; the formats only read it.

use std::path::{Path, PathBuf};

use serde::Serialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::config::Runbook;
use crate::config::model::Mode;
use crate::engine::stopwatch::timestamp;

use super::super::Error;
use super::super::history::{self, DEFAULT_EVIDENCE, RunEntry};

/// Worst first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub(super) enum State {
    Never,
    Failing,
    Changed,
    Overdue,
    Ok,
}

impl State {
    /// Every state, worst first.
    pub(super) const ALL: [State; 5] = [
        State::Never,
        State::Failing,
        State::Changed,
        State::Overdue,
        State::Ok,
    ];

    pub(super) fn as_str(self) -> &'static str {
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
pub(super) struct RunRef {
    pub(super) at: String,
    pub(super) mode: String,
    pub(super) outcome: String,
    pub(super) recovered_s: Option<f64>,
    pub(super) rto_target_s: f64,
    pub(super) folder: PathBuf,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) site: Option<String>,
    pub(super) last_hash: String,
}

impl RunRef {
    pub(super) fn of(r: &RunEntry) -> RunRef {
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
pub(super) struct DirectionStatus {
    pub(super) runbook: String,
    pub(super) from: String,
    pub(super) to: String,
    pub(super) state: State,
    pub(super) last_live: Option<RunRef>,
    pub(super) last_pass: Option<RunRef>,
    /// The plan hash the passing run recorded, and today's for the same direction and mode.
    pub(super) recorded_plan_hash: Option<String>,
    pub(super) plan_hash: Option<String>,
    pub(super) drill_every_s: Option<f64>,
    pub(super) due: Option<String>,
}

#[derive(Debug, Serialize)]
pub(super) struct Untrusted {
    pub(super) runbook: String,
    pub(super) folder: PathBuf,
    pub(super) problems: Vec<String>,
}

/// One runbook of the register: what the programme report and the metrics say of it
/// beyond its two directions' states.
#[derive(Debug)]
pub(super) struct System {
    pub(super) name: String,
    pub(super) title: String,
    /// The runbook's RTO target today, in seconds.
    pub(super) rto_s: f64,
    pub(super) drill_every_s: Option<f64>,
    /// Its two directions, in the order of its halls: `[(a, b), (b, a)]`.
    pub(super) directions: [(String, String); 2],
    /// Every trusted live run, either direction, oldest first.
    pub(super) drills: Vec<Drill>,
}

/// A trusted live run of a system, in one direction.
#[derive(Debug)]
pub(super) struct Drill {
    pub(super) from: String,
    pub(super) to: String,
    pub(super) run: RunRef,
}

/// The whole register as evaluated at `at`: what every format renders.
#[derive(Debug)]
pub(super) struct Register {
    pub(super) at: OffsetDateTime,
    pub(super) evidence_dirs: Vec<PathBuf>,
    /// The allowed-signers file every counted folder's signature was checked against.
    pub(super) signers: Option<PathBuf>,
    /// In the order the runbooks were named.
    pub(super) systems: Vec<System>,
    /// Worst first, then by runbook name.
    pub(super) rows: Vec<DirectionStatus>,
    pub(super) untrusted: Vec<Untrusted>,
}

impl Register {
    pub(super) fn all_ok(&self) -> bool {
        self.rows.iter().all(|r| r.state == State::Ok)
    }

    /// The status of `system` from `from` to `to`.
    pub(super) fn row(&self, system: &str, from: &str, to: &str) -> Option<&DirectionStatus> {
        self.rows
            .iter()
            .find(|r| r.runbook == system && r.from == from && r.to == to)
    }
}

/// `2026-11-30T17:00:01.123Z` as Unix seconds.
pub(super) fn unix_seconds(rfc3339: &str) -> Option<f64> {
    let t = OffsetDateTime::parse(rfc3339, &Rfc3339).ok()?;
    Some(t.unix_timestamp_nanos() as f64 / 1e9)
}

/// The register of `runbooks` from the run folders under `dirs`, judged at `at`.
pub(super) fn evaluate(
    runbooks: &[Runbook],
    dirs: &[PathBuf],
    signers: Option<&Path>,
    at: OffsetDateTime,
) -> Result<Register, Error> {
    let scanned = history::scan(dirs, signers)?;
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
                super::super::subject::plan_hash(&crate::plan::build(rb, from, to, mode))
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
        signers: signers.map(Path::to_path_buf),
        systems,
        rows,
        untrusted,
    })
}
