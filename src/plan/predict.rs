//! The predicted recovery time (spec §7 "Predicted RTO"): the plan's graph again, each
//! step weighted by what it measured in earlier live runs instead of its worst case.
//!
//! A step's measured duration is the median of its last [`LAST_RUNS`] measurements (the
//! mean of the two middle ones for an even count); a step never measured counts at its
//! worst case. A service's prediction is the finish of its recovery step, the runbook's
//! the latest of its services', exactly as the worst cases are figured. Pure: which runs
//! count and what they measured is the caller's business (`cli::predict`).
//!
//! The prediction is not part of the [`Plan`]: it changes as evidence accumulates, and the
//! plan (and its hash, which runs record) must not.

use std::collections::BTreeSet;
use std::time::Duration;

use super::Plan;
use super::graph::{Longest, longest};

/// How many of a step's latest measurements its median is taken over.
pub const LAST_RUNS: usize = 5;

/// One measurement of a step: the run it comes from (any number that tells runs apart)
/// and how long the step took there.
pub type Measurement = (usize, Duration);

#[derive(Clone, Debug, PartialEq)]
pub struct Prediction {
    /// Per step of the plan: its median measured duration, `None` when never measured.
    pub measured: Vec<Option<Duration>>,
    /// Per step: the weight used, the median or else the worst case.
    pub weights: Vec<Duration>,
    /// Per service of the runbook: its predicted recovery, `None` when it has no step in
    /// the plan.
    pub services: Vec<Option<Duration>>,
    /// Per service: how many runs its steps' medians come from.
    pub service_runs: Vec<usize>,
    /// Per origin (a site's runbooks): its predicted recovery, from the start of the run.
    pub origins: Vec<Duration>,
    /// Per origin: how many runs the medians of its steps come from.
    pub origin_runs: Vec<usize>,
    /// The runbook's (or site's) predicted recovery: its latest service's.
    pub runbook: Duration,
    /// How many runs the medians come from, in all.
    pub runs: usize,
    /// Step indices of the longest path by these weights.
    pub critical_path: Vec<usize>,
}

impl Prediction {
    /// How many of the plan's steps have a measurement.
    pub fn measured_steps(&self) -> usize {
        self.measured.iter().filter(|m| m.is_some()).count()
    }
}

/// The median of `values`: the middle one, or the mean of the two middle ones for an even
/// count; `None` for none.
pub fn median(values: &[Duration]) -> Option<Duration> {
    let mut v = values.to_vec();
    v.sort_unstable();
    let n = v.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(v[n / 2]),
        _ => Some((v[n / 2 - 1] + v[n / 2]) / 2),
    }
}

/// The prediction for `plan` from `measurements`, per step of the plan, oldest first;
/// `None` when no step has any (nothing to predict from).
pub fn predict(plan: &Plan<'_>, measurements: &[Vec<Measurement>]) -> Option<Prediction> {
    let n = plan.steps.len();
    let last = |i: usize| -> &[Measurement] {
        let m = measurements.get(i).map_or(&[][..], Vec::as_slice);
        &m[m.len().saturating_sub(LAST_RUNS)..]
    };
    let measured: Vec<Option<Duration>> = (0..n)
        .map(|i| median(&last(i).iter().map(|&(_, d)| d).collect::<Vec<_>>()))
        .collect();
    if measured.iter().all(Option::is_none) {
        return None;
    }
    let weights: Vec<Duration> = plan
        .steps
        .iter()
        .zip(&measured)
        .map(|(s, m)| m.unwrap_or(s.worst_case))
        .collect();
    let runs_of = |steps: &mut dyn Iterator<Item = usize>| {
        steps
            .flat_map(|i| last(i).iter().map(|&(run, _)| run))
            .collect::<BTreeSet<_>>()
            .len()
    };
    let Longest {
        finish,
        path: critical_path,
        ..
    } = longest(plan, |i| weights[i])?;
    let rb = plan.runbook;
    let services: Vec<Option<Duration>> = plan
        .services
        .iter()
        .map(|t| t.recovery_step.map(|i| finish[plan.steps[i].node.index()]))
        .collect();
    let service_runs = (0..rb.services.len())
        .map(|s| runs_of(&mut (0..n).filter(|&i| plan.steps[i].service == s)))
        .collect();
    let origins = per_origin(rb, &services);
    let origin_runs = (0..rb.origins.len())
        .map(|o| runs_of(&mut (0..n).filter(|&i| rb.services[plan.steps[i].service].origin == o)))
        .collect();
    Some(Prediction {
        runbook: services.iter().flatten().copied().max().unwrap_or_default(),
        runs: runs_of(&mut (0..n)),
        measured,
        weights,
        services,
        service_runs,
        origins,
        origin_runs,
        critical_path,
    })
}

/// Where a step of a live run stands, for [`project`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Standing {
    /// Ended (or not to run): it weighs nothing any more.
    Ended,
    /// Running for this long: it weighs what is left of its expected duration.
    Running(Duration),
    /// Not started: it weighs its expected duration.
    Waiting,
}

/// The projected recoveries of a live run (SPEC §10 "RTO at risk"), on the RTO clock.
#[derive(Clone, Debug, PartialEq)]
pub struct Projection {
    /// Per service: `now` plus the rest of the longest path to its recovery step;
    /// `None` when it has no recovery step in the plan.
    pub services: Vec<Option<Duration>>,
    /// Per origin (a site's runbook, or the runbook): its latest service's.
    pub origins: Vec<Duration>,
}

/// Each service's projected recovery at `now` (time on the RTO clock, less human wait):
/// `now` plus the longest path to its recovery step, ended steps weighing nothing, a
/// running step what is left of its `expected` duration (none once past it), a waiting
/// step all of it. `recovered` (per service, seconds) stands for itself. Pure.
pub fn project(
    plan: &Plan<'_>,
    expected: &[Duration],
    standing: &[Standing],
    recovered: &[Option<f64>],
    now: Duration,
) -> Option<Projection> {
    let weight = |i: usize| {
        let e = expected.get(i).copied().unwrap_or(plan.steps[i].worst_case);
        match standing.get(i).copied().unwrap_or(Standing::Waiting) {
            Standing::Ended => Duration::ZERO,
            Standing::Running(ran) => e.saturating_sub(ran),
            Standing::Waiting => e,
        }
    };
    let Longest { finish, .. } = longest(plan, weight)?;
    let rb = plan.runbook;
    let services: Vec<Option<Duration>> = plan
        .services
        .iter()
        .enumerate()
        .map(|(s, t)| match recovered.get(s).copied().flatten() {
            // A recovery time read back from a journal: never trusted to be finite.
            Some(r) => Some(Duration::try_from_secs_f64(r.max(0.0)).unwrap_or(Duration::MAX)),
            None => t
                .recovery_step
                .map(|i| now.saturating_add(finish[plan.steps[i].node.index()])),
        })
        .collect();
    let origins = per_origin(rb, &services);
    Some(Projection { services, origins })
}

/// Per origin (a site's runbook): the latest of its services' figures.
fn per_origin(rb: &crate::config::Runbook, services: &[Option<Duration>]) -> Vec<Duration> {
    (0..rb.origins.len())
        .map(|o| {
            rb.services
                .iter()
                .zip(services)
                .filter(|(s, _)| s.origin == o)
                .filter_map(|(_, p)| *p)
                .max()
                .unwrap_or_default()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ids::HallId;
    use crate::config::model::Mode;
    use crate::config::validate::testing::accepted;

    fn s(n: u64) -> Duration {
        Duration::from_secs(n)
    }

    #[test]
    fn median_of_odd_even_and_none() {
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[s(7)]), Some(s(7)));
        assert_eq!(median(&[s(9), s(1), s(5)]), Some(s(5)));
        // Even: the mean of the two middle ones, 4 and 7.
        assert_eq!(
            median(&[s(10), s(4), s(1), s(7)]),
            Some(Duration::from_millis(5500))
        );
    }

    /// `db` (stop 60s, start 60s, verify 60s worst) and `cache` (start 300s worst), both
    /// needed by `app` (start 60s, verify 60s worst). Worst case: cache 300 → app 120.
    const RUNBOOK: &str = r#"[runbook]
name = "t"
rto = "30m"
[services.db]
hosts = ["tag:db"]
[[services.db.stop]]
run = "x"
timeout = "60s"
[[services.db.start]]
run = "x"
timeout = "60s"
[[services.db.verify]]
run = "x"
timeout = "60s"
[services.cache]
hosts = ["tag:db"]
[[services.cache.start]]
run = "x"
timeout = "300s"
[services.app]
hosts = ["tag:app"]
depends_on = ["db", "cache"]
[[services.app.start]]
run = "x"
timeout = "60s"
[[services.app.verify]]
run = "x"
timeout = "60s"
"#;

    #[test]
    fn critical_path_by_measured_weights() {
        let rb = accepted(RUNBOOK);
        let plan = crate::plan::build(&rb, &HallId::new("a"), &HallId::new("b"), Mode::Switchover);
        let idx = |id: &str| plan.steps.iter().position(|s| s.id == id).expect(id);
        assert_eq!(plan.worst_case, s(420));
        let mut m: Vec<Vec<Measurement>> = vec![Vec::new(); plan.steps.len()];
        // db's steps: six runs each; the oldest (run 0, 1000s) is left out.
        for (run, d) in [(0, 1000), (1, 10), (2, 30), (3, 20), (4, 50), (5, 40)] {
            m[idx("db.stop.1")].push((run, s(d)));
        }
        m[idx("db.start.1")].push((5, s(5)));
        m[idx("db.verify.1")].extend([(4, s(2)), (5, s(4))]);
        // cache measured at 25s: db (30 + 5 + 3 = 38) is now the longer branch.
        m[idx("cache.start.1")].push((5, s(25)));
        // app never measured: its worst cases, 60 + 60.
        let p = predict(&plan, &m).expect("a prediction");
        assert_eq!(p.measured[idx("db.stop.1")], Some(s(30)));
        assert_eq!(p.measured[idx("db.verify.1")], Some(s(3)));
        assert_eq!(p.measured[idx("app.start.1")], None);
        let svc = |name: &str| {
            let i = rb
                .services
                .iter()
                .position(|v| v.name.as_str() == name)
                .unwrap();
            (p.services[i], p.service_runs[i])
        };
        assert_eq!(svc("db"), (Some(s(38)), 5));
        assert_eq!(svc("cache"), (Some(s(25)), 1));
        assert_eq!(svc("app"), (Some(s(38 + 120)), 0));
        assert_eq!(p.runbook, s(158));
        assert_eq!(p.runs, 5);
        assert_eq!(p.measured_steps(), 4);
        let path: Vec<&str> = p
            .critical_path
            .iter()
            .map(|&i| plan.steps[i].id.as_str())
            .collect();
        assert_eq!(
            path,
            [
                "db.stop.1",
                "db.start.1",
                "db.verify.1",
                "app.start.1",
                "app.verify.1"
            ]
        );
        // By worst case the path goes through cache instead.
        assert!(plan.is_critical(idx("cache.start.1")));
    }

    #[test]
    fn nothing_measured_is_no_prediction() {
        let rb = accepted(RUNBOOK);
        let plan = crate::plan::build(&rb, &HallId::new("a"), &HallId::new("b"), Mode::Switchover);
        assert_eq!(predict(&plan, &[]), None);
        assert_eq!(predict(&plan, &vec![Vec::new(); plan.steps.len()]), None);
    }

    #[test]
    fn projection_weighs_what_is_left() {
        let rb = accepted(RUNBOOK);
        let plan = crate::plan::build(&rb, &HallId::new("a"), &HallId::new("b"), Mode::Switchover);
        let idx = |id: &str| plan.steps.iter().position(|s| s.id == id).expect(id);
        let svc = |name: &str| {
            rb.services
                .iter()
                .position(|v| v.name.as_str() == name)
                .unwrap()
        };
        let expected: Vec<Duration> = plan.steps.iter().map(|s| s.worst_case).collect();
        let mut standing = vec![Standing::Waiting; plan.steps.len()];
        let none = vec![None; rb.services.len()];
        // Nothing started: the worst cases from now.
        let p = project(&plan, &expected, &standing, &none, s(10)).unwrap();
        assert_eq!(p.services[svc("db")], Some(s(10 + 180)));
        assert_eq!(p.services[svc("cache")], Some(s(10 + 300)));
        assert_eq!(p.services[svc("app")], Some(s(10 + 420)));
        assert_eq!(p.origins, vec![s(430)]);
        // At 100s: db.stop ended, db.start 30s in (30 left); cache.start 400s in, past
        // its 300s: it weighs nothing, yet app still has its 120s from now.
        standing[idx("db.stop.1")] = Standing::Ended;
        standing[idx("db.start.1")] = Standing::Running(s(30));
        standing[idx("cache.start.1")] = Standing::Running(s(400));
        let p = project(&plan, &expected, &standing, &none, s(100)).unwrap();
        assert_eq!(p.services[svc("db")], Some(s(100 + 30 + 60)));
        assert_eq!(p.services[svc("cache")], Some(s(100)));
        assert_eq!(p.services[svc("app")], Some(s(100 + 90 + 120)));
        // A recovered service stands for its recovery time.
        let mut rec = none.clone();
        rec[svc("cache")] = Some(42.0);
        let p = project(&plan, &expected, &standing, &rec, s(100)).unwrap();
        assert_eq!(p.services[svc("cache")], Some(s(42)));
        assert_eq!(p.origins, vec![s(310)]);
    }
}
