//! The plan as a stable JSON document (`switchyard.plan/v1`, see docs/plan-json.md).

use serde::Serialize;

use crate::config::duration::secs;
use crate::plan::predict::Prediction;
use crate::plan::{Node, Plan};

use super::{executions, predicted, warnings};

#[derive(Serialize)]
struct PlanDoc<'a> {
    schema: &'static str,
    runbook: RunbookDoc<'a>,
    /// A site only: its name, title and worst case against its target.
    #[serde(skip_serializing_if = "Option::is_none")]
    site: Option<SiteDoc<'a>>,
    from: &'a str,
    to: &'a str,
    mode: &'static str,
    rto: Rto,
    /// The predicted recovery from earlier runs' evidence (`plan` only: never in the
    /// hashed plan); absent when there is none.
    #[serde(skip_serializing_if = "Option::is_none")]
    predicted_s: Option<f64>,
    /// A site only: each of its runbooks.
    #[serde(skip_serializing_if = "Option::is_none")]
    runbooks: Option<Vec<SiteRunbookDoc<'a>>>,
    services: Vec<ServiceDoc<'a>>,
    waves: Vec<Vec<&'a str>>,
    critical_path: Vec<&'a str>,
    steps: Vec<StepDoc<'a>>,
    gates: Vec<GateDoc>,
    skipped: Vec<SkippedDoc<'a>>,
    warnings: Vec<String>,
    /// The safety invariants and when they are checked (absent when there are none).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    invariants: Vec<super::invariants::InvariantDoc<'a>>,
}

#[derive(Serialize)]
struct RunbookDoc<'a> {
    name: &'a str,
    title: &'a str,
    owner: Option<&'a str>,
}

#[derive(Serialize)]
struct SiteDoc<'a> {
    name: &'a str,
    title: &'a str,
    rto: Rto,
}

#[derive(Serialize)]
struct SiteRunbookDoc<'a> {
    name: &'a str,
    title: &'a str,
    tier: u8,
    requires: Vec<&'a str>,
    on_failure: &'static str,
    rto: Rto,
    #[serde(skip_serializing_if = "Option::is_none")]
    predicted_s: Option<f64>,
    services: Vec<&'a str>,
}

#[derive(Serialize)]
struct Rto {
    target_s: Option<f64>,
    worst_case_s: f64,
    exceeded: bool,
}

#[derive(Serialize)]
struct ServiceDoc<'a> {
    name: &'a str,
    title: &'a str,
    depends_on: Vec<&'a str>,
    rto: Rto,
    #[serde(skip_serializing_if = "Option::is_none")]
    predicted_s: Option<f64>,
    /// Its RPO canary (SPEC §8), when it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    canary: Option<CanaryDoc<'a>>,
}

#[derive(Serialize)]
struct CanaryDoc<'a> {
    rpo_s: Option<f64>,
    interval_s: f64,
    timeout_s: f64,
    write: CanaryCommand<'a>,
    read: CanaryCommand<'a>,
}

#[derive(Serialize)]
struct CanaryCommand<'a> {
    hosts: Vec<&'a str>,
    does: String,
}

#[derive(Serialize)]
struct Execution<'a> {
    host: Option<&'a str>,
    does: String,
}

#[derive(Serialize)]
struct StepDoc<'a> {
    id: &'a str,
    service: &'a str,
    phase: &'static str,
    name: &'a str,
    kind: &'static str,
    on: &'static str,
    executions: Vec<Execution<'a>>,
    depends_on: Vec<String>,
    wave: usize,
    critical: bool,
    timeout_s: f64,
    attempts: u32,
    retry_interval_s: Option<f64>,
    within_s: Option<f64>,
    interval_s: Option<f64>,
    consecutive: Option<u32>,
    serial: Option<u32>,
    continue_on_error: bool,
    worst_case_s: f64,
}

#[derive(Serialize)]
struct GateDoc {
    id: String,
    after: Vec<String>,
}

#[derive(Serialize)]
struct SkippedDoc<'a> {
    id: &'a str,
    name: &'a str,
    reason: &'static str,
}

/// The plan as runs record and hash it: without a prediction.
pub fn json(plan: &Plan<'_>) -> String {
    json_predicted(plan, None)
}

/// The plan with the prediction from earlier runs, if any, as `plan --format json`
/// prints it: `predicted_s` for the runbook, each service and a site's runbooks, and
/// warnings for predictions over their targets. Without one, exactly [`json`].
pub fn json_predicted(plan: &Plan<'_>, prediction: Option<&Prediction>) -> String {
    let rb = plan.runbook;
    let mut wave_of = vec![0; plan.steps.len()];
    for (w, wave) in plan.waves.iter().enumerate() {
        for &i in wave {
            wave_of[i] = w + 1;
        }
    }
    let steps = plan
        .steps
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let st = s.step;
            let check = st.phase.is_check();
            StepDoc {
                id: &s.id,
                service: rb.services[s.service].name.as_str(),
                phase: st.phase.as_str(),
                name: &st.name,
                kind: st.action.kind(),
                on: st.on.as_str(),
                executions: executions(plan, i)
                    .into_iter()
                    .map(|(host, does)| Execution { host, does })
                    .collect(),
                depends_on: plan
                    .depends_on(i)
                    .into_iter()
                    .map(|n| plan.node_id(n))
                    .collect(),
                wave: wave_of[i],
                critical: plan.is_critical(i),
                timeout_s: secs(st.timeout),
                attempts: if check { 1 } else { st.retries + 1 },
                retry_interval_s: (!check && st.retries > 0).then(|| secs(st.retry_interval)),
                within_s: st.within.map(secs),
                interval_s: (check && st.within.is_some()).then(|| secs(st.interval)),
                consecutive: check.then_some(st.consecutive),
                serial: st.serial,
                continue_on_error: st.continue_on_error,
                worst_case_s: secs(s.worst_case),
            }
        })
        .collect();
    let gates = plan
        .graph
        .node_indices()
        .filter(|&n| !matches!(plan.graph[n], Node::Step(_)))
        .map(|n| GateDoc {
            id: plan.node_id(plan.graph[n]),
            after: {
                let mut v: Vec<String> = plan
                    .graph
                    .neighbors_directed(n, petgraph::Direction::Incoming)
                    .map(|p| plan.node_id(plan.graph[p]))
                    .collect();
                v.reverse();
                v
            },
        })
        .collect();
    let site_rto = || Rto {
        target_s: Some(secs(rb.rto)),
        worst_case_s: secs(plan.worst_case),
        exceeded: plan.rto_exceeded(),
    };
    let doc = PlanDoc {
        schema: "switchyard.plan/v1",
        runbook: RunbookDoc {
            name: &rb.name,
            title: &rb.title,
            owner: rb.owner.as_deref(),
        },
        site: rb.site.then(|| SiteDoc {
            name: &rb.name,
            title: &rb.title,
            rto: site_rto(),
        }),
        from: plan.from.as_str(),
        to: plan.to.as_str(),
        mode: plan.mode.as_str(),
        rto: site_rto(),
        predicted_s: prediction.map(|p| secs(p.runbook)),
        runbooks: rb.site.then(|| site_runbooks(plan, prediction)),
        services: rb
            .services
            .iter()
            .zip(&plan.services)
            .enumerate()
            .map(|(i, (svc, t))| ServiceDoc {
                name: svc.name.as_str(),
                title: &svc.title,
                depends_on: svc
                    .depends_on
                    .iter()
                    .map(|&d| rb.services[d].name.as_str())
                    .collect(),
                rto: Rto {
                    target_s: t.target.map(secs),
                    worst_case_s: secs(t.worst_case),
                    exceeded: t.exceeded(),
                },
                predicted_s: prediction.and_then(|p| p.services[i]).map(secs),
                canary: super::canary(plan, i).map(|c| CanaryDoc {
                    rpo_s: c.rpo.map(secs),
                    interval_s: secs(c.interval),
                    timeout_s: secs(c.timeout),
                    write: CanaryCommand {
                        hosts: c.write.hosts,
                        does: c.write.does,
                    },
                    read: CanaryCommand {
                        hosts: c.read.hosts,
                        does: c.read.does,
                    },
                }),
            })
            .collect(),
        waves: plan
            .waves
            .iter()
            .map(|w| w.iter().map(|&i| plan.steps[i].id.as_str()).collect())
            .collect(),
        critical_path: plan
            .critical_path
            .iter()
            .map(|&i| plan.steps[i].id.as_str())
            .collect(),
        steps,
        gates,
        skipped: plan
            .skipped
            .iter()
            .map(|s| SkippedDoc {
                id: &s.id,
                name: &s.step.name,
                reason: s.reason,
            })
            .collect(),
        warnings: {
            let mut w = warnings(plan);
            w.extend(prediction.map(|p| predicted(plan, p)).unwrap_or_default());
            w
        },
        invariants: super::invariants::docs(plan),
    };
    serde_json::to_string_pretty(&doc).unwrap_or_default() + "\n"
}

/// A site's runbooks, in site order, each with its worst case: until its last service is
/// recovered, counted from the start of the site's run.
fn site_runbooks<'a>(plan: &Plan<'a>, prediction: Option<&Prediction>) -> Vec<SiteRunbookDoc<'a>> {
    let rb = plan.runbook;
    let mut services: Vec<Vec<&str>> = vec![Vec::new(); rb.origins.len()];
    for svc in &rb.services {
        services[svc.origin].push(svc.name.as_str());
    }
    rb.origins
        .iter()
        .zip(services)
        .enumerate()
        .map(|(o, (origin, services))| {
            let worst = plan.origin_worst_case(o);
            SiteRunbookDoc {
                name: &origin.name,
                title: &origin.title,
                tier: origin.tier,
                requires: origin
                    .requires
                    .iter()
                    .map(|&r| rb.origins[r].name.as_str())
                    .collect(),
                on_failure: origin.on_failure.as_str(),
                rto: Rto {
                    target_s: Some(secs(origin.rto)),
                    worst_case_s: secs(worst),
                    exceeded: worst > origin.rto,
                },
                predicted_s: prediction.map(|p| secs(p.origins[o])),
                services,
            }
        })
        .collect()
}
