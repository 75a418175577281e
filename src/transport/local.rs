//! `sh -c` on the machine running switchyard, with the same timeout, capture and kill
//! semantics as SSH: the command runs in its own process group, and on timeout the
//! whole group gets SIGTERM, then SIGKILL two seconds later, so nothing it started keeps
//! running.

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;

use super::{Cancel, Captured, CommandOutput, TransportError};

/// How long a timed-out command has to end after SIGTERM before it is killed.
const GRACE: Duration = Duration::from_secs(2);

/// How often a running command is checked for exit: often at first, since most
/// commands are short, then at most every 10 ms.
fn poll_interval(running: Duration) -> Duration {
    (running / 10).clamp(Duration::from_micros(200), Duration::from_millis(10))
}

/// Runs `command` with `sh -c`, stopping it (and its children) after `timeout` or
/// when `cancel` is set.
pub fn run(
    command: &str,
    timeout: Duration,
    cancel: &Cancel,
) -> Result<CommandOutput, TransportError> {
    let started = Instant::now();
    // stdin is the watchdog's pipe: held open here, closed when this process ends.
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(super::watchdog::remote_command(command))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .map_err(|e| TransportError::Spawn(e.to_string()))?;
    let pgid = Pid::from_raw(i32::try_from(child.id()).unwrap_or(i32::MAX));
    let watchdog = child.stdin.take();
    let stdout = child.stdout.take().map(reader);
    let stderr = child.stderr.take().map(reader);
    let mut timed_out = false;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if started.elapsed() >= timeout || cancel.is_set() => {
                timed_out = true;
                break stop(&mut child, pgid);
            }
            Ok(None) => std::thread::sleep(poll_interval(started.elapsed())),
            Err(_) => break None,
        }
    };
    drop(watchdog);
    // The group may have children that outlived `sh` and still hold the pipes open.
    let _ = killpg(pgid, Signal::SIGKILL);
    let collect = |h: Option<std::thread::JoinHandle<Captured>>| {
        h.and_then(|h| h.join().ok()).unwrap_or_default()
    };
    Ok(CommandOutput {
        exit_code: if timed_out {
            None
        } else {
            status.and_then(|s| s.code())
        },
        stdout: collect(stdout),
        stderr: collect(stderr),
        timed_out,
        elapsed: started.elapsed(),
    })
}

/// As over SSH: SIGTERM to the whole group, then SIGKILL if it is still there after
/// [`GRACE`].
fn stop(child: &mut std::process::Child, pgid: Pid) -> Option<std::process::ExitStatus> {
    let _ = killpg(pgid, Signal::SIGTERM);
    let until = Instant::now() + GRACE;
    while Instant::now() < until {
        if let Ok(Some(status)) = child.try_wait() {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let _ = killpg(pgid, Signal::SIGKILL);
    child.wait().ok()
}

fn reader(mut pipe: impl Read + Send + 'static) -> std::thread::JoinHandle<Captured> {
    std::thread::spawn(move || {
        let mut captured = Captured::default();
        let mut buf = [0u8; 8192];
        while let Ok(n) = pipe.read(&mut buf) {
            if n == 0 {
                break;
            }
            captured.push(&buf[..n]);
        }
        captured
    })
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
}
