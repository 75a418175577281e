//! How many SSH logins are under way at once, over every host of the process.
//!
//! A login (TCP connect, key exchange, host key, authentication) is CPU work on both
//! ends, and its time is bounded by `connect_timeout`. Started all at once on a large
//! fleet, logins queue for the controller's cores instead of the network, and some
//! outlast the timeout although nothing is wrong with their host: at 1,000 hosts on two
//! cores, a run saw "SSH handshake failed: API timeout expired" 14 s in (BENCHMARKS.md).
//! So at most [`limit`] logins run at once, and the wait for a turn does not count
//! against a host's `connect_timeout`: the clock starts when its login does.

use std::sync::OnceLock;

use tokio::sync::{Semaphore, SemaphorePermit};

/// Logins at once: 32 per core, at least 64 — enough that a fleet reached over a
/// network (where a login mostly waits on round trips) is not slowed, few enough that
/// the cores can finish each well within a timeout.
pub fn limit() -> usize {
    let cores = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
    (32 * cores).max(64)
}

/// Waits for a login's turn, first come first served; the turn is given back when the
/// returned permit is dropped. (`None` would mean the gate was closed, which it never is.)
pub async fn turn() -> Option<SemaphorePermit<'static>> {
    static LOGINS: OnceLock<Semaphore> = OnceLock::new();
    LOGINS
        .get_or_init(|| Semaphore::new(limit()))
        .acquire()
        .await
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limit_scales_with_the_cores_and_has_a_floor() {
        assert!(limit() >= 64);
    }
}
