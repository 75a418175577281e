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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::canary::{Ack, measure};
    use crate::evidence::record::CanaryRecord;
    use crate::evidence::report::fixtures::site_record;

    fn acks(n: u64) -> Vec<Ack> {
        (1..=n)
            .map(|seq| Ack {
                seq,
                at: format!("t{seq}"),
                at_s: seq as f64,
            })
            .collect()
    }

    #[test]
    fn canary_rows_only_for_services_with_a_canary_and_a_miss_is_marked() {
        let mut r = site_record();
        assert!(rows(&r).is_empty(), "no canary, no RPO section");
        let recovered = r
            .services
            .iter()
            .position(|s| s.status == ServiceStatus::Recovered)
            .expect("a recovered service");
        let target = Some(std::time::Duration::ZERO);
        r.services[recovered].canary = Some(CanaryRecord {
            target_s: Some(0.0),
            acks: acks(5),
            rpo: Some(measure(&acks(5), Some(3), target)),
            ..CanaryRecord::default()
        });
        let all = rows(&r);
        assert_eq!(all.len(), 1);
        let row = &all[0];
        assert_eq!((row.lost.as_str(), row.read.as_str()), ("2", "3"));
        assert_eq!(row.last_ack, "5 at t5");
        assert!(row.missed && row.result == "MISSED");
        let md = crate::evidence::report::markdown::render(&r);
        assert!(
            md.contains("## RPO: data lost") && md.contains("**MISSED**"),
            "{md}"
        );
        let xml = crate::evidence::report::junit::render(&r);
        assert!(
            xml.contains("RPO MISSED: 2 acknowledged write(s) lost"),
            "{xml}"
        );
        // Nothing read back: unknown, and a miss.
        r.services[recovered].canary = Some(CanaryRecord {
            acks: acks(2),
            rpo: Some(measure(&acks(2), None, target)),
            ..CanaryRecord::default()
        });
        let row = &rows(&r)[0];
        assert!(row.missed && row.result.starts_with("unknown"));
    }
}
