//! Small vocabulary types shared by the raw and the validated model.

use std::fmt;

/// The four phases of a service, in the order they run.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    Precheck,
    Stop,
    Start,
    Verify,
}

impl Phase {
    pub const ALL: [Phase; 4] = [Phase::Precheck, Phase::Stop, Phase::Start, Phase::Verify];

    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Precheck => "precheck",
            Phase::Stop => "stop",
            Phase::Start => "start",
            Phase::Verify => "verify",
        }
    }

    /// Checks only read state; actions change it.
    pub fn is_check(self) -> bool {
        matches!(self, Phase::Precheck | Phase::Verify)
    }

    /// Where a step of this phase runs unless it says otherwise.
    pub fn default_on(self) -> On {
        match self {
            Phase::Stop => On::Source,
            Phase::Precheck | Phase::Start | Phase::Verify => On::Target,
        }
    }

    pub fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which side of the switchover a step runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum On {
    Source,
    Target,
    Both,
    /// The machine running switchyard.
    Local,
}

impl On {
    pub const CHOICES: &[(&str, On)] = &[
        ("source", On::Source),
        ("target", On::Target),
        ("both", On::Both),
        ("local", On::Local),
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            On::Source => "source",
            On::Target => "target",
            On::Both => "both",
            On::Local => "local",
        }
    }
}

/// What the runbook does when a step fails and the step does not `continue_on_error`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnFailure {
    Pause,
    Abort,
    Rollback,
}

impl OnFailure {
    pub const CHOICES: &[(&str, OnFailure)] = &[
        ("pause", OnFailure::Pause),
        ("abort", OnFailure::Abort),
        ("rollback", OnFailure::Rollback),
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OnFailure::Pause => "pause",
            OnFailure::Abort => "abort",
            OnFailure::Rollback => "rollback",
        }
    }
}

/// How commands reach a host.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    Ssh,
    /// `sh -c` on the machine running switchyard.
    Local,
}

impl Transport {
    pub const CHOICES: &[(&str, Transport)] =
        &[("ssh", Transport::Ssh), ("local", Transport::Local)];

    pub fn as_str(self) -> &'static str {
        match self {
            Transport::Ssh => "ssh",
            Transport::Local => "local",
        }
    }
}

/// How an SSH host key is checked against `known_hosts`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HostKeyChecking {
    /// An unknown or changed key fails.
    Strict,
    /// An unknown key is added; a changed key still fails.
    AcceptNew,
}

impl HostKeyChecking {
    pub const CHOICES: &[(&str, HostKeyChecking)] = &[
        ("strict", HostKeyChecking::Strict),
        ("accept-new", HostKeyChecking::AcceptNew),
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            HostKeyChecking::Strict => "strict",
            HostKeyChecking::AcceptNew => "accept-new",
        }
    }
}

/// Whether both halls are up (switchover) or the source is presumed lost (failover).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    #[default]
    Switchover,
    Failover,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Switchover => "switchover",
            Mode::Failover => "failover",
        }
    }
}
