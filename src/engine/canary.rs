//! The measured RPO (SPEC §8): what a service's canary does, made concrete for one run,
//! and the pure arithmetic of what was lost. The dispatcher
//! (`scheduler/canary.rs`) decides when a write or the read happens and records each;
//! the commands themselves run here, in tasks that report back over a channel.
//!
//! - A write is acknowledged when it exits 0 on every host of the service's canary in
//!   the source hall within the canary's `timeout`. Sequence numbers are 1, 2, 3, … and
//!   the writer stops at the first write that fails, so the acknowledged writes are
//!   always `1..=last_ack_seq`.
//! - The read runs once on the canary's hosts in the target hall; each prints an
//!   integer (trimmed) and the highest is `read_seq`.

use std::time::{Duration, Instant};

use tokio::sync::mpsc::UnboundedSender;

use crate::config::inventory::HostIdx;
use crate::plan::Plan;
use crate::plan::bindings::{self, Bindings};
use crate::transport::{Cancel, Command, Request, Transports};

use super::event::Rpo;
use super::secrets::Values;

/// One host's command of a canary.
#[derive(Clone)]
pub struct Shot {
    pub host: String,
    pub request: Command,
}

/// A service's canary for one run: its commands rendered for each host (a write's
/// `{{canary.seq}}` still to be numbered).
#[derive(Clone)]
pub struct Prepared {
    /// Index into the runbook's services.
    pub service: usize,
    pub name: String,
    pub writes: Vec<Shot>,
    pub reads: Vec<Shot>,
    /// The commands as people see them: secrets redacted, `{{canary.seq}}` as written.
    pub write_does: String,
    pub read_does: String,
    pub interval: Duration,
    pub timeout: Duration,
    pub target: Option<Duration>,
}

/// The canaries of the services `plan` includes, for a run named `run_id`.
pub fn prepare(
    plan: &Plan<'_>,
    transports: &Transports,
    secrets: &Values,
    run_id: Option<&str>,
) -> Vec<Prepared> {
    let rb = plan.runbook;
    let mut out = Vec::new();
    for (si, svc) in rb.services.iter().enumerate() {
        let Some(c) = &svc.canary else { continue };
        if !plan.included.get(si).copied().unwrap_or(false) {
            continue;
        }
        let own = &secrets[svc.origin];
        let bind = |host: Option<HostIdx>, secrets| Bindings::of(plan, si, host, secrets, run_id);
        let in_hall = |hall: &str| -> Vec<HostIdx> {
            c.hosts
                .iter()
                .copied()
                .filter(|&h| rb.inventory.hosts[h].hall.as_str() == hall)
                .collect()
        };
        let shots = |t: &crate::config::template::Template, hosts: &[HostIdx]| -> Vec<Shot> {
            hosts
                .iter()
                .map(|&h| Shot {
                    host: rb.inventory.hosts[h].name.to_string(),
                    request: Command {
                        target: transports.target(rb, Some(h)),
                        line: t.render(&bind(Some(h), Some(own)), true),
                    },
                })
                .collect()
        };
        let (from, to) = (in_hall(plan.from.as_str()), in_hall(plan.to.as_str()));
        let shown = |t: &crate::config::template::Template, hosts: &[HostIdx]| {
            bindings::shown(&t.render(&bind(hosts.first().copied(), None), true))
        };
        out.push(Prepared {
            service: si,
            name: svc.name.to_string(),
            writes: shots(&c.write, &from),
            reads: shots(&c.read, &to),
            write_does: shown(&c.write, &from),
            read_does: shown(&c.read, &to),
            interval: c.interval,
            timeout: c.timeout,
            target: svc.rpo,
        });
    }
    out
}

/// What a canary task came back with.
#[derive(Debug)]
pub enum Report {
    Wrote {
        /// Index into the pass's canaries.
        canary: usize,
        seq: u64,
        /// `Err`: why the write was not acknowledged, naming the host.
        result: Result<(), String>,
        ended: Instant,
    },
    Read {
        canary: usize,
        /// The highest sequence number printed, or why there is none.
        result: Result<u64, String>,
    },
}

/// Writes `seq` on every host of `p` at once and reports whether all acknowledged it.
pub async fn write(
    p: &Prepared,
    canary: usize,
    seq: u64,
    cancel: Cancel,
    tx: UnboundedSender<Report>,
) {
    let mut set = tokio::task::JoinSet::new();
    for shot in &p.writes {
        let shot = Shot {
            host: shot.host.clone(),
            request: Command {
                target: shot.request.target.clone(),
                line: bindings::number(&shot.request.line, seq),
            },
        };
        let (timeout, cancel) = (p.timeout, cancel.clone());
        set.spawn(async move { run(&shot, timeout, &cancel).await.map(|_| ()) });
    }
    let mut result = if p.writes.is_empty() {
        Err("the canary has no host in the source hall".to_string())
    } else {
        Ok(())
    };
    while let Some(r) = set.join_next().await {
        let r = r.unwrap_or_else(|e| Err(format!("the write task failed: {e}")));
        if result.is_ok() {
            result = r;
        }
    }
    let _ = tx.send(Report::Wrote {
        canary,
        seq,
        result,
        ended: Instant::now(),
    });
}

/// Reads on every target host of `p`; the highest integer printed, or why there is none.
pub async fn read(p: &Prepared, canary: usize, cancel: Cancel, tx: UnboundedSender<Report>) {
    let mut result: Option<Result<u64, String>> = None;
    for shot in &p.reads {
        let r = run(shot, p.timeout, &cancel).await.and_then(|out| {
            let text = out.trim();
            text.parse::<u64>().map_err(|_| {
                format!(
                    "canary read on {}: printed {:?}, not a sequence number",
                    shot.host,
                    text.chars().take(80).collect::<String>()
                )
            })
        });
        // Any host that cannot say leaves the highest unknown.
        result = Some(match (result, r) {
            (Some(Err(e)), _) | (_, Err(e)) => Err(e),
            (Some(Ok(m)), Ok(n)) => Ok(m.max(n)),
            (None, Ok(n)) => Ok(n),
        });
    }
    let result =
        result.unwrap_or_else(|| Err("the canary has no host in the target hall".to_string()));
    let _ = tx.send(Report::Read { canary, result });
}

/// One command on one host: its stdout when it exited 0 within `timeout`.
async fn run(shot: &Shot, timeout: Duration, cancel: &Cancel) -> Result<String, String> {
    let out = shot
        .request
        .perform(timeout, cancel)
        .await
        .map_err(|e| format!("{}: {e}", shot.host))?;
    if out.timed_out {
        return Err(format!(
            "{}: timed out after {} and was stopped",
            shot.host,
            crate::config::duration::format(timeout)
        ));
    }
    match out.exit_code {
        Some(0) => Ok(out.stdout.text()),
        Some(c) => Err(format!("{}: exited with {c}, expected 0", shot.host)),
        None => Err(format!(
            "{}: ended without an exit status (killed, or the connection was lost)",
            shot.host
        )),
    }
}

/// An acknowledged write: its sequence number, when (timestamp), and when in seconds
/// since the RTO clock's origin.
#[derive(Clone, Debug, PartialEq)]
pub struct Ack {
    pub seq: u64,
    pub at: String,
    pub at_s: f64,
}

impl Ack {
    /// The service and acknowledged write a journal's `canary_written` records.
    pub fn written(event: &crate::engine::event::Event) -> Option<(&str, Ack)> {
        match event {
            crate::engine::event::Event::CanaryWritten {
                service,
                canary_seq,
                at,
                at_s,
                ..
            } => Some((
                service.as_str(),
                Ack {
                    seq: *canary_seq,
                    at: at.clone(),
                    at_s: *at_s,
                },
            )),
            _ => None,
        }
    }
}

/// What was lost: the acknowledged writes above `read_seq` (none known when the read
/// failed), and the time from the first lost write's acknowledgement to the last one's.
/// `met` is `lost_s <= target`, except that any lost write misses a target of zero; an
/// unknown read meets nothing.
pub fn measure(acks: &[Ack], read_seq: Option<u64>, target: Option<Duration>) -> Rpo {
    let last = acks.last();
    let lost: Vec<&Ack> = match read_seq {
        Some(r) => acks.iter().filter(|a| a.seq > r).collect(),
        None => Vec::new(),
    };
    let lost_s = match (lost.first(), last) {
        (Some(first), Some(last)) => ((last.at_s - first.at_s) * 1000.0).round() / 1000.0,
        _ => 0.0,
    };
    let target_s = target.map(crate::engine::stopwatch::secs);
    let met = read_seq.is_some()
        && match target_s {
            None => true,
            Some(0.0) => lost.is_empty(),
            Some(t) => lost_s <= t,
        };
    Rpo {
        target_s,
        last_ack_seq: last.map_or(0, |a| a.seq),
        last_ack_at: last.map(|a| a.at.clone()),
        read_seq,
        lost_writes: lost.len() as u64,
        lost_s,
        met,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn acks(times: &[f64]) -> Vec<Ack> {
        times
            .iter()
            .enumerate()
            .map(|(i, t)| Ack {
                seq: i as u64 + 1,
                at: format!("t{i}"),
                at_s: *t,
            })
            .collect()
    }

    #[test]
    fn canary_nothing_lost_meets_a_zero_target() {
        let r = measure(&acks(&[1.0, 2.0, 3.0]), Some(3), Some(Duration::ZERO));
        assert_eq!((r.lost_writes, r.lost_s, r.met), (0, 0.0, true));
        assert_eq!(r.last_ack_seq, 3);
        assert_eq!(r.last_ack_at.as_deref(), Some("t2"));
    }

    #[test]
    fn canary_lost_s_runs_from_the_first_lost_ack_to_the_last() {
        let a = acks(&[1.0, 2.0, 3.5, 4.5, 6.0]);
        let r = measure(&a, Some(2), Some(Duration::from_secs(3)));
        assert_eq!((r.lost_writes, r.lost_s, r.met), (3, 2.5, true));
        let r = measure(&a, Some(2), Some(Duration::from_secs(2)));
        assert!(!r.met);
        // One lost write: no time between acknowledgements, but a zero target is missed.
        let r = measure(&a, Some(4), Some(Duration::ZERO));
        assert_eq!((r.lost_writes, r.lost_s, r.met), (1, 0.0, false));
        let r = measure(&a, Some(4), Some(Duration::from_secs(1)));
        assert!(r.met);
    }

    #[test]
    fn canary_an_unknown_read_meets_nothing() {
        let r = measure(&acks(&[1.0]), None, Some(Duration::from_secs(60)));
        assert!(!r.met);
        assert_eq!(r.read_seq, None);
        assert_eq!(r.lost_writes, 0);
    }
}
