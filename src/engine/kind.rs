//! What kind of run this is — live or dry, switchover or failover — decided once, by the
//! command line, from `--live` and `--mode` (or, for `resume`, from the journal).

use crate::config::model::Mode;

/// Whether a run changes anything.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Effect {
    /// Every step is carried out.
    Live,
    /// Prechecks run for real; everything else is `planned`.
    DryRun,
}

/// The kind of a run. The command line builds it once and picks the executor by its
/// [`Effect`]; the executor then answers for it ([`super::executor::Executor::kind`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RunKind {
    pub effect: Effect,
    pub mode: Mode,
}

impl RunKind {
    pub fn new(live: bool, mode: Mode) -> RunKind {
        RunKind {
            effect: if live { Effect::Live } else { Effect::DryRun },
            mode,
        }
    }

    pub fn is_live(self) -> bool {
        self.effect == Effect::Live
    }

    pub fn is_dry_run(self) -> bool {
        self.effect == Effect::DryRun
    }

    /// The source hall is presumed lost: its hosts may be unreachable.
    pub fn is_failover(self) -> bool {
        self.mode == Mode::Failover
    }
}
