//! The journal holds whatever happens to switchyard: killed while a wave of commands
//! starts, no command has run without its `step_started` line on disk; on a full disk,
//! no new step starts and the journal stays a valid chain.

use std::collections::BTreeSet;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use switchyard::engine::Event;
use switchyard::evidence::journal::{self, Entry};

use crate::support::runs::{ended, project, run_folder, spawn, wait_bounded};
use crate::support::util::{LIVE, LOCAL_INVENTORY};

/// How many hosts of hall b start at once.
const WAVE: usize = 20;

/// One local host in hall a and [`WAVE`] in hall b, all tagged `node`.
fn wide_inventory() -> String {
    let mut s = String::from(
        "[halls.a]\n[halls.b]\n[hosts.node-a]\ntransport = \"local\"\nhall = \"a\"\ntags = [\"node\"]\n",
    );
    for i in 1..=WAVE {
        s.push_str(&format!(
            "[hosts.node-b{i:02}]\ntransport = \"local\"\nhall = \"b\"\ntags = [\"node\"]\n"
        ));
    }
    s
}

fn journal_text(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("journal.jsonl")).expect("journal")
}

/// The events of a journal's `text`, read and checked as a chain.
#[track_caller]
fn chain(text: &str) -> Vec<Entry> {
    match journal::read(text) {
        Ok(read) => read.entries,
        Err(b) => panic!(
            "the journal breaks at line {}: {}\n{text}",
            b.line, b.reason
        ),
    }
}

#[test]
fn a_command_never_runs_before_its_step_started_line_is_on_disk() {
    let ran = tempfile::tempdir().expect("tempdir");
    // In a local command `$PPID` is switchyard: the first command of the wave to run
    // kills it, while the others are starting.
    let body = format!(
        r#"
[services.db]
hosts = ["tag:node"]
[[services.db.stop]]
run = "true"
[[services.db.start]]
run = "touch {}/{{{{host.name}}}}; kill -9 $PPID"
"#,
        ran.path().display()
    );
    let t = project(&wide_inventory(), "abort", &body);
    let mut child = spawn(&t, LIVE);
    let status = wait_bounded(&mut child, Duration::from_secs(60));
    assert_eq!(
        status.signal(),
        Some(9),
        "switchyard was not killed: {status}"
    );
    let dir = run_folder(&t.path().join("evidence")).expect("a run folder");
    // Killed, switchyard may have left a line half-written: the lines before it hold.
    let text = journal_text(&dir);
    let started: BTreeSet<String> = chain(&text[..text.rfind('\n').map_or(0, |i| i + 1)])
        .into_iter()
        .filter_map(|e| match e.event {
            Event::StepStarted { step, host, .. } if step == "db.start.1" => host,
            _ => None,
        })
        .collect();
    let ran: BTreeSet<String> = std::fs::read_dir(ran.path())
        .expect("markers")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert!(!ran.is_empty(), "no command ran");
    let unrecorded: Vec<&String> = ran.difference(&started).collect();
    assert!(
        unrecorded.is_empty(),
        "commands ran on {unrecorded:?} without their step_started on disk (recorded: {started:?})"
    );
}

/// A tmpfs of `size` on a folder of its own, unmounted when dropped.
struct Tmpfs(tempfile::TempDir);

impl Tmpfs {
    fn mount(size: &str) -> Tmpfs {
        let dir = tempfile::tempdir().expect("tempdir");
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .status()
            .expect("run mount");
        assert!(
            status.success(),
            "mount -t tmpfs failed (tests run as root)"
        );
        Tmpfs(dir)
    }

    fn path(&self) -> &Path {
        self.0.path()
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        // Before the folder is removed; lazily if something still holds it.
        let unmounted = Command::new("umount").arg(self.path()).status();
        if !unmounted.is_ok_and(|s| s.success()) {
            let _ = Command::new("umount").arg("-l").arg(self.path()).status();
        }
    }
}

#[test]
fn a_full_evidence_disk_starts_no_new_step_and_fails_the_run() {
    let disk = Tmpfs::mount("160k");
    let t = project(LOCAL_INVENTORY, "abort", "");
    let marker = t.path().join("started");
    // Each stream's output file keeps at most 128 KiB of it (the head and the tail):
    // the two files need more than the disk holds.
    let body = format!(
        r#"
[services.db]
hosts = ["tag:node"]
[[services.db.stop]]
run = "yes out | head -c 400000; yes err | head -c 400000 >&2"
[[services.db.start]]
run = "touch {}"
"#,
        marker.display()
    );
    let t = crate::support::runs::runbook(t, "abort", &body);
    let evidence = disk.path().display().to_string();
    let mut args = LIVE.to_vec();
    args.extend(["--evidence-dir", &evidence]);
    let child = spawn(&t, &args);
    let out = ended(child, &t, |_| {
        run_folder(disk.path()).expect("a run folder")
    })
    .code(1);
    out.stderr_has(&format!("error: cannot write the journal in `{evidence}/"));
    out.stderr_has("No space left on device");
    assert!(!marker.exists(), "a step started after the journal broke");
    // A line that could not be written whole was cut off again: every line is whole,
    // in sequence, and chained.
    let entries = chain(&journal_text(&out.dir));
    assert!(
        matches!(
            entries.first().map(|e| &e.event),
            Some(Event::RunStarted(_))
        ),
        "{entries:?}"
    );
}
