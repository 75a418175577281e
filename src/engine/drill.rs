//! A whole run: the first event, the host checks, the switchover pass, the rollback
//! pass when one is called for, and the last event with the outcome and the RTO.
//!
//! The rollback is the same runbook in the opposite direction, restricted to the
//! services whose stop phase had begun (the others never left their hall), without
//! its prechecks (the halls are mid-switch: a precheck of the normal direction would
//! fail by design). Its steps carry ids prefixed with `rollback.` so the evidence
//! keeps both passes apart.

use std::collections::HashSet;
use std::sync::Arc;

use crate::config::model::{Mode, Phase};
use crate::plan::{self, Plan};

use super::event::{Event, Outcome, Rto, RunStarted, RunbookTarget, ServiceTarget};
use super::executor::{Executor, NamedHost};
use super::job::Job;
use super::scheduler::{self, Carry, Halted, Io, Pass, Settings, Stop};
use super::stopwatch::{secs, timestamp};

/// Where the run begins: afresh, or resumed from a journal.
pub enum Start {
    Fresh { hosts: Vec<NamedHost> },
    Resumed(Box<Carry>),
}

/// Runs `plan` and returns how the run ended; `jobs_of` makes the jobs of a plan
/// (the switchover's, and the rollback's if one is needed).
pub async fn run<E: Executor>(
    plan: &Plan<'_>,
    jobs_of: &dyn Fn(&Plan<'_>) -> Vec<Job>,
    executor: Arc<E>,
    settings: &Settings,
    start: Start,
    io: &mut Io<'_>,
    canaries: Vec<super::canary::Prepared>,
) -> Outcome {
    let rb = plan.runbook;
    let jobs = jobs_of(plan);
    let mut unreachable = false;
    let carry = match start {
        Start::Fresh { hosts } => {
            io.sink.emit(Event::RunStarted(run_started(
                plan,
                &jobs,
                executor.dry_run(),
                settings,
            )));
            // The run folder names its run before any host is contacted.
            io.sink.flush();
            for message in crate::plan::render::insecure_tls(plan) {
                io.sink.emit(Event::Notice { message });
            }
            unreachable = !check_hosts(plan, executor.as_ref(), hosts, settings, io).await;
            hung_up(io);
            Carry::default()
        }
        Start::Resumed(carry) => *carry,
    };
    for message in &settings.notices {
        io.sink.emit(Event::Notice {
            message: message.clone(),
        });
    }
    let main = match &carry.rollback {
        Some(services) => switchover_over(rb, &carry, services, io),
        None => {
            scheduler::pass(
                plan,
                jobs,
                executor.clone(),
                settings,
                &carry,
                io,
                scheduler::Role::Switchover(canaries),
            )
            .await
        }
    };
    let mut human_wait = main.human_wait;
    let mut outcome_of_rollback = None;
    if main.stop == Some(Stop::Rollback) || main.halts.contains(&Some(Stop::Rollback)) {
        let rolls_back = |svc: usize| {
            main.stop == Some(Stop::Rollback)
                || main.halts[rb.services[svc].origin] == Some(Stop::Rollback)
        };
        let back: Vec<bool> = (0..rb.services.len())
            .map(|s| main.stop_begun[s] && rolls_back(s))
            .collect();
        let (outcome, waited) =
            rollback(plan, jobs_of, &back, executor.clone(), settings, &carry, io).await;
        outcome_of_rollback = Some(outcome);
        // The rollback pass counts its own waits from zero.
        human_wait += waited;
    }
    let target = secs(rb.rto);
    let included = |i: usize| plan.included[i] && plan.services[i].recovery_step.is_some();
    let all_recovered = (0..rb.services.len()).all(|i| !included(i) || main.recovered[i].is_some());
    let achieved = main
        .recovered
        .iter()
        .flatten()
        .copied()
        .reduce(f64::max)
        .unwrap_or_else(|| secs(settings.clock.since_origin().saturating_sub(human_wait)));
    let met = executor.dry_run() || (all_recovered && achieved <= target);
    let breached = !executor.dry_run() && (!met || missed_a_target(rb, &main.recovered));
    let outcome = match outcome(&main, outcome_of_rollback, unreachable, breached) {
        // A missed RPO ranks above a missed RTO (SPEC §8).
        Outcome::Passed | Outcome::RtoBreached if main.rpo_missed.contains(&true) => {
            Outcome::RpoBreached
        }
        o => o,
    };
    hung_up(io);
    io.sink.emit(Event::RunFinished {
        outcome,
        finished_at: timestamp(settings.clock.now()),
        rto: (!executor.dry_run()).then_some(Rto {
            target_s: target,
            achieved_s: achieved,
            met,
        }),
        human_wait_s: secs(human_wait),
    });
    outcome
}

/// Records a hangup that arrived outside a pass (during the host checks, between the
/// passes), at once: a pass listens for its own.
fn hung_up(io: &mut Io<'_>) {
    if io.hangup.arrived() {
        io.sink.emit(super::hangup::Hangup::event());
        io.sink.flush();
    }
}

/// Logs in to every host the run touches before any step, and records each; `false`
/// when one that must be reached was not. Failover presumes the source hall lost: its
/// hosts may be unreachable.
async fn check_hosts<E: Executor>(
    plan: &Plan<'_>,
    executor: &E,
    hosts: Vec<NamedHost>,
    settings: &Settings,
    io: &mut Io<'_>,
) -> bool {
    let failover = executor.kind().is_failover();
    let lost: HashSet<&str> = plan
        .runbook
        .inventory
        .hosts
        .iter()
        .filter(|h| failover && h.hall == plan.from)
        .map(|h| h.name.as_str())
        .collect();
    let mut all_reached = true;
    for (host, result) in executor.prepare(hosts).await {
        let message = match &result {
            Err(m) if lost.contains(host.as_str()) => Some(format!(
                "source host unreachable, as expected in failover: {m}"
            )),
            Err(m) => {
                all_reached = false;
                Some(m.clone())
            }
            Ok(()) => None,
        };
        io.sink.emit(Event::HostChecked {
            host,
            ok: result.is_ok(),
            message: message.map(|m| settings.redactor.redact(&m)),
        });
    }
    all_reached
}

/// The switchover pass of a run stopped during its rollback, as the journal left it:
/// over, and only the rollback goes on. In a site, what that pass stopped stays
/// stopped, and this part of the journal says so again.
fn switchover_over(
    rb: &crate::config::Runbook,
    carry: &Carry,
    services: &[String],
    io: &mut Io<'_>,
) -> Pass {
    for h in &carry.halted {
        io.sink.emit(h.event());
    }
    Pass {
        stop: Some(Stop::Rollback),
        recovered: rb
            .services
            .iter()
            .map(|s| carry.recovered.get(s.name.as_str()).copied())
            .collect(),
        stop_begun: rb
            .services
            .iter()
            .map(|s| services.iter().any(|n| n == s.name.as_str()))
            .collect(),
        human_wait: carry.human_wait,
        halts: rb
            .origins
            .iter()
            .map(|o| {
                let halted = carry.halted.iter().find(|h| h.runbook == o.name);
                halted.map(Halted::stop)
            })
            .collect(),
        rpo_missed: vec![false; rb.services.len()],
    }
}

/// How the run ended, from how its switchover pass stopped, how its rollback (if any)
/// ended, whether every host was reached, and whether a target was missed. In a site,
/// the worst of the runbooks that stopped on their own counts.
fn outcome(main: &Pass, rollback: Option<Outcome>, unreachable: bool, breached: bool) -> Outcome {
    let contained = main
        .halts
        .iter()
        .flatten()
        .map(|h| match h {
            Stop::Aborted => Outcome::Aborted,
            Stop::Rollback => Outcome::RolledBack,
            _ => Outcome::Failed,
        })
        .max_by_key(|o| match o {
            Outcome::Failed => 2,
            Outcome::Aborted => 1,
            _ => 0,
        });
    match (&main.stop, rollback, contained) {
        (_, Some(Outcome::RolledBack), Some(o)) if o != Outcome::RolledBack => o,
        (_, Some(o), _) => o,
        (None, None, Some(o)) => o,
        (Some(Stop::Interrupted), _, _) => Outcome::Interrupted,
        (Some(Stop::Aborted), _, _) => Outcome::Aborted,
        (Some(Stop::Failed(_) | Stop::Rollback), _, _) => Outcome::Failed,
        (None, _, _) if unreachable => Outcome::Failed,
        (None, _, _) if breached => Outcome::RtoBreached,
        (None, _, _) => Outcome::Passed,
    }
}

/// Whether a service, or a site's runbook, recovered after its own target.
fn missed_a_target(rb: &crate::config::Runbook, recovered: &[Option<f64>]) -> bool {
    let service_missed = rb
        .services
        .iter()
        .zip(recovered)
        .any(|(s, r)| matches!((s.rto, r), (Some(t), Some(a)) if *a > secs(t)));
    // A runbook of a site has recovered when its last service has.
    let runbook_missed = rb.origins.iter().enumerate().any(|(o, origin)| {
        rb.services
            .iter()
            .zip(recovered)
            .filter(|(s, _)| s.origin == o)
            .filter_map(|(_, r)| *r)
            .any(|a| a > secs(origin.rto))
    });
    service_missed || runbook_missed
}

/// Switches back the services whose stop phase had begun. `rolled_back` when every
/// rollback step succeeded, else `failed` (the run is then in a state a person must see).
/// `resumed` is what an earlier process did of it, when the run was stopped during it.
async fn rollback<E: Executor>(
    plan: &Plan<'_>,
    jobs_of: &dyn Fn(&Plan<'_>) -> Vec<Job>,
    stop_begun: &[bool],
    executor: Arc<E>,
    settings: &Settings,
    resumed: &Carry,
    io: &mut Io<'_>,
) -> (Outcome, std::time::Duration) {
    let rb = plan.runbook;
    let services: Vec<String> = rb
        .services
        .iter()
        .zip(stop_begun)
        .filter(|(_, begun)| **begun)
        .map(|(s, _)| s.name.to_string())
        .collect();
    // The switchover pass said `rollback_started` when it decided to roll back.
    if services.is_empty() {
        return (Outcome::RolledBack, std::time::Duration::ZERO);
    }
    let back = plan::build_only(rb, &plan.to, &plan.from, Mode::Switchover, stop_begun);
    let mut jobs = jobs_of(&back);
    let ours = |(id, _): &&(String, Option<String>)| id.starts_with(ROLLBACK);
    let mut carry = Carry {
        done: resumed.done.iter().filter(ours).cloned().collect(),
        rerun: resumed.rerun.iter().filter(ours).cloned().collect(),
        ..Carry::default()
    };
    for job in &mut jobs {
        job.id = format!("{ROLLBACK}{}", job.id);
        if job.phase == Phase::Precheck {
            carry.done.insert((job.id.clone(), job.host_name.clone()));
        }
    }
    let pass = scheduler::pass(
        &back,
        jobs,
        executor,
        settings,
        &carry,
        io,
        scheduler::Role::Rollback,
    )
    .await;
    let outcome = match pass.stop {
        None => Outcome::RolledBack,
        Some(Stop::Interrupted) => Outcome::Interrupted,
        Some(_) => Outcome::Failed,
    };
    (outcome, pass.human_wait)
}

/// The prefix of the rollback pass's step ids.
pub const ROLLBACK: &str = "rollback.";

fn run_started(plan: &Plan<'_>, jobs: &[Job], dry_run: bool, settings: &Settings) -> RunStarted {
    let rb = plan.runbook;
    RunStarted {
        runbook: rb.name.clone(),
        title: rb.title.clone(),
        owner: rb.owner.clone(),
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        plan_hash: settings.plan_hash.clone(),
        from: plan.from.to_string(),
        to: plan.to.to_string(),
        mode: plan.mode,
        dry_run,
        operator: settings.operator.clone(),
        clock_origin: timestamp(settings.clock.origin),
        started_at: timestamp(settings.clock.started),
        rto_target_s: secs(rb.rto),
        services: rb
            .services
            .iter()
            .zip(&plan.included)
            .filter(|(_, keep)| **keep)
            .map(|(s, _)| ServiceTarget {
                name: s.name.to_string(),
                title: s.title.clone(),
                rto_target_s: s.rto.map(secs),
                rpo_target_s: s.canary.as_ref().and(s.rpo).map(secs),
                canary: s.canary.is_some(),
            })
            .collect(),
        critical_path: plan
            .critical_path
            .iter()
            .map(|&i| plan.steps[i].id.clone())
            .collect(),
        inputs: settings.inputs.clone(),
        runbook_file: settings.runbook_file.clone(),
        inventory_files: settings.inventory_files.clone(),
        only: settings.only.clone(),
        steps: plan.steps.len(),
        executions: jobs.len(),
        max_parallel: settings.max_parallel,
        runbooks: runbook_targets(rb),
        signed_by: settings.signed_by.clone(),
    }
}

/// A site's runbooks as the run begins, the assumed ones last; none for a runbook.
fn runbook_targets(rb: &crate::config::Runbook) -> Vec<RunbookTarget> {
    if !rb.site {
        return Vec::new();
    }
    let target = |o: &crate::config::runbook::Origin, assumed: bool| RunbookTarget {
        name: o.name.clone(),
        title: o.title.clone(),
        tier: o.tier,
        requires: o
            .requires
            .iter()
            .map(|&r| rb.origins[r].name.clone())
            .chain(o.assumes.iter().cloned())
            .collect(),
        rto_target_s: secs(o.rto),
        plan_hash: if assumed { None } else { o.plan_hash.clone() },
        assumed,
    };
    let run = rb.origins.iter().map(|o| target(o, false));
    run.chain(rb.assumed.iter().map(|o| target(o, true)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pass(stop: Option<Stop>, halts: Vec<Option<Stop>>) -> Pass {
        Pass {
            rpo_missed: Vec::new(),
            stop,
            recovered: Vec::new(),
            stop_begun: Vec::new(),
            human_wait: std::time::Duration::ZERO,
            halts,
        }
    }

    #[test]
    fn a_site_ends_as_the_worst_of_its_runbooks_that_stopped() {
        let failed = Some(Stop::Failed("x".into()));
        let site = |halts| pass(None, halts);
        // One runbook failed, another rolled back cleanly: failed.
        let both = site(vec![failed.clone(), Some(Stop::Rollback), None]);
        assert_eq!(
            outcome(&both, Some(Outcome::RolledBack), false, false),
            Outcome::Failed
        );
        // Only a clean rollback: rolled back; its rollback failing: failed.
        let back = site(vec![None, Some(Stop::Rollback)]);
        assert_eq!(
            outcome(&back, Some(Outcome::RolledBack), false, false),
            Outcome::RolledBack
        );
        assert_eq!(
            outcome(&back, Some(Outcome::Failed), false, false),
            Outcome::Failed
        );
        // Aborted by the operator, and nothing worse.
        let aborted = site(vec![Some(Stop::Aborted), None]);
        assert_eq!(outcome(&aborted, None, false, true), Outcome::Aborted);
        // Nothing stopped: a missed target breaches, and all well passes.
        assert_eq!(
            outcome(&site(vec![None, None]), None, false, true),
            Outcome::RtoBreached
        );
        assert_eq!(
            outcome(&site(vec![None, None]), None, false, false),
            Outcome::Passed
        );
        // Ctrl-C stops the whole run: interrupted, whatever the runbooks did.
        let stopped = pass(Some(Stop::Interrupted), vec![None]);
        assert_eq!(outcome(&stopped, None, false, false), Outcome::Interrupted);
        // A host that could not be reached fails a run that otherwise passed.
        assert_eq!(
            outcome(&pass(None, vec![None]), None, true, false),
            Outcome::Failed
        );
    }
}
