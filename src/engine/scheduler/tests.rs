//! The dispatcher on its own: real plans from runbook files, a fake executor that runs
//! nothing (it logs each job's start and end and returns a scripted result), and a sink
//! that keeps the events. No sshd, no root, no subprocess; each test takes milliseconds.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::mpsc::{self, UnboundedSender};

use super::{Carry, Io, Settings, Stop, pass};
use crate::config::model::Mode;
use crate::config::{Runbook, load_runbook};
use crate::engine::event::{Event, StepStatus};
use crate::engine::executor::{AttemptReport, Executor, Finished, Live};
use crate::engine::job::{self, Job};
use crate::engine::kind::RunKind;
use crate::engine::secrets::Redactor;
use crate::engine::sink::Sink;
use crate::engine::stopwatch::Stopwatch;
use crate::plan::{self, Plan};
use crate::transport::{Cancel, Transports};

/// Two halls; in hall b two local hosts, in hall a one. `[ssh]` settings go first.
fn inventory(ssh: &str) -> String {
    format!(
        "{ssh}\n[halls.a]\n[halls.b]\n[hosts.a1]\ntransport = \"local\"\nhall = \"a\"\ntags = [\"n\"]\n[hosts.b1]\ntransport = \"local\"\nhall = \"b\"\ntags = [\"n\"]\n[hosts.b2]\ntransport = \"local\"\nhall = \"b\"\ntags = [\"n\"]\n"
    )
}

fn load(on_failure: &str, inventory: &str, services: &str) -> (tempfile::TempDir, Runbook) {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("inventory.toml"), inventory).expect("write");
    let text = format!(
        "[runbook]\nname = \"t\"\nrto = \"1h\"\ninventory = [\"inventory.toml\"]\non_failure = \"{on_failure}\"\n{services}"
    );
    std::fs::write(dir.path().join("t.toml"), text).expect("write");
    let loaded = load_runbook(&dir.path().join("t.toml"), &[]).unwrap_or_else(|e| {
        panic!(
            "{}",
            crate::config::diagnostic::render_all(&e.sources, &e.diagnostics)
        )
    });
    (dir, loaded.runbook)
}

fn settings() -> Settings {
    Settings {
        max_parallel: 32,
        operator: "tester@here".into(),
        clock: Stopwatch::start(None),
        redactor: Redactor::default(),
        plan_hash: String::new(),
        inputs: Vec::new(),
        assume_yes: false,
        grace: Duration::from_secs(1),
        wait_for_answer: None,
        runbook_file: String::new(),
        inventory_files: Vec::new(),
        only: Vec::new(),
        notices: Vec::new(),
        signed_by: None,
        expected: Vec::new(),
    }
}

fn jobs_of(plan: &Plan<'_>) -> Vec<Job> {
    let transports = Transports::new(plan.runbook).expect("transports");
    (0..plan.steps.len())
        .flat_map(|i| job::jobs(plan, i, &transports, &vec![Default::default()], None))
        .collect()
}

/// Keeps every event; never breaks. Each question is answered with the next line of
/// `answers`, as an operator would once it shows.
#[derive(Default)]
struct Kept {
    events: Vec<Event>,
    answers: VecDeque<String>,
    operator: Option<UnboundedSender<String>>,
    /// Shared with the fake executor: what is on "disk".
    disk: Arc<Mutex<Disk>>,
    /// Holds the pass up this long when it records the end of this step.
    slow_on: Option<(String, Duration)>,
}

/// The events recorded, how many of them a flush made durable, and how many flushes.
#[derive(Default)]
struct Disk {
    lines: Vec<String>,
    durable: usize,
    flushes: usize,
}

/// `step_started ID@HOST` or `step_finished ID@HOST`, for the fake's checks.
fn line_of(event: &Event) -> Option<String> {
    let (what, step, host) = match event {
        Event::StepStarted { step, host, .. } => ("step_started", step, host),
        Event::StepFinished(f) => ("step_finished", &f.step, &f.host),
        _ => return None,
    };
    Some(format!("{what} {step}@{}", host.as_deref().unwrap_or("-")))
}

impl Sink for Kept {
    fn emit(&mut self, event: Event) {
        if let (Event::Question { .. }, Some(tx)) = (&event, &self.operator)
            && let Some(line) = self.answers.pop_front()
        {
            let _ = tx.send(line);
        }
        if let Some(line) = line_of(&event) {
            self.disk.lock().expect("lock").lines.push(line);
        }
        if let (Event::StepFinished(f), Some((step, hold))) = (&event, &self.slow_on)
            && &f.step == step
        {
            std::thread::sleep(*hold);
        }
        self.events.push(event);
    }
    fn flush(&mut self) {
        let mut disk = self.disk.lock().expect("lock");
        disk.durable = disk.lines.len();
        disk.flushes += 1;
    }
    fn broken(&self) -> Option<String> {
        None
    }
}

/// Runs nothing: logs `start ID@HOST` and `end ID@HOST` around a short sleep, and ends
/// with the next scripted status for the job (`ok` when none is left).
#[derive(Default)]
struct Fake {
    script: Mutex<HashMap<String, VecDeque<StepStatus>>>,
    /// Jobs that take longer than 5 ms, by key.
    slow: HashMap<String, Duration>,
    log: Mutex<Vec<String>>,
    /// When each job started.
    starts: Mutex<Vec<std::time::Instant>>,
    /// The sink's disk: a job that starts checks that its `step_started` line is durable.
    disk: Option<Arc<Mutex<Disk>>>,
    /// Jobs that started before their line was durable.
    early: Mutex<Vec<String>>,
}

impl Fake {
    fn failing(key: &str, times: usize) -> Fake {
        let fake = Fake::default();
        fake.script
            .lock()
            .expect("lock")
            .insert(key.into(), vec![StepStatus::Failed; times].into());
        fake
    }

    fn log(&self) -> Vec<String> {
        self.log.lock().expect("lock").clone()
    }

    /// Where `line` is in the log.
    fn at(&self, line: &str) -> usize {
        let log = self.log();
        log.iter()
            .position(|l| l == line)
            .unwrap_or_else(|| panic!("{line} not in {log:?}"))
    }
}

fn key(job: &Job) -> String {
    format!("{}@{}", job.id, job.host_name.as_deref().unwrap_or("-"))
}

impl Executor for Fake {
    fn kind(&self) -> RunKind {
        RunKind::new(true, Mode::Switchover)
    }

    async fn execute(
        self: Arc<Self>,
        _index: usize,
        job: Job,
        _attempts: UnboundedSender<AttemptReport>,
        _cancel: Cancel,
    ) -> Finished {
        let k = key(&job);
        self.starts
            .lock()
            .expect("lock")
            .push(std::time::Instant::now());
        if let Some(disk) = &self.disk {
            let disk = disk.lock().expect("lock");
            let line = format!("step_started {k}");
            if !disk.lines[..disk.durable].contains(&line) {
                self.early.lock().expect("lock").push(k.clone());
            }
        }
        self.log.lock().expect("lock").push(format!("start {k}"));
        let takes = self
            .slow
            .get(&k)
            .copied()
            .unwrap_or(Duration::from_millis(5));
        tokio::select! {
            () = tokio::time::sleep(takes) => {}
            () = _cancel.wait() => {
                self.log.lock().expect("lock").push(format!("stopped {k}"));
                return super::types::failure(format!("{k}: stopped"));
            }
        }
        self.log.lock().expect("lock").push(format!("end {k}"));
        let status = self
            .script
            .lock()
            .expect("lock")
            .get_mut(&k)
            .and_then(VecDeque::pop_front)
            .unwrap_or(StepStatus::Ok);
        Finished {
            status,
            attempts: 1,
            exit_code: Some(i32::from(status != StepStatus::Ok)),
            message: (status == StepStatus::Failed).then(|| format!("{k} failed")),
            stdout: None,
            stderr: None,
            ended: Some(std::time::Instant::now()),
        }
    }
}

/// A signal reaches every pass of this process: the tests that run one take turns.
static ONE_PASS_AT_A_TIME: Mutex<()> = Mutex::new(());

/// One pass of `rb` from a to b with `executor`, the operator typing `answers`.
fn run_pass<E: Executor>(
    rb: &Runbook,
    executor: Arc<E>,
    carry: &Carry,
    answers: &[&str],
) -> (super::Pass, Vec<Event>) {
    run_pass_with(rb, executor, carry, answers, settings())
}

fn run_pass_with<E: Executor>(
    rb: &Runbook,
    executor: Arc<E>,
    carry: &Carry,
    answers: &[&str],
    settings: Settings,
) -> (super::Pass, Vec<Event>) {
    run_pass_into(rb, executor, carry, answers, settings, Kept::default())
}

fn run_pass_into<E: Executor>(
    rb: &Runbook,
    executor: Arc<E>,
    carry: &Carry,
    answers: &[&str],
    settings: Settings,
    sink: Kept,
) -> (super::Pass, Vec<Event>) {
    let _turn = ONE_PASS_AT_A_TIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let plan = plan::build(rb, &rb.halls[0], &rb.halls[1], Mode::Switchover);
    let mut sink = Kept {
        answers: answers.iter().map(|a| format!("{a}\n")).collect(),
        ..sink
    };
    let input = (!answers.is_empty()).then(|| {
        let (tx, rx) = mpsc::unbounded_channel();
        sink.operator = Some(tx);
        rx
    });
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let done = runtime.block_on(async {
        let mut io = Io {
            sink: &mut sink,
            input,
            // A pass listens as a run does (one pass at a time: the signal is its own).
            hangup: crate::engine::hangup::Hangup::listen(),
            answers: None,
        };
        pass(
            &plan,
            jobs_of(&plan),
            executor,
            &settings,
            carry,
            &mut io,
            super::Role::Switchover(Vec::new()),
        )
        .await
    });
    (done, sink.events)
}

/// `(status, rerun)` of every `step_finished` of step `id` on `host`.
fn ends(events: &[Event], id: &str, host: &str) -> Vec<(StepStatus, bool)> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::StepFinished(f) if f.step == id && f.host.as_deref() == Some(host) => {
                Some((f.status, f.rerun))
            }
            _ => None,
        })
        .collect()
}

const TWO_TIERS: &str = r#"
[services.db]
hosts = ["tag:n"]
[[services.db.precheck]]
run = "x"
[[services.db.stop]]
run = "x"
[[services.db.start]]
run = "x"
[[services.db.verify]]
run = "x"

[services.app]
hosts = ["tag:n"]
depends_on = ["db"]
[[services.app.precheck]]
run = "x"
[[services.app.stop]]
run = "x"
[[services.app.start]]
run = "x"
[[services.app.verify]]
run = "x"
"#;

#[test]
fn the_four_order_rules_hold() {
    let (_d, rb) = load("abort", &inventory(""), TWO_TIERS);
    let fake = Arc::new(Fake::default());
    let (done, _) = run_pass(&rb, fake.clone(), &Carry::default(), &[]);
    assert_eq!(done.stop, None);
    let last_precheck = ["db", "app"]
        .iter()
        .flat_map(|s| ["b1", "b2"].map(|h| fake.at(&format!("end {s}.precheck.1@{h}"))))
        .max()
        .expect("prechecks");
    // 1. Every precheck passes before any stop begins.
    assert!(last_precheck < fake.at("start db.stop.1@a1"));
    assert!(last_precheck < fake.at("start app.stop.1@a1"));
    // 2. Dependents go down first.
    assert!(fake.at("end app.stop.1@a1") < fake.at("start db.stop.1@a1"));
    // 3. A start waits for its own stop and for the verify of what it depends on.
    assert!(fake.at("end db.stop.1@a1") < fake.at("start db.start.1@b1"));
    for h in ["b1", "b2"] {
        assert!(fake.at(&format!("end db.verify.1@{h}")) < fake.at("start app.start.1@b1"));
    }
    // 4. Verify after start.
    for h in ["b1", "b2"] {
        assert!(
            fake.at(&format!("end app.start.1@{h}")) < fake.at(&format!("start app.verify.1@{h}"))
        );
    }
    assert_eq!(done.recovered.iter().flatten().count(), 2);
}

/// Whether two jobs ever ran at the same time, by the fake's log.
fn overlapped(fake: &Fake, a: &str, b: &str) -> bool {
    let (sa, ea, sb, eb) = (
        fake.at(&format!("start {a}")),
        fake.at(&format!("end {a}")),
        fake.at(&format!("start {b}")),
        fake.at(&format!("end {b}")),
    );
    sa < eb && sb < ea
}

#[test]
fn serial_runs_a_steps_hosts_one_at_a_time() {
    let services =
        "[services.s]\nhosts = [\"tag:n\"]\n[[services.s.start]]\nrun = \"x\"\nserial = 1\n";
    let (_d, rb) = load("abort", &inventory(""), services);
    let fake = Arc::new(Fake::default());
    run_pass(&rb, fake.clone(), &Carry::default(), &[]);
    assert!(
        !overlapped(&fake, "s.start.1@b1", "s.start.1@b2"),
        "{:?}",
        fake.log()
    );
    // Without `serial`, both hosts run at once.
    let (_d, rb) = load(
        "abort",
        &inventory(""),
        &services.replace("serial = 1\n", ""),
    );
    let fake = Arc::new(Fake::default());
    run_pass(&rb, fake.clone(), &Carry::default(), &[]);
    assert!(
        overlapped(&fake, "s.start.1@b1", "s.start.1@b2"),
        "{:?}",
        fake.log()
    );
}

#[test]
fn max_sessions_bounds_the_jobs_on_one_host() {
    let services = "[services.s]\nhosts = [\"b1\", \"a1\"]\n[[services.s.start]]\nrun = \"x\"\n[services.t]\nhosts = [\"b1\", \"a1\"]\n[[services.t.start]]\nrun = \"x\"\n";
    let (_d, rb) = load("abort", &inventory("[ssh]\nmax_sessions = 1"), services);
    let fake = Arc::new(Fake::default());
    run_pass(&rb, fake.clone(), &Carry::default(), &[]);
    assert!(
        !overlapped(&fake, "s.start.1@b1", "t.start.1@b1"),
        "{:?}",
        fake.log()
    );
    let (_d, rb) = load("abort", &inventory("[ssh]\nmax_sessions = 2"), services);
    let fake = Arc::new(Fake::default());
    run_pass(&rb, fake.clone(), &Carry::default(), &[]);
    assert!(
        overlapped(&fake, "s.start.1@b1", "t.start.1@b1"),
        "{:?}",
        fake.log()
    );
}

#[test]
fn a_pause_is_answered_with_retry_skip_abort_or_rollback() {
    let (_d, rb) = load("pause", &inventory(""), TWO_TIERS);
    let failing = || Arc::new(Fake::failing("db.start.1@b1", 1));
    // retry: run again, it passes, the run goes on.
    let fake = failing();
    let (done, events) = run_pass(&rb, fake.clone(), &Carry::default(), &["retry"]);
    assert_eq!(done.stop, None);
    assert_eq!(ends(&events, "db.start.1", "b1"), [(StepStatus::Ok, false)]);
    assert_eq!(
        fake.log()
            .iter()
            .filter(|l| *l == "start db.start.1@b1")
            .count(),
        2
    );
    // skip: recorded skipped, the run goes on without it.
    let (done, events) = run_pass(&rb, failing(), &Carry::default(), &["skip"]);
    assert_eq!(done.stop, None);
    assert_eq!(
        ends(&events, "db.start.1", "b1"),
        [(StepStatus::Skipped, false)]
    );
    assert_eq!(
        ends(&events, "app.verify.1", "b2"),
        [(StepStatus::Ok, false)]
    );
    // abort: the run stops; what had not started is skipped.
    let (done, events) = run_pass(&rb, failing(), &Carry::default(), &["abort"]);
    assert_eq!(done.stop, Some(Stop::Aborted));
    assert_eq!(
        ends(&events, "app.start.1", "b1"),
        [(StepStatus::Skipped, false)]
    );
    // rollback: the pass stops to roll back, naming what had begun to stop.
    let (done, events) = run_pass(&rb, failing(), &Carry::default(), &["rollback"]);
    assert_eq!(done.stop, Some(Stop::Rollback));
    assert!(
        events.iter().any(|e| matches!(e,
        Event::RollbackStarted { services, runbook: None } if services == &["db".to_string(), "app".to_string()]))
    );
    // Nobody to ask: a pause acts as abort, and the run `failed`.
    let (done, _) = run_pass(&rb, failing(), &Carry::default(), &[]);
    assert!(
        matches!(done.stop, Some(Stop::Failed(_))),
        "{:?}",
        done.stop
    );
}

#[test]
fn a_rollback_switches_back_exactly_the_services_whose_stop_began() {
    // `batch` has no stop step: it never left hall a and is not switched back.
    let services = "[services.web]\nhosts = [\"tag:n\"]\n[[services.web.stop]]\nrun = \"x\"\n[[services.web.start]]\nrun = \"x\"\n[services.batch]\nhosts = [\"tag:n\"]\n[[services.batch.start]]\nrun = \"x\"\n";
    let (_d, rb) = load("rollback", &inventory(""), services);
    let (done, events) = run_pass(
        &rb,
        Arc::new(Fake::failing("web.start.1@b2", 1)),
        &Carry::default(),
        &[],
    );
    assert_eq!(done.stop, Some(Stop::Rollback));
    let rolled: Vec<&Vec<String>> = events
        .iter()
        .filter_map(|e| match e {
            Event::RollbackStarted { services, .. } => Some(services),
            _ => None,
        })
        .collect();
    assert_eq!(rolled, [&vec!["web".to_string()]]);
    assert_eq!(done.stop_begun, [true, false]);
    // The failure is journalled before the rollback it calls for: a run killed between
    // the two resumes with the failure on record, never with a rollback and no cause.
    let at = |hit: &dyn Fn(&Event) -> bool| events.iter().position(hit).expect("event");
    let failed = at(
        &|e| matches!(e, Event::StepFinished(f) if f.step == "web.start.1" && f.status == StepStatus::Failed),
    );
    let rollback = at(&|e| matches!(e, Event::RollbackStarted { .. }));
    assert!(failed < rollback, "{events:?}");
}

#[test]
fn a_resumed_pass_runs_only_what_is_left_and_flags_what_had_started() {
    let (_d, rb) = load("abort", &inventory(""), TWO_TIERS);
    let fake = Arc::new(Fake::default());
    let mut carry = Carry::default();
    for id in ["db.precheck.1", "app.precheck.1"] {
        for h in ["b1", "b2"] {
            carry.done.insert((id.to_string(), Some(h.to_string())));
        }
    }
    for id in ["app.stop.1", "db.stop.1"] {
        carry.done.insert((id.to_string(), Some("a1".to_string())));
    }
    carry
        .rerun
        .insert(("db.start.1".to_string(), Some("b1".to_string())));
    carry.recovered.insert("db".into(), 1.5);
    let (done, events) = run_pass(&rb, fake.clone(), &carry, &[]);
    assert_eq!(done.stop, None);
    assert!(
        !fake
            .log()
            .iter()
            .any(|l| l.contains("precheck") || l.contains("stop")),
        "{:?}",
        fake.log()
    );
    assert_eq!(ends(&events, "db.start.1", "b1"), [(StepStatus::Ok, true)]);
    assert_eq!(ends(&events, "db.start.1", "b2"), [(StepStatus::Ok, false)]);
    // A service recovered before the crash keeps its time.
    assert_eq!(done.recovered[0], Some(1.5));
}

#[test]
fn retries_and_consecutive_successes_are_counted_by_the_executor() {
    // The live executor on local commands: a start that fails twice, then passes with
    // `retries = 2`; a check that needs 3 successes in a row.
    let dir = tempfile::tempdir().expect("tempdir");
    let n = dir.path().join("n");
    let services = format!(
        "[services.s]\nhosts = [\"tag:n\"]\n[[services.s.start]]\nrun = \"echo x >> {n}.{{{{host.name}}}}; test $(wc -l < {n}.{{{{host.name}}}}) -ge 3\"\nretries = 2\nretry_interval = \"0s\"\n[[services.s.verify]]\nrun = \"true\"\nwithin = \"5s\"\ninterval = \"10ms\"\nconsecutive = 3\n",
        n = n.display()
    );
    let (_d, rb) = load("abort", &inventory(""), &services);
    let (done, events) = run_pass(
        &rb,
        Arc::new(Live {
            mode: Mode::Switchover,
        }),
        &Carry::default(),
        &[],
    );
    assert_eq!(done.stop, None);
    let attempts = |id: &str| {
        events
            .iter()
            .filter_map(|e| match e {
                Event::StepFinished(f) if f.step == id => Some((f.status, f.attempts)),
                _ => None,
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(attempts("s.start.1"), [(StepStatus::Ok, 3); 2]);
    assert_eq!(attempts("s.verify.1"), [(StepStatus::Ok, 3); 2]);
}

/// Sends this process SIGINT, as Ctrl-C does, once `fake` has started `job`.
fn ctrl_c_once_started(fake: &Arc<Fake>, job: &str) -> std::thread::JoinHandle<()> {
    let (fake, line) = (fake.clone(), format!("start {job}"));
    std::thread::spawn(move || {
        while !fake.log().contains(&line) {
            std::thread::sleep(Duration::from_millis(1));
        }
        nix::sys::signal::kill(nix::unistd::getpid(), nix::sys::signal::Signal::SIGINT)
            .expect("SIGINT");
    })
}

/// Sends this process SIGHUP twice, as a dropped terminal does, once `fake` has started
/// `job`.
fn hang_up_once_started(fake: &Arc<Fake>, job: &str) -> std::thread::JoinHandle<()> {
    let (fake, line) = (fake.clone(), format!("start {job}"));
    std::thread::spawn(move || {
        while !fake.log().contains(&line) {
            std::thread::sleep(Duration::from_millis(1));
        }
        for _ in 0..2 {
            nix::sys::signal::kill(nix::unistd::getpid(), nix::sys::signal::Signal::SIGHUP)
                .expect("SIGHUP");
            std::thread::sleep(Duration::from_millis(50));
        }
    })
}

#[test]
fn a_hangup_is_recorded_once_and_the_pass_goes_on_untouched() {
    let (_d, rb) = load("abort", &inventory(""), SLOW_THEN_NEXT);
    let slow = HashMap::from([("s.start.1@b1".to_string(), Duration::from_millis(400))]);
    let fake = Arc::new(Fake {
        slow,
        ..Fake::default()
    });
    let signal = hang_up_once_started(&fake, "s.start.1@b1");
    let (done, events) = run_pass_with(&rb, fake.clone(), &Carry::default(), &[], settings());
    signal.join().expect("signal");
    assert_eq!(done.stop, None);
    assert_eq!(ends(&events, "s.start.1", "b1"), [(StepStatus::Ok, false)]);
    assert_eq!(ends(&events, "t.start.1", "b1"), [(StepStatus::Ok, false)]);
    let lost: Vec<usize> = (0..events.len())
        .filter(|&i| matches!(&events[i], Event::TerminalLost { signal } if signal == "SIGHUP"))
        .collect();
    assert_eq!(lost.len(), 1, "{events:?}");
    let ended = events
        .iter()
        .position(|e| matches!(e, Event::StepFinished(f) if f.step == "s.start.1"))
        .expect("s.start.1 ended");
    assert!(lost[0] < ended, "recorded while the step ran: {events:?}");
    assert!(!events.iter().any(|e| matches!(e, Event::Notice { .. })));
}

const SLOW_THEN_NEXT: &str = "[services.s]\nhosts = [\"tag:n\"]\n[[services.s.start]]\nrun = \"x\"\n[services.t]\nhosts = [\"tag:n\"]\ndepends_on = [\"s\"]\n[[services.t.start]]\nrun = \"x\"\n";

#[test]
fn ctrl_c_lets_running_steps_finish_within_the_grace_period() {
    let (_d, rb) = load("abort", &inventory(""), SLOW_THEN_NEXT);
    let slow = HashMap::from([("s.start.1@b1".to_string(), Duration::from_millis(300))]);
    let fake = Arc::new(Fake {
        slow,
        ..Fake::default()
    });
    let signal = ctrl_c_once_started(&fake, "s.start.1@b1");
    let settings = Settings {
        grace: Duration::from_secs(5),
        ..settings()
    };
    let (done, events) = run_pass_with(&rb, fake.clone(), &Carry::default(), &[], settings);
    signal.join().expect("signal");
    assert_eq!(done.stop, Some(Stop::Interrupted));
    assert_eq!(ends(&events, "s.start.1", "b1"), [(StepStatus::Ok, false)]);
    assert_eq!(
        ends(&events, "t.start.1", "b1"),
        [(StepStatus::Skipped, false)]
    );
    assert!(
        !fake.log().iter().any(|l| l.starts_with("start t.")),
        "{:?}",
        fake.log()
    );
    assert!(events.iter().any(|e| matches!(e, Event::Notice { message } if message.starts_with("Ctrl-C: no new step starts"))));
}

#[test]
fn ctrl_c_stops_running_steps_once_the_grace_period_is_over() {
    let (_d, rb) = load("abort", &inventory(""), SLOW_THEN_NEXT);
    let slow = HashMap::from([("s.start.1@b1".to_string(), Duration::from_secs(30))]);
    let fake = Arc::new(Fake {
        slow,
        ..Fake::default()
    });
    let signal = ctrl_c_once_started(&fake, "s.start.1@b1");
    let settings = Settings {
        grace: Duration::from_millis(100),
        ..settings()
    };
    let began = std::time::Instant::now();
    let (done, events) = run_pass_with(&rb, fake.clone(), &Carry::default(), &[], settings);
    signal.join().expect("signal");
    assert!(
        began.elapsed() < Duration::from_secs(10),
        "waited {:?}",
        began.elapsed()
    );
    assert_eq!(done.stop, Some(Stop::Interrupted));
    assert_eq!(
        ends(&events, "s.start.1", "b1"),
        [(StepStatus::Failed, false)]
    );
    assert!(fake.log().contains(&"stopped s.start.1@b1".to_string()));
    assert_eq!(
        ends(&events, "t.start.1", "b2"),
        [(StepStatus::Skipped, false)]
    );
}

#[test]
fn a_steps_recorded_end_is_when_its_work_ended_while_the_pass_is_held_busy() {
    // `a` ends first; recording its end holds the pass for 300 ms, during which `b`'s
    // work ends after 20 ms. `b`'s recorded end is its work's, not the pass's.
    let services = "[services.a]\nhosts = [\"tag:n\"]\n[[services.a.start]]\nrun = \"x\"\n[services.b]\nhosts = [\"tag:n\"]\n[[services.b.start]]\nrun = \"x\"\n";
    let (_d, rb) = load("abort", &inventory(""), services);
    let slow = HashMap::from([
        ("b.start.1@b1".to_string(), Duration::from_millis(20)),
        ("b.start.1@b2".to_string(), Duration::from_millis(20)),
    ]);
    let fake = Arc::new(Fake {
        slow,
        ..Fake::default()
    });
    let sink = Kept {
        slow_on: Some(("a.start.1".into(), Duration::from_millis(300))),
        ..Kept::default()
    };
    let (_, events) = run_pass_into(&rb, fake, &Carry::default(), &[], settings(), sink);
    for e in &events {
        if let Event::StepFinished(f) = e
            && f.step == "b.start.1"
        {
            assert!(
                f.duration_s < 0.15,
                "{} took {} s by the record",
                f.step,
                f.duration_s
            );
        }
    }
}

#[test]
fn every_job_of_a_thousand_host_step_starts_within_100_ms_of_the_first() {
    let mut inv = String::from(
        "[halls.a]\n[halls.b]\n[hosts.a1]\ntransport = \"local\"\nhall = \"a\"\ntags = [\"n\"]\n",
    );
    for i in 0..1000 {
        inv.push_str(&format!(
            "[hosts.b{i}]\ntransport = \"local\"\nhall = \"b\"\ntags = [\"n\"]\n"
        ));
    }
    let services = "[services.s]\nhosts = [\"tag:n\"]\n[[services.s.start]]\nrun = \"x\"\n";
    let (_d, rb) = load("abort", &inv, services);
    let fake = Arc::new(Fake::default());
    let settings = Settings {
        max_parallel: 100_000,
        ..settings()
    };
    let (done, _) = run_pass_with(&rb, fake.clone(), &Carry::default(), &[], settings);
    assert_eq!(done.stop, None);
    let starts = fake.starts.lock().expect("lock").clone();
    assert_eq!(starts.len(), 1000);
    let (first, last) = (
        starts.iter().min().expect("a start"),
        starts.iter().max().expect("a start"),
    );
    assert!(
        *last - *first < Duration::from_millis(100),
        "the last started {:?} after the first",
        *last - *first
    );
}

#[test]
fn a_wave_is_durable_with_one_flush_before_any_of_its_jobs_starts() {
    let (_d, rb) = load("abort", &inventory(""), TWO_TIERS);
    let disk = Arc::new(Mutex::new(Disk::default()));
    let fake = Arc::new(Fake {
        disk: Some(disk.clone()),
        ..Fake::default()
    });
    let sink = Kept {
        disk: disk.clone(),
        ..Kept::default()
    };
    let (done, events) = run_pass_into(&rb, fake.clone(), &Carry::default(), &[], settings(), sink);
    assert_eq!(done.stop, None);
    assert_eq!(
        fake.early.lock().expect("lock").clone(),
        Vec::<String>::new(),
        "jobs started before their line was on disk"
    );
    // The end that released a step is on disk before that step's jobs start: each
    // job's `step_started` follows the ends before it in the same durable prefix.
    let disk = disk.lock().expect("lock");
    let lines: Vec<&str> = disk.lines.iter().map(String::as_str).collect();
    let at = |l: &str| {
        lines
            .iter()
            .position(|x| *x == l)
            .unwrap_or_else(|| panic!("{l} not in {lines:?}"))
    };
    assert!(at("step_finished db.verify.1@b1") < at("step_started app.start.1@b1"));
    // Grouped: far fewer flushes than lines (one per wave and per wait, not per event).
    let steps = events.iter().filter(|e| line_of(e).is_some()).count();
    assert!(
        disk.flushes < steps,
        "{} flushes for {steps} lines",
        disk.flushes
    );
}
