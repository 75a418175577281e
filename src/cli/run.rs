//! `switchyard run`: a dry run, or with `--live` a switchover, with evidence.

use std::io::IsTerminal;
use std::sync::Arc;
use std::time::Instant;

use sha2::{Digest, Sha256};

use crate::config::diagnostic::did_you_mean;
use crate::config::load_runbook;
use crate::config::model::Mode;
use crate::engine::executor::{DryRun, Executor, Live};
use crate::engine::job::{self, Transports};
use crate::engine::scheduler::{self, Settings};
use crate::engine::secrets::{self, Redactor};
use crate::engine::stopwatch::{Stopwatch, parse_timestamp, timestamp};
use crate::engine::{Event, Outcome};
use crate::evidence::{Recorder, folder};
use crate::plan::{self, Plan};
use crate::ui;

use super::args::{Global, RunArgs};
use super::plan::direction;
use super::{Error, exit};

pub fn run(g: &Global, a: &RunArgs) -> Result<u8, Error> {
    let loaded = load_runbook(&a.direction.runbook, &g.inventory)?;
    let rb = &loaded.runbook;
    let (from, to, mode) = direction(rb, &a.direction)?;
    let included = only(rb, &a.only)?;
    let plan = plan::build_only(rb, &from, &to, mode, &included);
    let origin = a
        .incident_start
        .as_deref()
        .map(parse_timestamp)
        .transpose()
        .map_err(Error::IncidentStart)?;
    let secret_values = secrets::resolve(&rb.secrets).map_err(Error::Secret)?;
    if a.live && !a.yes {
        confirm(&plan)?;
    }
    let clock = Stopwatch::start(origin);
    let dir = folder::create(
        &a.evidence_dir,
        &rb.name,
        from.as_str(),
        to.as_str(),
        clock.started,
    )
    .map_err(Error::Evidence)?;
    let inputs = folder::copy_inputs(&dir, &loaded.sources).map_err(Error::Evidence)?;
    let mut recorder = Recorder::new(&dir).map_err(Error::Evidence)?;
    let transports = Transports::new(&plan).map_err(Error::Setup)?;
    let jobs: Vec<_> = (0..plan.steps.len())
        .flat_map(|i| job::jobs(&plan, i, &transports, &secret_values))
        .collect();
    let settings = Settings {
        max_parallel: a.max_parallel.map_or(rb.max_parallel, |m| m) as usize,
        operator: operator(),
        clock,
        redactor: Redactor::new(&secret_values),
        plan_hash: hex::encode(Sha256::digest(plan::render::json(&plan).as_bytes())),
        inputs,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Setup(format!("cannot start the runtime: {e}")))?;
    let mut write_error = None;
    let hosts = transports.ssh_hosts(&plan);
    let failover = mode == Mode::Failover;
    let outcome = {
        let mut bars = (std::io::stderr().is_terminal() && !g.no_progress).then(|| {
            let origin = Instant::now()
                .checked_sub(settings.clock.since_origin())
                .unwrap_or_else(Instant::now);
            ui::progress::Progress::new(origin, rb.rto)
        });
        let mut emit = |e: Event| {
            let line = ui::lines::line(settings.clock.since_origin().as_secs_f64(), &e);
            match &mut bars {
                Some(bars) => bars.on_event(&e, line),
                None => {
                    if let Some(line) = line {
                        eprintln!("{line}");
                    }
                }
            }
            if let Err(err) = recorder.on_event(&timestamp(settings.clock.now()), &e) {
                eprintln!(
                    "error: cannot write the journal in `{}`: {err}",
                    dir.display()
                );
                write_error.get_or_insert(err);
            }
        };
        if a.live {
            let ex = Arc::new(Live {
                assume_yes: a.yes,
                failover,
            });
            runtime.block_on(run_with(&plan, jobs, hosts, ex, &settings, &mut emit))
        } else {
            let ex = Arc::new(DryRun { failover });
            runtime.block_on(run_with(&plan, jobs, hosts, ex, &settings, &mut emit))
        }
    };
    let dir = recorder.finish().map_err(Error::Evidence)?;
    super::print_stdout(&format!(
        "{}: evidence in {}\n",
        outcome.as_str(),
        dir.display()
    ));
    if write_error.is_some() {
        return Ok(exit::FAILED);
    }
    Ok(match outcome {
        Outcome::Passed => exit::PASSED,
        Outcome::RtoBreached => exit::RTO_MISSED,
        Outcome::Interrupted => exit::INTERRUPTED,
        Outcome::Failed | Outcome::Aborted | Outcome::RolledBack => exit::FAILED,
    })
}

async fn run_with<E: Executor>(
    plan: &Plan<'_>,
    jobs: Vec<job::Job>,
    hosts: Vec<crate::engine::executor::NamedHost>,
    ex: Arc<E>,
    settings: &Settings,
    emit: &mut dyn FnMut(Event),
) -> Outcome {
    scheduler::run(plan, jobs, hosts, ex, settings, emit).await
}

/// `--only` as a mask over the runbook's services.
fn only(rb: &crate::config::Runbook, names: &[String]) -> Result<Vec<bool>, Error> {
    if names.is_empty() {
        return Ok(vec![true; rb.services.len()]);
    }
    let mut mask = vec![false; rb.services.len()];
    for name in names {
        match rb.services.iter().position(|s| s.name.as_str() == name) {
            Some(i) => mask[i] = true,
            None => {
                let known = rb.services.iter().map(|s| s.name.as_str());
                let hint = did_you_mean(name, known)
                    .map_or(String::new(), |m| format!(" (did you mean `{m}`?)"));
                return Err(Error::UnknownService {
                    name: name.clone(),
                    runbook: rb.name.clone(),
                    hint,
                });
            }
        }
    }
    Ok(mask)
}

/// On a terminal, the operator types the runbook's name before a live run starts.
fn confirm(plan: &Plan<'_>) -> Result<(), Error> {
    if !std::io::stdin().is_terminal() {
        return Err(Error::NeedsConfirmation);
    }
    let rb = plan.runbook;
    eprint!(
        "LIVE {} of `{}` from hall {} to hall {}: {} steps will change things.\nType the runbook's name ({}) to proceed: ",
        plan.mode.as_str(),
        rb.name,
        plan.from,
        plan.to,
        plan.steps.len(),
        rb.name
    );
    let mut line = String::new();
    let _ = std::io::stdin().read_line(&mut line);
    if line.trim() == rb.name {
        Ok(())
    } else {
        Err(Error::NotConfirmed)
    }
}

/// `user@host`, as the evidence names who ran it.
fn operator() -> String {
    let user = std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .ok()
        .or_else(|| {
            nix::unistd::User::from_uid(nix::unistd::getuid())
                .ok()
                .flatten()
                .map(|u| u.name)
        })
        .unwrap_or_else(|| "unknown".into());
    let host = nix::unistd::gethostname()
        .ok()
        .and_then(|h| h.into_string().ok())
        .unwrap_or_else(|| "unknown".into());
    format!("{user}@{host}")
}
