//! Where the pass waits for a person: manual steps and paused failures — asking,
//! answering by policy when nobody can, and carrying out the answer.

use std::sync::Arc;
use std::time::Instant;

use tokio::sync::mpsc;

use crate::config::model::OnFailure;
use crate::engine::event::{Event, StepStatus};
use crate::engine::executor::{AttemptReport, Executor, Finished};
use crate::engine::job::Job;
use crate::engine::operator::{self, Answer, Choice, Kind};
use crate::engine::sink::Sink;
use crate::engine::stopwatch::timestamp;
use crate::plan::Plan;

use super::pass::{Carry, Settings, Stop};
use super::running::Running;
use super::state::{
    Pending, State, complete_if_done, failure, finish_job, on, record, secs, stop_to_roll_back,
};

/// Questions nobody will answer now: their jobs end as failed.
pub(super) fn cancel_questions(
    jobs: &[Job],
    st: &mut State,
    why: &str,
    settings: &Settings,
    emit: &mut dyn Sink,
) {
    let open = st.open.take().map(|(p, _)| p);
    for p in open.into_iter().chain(std::mem::take(&mut st.questions)) {
        let f = p.failure.unwrap_or_else(|| failure(why.to_string()));
        record(jobs, st, p.job, f, settings, false, emit);
    }
    st.paused = false;
}

/// Opens a question: the display shows it, the operator (or the policy) answers.
pub(super) fn ask(
    jobs: &[Job],
    st: &mut State,
    p: Pending,
    settings: &Settings,
    someone_there: bool,
    emit: &mut dyn Sink,
) {
    let job = &jobs[p.job];
    let r = &settings.redactor;
    let failure = p.failure.as_ref().map(|f| {
        (
            r.redact(f.message.as_deref().unwrap_or("failed")),
            crate::transport::excerpt(
                f.stdout.as_ref().map(|c| r.output(c)).as_deref(),
                f.stderr.as_ref().map(|c| r.output(c)).as_deref(),
            ),
        )
    });
    let text = operator::text(
        p.kind,
        job,
        failure.as_ref().map(|(m, x)| (m.as_str(), x.as_deref())),
    );
    if someone_there {
        emit.emit(Event::Question {
            step: job.id.clone(),
            host: job.host_name.clone(),
            kind: p.kind,
            text,
            choices: p.kind.choices().to_vec(),
        });
    }
    st.open_deadline = match (&job.work, p.kind) {
        (crate::engine::job::Work::Manual { limit: Some(l), .. }, Kind::Manual) => {
            Some(tokio::time::Instant::now() + *l)
        }
        _ => None,
    };
    st.open = Some((p, Instant::now()));
}

/// A manual step's `timeout` passed without an answer: it fails, and `on_failure`
/// decides what follows, as after any failed step.
pub(super) fn expire(jobs: &[Job], st: &mut State) -> Option<(usize, Finished)> {
    let (p, asked) = st.open.take()?;
    st.open_deadline = None;
    st.human_wait += asked.elapsed();
    let job = &jobs[p.job];
    let limit = match &job.work {
        crate::engine::job::Work::Manual { limit: Some(l), .. } => *l,
        _ => asked.elapsed(),
    };
    Some((
        p.job,
        failure(format!(
            "step {}{}: nobody confirmed it within {} (its timeout)",
            job.id,
            on(&job.host_name),
            crate::config::duration::format(limit)
        )),
    ))
}

/// Who answers when nobody can be asked.
pub(super) const POLICY: &str = "switchyard (nobody at a terminal, or --yes)";

/// The answer when nobody can be asked: `--yes` confirms manual steps; a pause aborts.
pub(super) fn by_policy(st: &State, settings: &Settings) -> (Answer, &'static str) {
    let manual = matches!(&st.open, Some((p, _)) if p.kind == Kind::Manual);
    let by = if manual && settings.assume_yes {
        "--yes"
    } else {
        POLICY
    };
    let answer = match (manual, settings.assume_yes) {
        (true, true) => Answer {
            choice: Choice::Done,
            comment: Some("confirmed automatically by --yes".into()),
        },
        (true, false) => Answer {
            choice: Choice::Abort,
            comment: Some("a manual step needs an operator at a terminal (or --yes)".into()),
        },
        (false, _) => Answer {
            choice: Choice::Abort,
            comment: Some(
                "on_failure = \"pause\" with nobody at a terminal (or with --yes): abort".into(),
            ),
        },
    };
    (answer, by)
}

#[expect(
    clippy::too_many_arguments,
    reason = "the loop's state, passed explicitly rather than hidden in a struct of references"
)]
pub(super) fn resolve<E: Executor>(
    plan: &Plan<'_>,
    jobs: &[Job],
    st: &mut State,
    answer: Answer,
    by: &str,
    settings: &Settings,
    carry: &Carry,
    executor: &Arc<E>,
    tx: &mpsc::UnboundedSender<AttemptReport>,
    set: &mut Running,
    emit: &mut dyn Sink,
) {
    let Some((p, asked)) = st.open.take() else {
        return;
    };
    st.open_deadline = None;
    let waited = asked.elapsed();
    st.human_wait += waited;
    if p.kind == Kind::Manual {
        st.waits.insert(p.job, waited);
    }
    let job = &jobs[p.job];
    emit.emit(Event::Decision {
        step: job.id.clone(),
        host: job.host_name.clone(),
        choice: answer.choice,
        by: by.to_string(),
        at: timestamp(settings.clock.now()),
        comment: answer.comment.clone(),
        wait_s: secs(waited),
    });
    let note = answer
        .comment
        .as_ref()
        .map_or(String::new(), |c| format!(": {c}"));
    match (answer.choice, p.failure) {
        (Choice::Done, _) => {
            let f = Finished {
                status: StepStatus::Ok,
                attempts: 1,
                exit_code: None,
                message: Some(format!("confirmed by {by}{note}")),
                stdout: None,
                stderr: None,
            };
            finish_job(plan, jobs, st, p.job, f, settings, carry, emit);
        }
        (Choice::Retry, Some(_)) => {
            st.paused = false;
            let (ex, owned, tx, cancel) =
                (executor.clone(), job.clone(), tx.clone(), st.cancel.clone());
            let j = p.job;
            set.spawn(j, ex.execute(j, owned, tx, cancel));
        }
        (Choice::Skip, Some(mut f)) => {
            st.paused = false;
            // It failed, and a person chose to go on without it: skipped, not failed.
            f.status = StepStatus::Skipped;
            f.message = Some(format!(
                "{} — skipped by {by}{note}; the run went on",
                f.message.unwrap_or_default()
            ));
            record(jobs, st, p.job, f, settings, false, emit);
            complete_if_done(plan, st, job.step);
        }
        (choice, failure) => {
            st.paused = false;
            let f = failure.unwrap_or_else(|| {
                self::failure(format!(
                    "step {}{}: not confirmed ({} by {by}{note})",
                    job.id,
                    on(&job.host_name),
                    choice.as_str()
                ))
            });
            finish_job(plan, jobs, st, p.job, f, settings, carry, emit);
            // An abort nobody chose is the failure's own: the run `failed`.
            if choice == Choice::Rollback {
                st.stop = None;
                stop_to_roll_back(plan, st, emit);
            } else if by != POLICY {
                st.stop = Some(Stop::Aborted);
            }
        }
    }
}

/// A job came back (or a manual step expired): under `on_failure = "pause"` a failure
/// waits for a person; anything else is recorded.
#[expect(
    clippy::too_many_arguments,
    reason = "the loop's state, passed explicitly rather than hidden in a struct of references"
)]
pub(super) fn ended(
    plan: &Plan<'_>,
    jobs: &[Job],
    st: &mut State,
    j: usize,
    finished: Finished,
    settings: &Settings,
    carry: &Carry,
    emit: &mut dyn Sink,
) {
    let step = jobs[j].step;
    let pause = finished.status == StepStatus::Failed
        && !plan.steps[step].step.continue_on_error
        && plan.runbook.on_failure == OnFailure::Pause
        && st.stop.is_none();
    if pause {
        st.paused = true;
        st.questions.push_back(Pending {
            job: j,
            kind: Kind::Failed,
            failure: Some(finished),
        });
    } else {
        finish_job(plan, jobs, st, j, finished, settings, carry, emit);
    }
}
