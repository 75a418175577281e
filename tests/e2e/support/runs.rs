//! switchyard in the background, its stdout and stderr in files beside the project,
//! for tests that act on the world while it runs (kill an sshd, fill a disk); a run
//! signalled (killed, interrupted) once it reaches a step, and its resume; and projects
//! whose runbook says what to do `on_failure`.

use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use super::util::{Output, Test, wait_until};

/// A project with `inventory` and a runbook of `body` under a header with `on_failure`.
pub fn project(inventory: &str, on_failure: &str, body: &str) -> Test {
    runbook(
        Test::new().file("inventory/site.toml", inventory),
        on_failure,
        body,
    )
}

/// Writes (or rewrites) the project's runbook: a header and `body`.
pub fn runbook(t: Test, on_failure: &str, body: &str) -> Test {
    t.file(
        "runbooks/test.toml",
        format!(
            "[runbook]\nname = \"test\"\nrto = \"1h\"\ninventory = [\"../inventory/site.toml\"]\non_failure = \"{on_failure}\"\n{body}"
        ),
    )
}

/// What a finished run left: exit code, output and its run folder.
pub struct Finished {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub dir: PathBuf,
}

impl Finished {
    #[track_caller]
    pub fn code(self, expected: i32) -> Finished {
        assert_eq!(
            self.code, expected,
            "exit code\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout, self.stderr
        );
        self
    }

    #[track_caller]
    pub fn stderr_has(&self, needle: &str) {
        assert!(
            self.stderr.contains(needle),
            "stderr lacks {needle:?}:\n{}",
            self.stderr
        );
    }
}

/// Starts switchyard in the project, as `Test::run` would run it, without waiting;
/// stdout and stderr go to files beside the project.
pub fn spawn(t: &Test, args: &[&str]) -> Child {
    let file = |name: &str| std::fs::File::create(t.path().join(name)).expect("output file");
    t.start(
        args,
        Stdio::null(),
        file(".stdout").into(),
        file(".stderr").into(),
    )
}

/// Waits for the run to end and checks that nothing panicked; `dir` finds its run
/// folder, given its stdout.
pub fn ended(mut child: Child, t: &Test, dir: impl FnOnce(&str) -> PathBuf) -> Finished {
    let status = wait_bounded(&mut child, Duration::from_secs(60));
    let stdout = std::fs::read_to_string(t.path().join(".stdout")).unwrap_or_default();
    let stderr = std::fs::read_to_string(t.path().join(".stderr")).unwrap_or_default();
    assert!(
        !stderr.contains("panicked"),
        "switchyard panicked:\n{stderr}"
    );
    Finished {
        code: status.code().unwrap_or(-1),
        dir: dir(&stdout),
        stdout,
        stderr,
    }
}

/// Waits for `child`, killing it (and failing) if it takes longer than `limit`.
pub fn wait_bounded(child: &mut Child, limit: Duration) -> std::process::ExitStatus {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            return status;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("switchyard ran longer than {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The (only) run folder in `evidence`, once a run has made it.
pub fn run_folder(evidence: &Path) -> Option<PathBuf> {
    std::fs::read_dir(evidence)
        .ok()
        .and_then(|mut d| d.next())
        .map(|e| e.expect("entry").path())
}

/// Starts switchyard in `t`'s project with `args` (a live run) and sends it `signal`
/// once `step` has started and `ready` holds for the journal's text. Returns the run
/// folder and how switchyard ended.
pub fn signal_when(
    t: &Test,
    args: &[&str],
    step: &str,
    ready: impl Fn(&str) -> bool,
    signal: Signal,
) -> (PathBuf, std::process::Output) {
    let child = Test::reuse(t.path()).args(args).spawn();
    let needle = format!(r#""event":"step_started","step":"{step}""#);
    let mut journal = PathBuf::new();
    wait_until(&format!("the run to reach {step}"), || {
        let Some(dir) = run_folder(&t.path().join("evidence")) else {
            return false;
        };
        journal = dir.join("journal.jsonl");
        std::fs::read_to_string(&journal).is_ok_and(|s| s.contains(&needle) && ready(&s))
    });
    kill(Pid::from_raw(child.id() as i32), signal).expect("signal switchyard");
    let out = child.wait_with_output().expect("wait");
    (journal.parent().expect("run dir").to_path_buf(), out)
}

/// As [`signal_when`] with SIGKILL: switchyard dies at once, its journal cut off where
/// it was. Returns the run folder.
pub fn kill_when(t: &Test, args: &[&str], step: &str, ready: impl Fn(&str) -> bool) -> PathBuf {
    signal_when(t, args, step, ready, Signal::SIGKILL).0
}

/// `switchyard resume` of the run in `dir`, without asking.
pub fn resume(dir: &Path) -> Output {
    Test::reuse(dir)
        .args(&["--no-progress", "resume", ".", "--yes"])
        .run()
}
