//! A short POSIX prefix that lets switchyard stop a command it started — on a managed host
//! over SSH, or on this machine — not just stop waiting for it, and that stops the command
//! when switchyard itself goes away (killed, crashed, connection lost).
//!
//! Local commands use it too: `local.rs` holds the prefix's stdin pipe, so when this
//! process dies however it dies, the pipe closes and the watchdog ends the command's
//! process group — a command cut off by a crash does not go on while `resume` runs it
//! again.
//!
//! Without a terminal, sshd does not signal a command when its channel closes: a
//! `sleep 300; touch /tmp/x` would go on after a timeout. But sshd does start the user's
//! login shell (which runs the command line) as the leader of a new session and process
//! group, so everything the command starts is in that group unless it leaves it on
//! purpose (daemons). The line sent is
//!
//! ```text
//! PREFIX
//! COMMAND
//! ```
//!
//! and PREFIX, run by that same login shell,
//! 1. gives the command `/dev/null` as stdin, and keeps the channel's stdin for a
//!    watchdog in the background that blocks reading it. switchyard never writes to it;
//!    when the timeout passes it sends EOF, and when the connection is lost sshd closes
//!    it: either way the watchdog wakes, sends SIGTERM to the login shell's process group
//!    and, two seconds later, SIGKILL (for commands that ignore SIGTERM);
//! 2. starts the watchdog from a command substitution, so that it is not a job of the
//!    shell (a bare `wait` in the command would wait for it), and stops it when the
//!    shell exits normally, so background processes the command meant to leave behind
//!    stay, as with plain `ssh`.
//!
//! COMMAND runs in the login shell itself, as with plain `ssh`: the shell's startup files
//! are read once, its exit status or the signal that killed it is what sshd reports.
//!
//! A PTY would give SIGHUP-on-close for free, but would merge stderr into stdout,
//! translate line endings and make commands think a person is typing. Known limits: a
//! command that replaces the shell (`exec foo`) or resets the `EXIT` trap leaves the
//! watchdog waiting until the channel closes, when it stops the whole group; login
//! shells that are not POSIX (csh, fish) cannot run the prefix.

/// Runs before the command, in the user's login shell: starts the watchdog. One line of
/// POSIX `sh`; an `EXIT` trap ([`LOCAL_EXIT`] or [`REMOTE_EXIT`]) follows it.
const PREFIX: &str = concat!(
    "exec 3<&0 </dev/null; ",
    "w=$( (while read -r _; do :; done; trap \"\" TERM; ",
    "kill -s TERM -- -$$ 2>/dev/null || kill -s TERM $$; ",
    "sleep 2; kill -s KILL -- -$$ 2>/dev/null) <&3 >/dev/null 2>&1 & echo $!); ",
    "exec 3<&-; ",
);

/// On exit, a local command stops its watchdog; its exit status is the process's own.
const LOCAL_EXIT: &str = "trap \"kill $w 2>/dev/null\" EXIT";

/// On exit, a remote command stops its watchdog and also reports its exit status as the
/// last line of its stderr, between two ASCII record separators ([`EXIT_REPORT`]).
/// libssh2 reads a missing `exit-status` message as 0, so a server that sends none (some
/// embedded and non-OpenSSH servers do) would make every command succeed; the shell's
/// own report says what happened. The line is taken off the output before anything
/// reads it ([`Captured::take_exit_report`](super::Captured::take_exit_report)).
const REMOTE_EXIT: &str = concat!(
    "trap \"s=\\$?; kill $w 2>/dev/null; ",
    "printf '\\n\\036switchyard-exit %s\\036\\n' \\\"\\$s\\\" >&2; exit \\$s\" EXIT",
);

/// What opens the exit report [`REMOTE_EXIT`] prints; the number and `\x1e\n` follow.
pub const EXIT_REPORT: &[u8] = b"\n\x1eswitchyard-exit ";

/// The command line to run (the remote login shell) for `command`.
pub(super) fn remote_command(command: &str) -> String {
    format!("{PREFIX}{REMOTE_EXIT}\n{command}")
}

/// The environment variable that carries a local command to its shell. A command line
/// in `sh -c`'s arguments would be in `ps` for every user of the machine, with any
/// secret substituted into it; an environment is readable only by its own user and root.
pub(super) const LOCAL_COMMAND: &str = "SWITCHYARD_COMMAND";

/// The `sh -c` argument for a local command, which it reads from [`LOCAL_COMMAND`] and
/// takes out of the environment before it runs, so what the command starts does not
/// inherit it.
pub(super) fn local_command() -> String {
    format!(
        "{PREFIX}{LOCAL_EXIT}\n__switchyard_command=${LOCAL_COMMAND}; unset {LOCAL_COMMAND}; eval \"$__switchyard_command\""
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::process::{CommandExt, ExitStatusExt};
    use std::process::{Command, ExitStatus, Stdio};
    use std::time::{Duration, Instant};

    /// Runs the line as sshd would: `sh -c LINE` leading its own process group, with
    /// stdin held open (as the channel's is) until `eof_after`.
    fn run_locally(command: &str, eof_after: Duration) -> (String, String, ExitStatus) {
        use std::io::Read;
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(remote_command(command))
            .process_group(0)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("sh runs");
        let stdin = child.stdin.take();
        let (done, ended) = std::sync::mpsc::channel::<()>();
        let closer = std::thread::spawn(move || {
            let _ = ended.recv_timeout(eof_after);
            drop(stdin);
        });
        let (mut out, mut err) = (String::new(), String::new());
        let _ = child.stdout.take().map(|mut s| s.read_to_string(&mut out));
        let _ = child.stderr.take().map(|mut s| s.read_to_string(&mut err));
        let status = child.wait().expect("sh ends");
        let _ = done.send(());
        closer.join().expect("closer");
        (out, err, status)
    }

    const LONG: Duration = Duration::from_secs(30);

    #[test]
    fn output_and_exit_status_pass_through_unchanged() {
        let begun = Instant::now();
        let (out, err, status) = run_locally(r#"echo "it's"; echo err >&2; exit 7"#, LONG);
        assert_eq!(out, "it's\n");
        assert_eq!(
            err, "err\n\n\x1eswitchyard-exit 7\x1e\n",
            "the shell reports its status"
        );
        assert_eq!(status.code(), Some(7));
        // Neither the watchdog nor the held stdin kept the command from ending.
        assert!(begun.elapsed() < Duration::from_secs(5));
    }

    #[test]
    fn a_bare_wait_in_the_command_does_not_wait_for_the_watchdog() {
        let begun = Instant::now();
        let (out, _, status) = run_locally("sleep 0.1 & wait; echo done", LONG);
        assert_eq!((out.as_str(), status.code()), ("done\n", Some(0)));
        assert!(begun.elapsed() < Duration::from_secs(5));
    }

    #[test]
    fn a_command_killed_by_a_signal_ends_by_that_signal() {
        let (_, _, status) = run_locally("kill -s KILL $$", LONG);
        assert_eq!(status.signal(), Some(9));
    }

    #[test]
    fn eof_on_stdin_stops_the_command_and_what_it_started() {
        let begun = Instant::now();
        let (out, _, status) =
            run_locally("echo up; sleep 20 & sleep 20", Duration::from_millis(300));
        assert_eq!(out, "up\n");
        assert_eq!(status.signal(), Some(15));
        assert!(begun.elapsed() < Duration::from_secs(5));
    }
}
