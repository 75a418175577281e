//! `switchyard history RUNBOOK`: every run of a runbook found in the evidence folders,
//! oldest first, each read through its journal and checked as `verify-evidence` checks
//! it. A site's run counts for each of its runbooks, with that runbook's own outcome.
//! A folder that does not verify is listed as untrusted.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::engine::event::RunStarted;
use crate::evidence::record::{Record, RunbookStatus};
use crate::evidence::verify;

use super::args::{HistoryArgs, ListFormat};
use super::{Error, exit};

/// The evidence folder used when no `--evidence-dir` is given.
pub const DEFAULT_EVIDENCE: &str = "evidence";

/// One run of one runbook, as its folder tells it.
#[derive(Clone, Debug, Serialize)]
pub struct RunEntry {
    pub folder: PathBuf,
    /// The site whose run this was, when it was one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub site: Option<String>,
    pub started_at: String,
    pub from: String,
    pub to: String,
    pub mode: String,
    pub dry_run: bool,
    /// `passed`, `failed`, `rpo_breached`, `rto_breached`, `aborted`, `rolled_back`, `interrupted`.
    pub outcome: String,
    pub rto_target_s: f64,
    pub recovered_s: Option<f64>,
    pub services: Vec<ServiceEntry>,
    /// The plan hash the run recorded: for a site run, that runbook's own when the run
    /// recorded one, else `None`.
    pub plan_hash: Option<String>,
    pub last_hash: String,
    /// The folder verifies as `verify-evidence` checks it.
    pub trusted: bool,
    /// Why it does not verify.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct ServiceEntry {
    pub name: String,
    pub rto_target_s: Option<f64>,
    pub recovered_s: Option<f64>,
}

/// A folder whose journal cannot be read at all: it may be anyone's.
#[derive(Clone, Debug, Serialize)]
pub struct Unreadable {
    pub folder: PathBuf,
    pub problem: String,
}

/// A run folder, and its record with what `verify-evidence` finds wrong in it (empty:
/// intact), or why its journal cannot be read.
pub type Scanned = (PathBuf, Result<(Record, Vec<String>), String>);

/// Every run folder under `dirs`, each with its record (when its journal reads) and
/// whether it verifies — with its signature checked against `signers` (an
/// allowed-signers file) when given. An explicitly named folder that does not exist is an
/// error; the default `evidence/` missing is no runs.
pub fn scan(dirs: &[PathBuf], signers: Option<&Path>) -> Result<Vec<Scanned>, Error> {
    if let Some(signers) = signers {
        crate::evidence::sign::check_allowed_signers(signers)
            .map_err(|e| Error::Setup(format!("--allowed-signers: {e}")))?;
    }
    let default = [PathBuf::from(DEFAULT_EVIDENCE)];
    let (dirs, explicit) = if dirs.is_empty() {
        (&default[..], false)
    } else {
        (dirs, true)
    };
    let mut folders = Vec::new();
    for dir in dirs {
        let entries = match std::fs::read_dir(dir) {
            Ok(e) => e,
            Err(_) if !explicit && !dir.exists() => continue,
            Err(e) => {
                return Err(Error::RunFolder(format!(
                    "cannot read the evidence folder `{}`: {e}",
                    dir.display()
                )));
            }
        };
        let mut found: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.join("journal.jsonl").is_file())
            .collect();
        found.sort();
        folders.extend(found);
    }
    Ok(check_all(folders, signers))
}

/// Verifies every folder, on as many threads as there are cores: each folder is read,
/// hashed and its reports rendered again, which for a year of drills is most of the
/// time `status` takes. The order of `folders` is kept.
fn check_all(folders: Vec<PathBuf>, signers: Option<&Path>) -> Vec<Scanned> {
    let threads = std::thread::available_parallelism()
        .map_or(1, usize::from)
        .min(folders.len().max(1));
    let next = std::sync::atomic::AtomicUsize::new(0);
    let checked: Vec<Vec<(usize, Scanned)>> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut mine = Vec::new();
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(folder) = folders.get(i) else {
                            return mine;
                        };
                        mine.push((i, (folder.clone(), check(folder, signers))));
                    }
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().expect("a folder check does not panic"))
            .collect()
    });
    let mut all: Vec<(usize, Scanned)> = checked.into_iter().flatten().collect();
    all.sort_by_key(|(i, _)| *i);
    all.into_iter().map(|(_, scanned)| scanned).collect()
}

/// The folder's record and what `verify-evidence` would fail it for (empty when it is
/// intact), or why its journal cannot be read.
fn check(folder: &Path, signers: Option<&Path>) -> Result<(Record, Vec<String>), String> {
    let found = verify::verify(folder, signers)?;
    let mut problems = found.problems;
    if !found.ended {
        problems.push("the journal ends before run_finished".into());
    }
    Ok((found.record, problems))
}

/// The entry of runbook `name` in the run `record` kept in `folder`, if it ran there.
pub fn entry(name: &str, folder: &Path, record: &Record, problems: &[String]) -> Option<RunEntry> {
    let s = &record.start;
    let mut e = RunEntry {
        folder: folder.to_path_buf(),
        site: None,
        started_at: s.started_at.clone(),
        from: s.from.clone(),
        to: s.to.clone(),
        mode: s.mode.as_str().to_string(),
        dry_run: s.dry_run,
        outcome: record.outcome.as_str().to_string(),
        rto_target_s: s.rto_target_s,
        recovered_s: record.recovered_s(),
        services: record
            .services
            .iter()
            .map(|v| ServiceEntry {
                name: v.name.clone(),
                rto_target_s: v.target_s,
                recovered_s: v.recovered_s,
            })
            .collect(),
        plan_hash: Some(s.plan_hash.clone()),
        last_hash: record.last_hash.clone(),
        trusted: problems.is_empty(),
        problems: problems.to_vec(),
    };
    if s.runbooks.is_empty() {
        return (s.runbook == name).then_some(e);
    }
    let target = s.runbooks.iter().find(|t| t.name == name && !t.assumed)?;
    let r = record.runbooks.iter().find(|r| r.name == name)?;
    e.site = Some(s.runbook.clone());
    e.rto_target_s = r.target_s;
    e.recovered_s = r.recovered_s;
    e.plan_hash = target.plan_hash.clone();
    // A service of this runbook whose canary missed its RPO (SPEC §8), which ranks
    // above a missed RTO.
    let rpo_missed = record
        .services
        .iter()
        .filter(|v| r.owns(&v.name))
        .filter_map(|v| v.canary.as_ref())
        .any(|c| !c.rpo().met);
    e.outcome = match r.status {
        RunbookStatus::Recovered if rpo_missed => "rpo_breached".into(),
        RunbookStatus::Recovered if r.rto().is_some_and(|t| !t.met) => "rto_breached".into(),
        RunbookStatus::Recovered => "passed".into(),
        RunbookStatus::Failed | RunbookStatus::Blocked => "failed".into(),
        RunbookStatus::RolledBack => "rolled_back".into(),
        RunbookStatus::Interrupted => "interrupted".into(),
        RunbookStatus::Planned | RunbookStatus::Assumed => e.outcome.clone(),
    };
    e.services = record
        .services
        .iter()
        .filter(|v| r.owns(&v.name))
        .map(|v| ServiceEntry {
            name: v.name[name.len() + 1..].to_string(),
            rto_target_s: v.target_s,
            recovered_s: v.recovered_s,
        })
        .collect();
    Some(e)
}

/// Every run of `name`, oldest first, and the folders whose journal cannot be read.
pub fn runs_of(name: &str, scanned: &[Scanned]) -> (Vec<RunEntry>, Vec<Unreadable>) {
    let mut runs = Vec::new();
    let mut unreadable = Vec::new();
    for (folder, loaded) in scanned {
        match loaded {
            Ok((record, problems)) => runs.extend(entry(name, folder, record, problems)),
            Err(problem) => match first_event(folder) {
                // Its first line still says whose run it claims to be: listed, untrusted.
                Some(start) => runs.extend(claimed(name, folder, start, problem)),
                None => unreadable.push(Unreadable {
                    folder: folder.clone(),
                    problem: problem.clone(),
                }),
            },
        }
    }
    runs.sort_by(|a, b| {
        (a.started_at.as_str(), &a.folder).cmp(&(b.started_at.as_str(), &b.folder))
    });
    (runs, unreadable)
}

/// The `run_started` a journal's first line holds, read without checking any hash.
fn first_event(folder: &Path) -> Option<RunStarted> {
    let text = std::fs::read_to_string(folder.join("journal.jsonl")).ok()?;
    let line: serde_json::Value = serde_json::from_str(text.lines().next()?).ok()?;
    if line.get("event")? != "run_started" {
        return None;
    }
    serde_json::from_value(line).ok()
}

/// The entry of a run whose journal does not read, from what its first line claims.
fn claimed(name: &str, folder: &Path, start: RunStarted, problem: &str) -> Option<RunEntry> {
    let target = if start.runbooks.is_empty() {
        (start.runbook == name).then_some(start.rto_target_s)?
    } else {
        start.runbooks.iter().find(|t| t.name == name)?.rto_target_s
    };
    Some(RunEntry {
        folder: folder.to_path_buf(),
        site: (!start.runbooks.is_empty()).then(|| start.runbook.clone()),
        started_at: start.started_at,
        from: start.from,
        to: start.to,
        mode: start.mode.as_str().to_string(),
        dry_run: start.dry_run,
        outcome: "unknown".into(),
        rto_target_s: target,
        recovered_s: None,
        services: Vec::new(),
        plan_hash: None,
        last_hash: String::new(),
        trusted: false,
        problems: vec![problem.to_string()],
    })
}

pub fn run(a: &HistoryArgs) -> Result<u8, Error> {
    let scanned = scan(&a.evidence_dir, a.allowed_signers.as_deref())?;
    let (runs, unreadable) = runs_of(&a.runbook, &scanned);
    let text = match a.format {
        ListFormat::Json => {
            let doc = serde_json::json!({
                "schema": "switchyard.history/v1",
                "runbook": a.runbook,
                "runs": runs,
                "unreadable": unreadable,
            });
            format!(
                "{}\n",
                serde_json::to_string_pretty(&doc).expect("history serializes")
            )
        }
        ListFormat::Text => text(&a.runbook, &runs, &unreadable),
    };
    crate::ui::terminal::to_stdout(&text);
    Ok(exit::PASSED)
}

/// Seconds as people read them.
pub fn secs(s: f64) -> String {
    if s < 60.0 {
        format!("{s:.1}s")
    } else if s < 3600.0 {
        let whole = s.round() as u64;
        format!("{}m{:02}s", whole / 60, whole % 60)
    } else {
        let whole = s.round() as u64;
        format!("{}h{:02}m", whole / 3600, whole % 3600 / 60)
    }
}

fn text(name: &str, runs: &[RunEntry], unreadable: &[Unreadable]) -> String {
    let mut rows = vec![[
        "STARTED".to_string(),
        "DIRECTION".into(),
        "MODE".into(),
        "RUN".into(),
        "OUTCOME".into(),
        "RECOVERY / RTO".into(),
        "EVIDENCE".into(),
        "FOLDER".into(),
    ]];
    for r in runs {
        rows.push([
            r.started_at.clone(),
            format!("{}→{}", r.from, r.to),
            r.mode.clone(),
            if r.dry_run { "dry" } else { "live" }.into(),
            r.outcome.clone(),
            format!(
                "{} / {}",
                r.recovered_s.map_or("-".into(), secs),
                secs(r.rto_target_s)
            ),
            if r.trusted { "intact" } else { "UNTRUSTED" }.into(),
            match &r.site {
                Some(site) => format!("{} (site {site})", r.folder.display()),
                None => r.folder.display().to_string(),
            },
        ]);
    }
    let mut out = format!(
        "{name}: {} run{}\n",
        runs.len(),
        if runs.len() == 1 { "" } else { "s" }
    );
    if runs.is_empty() {
        out.push_str("no runs found\n");
    } else {
        out.push_str(&table(&rows));
    }
    for r in runs.iter().filter(|r| !r.trusted) {
        out.push_str(&format!(
            "untrusted: {}: {}\n",
            r.folder.display(),
            r.problems.join("; ")
        ));
    }
    for u in unreadable {
        out.push_str(&format!(
            "unreadable: {}: {}\n",
            u.folder.display(),
            u.problem
        ));
    }
    out
}

/// Rows in columns, each as wide as its widest cell.
pub fn table<const N: usize>(rows: &[[String; N]]) -> String {
    let mut widths = [0usize; N];
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in rows {
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            if i + 1 < N {
                line.push_str(&format!(
                    "{cell}{}  ",
                    " ".repeat(widths[i] - cell.chars().count())
                ));
            } else {
                line.push_str(cell);
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}
