//! Errors that end a command before it has a result, each with its exit code.
//!
//! A failed check or a missed RTO is not an error: it is an outcome, reported by the
//! command itself. These are the cases where the input or the usage is wrong.

use crate::config::LoadError;

use super::exit;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// One or more files have problems; each is a diagnostic pointing into a file.
    #[error("invalid input")]
    Load(Box<LoadError>),
    /// `validate` found problems in some of the runbooks (or sites) it checked (already
    /// shown).
    #[error("{bad} of {total} {}", invalid_files(*.total, *.sites))]
    SomeInvalid {
        bad: usize,
        total: usize,
        /// A site was among the bad files, so they are counted as files, not runbooks.
        sites: bool,
    },
    #[error("no runbook given, and cannot read `runbooks/`: {0}")]
    NoRunbookDir(std::io::Error),
    #[error("no runbook given, and `runbooks/` has no *.toml files")]
    NoRunbooks,
    #[error("no inventory given, and `inventory/` has no *.toml files")]
    NoInventories,
    #[error(
        "{} {}: runbook `{}` switches between halls `{}` and `{}`{}",
        .0.flag, .0.hall, .0.runbook, .0.halls[0], .0.halls[1], .0.hint
    )]
    UnknownHall(Box<UnknownHall>),
    #[error("--from and --to are both `{0}`: a switchover needs two different halls")]
    SameHall(String),
    /// `within` names the runbook (which has no such service) or the site (no such
    /// runbook): "runbook `recruitment`", "site `riverton`".
    #[error("--only {name}: {within} has no such {what}{hint}")]
    UnknownOnly {
        name: String,
        within: String,
        what: &'static str,
        hint: String,
    },
    #[error("--incident-start {0}")]
    IncidentStart(String),
    /// A secret could not be read; nothing has been done yet.
    #[error("{0}")]
    Secret(String),
    #[error(
        "a live run must be confirmed: run it on a terminal to type the runbook's name, or pass --yes"
    )]
    NeedsConfirmation,
    #[error("not confirmed: nothing was changed")]
    NotConfirmed,
    /// The evidence folder cannot be written; nothing has been done yet.
    #[error("{0}")]
    Evidence(String),
    /// Another live run of the runbook holds its lock.
    #[error("{0}")]
    Locked(String),
    /// A run folder that `report` or `verify-evidence` cannot use.
    #[error("{0}")]
    RunFolder(String),
    #[error("{0}")]
    Setup(String),
    /// An inventory to import has problems, each naming the file and what is wrong.
    #[error("{0}")]
    Import(Box<crate::import::ansible::Problems>),
    /// `switchyard answer` was refused, or found no run to answer.
    #[error("{0}")]
    Refused(String),
}

/// A `--to` or `--from` naming a hall the runbook does not switch between.
#[derive(Debug)]
pub struct UnknownHall {
    pub flag: &'static str,
    pub hall: String,
    pub runbook: String,
    pub halls: [String; 2],
    /// " (did you mean `a`?)" or nothing.
    pub hint: String,
}

/// "runbooks are invalid", or "files are invalid" when some are sites.
fn invalid_files(total: usize, sites: bool) -> &'static str {
    match (total, sites) {
        (1, false) => "runbook is invalid",
        (_, false) => "runbooks are invalid",
        (1, true) => "file is invalid",
        (_, true) => "files are invalid",
    }
}

impl Error {
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Load(_)
            | Error::SomeInvalid { .. }
            | Error::NoRunbookDir(_)
            | Error::NoRunbooks
            | Error::NoInventories
            | Error::UnknownHall { .. }
            | Error::SameHall(_)
            | Error::UnknownOnly { .. }
            | Error::IncidentStart(_)
            | Error::Secret(_)
            | Error::NeedsConfirmation
            | Error::Evidence(_)
            | Error::RunFolder(_)
            | Error::Setup(_)
            | Error::Import(_) => exit::INVALID,
            Error::NotConfirmed | Error::Locked(_) | Error::Refused(_) => exit::FAILED,
        }
    }
}

impl From<LoadError> for Error {
    fn from(e: LoadError) -> Self {
        Error::Load(Box::new(e))
    }
}
