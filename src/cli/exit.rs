//! Exit codes: a public contract (spec §4), the same for every command.

/// The run passed; for a dry run, every check passed and every host was reachable.
/// For `validate` and `plan`: the input is valid.
pub const PASSED: u8 = 0;
/// A step failed and stopped the run, or the operator aborted it.
pub const FAILED: u8 = 1;
/// Invalid input or usage: a bad file, an unknown hall, a missing argument.
pub const INVALID: u8 = 2;
/// Every step succeeded, but an RTO target was missed, or an RPO target
/// (`rpo_breached`).
pub const RTO_MISSED: u8 = 3;
/// Interrupted by Ctrl-C or SIGTERM.
pub const INTERRUPTED: u8 = 130;
