//! The measured RPO (SPEC §8) as every report shows it, beside the RTO: one row per
//! service with a canary. Runs without a canary show no RPO section at all.

use crate::engine::event::Rpo;
use crate::evidence::record::{Record, ServiceStatus};

use super::shared::secs;

/// One service's RPO, in words for a table.
pub(super) struct Row {
    pub service: String,
    pub target: String,
    pub last_ack: String,
    pub read: String,
    pub lost: String,
    pub lost_s: String,
    /// `met`, `MISSED`, `unknown` (nothing read back), or why it was not measured.
    pub result: String,
    pub missed: bool,
    /// Why a write or the read failed.
    pub messages: Vec<String>,
}

/// The rows; empty when no service has a canary.
pub(super) fn rows(r: &Record) -> Vec<Row> {
    r.services
        .iter()
        .filter_map(|s| Some((s, s.canary.as_ref()?)))
        .map(|(s, c)| {
            let rpo: Rpo = c.rpo();
            let planned = s.status == ServiceStatus::Planned;
            let (result, missed) = if planned {
                ("dry run: not measured".to_string(), false)
            } else if c.rpo.is_none() && s.status != ServiceStatus::Recovered {
                // Its RTO row already says so; the canary had nothing to read back.
                ("not measured: not recovered".to_string(), false)
            } else if c.rpo.is_none() {
                ("not measured (never read back)".to_string(), true)
            } else if rpo.read_seq.is_none() {
                ("unknown: the read failed".to_string(), true)
            } else if rpo.met {
                ("met".to_string(), false)
            } else {
                ("MISSED".to_string(), true)
            };
            let dash = |planned: bool, v: String| if planned { "—".to_string() } else { v };
            Row {
                service: s.name.clone(),
                target: rpo.target_s.map_or("—".into(), secs),
                last_ack: dash(
                    planned,
                    match &rpo.last_ack_at {
                        Some(at) => format!("{} at {at}", rpo.last_ack_seq),
                        None => "none".into(),
                    },
                ),
                read: dash(planned, rpo.read_seq.map_or("—".into(), |n| n.to_string())),
                lost: dash(planned, rpo.lost_writes.to_string()),
                lost_s: dash(planned, secs(rpo.lost_s)),
                result,
                missed,
                messages: c.messages.clone(),
            }
        })
        .collect()
}
