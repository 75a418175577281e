//! The step graph for one direction and mode, built from the four order rules of the
//! spec (§3 "Order"), and the figures derived from it: parallel waves, the critical
//! path, and the worst case against each RTO target.
//!
//! Nodes are steps, plus zero-length *gates* that keep the edge count linear: one gate
//! for "every precheck passed" (rule 1) instead of an edge from every precheck to every
//! stop, and pass-through gates for services that have no stop phase or no steps after
//! it, so that the rules still hold across them.

use std::time::Duration;

use petgraph::Direction as Dir;
use petgraph::algo::toposort;
use petgraph::graph::{DiGraph, NodeIndex};

use crate::config::Runbook;
use crate::config::ids::HallId;
use crate::config::inventory::HostIdx;
use crate::config::model::{Mode, On, Phase};
use crate::config::runbook::{Action, Step};

/// One step of the runbook as it will run in this direction.
#[derive(Debug)]
pub struct PlannedStep<'r> {
    /// `service.phase.N`, stable across runs and directions.
    pub id: String,
    pub service: usize,
    pub step: &'r Step,
    /// The hosts it runs on, one execution each; empty when it runs once on no host.
    pub hosts: Vec<HostIdx>,
    /// The most this step can take, by its timeouts, retries and `within`.
    pub worst_case: Duration,
    pub node: NodeIndex,
}

/// A node of the step graph.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Node {
    /// Index into [`Plan::steps`].
    Step(usize),
    /// Passed when every precheck of every service has passed (rule 1).
    Prechecks,
    /// Passed when everything that must stop before this service's stop has stopped,
    /// for a service without a stop phase of its own (rule 2 across it).
    Stopped(usize),
    /// Passed when the services this one depends on are up, for a service without
    /// steps after its prechecks (rule 3 across it).
    Ready(usize),
}

/// A step left out of this plan, and why.
#[derive(Debug)]
pub struct Skipped<'r> {
    pub id: String,
    pub step: &'r Step,
    pub reason: &'static str,
}

/// A service's worst case against its target.
#[derive(Debug)]
pub struct ServiceTiming {
    /// The step whose end is the service's recovery: its last verify step, or its last
    /// step when it has none. `None` when the service has no step in this plan.
    pub recovery_step: Option<usize>,
    pub worst_case: Duration,
    pub target: Option<Duration>,
}

impl ServiceTiming {
    pub fn exceeded(&self) -> bool {
        self.target.is_some_and(|t| self.worst_case > t)
    }
}

#[derive(Debug)]
pub struct Plan<'r> {
    pub runbook: &'r Runbook,
    /// Per service of the runbook: whether this plan covers it (`run --only`).
    pub included: Vec<bool>,
    pub from: HallId,
    pub to: HallId,
    pub mode: Mode,
    pub steps: Vec<PlannedStep<'r>>,
    pub graph: DiGraph<Node, ()>,
    pub skipped: Vec<Skipped<'r>>,
    /// Step indices that may run at the same time, in order.
    pub waves: Vec<Vec<usize>>,
    /// Step indices of the longest path by worst case.
    pub critical_path: Vec<usize>,
    pub services: Vec<ServiceTiming>,
    pub worst_case: Duration,
}

impl Plan<'_> {
    pub fn rto_exceeded(&self) -> bool {
        self.worst_case > self.runbook.rto
    }

    /// The worst case of origin `o` (a runbook of a site): until its last service is
    /// recovered, counted from the start of the run.
    pub fn origin_worst_case(&self, o: usize) -> Duration {
        self.runbook
            .services
            .iter()
            .zip(&self.services)
            .filter(|(s, _)| s.origin == o)
            .map(|(_, t)| t.worst_case)
            .max()
            .unwrap_or_default()
    }

    pub fn is_critical(&self, step: usize) -> bool {
        self.critical_path.contains(&step)
    }

    /// The ids of the steps and gates a step waits for directly.
    pub fn depends_on(&self, step: usize) -> Vec<Node> {
        let mut deps: Vec<Node> = self
            .graph
            .neighbors_directed(self.steps[step].node, Dir::Incoming)
            .map(|n| self.graph[n])
            .collect();
        deps.reverse();
        deps
    }

    pub fn node_id(&self, node: Node) -> String {
        let svc = |i: usize| self.runbook.services[i].name.as_str();
        match node {
            Node::Step(i) => self.steps[i].id.clone(),
            Node::Prechecks => "prechecks-passed".into(),
            Node::Stopped(s) => format!("{}.stopped", svc(s)),
            Node::Ready(s) => format!("{}.ready", svc(s)),
        }
    }
}

/// How long a step can take at most.
fn worst_case(step: &Step, executions: usize) -> Duration {
    // Every kind named: a new one must say what its worst case is.
    let one = match &step.action {
        Action::Manual(_) => Duration::ZERO,
        Action::Sleep(d) => *d,
        Action::Run(_) | Action::Local(_) | Action::Http(_) | Action::Tcp(_) => {
            if step.phase.is_check() {
                step.within.unwrap_or(step.timeout)
            } else {
                step.timeout
                    .saturating_mul(step.retries.saturating_add(1))
                    .saturating_add(step.retry_interval.saturating_mul(step.retries))
            }
        }
    };
    let batches = match step.serial {
        Some(k) if executions > 0 => executions.div_ceil(k as usize),
        _ => 1,
    };
    one.saturating_mul(u32::try_from(batches).unwrap_or(u32::MAX))
}

/// Builds the plan for switching `runbook` from `from` to `to` in `mode`.
pub fn build<'r>(runbook: &'r Runbook, from: &HallId, to: &HallId, mode: Mode) -> Plan<'r> {
    build_only(runbook, from, to, mode, &vec![true; runbook.services.len()])
}

/// The plan for the services marked in `included` only (`run --only`). A service left
/// out is treated as one without steps, so the order around it still holds.
pub fn build_only<'r>(
    runbook: &'r Runbook,
    from: &HallId,
    to: &HallId,
    mode: Mode,
    included: &[bool],
) -> Plan<'r> {
    let mut g = DiGraph::new();
    let mut steps = Vec::new();
    let mut skipped = Vec::new();
    // Per service: its precheck steps and its other steps, as step indices, in order.
    let mut prechecks: Vec<Vec<usize>> = vec![Vec::new(); runbook.services.len()];
    let mut work: Vec<Vec<usize>> = vec![Vec::new(); runbook.services.len()];
    let mut first_of: Vec<[Option<usize>; 4]> = vec![[None; 4]; runbook.services.len()];
    let mut last_of: Vec<[Option<usize>; 4]> = vec![[None; 4]; runbook.services.len()];
    for (si, svc) in runbook.services.iter().enumerate() {
        if !included.get(si).copied().unwrap_or(true) {
            continue;
        }
        for phase in Phase::ALL {
            for step in svc.steps(phase) {
                let id = format!("{}.{}.{}", svc.name, phase, step.index);
                if mode == Mode::Failover && phase == Phase::Precheck && step.on == On::Source {
                    skipped.push(Skipped {
                        id,
                        step,
                        reason: "failover: the source hall is presumed lost",
                    });
                    continue;
                }
                let halls: &[&HallId] = match (step.on, mode, phase) {
                    (On::Source, ..) => &[from],
                    (On::Both, Mode::Failover, Phase::Precheck) | (On::Target, ..) => &[to],
                    (On::Both, ..) => &[from, to],
                    (On::Local, ..) => &[],
                };
                let hosts: Vec<HostIdx> = step
                    .hosts
                    .iter()
                    .copied()
                    .filter(|&h| halls.contains(&&runbook.inventory.hosts[h].hall))
                    .collect();
                let index = steps.len();
                let node = g.add_node(Node::Step(index));
                steps.push(PlannedStep {
                    id,
                    service: si,
                    step,
                    worst_case: worst_case(step, hosts.len()),
                    hosts,
                    node,
                });
                let list = if phase == Phase::Precheck {
                    &mut prechecks[si]
                } else {
                    &mut work[si]
                };
                if let Some(&prev) = list.last() {
                    g.add_edge(steps[prev].node, node, ());
                }
                list.push(index);
                first_of[si][phase.index()].get_or_insert(index);
                last_of[si][phase.index()] = Some(index);
            }
        }
    }
    let node = |i: usize| steps[i].node;
    // Rule 1: every precheck before anything else begins.
    if prechecks.iter().any(|p| !p.is_empty()) {
        let gate = g.add_node(Node::Prechecks);
        for p in &prechecks {
            if let Some(&last) = p.last() {
                g.add_edge(node(last), gate, ());
            }
        }
        for w in &work {
            if let Some(&first) = w.first() {
                g.add_edge(gate, node(first), ());
            }
        }
    }
    // The service graph, dependents before their dependencies.
    let mut sg = DiGraph::<usize, ()>::new();
    let sn: Vec<_> = (0..runbook.services.len())
        .map(|i| sg.add_node(i))
        .collect();
    for (i, s) in runbook.services.iter().enumerate() {
        for &d in &s.depends_on {
            sg.add_edge(sn[i], sn[d], ());
        }
    }
    let order: Vec<usize> = toposort(&sg, None)
        .map(|o| o.into_iter().map(|n| sg[n]).collect())
        .unwrap_or_default();
    let dependents = |s: usize| {
        sg.neighbors_directed(sn[s], Dir::Incoming)
            .map(|n| sg[n])
            .collect::<Vec<_>>()
    };
    // Rule 2: a service stops after everything that depends on it has stopped.
    let mut stopped: Vec<Option<NodeIndex>> = vec![None; runbook.services.len()];
    for &s in &order {
        let waits: Vec<NodeIndex> = dependents(s)
            .into_iter()
            .filter_map(|d| stopped[d])
            .collect();
        stopped[s] = match (
            first_of[s][Phase::Stop.index()],
            last_of[s][Phase::Stop.index()],
        ) {
            (Some(first), Some(last)) => {
                for &w in &waits {
                    g.add_edge(w, node(first), ());
                }
                Some(node(last))
            }
            _ if waits.is_empty() => None,
            _ => Some(gate(&mut g, Node::Stopped(s), &waits)),
        };
    }
    // Rules 3 and 4: a service comes up after its own stop and after its dependencies are up.
    let mut ready: Vec<Option<NodeIndex>> = vec![None; runbook.services.len()];
    for &s in order.iter().rev() {
        let waits: Vec<NodeIndex> = runbook.services[s]
            .depends_on
            .iter()
            .filter_map(|&d| ready[d])
            .collect();
        let first_up = first_of[s][Phase::Start.index()].or(first_of[s][Phase::Verify.index()]);
        if let Some(first) = first_up {
            for &w in &waits {
                g.add_edge(w, node(first), ());
            }
        }
        ready[s] = match work[s].last() {
            Some(&last) if first_up.is_some() || waits.is_empty() => Some(node(last)),
            Some(&last) => Some(gate(
                &mut g,
                Node::Ready(s),
                &[waits, vec![node(last)]].concat(),
            )),
            None if waits.is_empty() => None,
            None => Some(gate(&mut g, Node::Ready(s), &waits)),
        };
    }
    let mut plan = Plan {
        runbook,
        included: (0..runbook.services.len())
            .map(|i| included.get(i).copied().unwrap_or(true))
            .collect(),
        from: from.clone(),
        to: to.clone(),
        mode,
        steps,
        graph: g,
        skipped,
        waves: Vec::new(),
        critical_path: Vec::new(),
        services: Vec::new(),
        worst_case: Duration::ZERO,
    };
    analyse(&mut plan, &prechecks, &work);
    tracing::info!(
        steps = plan.steps.len(),
        nodes = plan.graph.node_count(),
        edges = plan.graph.edge_count(),
        waves = plan.waves.len(),
        worst_case = ?plan.worst_case,
        "plan built"
    );
    plan
}

fn gate(g: &mut DiGraph<Node, ()>, kind: Node, after: &[NodeIndex]) -> NodeIndex {
    let n = g.add_node(kind);
    for &a in after {
        g.add_edge(a, n, ());
    }
    n
}

/// Every node's finish when each step takes `weight(step)` (gates take no time), its
/// depth in steps, and the step indices of the longest path: back from the step that ends
/// last (the first of equals), each node reached through the predecessor it waited for
/// longest. `None` when the graph has a cycle (validation rejects those).
pub(super) struct Longest {
    pub finish: Vec<Duration>,
    pub depth: Vec<usize>,
    pub path: Vec<usize>,
}

pub(super) fn longest(plan: &Plan<'_>, weight: impl Fn(usize) -> Duration) -> Option<Longest> {
    let g = &plan.graph;
    let order = toposort(g, None).ok()?;
    let n = g.node_count();
    let mut depth = vec![0usize; n];
    let mut finish = vec![Duration::ZERO; n];
    let mut via: Vec<Option<NodeIndex>> = vec![None; n];
    for &v in &order {
        let mut d = 0;
        let mut start = Duration::ZERO;
        for p in g.neighbors_directed(v, Dir::Incoming) {
            d = d.max(depth[p.index()]);
            if via[v.index()].is_none() || finish[p.index()] > start {
                start = finish[p.index()];
                via[v.index()] = Some(p);
            }
        }
        let (extra, w) = match g[v] {
            Node::Step(i) => (1, weight(i)),
            _ => (0, Duration::ZERO),
        };
        depth[v.index()] = d + extra;
        finish[v.index()] = start.saturating_add(w);
    }
    let end_of = |i: usize| finish[plan.steps[i].node.index()];
    let mut path = Vec::new();
    if let Some(end) =
        (0..plan.steps.len()).max_by(|&a, &b| end_of(a).cmp(&end_of(b)).then(b.cmp(&a)))
    {
        let mut at = Some(plan.steps[end].node);
        while let Some(v) = at {
            if let Node::Step(i) = g[v] {
                path.push(i);
            }
            at = via[v.index()];
        }
        path.reverse();
    }
    Some(Longest {
        finish,
        depth,
        path,
    })
}

/// Waves, the critical path and worst cases, from the longest path by worst case.
fn analyse(plan: &mut Plan<'_>, prechecks: &[Vec<usize>], work: &[Vec<usize>]) {
    let Some(Longest {
        finish,
        depth,
        path,
    }) = longest(plan, |i| plan.steps[i].worst_case)
    else {
        return;
    };
    let waves = plan
        .steps
        .iter()
        .map(|s| depth[s.node.index()])
        .max()
        .unwrap_or(0);
    plan.waves = vec![Vec::new(); waves];
    for (i, s) in plan.steps.iter().enumerate() {
        plan.waves[depth[s.node.index()] - 1].push(i);
    }
    let end_of = |i: usize| finish[plan.steps[i].node.index()];
    plan.services = plan
        .runbook
        .services
        .iter()
        .enumerate()
        .map(|(si, svc)| {
            let verify_end = work[si]
                .iter()
                .rev()
                .find(|&&i| plan.steps[i].step.phase == Phase::Verify);
            let last = verify_end
                .or(work[si].last())
                .or(prechecks[si].last())
                .copied();
            ServiceTiming {
                recovery_step: last,
                worst_case: last.map_or(Duration::ZERO, end_of),
                target: svc.rto,
            }
        })
        .collect();
    plan.worst_case = plan
        .services
        .iter()
        .map(|s| s.worst_case)
        .max()
        .unwrap_or_default();
    plan.critical_path = path;
}
