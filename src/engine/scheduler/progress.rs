//! Where a pass stands on its step graph: which steps wait for what, which are ready,
//! which jobs run and hold a slot (`max_parallel`, each host's `max_sessions`, each
//! step's `serial`), which have ended. Pure bookkeeping: no events, no I/O, so every
//! scheduling rule can be tested on its own.

use std::collections::{HashMap, VecDeque};
use std::time::Instant;

use petgraph::Direction as Dir;
use petgraph::graph::NodeIndex;
use time::OffsetDateTime;

use crate::engine::job::Job;
use crate::engine::stopwatch::Stopwatch;
use crate::plan::{Node, Plan};

pub(super) struct Progress {
    /// Per graph node: how many of its predecessors have not finished.
    waiting: Vec<usize>,
    /// Steps whose predecessors have all finished and that have jobs left to start.
    ready: VecDeque<usize>,
    /// Per step: its jobs to run (those not carried over as done).
    step_jobs: Vec<Vec<usize>>,
    /// Per step: how many of its jobs have started, are running, have ended.
    next: Vec<usize>,
    running: Vec<usize>,
    done: Vec<usize>,
    /// Per step: one of its jobs failed (and was not let go by `continue_on_error`).
    pub(super) failed: Vec<bool>,
    host_busy: HashMap<usize, usize>,
    total_running: usize,
    /// Per step: when the last of its jobs to end ended, as the work says (not when the
    /// pass got to it).
    last_end: Vec<Option<Instant>>,
    /// Per job: when it started (wall clock and monotonic), once it has.
    pub(super) started: Vec<Option<(OffsetDateTime, Instant)>>,
    pub(super) ended: Vec<bool>,
    /// Per graph node: what waited for it has been told.
    released: Vec<bool>,
    /// Per origin (a site's runbook): it starts no new job, and nothing waits for it.
    cut: Vec<bool>,
}

impl Progress {
    /// Nothing started; the jobs `done` says are done count as ended.
    pub(super) fn new(plan: &Plan<'_>, jobs: &[Job], done: impl Fn(&Job) -> bool) -> Progress {
        let g = &plan.graph;
        let steps = plan.steps.len();
        let mut p = Progress {
            waiting: g
                .node_indices()
                .map(|n| g.neighbors_directed(n, Dir::Incoming).count())
                .collect(),
            ready: VecDeque::new(),
            step_jobs: vec![Vec::new(); steps],
            next: vec![0; steps],
            running: vec![0; steps],
            done: vec![0; steps],
            failed: vec![false; steps],
            host_busy: HashMap::new(),
            total_running: 0,
            last_end: vec![None; steps],
            started: vec![None; jobs.len()],
            ended: vec![false; jobs.len()],
            released: vec![false; g.node_count()],
            cut: vec![false; plan.runbook.origins.len()],
        };
        for (j, job) in jobs.iter().enumerate() {
            if done(job) {
                p.ended[j] = true;
            } else {
                p.step_jobs[job.step].push(j);
            }
        }
        let roots: Vec<NodeIndex> = g
            .node_indices()
            .filter(|n| p.waiting[n.index()] == 0)
            .collect();
        for n in roots {
            p.reached(plan, n);
        }
        p
    }

    pub(super) fn running(&self) -> usize {
        self.total_running
    }

    /// A node whose dependencies are all met: a step becomes ready (or, with nothing
    /// left to run, is done at once), a gate passes at once.
    fn reached(&mut self, plan: &Plan<'_>, node: NodeIndex) {
        match plan.graph[node] {
            Node::Step(i) if !self.step_jobs[i].is_empty() && !self.is_cut(plan, i) => {
                self.ready.push_back(i);
            }
            _ => self.release(plan, node),
        }
    }

    /// `node` is done (or cut): whatever waited only for it is reached.
    fn release(&mut self, plan: &Plan<'_>, node: NodeIndex) {
        if std::mem::replace(&mut self.released[node.index()], true) {
            return;
        }
        for next in plan.graph.neighbors_directed(node, Dir::Outgoing) {
            self.waiting[next.index()] -= 1;
            if self.waiting[next.index()] == 0 {
                self.reached(plan, next);
            }
        }
    }

    /// Once every job of `step` has ended and none failed, what waited for it goes on;
    /// for a step of a cut runbook, once none of its jobs runs.
    pub(super) fn complete_if_done(&mut self, plan: &Plan<'_>, step: usize) {
        let done = self.done[step] == self.step_jobs[step].len() && !self.failed[step];
        if done || (self.is_cut(plan, step) && self.running[step] == 0) {
            self.release(plan, plan.steps[step].node);
        }
    }

    /// Whether `step` belongs to a cut runbook.
    pub(super) fn is_cut(&self, plan: &Plan<'_>, step: usize) -> bool {
        self.cut[plan.runbook.services[plan.steps[step].service].origin]
    }

    /// The runbooks (origins) `cut` says start no new job: their steps leave the ready
    /// queue, and every one of their steps that is reached and has no job running
    /// releases what waited for it (so do the rest, as they are reached or their
    /// running jobs end). Steps of other runbooks that waited only for theirs go on:
    /// a failed runbook no longer holds back the ones that do not depend on it.
    pub(super) fn cut(&mut self, plan: &Plan<'_>, cut: &[bool]) {
        for (mine, &c) in self.cut.iter_mut().zip(cut) {
            *mine |= c;
        }
        let ready = std::mem::take(&mut self.ready);
        self.ready = ready
            .into_iter()
            .filter(|&s| !self.is_cut(plan, s))
            .collect();
        for step in 0..plan.steps.len() {
            let node = plan.steps[step].node;
            if self.is_cut(plan, step) && self.waiting[node.index()] == 0 && self.running[step] == 0
            {
                self.release(plan, node);
            }
        }
    }

    /// Whether every job of `step` has ended.
    pub(super) fn all_ended(&self, step: usize) -> bool {
        self.step_jobs[step].iter().all(|&k| self.ended[k])
    }

    /// Takes every job that may start now, within the limits, and marks it started. In a
    /// site, the steps of lower tiers go first when the limits leave room for only some.
    pub(super) fn take_ready(
        &mut self,
        plan: &Plan<'_>,
        jobs: &[Job],
        max_parallel: usize,
        clock: &Stopwatch,
    ) -> Vec<usize> {
        let rb = plan.runbook;
        let inv = &rb.inventory;
        if rb.site {
            self.ready
                .make_contiguous()
                .sort_by_key(|&s| rb.origin(plan.steps[s].service).tier);
        }
        let mut still = VecDeque::new();
        let mut started = Vec::new();
        while let Some(step) = self.ready.pop_front() {
            let serial = plan.steps[step]
                .step
                .serial
                .map_or(usize::MAX, |s| s as usize);
            while self.next[step] < self.step_jobs[step].len()
                && self.total_running < max_parallel
                && self.running[step] < serial
            {
                let j = self.step_jobs[step][self.next[step]];
                if let Some(h) = jobs[j].host {
                    let busy = self.host_busy.entry(h).or_default();
                    if *busy >= inv.hosts[h].ssh.max_sessions as usize {
                        break;
                    }
                    *busy += 1;
                }
                self.next[step] += 1;
                self.running[step] += 1;
                self.total_running += 1;
                self.started[j] = Some((clock.now(), Instant::now()));
                started.push(j);
            }
            if self.next[step] < self.step_jobs[step].len() {
                still.push_back(step);
            }
        }
        self.ready = still;
        started
    }

    /// When the last job of `step` to end ended.
    /// When the first of `step`'s jobs started, if any has.
    pub(super) fn first_start(&self, step: usize) -> Option<Instant> {
        self.step_jobs[step]
            .iter()
            .filter_map(|&k| self.started[k].map(|(_, t)| t))
            .min()
    }

    pub(super) fn last_end(&self, step: usize) -> Option<Instant> {
        self.last_end[step]
    }

    /// Job `j`'s work ended `at`: its slots are free. `false` if it had ended already.
    pub(super) fn end(&mut self, jobs: &[Job], j: usize, at: Instant) -> bool {
        if self.ended[j] {
            return false;
        }
        self.ended[j] = true;
        let step = jobs[j].step;
        self.last_end[step] = self.last_end[step].max(Some(at));
        self.running[step] -= 1;
        self.total_running -= 1;
        self.done[step] += 1;
        if let Some(h) = jobs[j].host
            && let Some(b) = self.host_busy.get_mut(&h)
        {
            *b -= 1;
        }
        true
    }
}
