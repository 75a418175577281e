//! What the run asks a person, and how answers are read.
//!
//! The engine knows no terminal. When it needs a person — a manual step to confirm, a
//! failed step under `on_failure = "pause"` — it emits a `question` event (the display
//! shows it) and reads the answer as a line from a channel that the command line feeds
//! from the terminal, or as a [`Remote`] answer that `switchyard answer` sent (the
//! first answer wins). With nobody to ask (`--yes`, or no terminal without
//! `--wait-for-answer`) the answer is given by policy instead, and the evidence says by
//! whom: `--yes` confirms manual steps; a pause becomes an abort, since nobody is there
//! to decide — as does a question nobody answered within `--wait-for-answer`.

use crate::engine::job::Job;

/// What a person can answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Choice {
    /// A manual step was done.
    Done,
    /// Run the failed step again.
    Retry,
    /// Go on as if the failed step had succeeded.
    Skip,
    /// Stop the run.
    Abort,
    /// Stop the run and switch back what had begun to switch.
    Rollback,
}

impl Choice {
    pub fn as_str(self) -> &'static str {
        match self {
            Choice::Done => "done",
            Choice::Retry => "retry",
            Choice::Skip => "skip",
            Choice::Abort => "abort",
            Choice::Rollback => "rollback",
        }
    }
}

/// The word for `choice` on the command line of `switchyard answer`: `confirm` for a
/// manual step (`done` at the terminal), otherwise its own name.
pub fn word(choice: Choice) -> &'static str {
    match choice {
        Choice::Done => "confirm",
        c => c.as_str(),
    }
}

/// Why the run waits for a person.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Manual,
    Failed,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Manual => "manual",
            Kind::Failed => "failed",
        }
    }

    pub fn choices(self) -> &'static [Choice] {
        match self {
            Kind::Manual => &[Choice::Done, Choice::Abort],
            Kind::Failed => &[Choice::Retry, Choice::Skip, Choice::Abort, Choice::Rollback],
        }
    }
}

/// Where a person's answer came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AnswerFrom {
    /// Typed at the run's own terminal.
    Terminal,
    /// Sent by `switchyard answer` over the run folder's socket.
    Answer,
}

/// An answer sent by `switchyard answer`, as its socket received it: the peer's
/// credentials are checked before it is sent on. `reply` says whether it was taken.
#[derive(Debug)]
pub struct Remote {
    pub answer: Answer,
    /// `user@host` of the peer.
    pub by: String,
    pub reply: tokio::sync::oneshot::Sender<Result<String, String>>,
}

/// An answer: the choice and an optional comment for the evidence.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Answer {
    pub choice: Choice,
    pub comment: Option<String>,
}

/// Reads `line` as an answer to a question of `kind`: the first word is the choice,
/// the rest a comment. `Err` says what may be answered.
pub fn parse(kind: Kind, line: &str) -> Result<Answer, String> {
    let line = line.trim();
    let (word, rest) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
    let word = word.to_ascii_lowercase();
    let choice = kind
        .choices()
        .iter()
        .copied()
        .find(|c| c.as_str() == word)
        .ok_or_else(|| {
            let names: Vec<&str> = kind.choices().iter().map(|c| c.as_str()).collect();
            format!(
                "answer one of: {} (optionally followed by a comment)",
                names.join(", ")
            )
        })?;
    let comment = rest.trim();
    Ok(Answer {
        choice,
        comment: (!comment.is_empty()).then(|| comment.to_string()),
    })
}

/// The question's text for people: the instruction, or the failure and its output.
pub fn text(kind: Kind, job: &Job, failure: Option<(&str, Option<&str>)>) -> String {
    match (kind, failure) {
        (Kind::Failed, Some((message, Some(excerpt)))) => format!("{message}\n{excerpt}"),
        (Kind::Failed, Some((message, None))) => message.to_string(),
        _ => job.does.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_word_chooses_and_the_rest_is_a_comment() {
        let a = parse(Kind::Failed, "  Retry  disk was full, freed it\n").expect("valid");
        assert_eq!(a.choice, Choice::Retry);
        assert_eq!(a.comment.as_deref(), Some("disk was full, freed it"));
        assert_eq!(parse(Kind::Manual, "done").expect("valid").comment, None);
    }

    #[test]
    fn choices_belong_to_their_kind() {
        assert!(parse(Kind::Manual, "retry").is_err());
        let e = parse(Kind::Failed, "").expect_err("empty");
        assert!(e.contains("retry, skip, abort, rollback"), "{e}");
    }
}
