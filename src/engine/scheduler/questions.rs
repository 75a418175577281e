//! Where the pass waits for a person: manual steps and paused failures — asking,
//! answering by policy when nobody can, and carrying out the answer.

use std::time::Instant;

use crate::engine::event::{Event, StepStatus};
use crate::engine::executor::{Executor, Finished};
use crate::engine::job::Work;
use crate::engine::operator::{self, Answer, AnswerFrom, Choice, Kind, Remote};
use crate::engine::stopwatch::{secs, timestamp};

use super::dispatcher::{Dispatcher, Ending};
use super::types::{Pending, failure};

/// Who answers when nobody can be asked.
const POLICY: &str = "switchyard (nobody at a terminal, or --yes)";

impl<E: Executor> Dispatcher<'_, '_, E> {
    /// Opens the next question, if none is open: the display shows it (when someone is
    /// there to answer), the operator or the policy answers.
    pub(super) fn open_next_question(&mut self, someone_there: bool) {
        if self.open.is_some() {
            return;
        }
        let Some(p) = self.questions.pop_front() else {
            return;
        };
        let work = p.breach.is_none().then(|| &self.jobs[p.job].work);
        let limit = match work {
            Some(Work::Manual { limit: Some(l), .. }) if p.kind == Kind::Manual => Some(*l),
            _ => None,
        };
        // `--yes` confirms a manual step even when questions wait for an answer.
        let by_yes = p.kind == Kind::Manual && p.breach.is_none() && self.settings.assume_yes;
        self.asking = someone_there && !by_yes;
        if self.asking {
            let event = self.question(&p);
            self.sink.emit(event);
        }
        self.answer_deadline = self
            .settings
            .wait_for_answer
            .filter(|_| self.asking)
            .map(|w| tokio::time::Instant::now() + w);
        self.open_deadline = limit.map(|l| tokio::time::Instant::now() + l);
        self.open = Some((p, Instant::now()));
    }

    /// The question for `p`: the instruction, or why the step failed and its last lines.
    fn question(&self, p: &Pending) -> Event {
        if let Some(b) = &p.breach {
            return Event::Question {
                step: b.id.clone(),
                host: None,
                kind: p.kind,
                text: format!("{}\n{}", b.message, b.hosts),
                choices: p.kind.choices().to_vec(),
            };
        }
        let job = &self.jobs[p.job];
        let r = &self.settings.redactor;
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
        Event::Question {
            step: job.id.clone(),
            host: job.host_name.clone(),
            kind: p.kind,
            text,
            choices: p.kind.choices().to_vec(),
        }
    }

    /// The answer when nobody can be asked: `--yes` confirms manual steps; a pause
    /// aborts.
    pub(super) fn by_policy(&self) -> (Answer, &'static str) {
        let manual = matches!(&self.open, Some((p, _)) if p.kind == Kind::Manual);
        let yes = self.settings.assume_yes;
        let by = if manual && yes { "--yes" } else { POLICY };
        let (choice, comment) = match (manual, yes) {
            (true, true) => (Choice::Done, "confirmed automatically by --yes"),
            (true, false) => (
                Choice::Abort,
                "a manual step needs an operator at a terminal (or --yes)",
            ),
            (false, _) => (
                Choice::Abort,
                "on_failure = \"pause\" with nobody at a terminal (or with --yes): abort",
            ),
        };
        let answer = Answer {
            choice,
            comment: Some(comment.into()),
        };
        (answer, by)
    }

    /// Carries out `answer` to the open question, given `by` someone (or the policy),
    /// `from` where a person answered.
    pub(super) fn resolve(&mut self, answer: Answer, by: &str, from: Option<AnswerFrom>) {
        let Some((p, asked)) = self.open.take() else {
            return;
        };
        self.open_deadline = None;
        self.answer_deadline = None;
        let waited = asked.elapsed();
        self.human_wait += waited;
        if p.kind == Kind::Manual {
            self.waits.insert(p.job, waited);
        }
        let decision = |step: String, host: Option<String>, at: String| Event::Decision {
            step,
            host,
            choice: answer.choice,
            by: by.to_string(),
            at,
            comment: answer.comment.clone(),
            wait_s: secs(waited),
            from,
        };
        let at = timestamp(self.settings.clock.now());
        if let Some(b) = p.breach {
            self.sink.emit(decision(b.id.clone(), None, at));
            self.paused = false;
            self.breach_answered(b, answer.choice, by != POLICY);
            return;
        }
        let job = &self.jobs[p.job];
        let place = job.place();
        self.sink
            .emit(decision(job.id.clone(), job.host_name.clone(), at));
        let note = answer
            .comment
            .as_ref()
            .map_or(String::new(), |c| format!(": {c}"));
        if p.kind == Kind::Failed {
            self.paused = false;
        }
        match (answer.choice, p.failure) {
            (Choice::Done, _) => {
                let f = Finished {
                    status: StepStatus::Ok,
                    attempts: 1,
                    exit_code: None,
                    message: Some(format!("confirmed by {by}{note}")),
                    stdout: None,
                    stderr: None,
                    ended: None,
                };
                self.end(p.job, f, Ending::Finished);
            }
            (Choice::Retry, Some(_)) => self.spawn(p.job),
            (Choice::Skip, Some(mut f)) => {
                // It failed, and a person chose to go on without it: skipped.
                f.status = StepStatus::Skipped;
                f.message = Some(format!(
                    "{} — skipped by {by}{note}; the run went on",
                    f.message.unwrap_or_default()
                ));
                self.end(p.job, f, Ending::SkippedByOperator);
            }
            (choice, failed) => {
                let f = failed.unwrap_or_else(|| {
                    failure(format!(
                        "{place}: not confirmed ({} by {by}{note})",
                        choice.as_str()
                    ))
                });
                // An abort nobody chose is the failure's own: the run `failed`.
                let how = if choice == Choice::Rollback || by != POLICY {
                    Ending::Chosen(choice)
                } else {
                    Ending::Finished
                };
                self.end(p.job, f, how);
            }
        }
    }

    /// An answer from `switchyard answer`: carried out if it fits the open question;
    /// its sender is told whether it was taken, and if not, why.
    pub(super) fn answer_remote(&mut self, r: Remote) {
        let taken = self.take_remote(r.answer, &r.by);
        // The sender may have given up waiting: the answer stands all the same.
        let _ = r.reply.send(taken);
    }

    fn take_remote(&mut self, answer: Answer, by: &str) -> Result<String, String> {
        let Some((p, _)) = self.open.as_ref().filter(|_| self.asking) else {
            return Err("no open question: the run is not waiting for an answer".into());
        };
        let what = match (&p.breach, p.kind) {
            (Some(b), _) => format!("the breached invariant {}", b.id),
            (None, kind) => {
                let job = &self.jobs[p.job];
                let place = job.place();
                match kind {
                    Kind::Manual => format!("{place}, a manual step"),
                    Kind::Failed => format!("{place}, which failed"),
                }
            }
        };
        let word = operator::word(answer.choice);
        if !p.kind.choices().contains(&answer.choice) {
            let fits: Vec<&str> = p
                .kind
                .choices()
                .iter()
                .map(|c| operator::word(*c))
                .collect();
            return Err(format!(
                "`{word}` does not answer the open question ({what}): answer {}",
                fits.join(", ")
            ));
        }
        self.resolve(answer, by, Some(AnswerFrom::Answer));
        Ok(format!("answered: {word} ({what})"))
    }

    /// The open question waited `--wait-for-answer` in vain: it is answered as `abort`.
    pub(super) fn unanswered(&mut self) {
        let Some(wait) = self.settings.wait_for_answer else {
            return;
        };
        let answer = Answer {
            choice: Choice::Abort,
            comment: Some(format!(
                "nobody answered within {} (--wait-for-answer): abort",
                crate::config::duration::format(wait)
            )),
        };
        self.resolve(answer, POLICY, None);
    }

    /// A manual step's `timeout` passed without an answer: it fails, and `on_failure`
    /// decides what follows, as after any failed step.
    pub(super) fn expire(&mut self) -> Option<(usize, Finished)> {
        let (p, asked) = self.open.take()?;
        self.open_deadline = None;
        self.answer_deadline = None;
        self.human_wait += asked.elapsed();
        let job = &self.jobs[p.job];
        let limit = match &job.work {
            Work::Manual { limit: Some(l), .. } => *l,
            _ => asked.elapsed(),
        };
        let message = format!(
            "{}: nobody confirmed it within {} (its timeout)",
            job.place(),
            crate::config::duration::format(limit)
        );
        Some((p.job, failure(message)))
    }

    /// Questions nobody will answer now: their jobs end as failed.
    pub(super) fn cancel_questions(&mut self, why: &str) {
        let open = self.open.take().map(|(p, _)| p);
        self.answer_deadline = None;
        let waiting = std::mem::take(&mut self.questions);
        for p in open.into_iter().chain(waiting) {
            if p.breach.is_some() {
                continue;
            }
            let f = p.failure.unwrap_or_else(|| failure(why.to_string()));
            self.end(p.job, f, Ending::GivenUp);
        }
        self.paused = false;
    }
}
