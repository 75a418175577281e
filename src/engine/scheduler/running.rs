//! The jobs under way. Each task is known by the job it runs, so a task that ends
//! without a result — it panicked — is still a job that ended: it comes back as a failed
//! step with a message, never silently dropped from the run.

use std::collections::HashMap;
use std::future::Future;

use tokio::task::{Id, JoinSet};

use crate::engine::executor::Finished;

use super::types::failure;

#[derive(Default)]
pub(super) struct Running {
    set: JoinSet<Finished>,
    jobs: HashMap<Id, usize>,
}

impl Running {
    pub(super) fn spawn(
        &mut self,
        job: usize,
        work: impl Future<Output = Finished> + Send + 'static,
    ) {
        let handle = self.set.spawn(work);
        self.jobs.insert(handle.id(), job);
    }

    pub(super) fn is_empty(&self) -> bool {
        self.set.is_empty()
    }

    /// The next job to end, with how it ended; `None` when none is under way. `name`
    /// says which step on which host a job is, for the message of one that panicked.
    pub(super) async fn next(
        &mut self,
        name: impl Fn(usize) -> String,
    ) -> Option<(usize, Finished)> {
        loop {
            let (id, finished) = match self.set.join_next_with_id().await? {
                Ok(done) => done,
                Err(e) if e.is_panic() => {
                    let id = e.id();
                    let why = panic_message(e.into_panic());
                    let Some(job) = self.jobs.remove(&id) else {
                        continue;
                    };
                    let message = format!(
                        "{}: switchyard failed inside while running it ({why}); the step's result is unknown",
                        name(job)
                    );
                    tracing::error!("{message}");
                    return Some((job, failure(message)));
                }
                // Cancelled: only by `abort_all`, whose caller records the jobs itself.
                Err(e) => {
                    self.jobs.remove(&e.id());
                    continue;
                }
            };
            if let Some(job) = self.jobs.remove(&id) {
                return Some((job, finished));
            }
        }
    }

    /// Stops waiting for every job; they are not reported by [`Running::next`].
    pub(super) fn abort_all(&mut self) {
        self.set.abort_all();
        self.jobs.clear();
    }
}

fn panic_message(payload: Box<dyn std::any::Any + Send>) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "no message".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::event::StepStatus;

    fn ok() -> Finished {
        Finished {
            status: StepStatus::Ok,
            attempts: 1,
            exit_code: Some(0),
            message: None,
            stdout: None,
            stderr: None,
            ended: None,
        }
    }

    /// A job that panics, as one did on a deadline past the end of time.
    fn overflow() -> Finished {
        panic!("a deadline far past the end of time")
    }

    #[tokio::test]
    async fn a_job_that_panics_comes_back_as_a_failed_step_naming_it() {
        let mut running = Running::default();
        running.spawn(0, async { ok() });
        running.spawn(1, async { overflow() });
        let mut ended = Vec::new();
        while let Some(e) = running
            .next(|j| format!("step app.precheck.1 on host-{j}"))
            .await
        {
            ended.push(e);
        }
        ended.sort_by_key(|(j, _)| *j);
        assert_eq!(ended.len(), 2, "a panicking job was dropped");
        assert_eq!(ended[0].1.status, StepStatus::Ok);
        let (job, failed) = &ended[1];
        assert_eq!(*job, 1);
        assert_eq!(failed.status, StepStatus::Failed);
        let message = failed.message.as_deref().unwrap_or_default();
        assert!(
            message.starts_with("step app.precheck.1 on host-1: switchyard failed inside")
                && message.contains("a deadline far past the end of time"),
            "{message}"
        );
        assert!(running.is_empty());
    }
}
