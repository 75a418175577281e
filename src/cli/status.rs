//! `switchyard status`: for each runbook and each direction, whether its drill is
//! current — the last live run, the last passing one, whether today's plan is still the
//! one that passed, and whether `drill_every` has run out. Only evidence that verifies
//! counts; folders that do not are listed.

use std::path::PathBuf;

use serde::Serialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::config::model::Mode;
use crate::config::{Document, Runbook, load_any};
use crate::engine::stopwatch::timestamp;

use super::args::{Global, ListFormat, StatusArgs};
use super::history::{self, RunEntry, secs, table};
use super::{Error, exit};

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
    let scanned = history::scan(&a.evidence_dir)?;
    let mut rows = Vec::new();
    let mut untrusted = Vec::new();
    for rb in &unique {
        let (runs, _) = history::runs_of(&rb.name, &scanned);
        for r in runs.iter().filter(|r| !r.trusted) {
            untrusted.push(Untrusted {
                runbook: rb.name.clone(),
                folder: r.folder.clone(),
                problems: r.problems.clone(),
            });
        }
        let [ha, hb] = &rb.halls;
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
    let all_ok = rows.iter().all(|r| r.state == State::Ok);
    let text = match a.format {
        ListFormat::Json => {
            let doc = serde_json::json!({
                "schema": "switchyard.status/v1",
                "at": timestamp(at),
                "ok": all_ok,
                "directions": rows,
                "untrusted": untrusted,
            });
            format!(
                "{}\n",
                serde_json::to_string_pretty(&doc).expect("status serializes")
            )
        }
        ListFormat::Text => text(&rows, &untrusted),
    };
    crate::ui::terminal::to_stdout(&text);
    Ok(if all_ok { exit::PASSED } else { exit::FAILED })
}

fn text(rows: &[DirectionStatus], untrusted: &[Untrusted]) -> String {
    let mut t = vec![[
        "STATE".to_string(),
        "RUNBOOK".into(),
        "DIRECTION".into(),
        "LAST LIVE".into(),
        "RECOVERY / RTO".into(),
        "LAST PASS".into(),
        "DUE".into(),
    ]];
    for r in rows {
        let day = |s: &str| s.get(..10).unwrap_or(s).to_string();
        t.push([
            r.state.as_str().to_uppercase(),
            r.runbook.clone(),
            format!("{}→{}", r.from, r.to),
            r.last_live
                .as_ref()
                .map_or("-".into(), |l| format!("{} {}", day(&l.at), l.outcome)),
            r.last_live.as_ref().map_or("-".into(), |l| {
                format!(
                    "{} / {}",
                    l.recovered_s.map_or("-".into(), secs),
                    secs(l.rto_target_s)
                )
            }),
            r.last_pass.as_ref().map_or("-".into(), |p| day(&p.at)),
            r.due.as_deref().map_or("-".into(), day),
        ]);
    }
    let bad = rows.iter().filter(|r| r.state != State::Ok).count();
    let mut out = table(&t);
    out.push_str(&format!(
        "{} of {} directions ok\n",
        rows.len() - bad,
        rows.len()
    ));
    for u in untrusted {
        out.push_str(&format!(
            "untrusted (not counted): {} ({}): {}\n",
            u.folder.display(),
            u.runbook,
            u.problems.join("; ")
        ));
    }
    out
}
