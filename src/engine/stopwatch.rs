//! Wall-clock timestamps for the evidence, monotonic time for every duration.
//!
//! The RTO clock's origin is when the run started, or an earlier `--incident-start`
//! (an incident that began before anyone ran switchyard). Durations are measured on the
//! monotonic clock from a fixed point, so a wall-clock jump (NTP, a daylight-saving
//! mistake) during a switchover cannot shorten or lengthen a recovery time.

use std::time::{Duration, Instant};

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

#[derive(Clone, Copy, Debug)]
pub struct Stopwatch {
    /// When the RTO clock started (wall clock).
    pub origin: OffsetDateTime,
    /// When this run started (wall clock).
    pub started: OffsetDateTime,
    started_instant: Instant,
    /// How long before `started` the origin lies.
    lead: Duration,
}

impl Stopwatch {
    /// Starts now; the RTO clock starts at `origin` if given. The caller makes sure it
    /// is not in the future; a clock that stepped back since counts from now.
    pub fn start(origin: Option<OffsetDateTime>) -> Stopwatch {
        let started = OffsetDateTime::now_utc();
        let origin = origin.map_or(started, |o| o.min(started));
        Stopwatch {
            origin,
            started,
            started_instant: Instant::now(),
            lead: (started - origin).try_into().unwrap_or_default(),
        }
    }

    /// Time since the RTO clock's origin, on the monotonic clock.
    pub fn since_origin(&self) -> Duration {
        self.lead + self.started_instant.elapsed()
    }

    /// Time from the RTO clock's origin to the monotonic instant `t` (taken after start).
    pub fn since_origin_at(&self, t: Instant) -> Duration {
        self.lead + t.saturating_duration_since(self.started_instant)
    }

    /// A wall-clock timestamp for now, derived from the monotonic clock.
    pub fn now(&self) -> OffsetDateTime {
        self.started + self.started_instant.elapsed()
    }

    /// The wall-clock timestamp of the monotonic instant `t` (taken after start).
    pub fn wall_at(&self, t: Instant) -> OffsetDateTime {
        self.started + t.saturating_duration_since(self.started_instant)
    }
}

pub use crate::config::duration::secs;

/// `2026-11-27T10:00:00.000Z`, as the evidence writes times.
pub fn timestamp(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    let ms = t.millisecond();
    let t = t.replace_nanosecond(0).unwrap_or(t);
    let base = t.format(&Rfc3339).unwrap_or_default();
    format!("{}.{ms:03}Z", base.trim_end_matches('Z'))
}

/// Parses `--incident-start`.
pub fn parse_timestamp(s: &str) -> Result<OffsetDateTime, String> {
    OffsetDateTime::parse(s, &Rfc3339)
        .map_err(|e| format!("`{s}` is not an RFC 3339 time like 2026-11-27T03:12:00Z: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_incident_start_moves_the_origin_back() {
        let origin = OffsetDateTime::now_utc() - Duration::from_secs(600);
        let sw = Stopwatch::start(Some(origin));
        assert!(sw.since_origin() >= Duration::from_secs(600));
        assert!(sw.since_origin() < Duration::from_secs(601));
    }

    #[test]
    fn timestamps_have_milliseconds_and_z() {
        let t = parse_timestamp("2026-11-27T10:00:00.5+01:00").expect("valid");
        assert_eq!(timestamp(t), "2026-11-27T09:00:00.500Z");
    }
}
