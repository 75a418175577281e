//! Ctrl-C and SIGTERM: the grace period, stopping running jobs, and giving up on them.

use crate::engine::event::Event;
use crate::engine::job::Job;
use crate::engine::sink::Sink;

use super::pass::{Settings, Stop};
use super::people::cancel_questions;
use super::running::Running;
use super::state::{State, failure, on, record};

/// The first Ctrl-C or SIGTERM: no new step starts; running ones get a grace period.
pub(super) fn interrupt(
    jobs: &[Job],
    st: &mut State,
    what: &str,
    settings: &Settings,
    emit: &mut dyn Sink,
) -> tokio::time::Instant {
    st.stop = Some(Stop::Interrupted);
    cancel_questions(
        jobs,
        st,
        "the run was interrupted before anyone answered",
        settings,
        emit,
    );
    emit.emit(Event::Notice {
        message: format!(
            "{what}: no new step starts; running steps get {} to finish, then they are stopped (Ctrl-C again stops at once)",
            crate::config::duration::format(settings.grace)
        ),
    });
    tokio::time::Instant::now() + settings.grace
}

/// Tells every running job to stop now (their commands are killed, locally or on the
/// remote host); they end as failed and the loop records them as they come back.
pub(super) fn stop_running(
    jobs: &[Job],
    st: &mut State,
    why: &str,
    settings: &Settings,
    emit: &mut dyn Sink,
) {
    st.stop = Some(Stop::Interrupted);
    cancel_questions(
        jobs,
        st,
        "the run was interrupted before anyone answered",
        settings,
        emit,
    );
    emit.emit(Event::Notice {
        message: format!(
            "{why}: stopping the {} running step(s) now",
            st.total_running
        ),
    });
    st.cancel.set();
}

/// Gives up on jobs that were told to stop and have not ended: each is recorded as
/// failed. Their commands were told to stop; this only stops waiting for them.
pub(super) fn abandon(
    jobs: &[Job],
    st: &mut State,
    set: &mut Running,
    settings: &Settings,
    emit: &mut dyn Sink,
) {
    set.abort_all();
    for j in 0..jobs.len() {
        if st.started[j].is_some() && !st.ended[j] {
            let f = failure(format!(
                "step {}{}: stopped by switchyard; its end was not awaited (Ctrl-C a third time)",
                jobs[j].id,
                on(&jobs[j].host_name)
            ));
            record(jobs, st, j, f, settings, false, emit);
        }
    }
}
