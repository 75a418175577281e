//! `sh -c` on the machine running switchyard, with the same timeout, capture and kill
//! semantics as SSH: the command runs in its own process group, and on timeout the
//! whole group gets SIGTERM, then SIGKILL two seconds later, so nothing it started keeps
//! running.

use std::fs::File;
use std::io::Read;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::process::{ChildStderr, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use nix::poll::{PollFd, PollFlags, ppoll};
use nix::sys::signal::{Signal, killpg};
use nix::sys::time::TimeSpec;
use nix::unistd::Pid;

use super::{Cancel, Captured, CommandOutput, TransportError};

/// How long a timed-out command has to end after SIGTERM before it is killed.
const GRACE: Duration = Duration::from_secs(2);

/// How long the output pipes may stay open once `sh` has exited. A background process
/// that left the command's process group (`setsid helper &`) holds them open for as long
/// as it runs; the step ends with the output read by then, and does not wait for it.
pub const OUTPUT_AFTER_EXIT: Duration = Duration::from_secs(1);

/// How often a running command is checked for exit: often at first, since most
/// commands are short, then at most every 10 ms.
fn poll_interval(running: Duration) -> Duration {
    (running / 10).clamp(Duration::from_micros(200), Duration::from_millis(10))
}

/// Runs `command` with `sh -c`, stopping it (and its children) after `timeout` or
/// when `cancel` is set. The command reaches the shell through the environment, not
/// its arguments, so that no other user sees it (with its secrets) in `ps`.
pub fn run(
    command: &str,
    timeout: Duration,
    cancel: &Cancel,
) -> Result<CommandOutput, TransportError> {
    let started = Instant::now();
    // stdin is the watchdog's pipe: held open here, closed when this process ends.
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(super::watchdog::local_command())
        .env(super::watchdog::LOCAL_COMMAND, command)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .map_err(|e| TransportError::Spawn(e.to_string()))?;
    let pgid = Pid::from_raw(i32::try_from(child.id()).unwrap_or(i32::MAX));
    let watchdog = child.stdin.take();
    let mut pipes = Pipes::new(child.stdout.take(), child.stderr.take());
    let mut timed_out = false;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if started.elapsed() >= timeout || cancel.is_set() => {
                timed_out = true;
                break stop(&mut child, pgid, &mut pipes);
            }
            Ok(None) => pipes.read_for(poll_interval(started.elapsed())),
            Err(_) => break None,
        }
    };
    drop(watchdog);
    // What is left of the group once `sh` is gone: background jobs of the command.
    let _ = killpg(pgid, Signal::SIGKILL);
    pipes.read_until(Instant::now() + OUTPUT_AFTER_EXIT);
    let [stdout, stderr] = pipes.captured;
    Ok(CommandOutput {
        exit_code: if timed_out {
            None
        } else {
            status.and_then(|s| s.code())
        },
        stdout,
        stderr,
        timed_out,
        elapsed: started.elapsed(),
    })
}

/// As over SSH: SIGTERM to the whole group, then SIGKILL if it is still there after
/// [`GRACE`]. Output goes on being read meanwhile.
fn stop(
    child: &mut std::process::Child,
    pgid: Pid,
    pipes: &mut Pipes,
) -> Option<std::process::ExitStatus> {
    let _ = killpg(pgid, Signal::SIGTERM);
    let until = Instant::now() + GRACE;
    while Instant::now() < until {
        if let Ok(Some(status)) = child.try_wait() {
            return Some(status);
        }
        pipes.read_for(Duration::from_millis(10));
    }
    let _ = killpg(pgid, Signal::SIGKILL);
    child.wait().ok()
}

/// A command's stdout and stderr, read on this thread as data arrives (`poll`), so that
/// neither a full pipe nor a pipe that never closes can hold the step up.
struct Pipes {
    open: [Option<File>; 2],
    captured: [Captured; 2],
}

impl Pipes {
    fn new(stdout: Option<ChildStdout>, stderr: Option<ChildStderr>) -> Pipes {
        Pipes {
            open: [
                stdout.map(|p| File::from(OwnedFd::from(p))),
                stderr.map(|p| File::from(OwnedFd::from(p))),
            ],
            captured: [Captured::default(), Captured::default()],
        }
    }

    /// Reads whatever arrives within `wait`; a pipe at its end is closed.
    fn read_for(&mut self, wait: Duration) {
        let ready: Vec<usize> = {
            let (index, mut fds): (Vec<usize>, Vec<PollFd<'_>>) = self
                .open
                .iter()
                .enumerate()
                .filter_map(|(i, f)| {
                    f.as_ref()
                        .map(|f| (i, PollFd::new(f.as_fd(), PollFlags::POLLIN)))
                })
                .unzip();
            // ppoll, not poll: poll's timeout is in whole milliseconds, and 0.2 ms would
            // become 0 — a busy loop taking a core from the command it waits for.
            if ppoll(&mut fds, Some(TimeSpec::from_duration(wait)), None).unwrap_or(0) <= 0 {
                return;
            }
            index
                .into_iter()
                .zip(&fds)
                .filter(|(_, fd)| fd.any().unwrap_or(true))
                .map(|(i, _)| i)
                .collect()
        };
        let mut buf = [0u8; 64 * 1024];
        for i in ready {
            let Some(file) = &mut self.open[i] else {
                continue;
            };
            match file.read(&mut buf) {
                Ok(0) | Err(_) => self.open[i] = None,
                Ok(n) => self.captured[i].push(&buf[..n]),
            }
        }
    }

    /// Reads until both pipes are at their end, or `deadline`.
    fn read_until(&mut self, deadline: Instant) {
        while self.open.iter().any(Option::is_some) {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            self.read_for(left.min(Duration::from_millis(100)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_exit_code_and_both_streams() {
        let out = run(
            "echo out; echo err >&2; exit 3",
            Duration::from_secs(5),
            &Cancel::default(),
        )
        .expect("sh");
        assert_eq!(out.exit_code, Some(3));
        assert_eq!(out.stdout.text(), "out\n");
        assert_eq!(out.stderr.text(), "err\n");
        assert!(!out.timed_out);
    }

    #[test]
    fn a_command_past_its_timeout_is_killed_with_its_children() {
        let dir = tempfile::tempdir().expect("tempdir");
        let marker = dir.path().join("late");
        let cmd = format!("(sleep 2; touch {}) & sleep 30", marker.display());
        let out = run(&cmd, Duration::from_millis(300), &Cancel::default()).expect("sh");
        assert!(out.timed_out);
        assert_eq!(out.exit_code, None);
        assert!(
            out.elapsed < Duration::from_secs(5),
            "took {:?}",
            out.elapsed
        );
        std::thread::sleep(Duration::from_secs(3));
        assert!(
            !marker.exists(),
            "a child of the killed command kept running"
        );
    }

    #[test]
    fn a_daemon_that_keeps_the_output_pipes_open_does_not_hold_the_step() {
        let out = run(
            "echo started; setsid sleep 30 & echo done",
            Duration::from_secs(60),
            &Cancel::default(),
        )
        .expect("sh");
        assert_eq!(out.exit_code, Some(0));
        assert_eq!(out.stdout.text(), "started\ndone\n");
        assert!(
            out.elapsed < OUTPUT_AFTER_EXIT + Duration::from_secs(2),
            "waited {:?} for a daemon's pipes",
            out.elapsed
        );
    }

    #[test]
    fn the_command_is_not_in_the_shells_arguments() {
        let out = run(
            "cat /proc/$$/cmdline; echo; echo \"${SWITCHYARD_COMMAND:-unset}\"",
            Duration::from_secs(5),
            &Cancel::default(),
        )
        .expect("sh");
        let text = out.stdout.text();
        assert!(!text.contains("cmdline"), "{text}");
        assert!(text.ends_with("unset\n"), "{text}");
    }
}
