//! RTO at risk (SPEC §10): while a live run goes on, each unrecovered service's recovery
//! is projected (`plan::predict::project`) on every turn of the loop and at least once a
//! second; the first time a projection exceeds its target, an `rto_at_risk` event says
//! so, once per service and once per runbook. It changes nothing in the run.

use std::time::{Duration, Instant};

use crate::engine::event::Event;
use crate::engine::executor::Executor;
use crate::engine::stopwatch::secs;
use crate::plan::predict::{Standing, project};

use super::dispatcher::Dispatcher;

/// How often a projection is made again while nothing else happens.
const EVERY: Duration = Duration::from_secs(1);

/// Per service and per origin: whether its `rto_at_risk` has been said.
#[derive(Default)]
pub(super) struct Risk {
    services: Vec<bool>,
    origins: Vec<bool>,
    pub(super) due: Option<tokio::time::Instant>,
}

impl<E: Executor> Dispatcher<'_, '_, E> {
    /// Projects again, says what newly went past its target, and sets the next turn.
    pub(super) fn rto_watch(&mut self) {
        self.risk.due = None;
        let expected = &self.settings.expected;
        if self.times_nothing || self.stop.is_some() || expected.len() != self.plan.steps.len() {
            return;
        }
        let rb = self.plan.runbook;
        if self.risk.services.is_empty() {
            self.risk.services = vec![false; rb.services.len()];
            self.risk.origins = vec![false; rb.origins.len()];
        }
        let now = Instant::now();
        let standing: Vec<Standing> = (0..self.plan.steps.len())
            .map(|i| match self.progress.first_start(i) {
                _ if self.progress.all_ended(i) => Standing::Ended,
                Some(t) => Standing::Running(now.saturating_duration_since(t)),
                None => Standing::Waiting,
            })
            .collect();
        let clock = self.settings.clock.since_origin_at(now);
        let at = clock.saturating_sub(self.human_wait);
        let Some(p) = project(self.plan, expected, &standing, &self.recovered, at) else {
            return;
        };
        let mut said = Vec::new();
        for (s, svc) in rb.services.iter().enumerate() {
            if let (Some(target), Some(projected), None, false) = (
                svc.rto,
                p.services[s],
                self.recovered[s],
                self.risk.services[s],
            ) && projected > target
            {
                self.risk.services[s] = true;
                said.push((svc.origin, Some(svc.name.to_string()), projected, target));
            }
        }
        for (o, origin) in rb.origins.iter().enumerate() {
            let open = rb
                .services
                .iter()
                .zip(&self.recovered)
                .any(|(s, r)| s.origin == o && r.is_none());
            if open && !self.risk.origins[o] && p.origins[o] > origin.rto {
                self.risk.origins[o] = true;
                said.push((o, None, p.origins[o], origin.rto));
            }
        }
        for (o, service, projected, target) in said {
            let because = self.because(o, &standing);
            self.sink.emit(Event::RtoAtRisk {
                runbook: rb.origins[o].name.to_string(),
                service,
                projected_s: secs(projected),
                target_s: secs(target),
                at_s: secs(at),
                because,
            });
            self.sink.flush();
        }
        let watching = rb.services.iter().enumerate().any(|(s, svc)| {
            svc.rto.is_some() && self.recovered[s].is_none() && !self.risk.services[s]
        }) || self.risk.origins.iter().any(|said| !said);
        if watching {
            self.risk.due = Some(tokio::time::Instant::now() + EVERY);
        }
    }

    /// The step of origin `o` running longest, or else none running.
    fn because(&self, o: usize, standing: &[Standing]) -> String {
        let rb = self.plan.runbook;
        let longest = standing
            .iter()
            .enumerate()
            .filter(|&(i, _)| rb.services[self.plan.steps[i].service].origin == o)
            .filter_map(|(i, s)| match s {
                Standing::Running(ran) => Some((*ran, i)),
                _ => None,
            })
            .max();
        match longest {
            Some((ran, i)) => format!(
                "step {} running {}",
                self.plan.steps[i].id,
                crate::config::duration::format(Duration::from_secs(ran.as_secs()))
            ),
            None => "the steps still to run".to_string(),
        }
    }
}
