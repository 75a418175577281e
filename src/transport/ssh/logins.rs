//! How many SSH logins are under way at once, over every host of the process.
//!
//! A login (TCP connect, key exchange, host key, authentication) is CPU work on both
//! ends, and its time is bounded by `connect_timeout`. Started all at once on a large
//! fleet, logins queue for the controller's cores instead of the network, and some
//! outlast the timeout although nothing is wrong with their host: at 1,000 hosts on two
//! cores, a run saw "SSH handshake failed: API timeout expired" 14 s in (BENCHMARKS.md).
//! So at most [`limit`] logins run at once, and the wait for a turn does not count
//! against a host's `connect_timeout`: the clock starts when its login does.

use std::sync::{Condvar, Mutex, PoisonError};

/// Logins at once: 32 per core, at least 64 — enough that a fleet reached over a
/// network (where a login mostly waits on round trips) is not slowed, few enough that
/// the cores can finish each well within a timeout.
pub fn limit() -> usize {
    let cores = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
    (32 * cores).max(64)
}

/// A counting gate: [`Gate::enter`] waits for a turn, the returned [`Turn`] gives it
/// back when dropped.
pub struct Gate {
    limit: usize,
    inside: Mutex<usize>,
    left: Condvar,
}

impl Gate {
    pub const fn new(limit: usize) -> Gate {
        Gate {
            limit,
            inside: Mutex::new(0),
            left: Condvar::new(),
        }
    }

    pub fn enter(&self) -> Turn<'_> {
        let mut inside = self.inside.lock().unwrap_or_else(PoisonError::into_inner);
        while *inside >= self.limit {
            inside = self
                .left
                .wait(inside)
                .unwrap_or_else(PoisonError::into_inner);
        }
        *inside += 1;
        Turn { gate: self }
    }
}

/// One login's turn.
pub struct Turn<'g> {
    gate: &'g Gate,
}

impl Drop for Turn<'_> {
    fn drop(&mut self) {
        let mut inside = self
            .gate
            .inside
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        *inside -= 1;
        drop(inside);
        self.gate.left.notify_one();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    #[test]
    fn no_more_than_the_limit_are_inside_at_once() {
        let gate = Arc::new(Gate::new(3));
        let (now, most) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let threads: Vec<_> = (0..12)
            .map(|_| {
                let (gate, now, most) = (gate.clone(), now.clone(), most.clone());
                std::thread::spawn(move || {
                    let _turn = gate.enter();
                    let n = now.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(n, Ordering::SeqCst);
                    std::thread::sleep(Duration::from_millis(10));
                    now.fetch_sub(1, Ordering::SeqCst);
                })
            })
            .collect();
        for t in threads {
            t.join().expect("thread");
        }
        assert_eq!(most.load(Ordering::SeqCst), 3);
    }

    #[test]
    fn the_limit_scales_with_the_cores_and_has_a_floor() {
        assert!(limit() >= 64);
    }
}
