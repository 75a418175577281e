//! Ctrl-C and SIGTERM: the grace period, stopping running jobs, and giving up on them.

use crate::engine::event::Event;
use crate::engine::executor::Executor;

use super::dispatcher::{Dispatcher, Ending};
use super::types::{Stop, failure};

const UNANSWERED: &str = "the run was interrupted before anyone answered";

impl<E: Executor> Dispatcher<'_, '_, E> {
    /// The first Ctrl-C or SIGTERM: no new step starts; running ones get a grace period.
    pub(super) fn interrupt(&mut self, what: &str) {
        self.interrupted = true;
        self.stop = Some(Stop::Interrupted);
        self.cancel_questions(UNANSWERED);
        let grace = self.settings.grace;
        self.sink.emit(Event::Notice {
            message: format!(
                "{what}: no new step starts; running steps get {} to finish, then they are stopped (Ctrl-C again stops at once)",
                crate::config::duration::format(grace)
            ),
        });
        self.grace_ends = Some(tokio::time::Instant::now() + grace);
    }

    /// Tells every running job to stop now (their commands are killed, locally or on
    /// the remote host); they end as failed and the loop records them as they come back.
    pub(super) fn stop_running(&mut self, why: &str) {
        self.grace_ends = None;
        self.stop = Some(Stop::Interrupted);
        self.cancel_questions(UNANSWERED);
        self.sink.emit(Event::Notice {
            message: format!(
                "{why}: stopping the {} running step(s) now",
                self.progress.running()
            ),
        });
        self.cancel.set();
    }

    /// Gives up on jobs that were told to stop and have not ended: each is recorded as
    /// failed. Their commands were told to stop; this only stops waiting for them.
    pub(super) fn abandon(&mut self) {
        self.running.abort_all();
        for j in 0..self.jobs.len() {
            if self.progress.started[j].is_some() && !self.progress.ended[j] {
                let f = failure(format!(
                    "{}: stopped by switchyard; its end was not awaited (Ctrl-C a third time)",
                    self.jobs[j].place()
                ));
                self.end(j, f, Ending::GivenUp);
            }
        }
    }
}
