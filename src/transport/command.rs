//! A command line run on a target — an SSH host's pool or this machine — and what it
//! did. [`ssh`](super::ssh) and [`local`](super::local) do the work: a local command on a
//! blocking thread, an SSH command on one only while it logs in and starts.

use std::sync::Arc;
use std::time::Duration;

use super::ssh::SshHost;
use super::{Cancel, Captured, Request, TransportError, local};

/// Where a command runs.
#[derive(Clone)]
pub enum Target {
    Local,
    Ssh(Arc<SshHost>),
    /// An SSH host for which no connection was prepared: a bug in switchyard. The
    /// command fails and says so; it never runs anywhere else instead.
    Unprepared(String),
}

/// A shell command line to run on `target`.
#[derive(Clone)]
pub struct Command {
    pub target: Target,
    pub line: String,
}

/// What one command did.
#[derive(Debug)]
pub struct CommandOutput {
    /// `None` when no exit status arrived (killed, timed out, or the channel closed
    /// early): that always counts as a failure, never as success.
    pub exit_code: Option<i32>,
    pub stdout: Captured,
    pub stderr: Captured,
    /// The command ran past its timeout, or `Cancel` was set, and it was stopped.
    pub timed_out: bool,
    /// How long it ran.
    pub elapsed: Duration,
}

impl Request for Command {
    type Output = CommandOutput;

    /// Runs the command until it ends or is stopped. A set `cancel` stops it the way its
    /// timeout does, and what it printed until then still comes back.
    async fn perform(
        &self,
        timeout: Duration,
        cancel: &Cancel,
    ) -> Result<CommandOutput, TransportError> {
        match &self.target {
            Target::Local => {
                let (line, cancel) = (self.line.clone(), cancel.clone());
                tokio::task::spawn_blocking(move || local::run(&line, timeout, &cancel))
                    .await
                    .unwrap_or_else(|e| Err(TransportError::Spawn(e.to_string())))
            }
            Target::Ssh(host) => host.run(&self.line, timeout, cancel).await,
            Target::Unprepared(host) => Err(TransportError::NoSshPool { host: host.clone() }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_unprepared_host_is_an_error_and_nothing_runs_anywhere() {
        let dir = tempfile::tempdir().expect("tempdir");
        let marker = dir.path().join("ran");
        let command = Command {
            target: Target::Unprepared("db-a1".into()),
            line: format!("touch {}", marker.display()),
        };
        let e = command
            .perform(Duration::from_secs(5), &Cancel::default())
            .await
            .expect_err("no pool, no command");
        assert!(matches!(e, TransportError::NoSshPool { .. }), "{e}");
        assert!(e.to_string().contains("(a bug in switchyard)"), "{e}");
        assert!(!marker.exists(), "the command ran somewhere");
    }
}
