//! `switchyard run`: a dry run, or with `--live` a switchover, with evidence; and
//! `switchyard resume`, which continues an interrupted run in its own folder.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use sha2::{Digest, Sha256};
use tokio::sync::mpsc;

use crate::engine::drill::{self, Start};
use crate::engine::event::{FileHash, RunStarted};
use crate::engine::executor::{DryRun, Executor, Live};
use crate::engine::hangup::Hangup;
use crate::engine::job;
use crate::engine::kind::{Effect, RunKind};
use crate::engine::scheduler::{Io, Settings};
use crate::engine::secrets::{self, Redactor};
use crate::engine::sink::Sink as _;
use crate::engine::stopwatch::{Stopwatch, parse_timestamp, timestamp};
use crate::engine::{Event, Outcome};
use crate::evidence::sign::Signer;
use crate::evidence::{Recorder, folder};
use crate::notify::webhook::Prepared;
use crate::notify::{self, Notifier, Webhook};
use crate::plan::{self, Plan};
use crate::transport::Transports;
use crate::ui::lines::Asked;

use super::args::{Global, RunArgs};
use super::lock::{self, RunLock};
use super::plan::direction;
use super::reporter::Reporter;
use super::subject::Subject;
use super::{Error, exit};

pub fn run(g: &Global, a: &RunArgs) -> Result<u8, Error> {
    execute(g, a).map(|(code, _)| code)
}

/// Carries out the run of `a`; returns the exit code and the run folder.
pub fn execute(g: &Global, a: &RunArgs) -> Result<(u8, PathBuf), Error> {
    let mut subject = Subject::load(&a.direction.runbook, &g.inventory, &a.only)?;
    let (from, to, mode) = direction(&subject.runbook, &a.direction)?;
    subject.hash_runbooks(&from, &to, mode);
    let rb = &subject.runbook;
    let plan = plan::build_only(rb, &from, &to, mode, &subject.included);
    let origin = a
        .incident_start
        .as_deref()
        .map(incident_start)
        .transpose()
        .map_err(Error::IncidentStart)?;
    let secret_values = secrets::resolve_all(rb).map_err(Error::Secret)?;
    // A key that cannot sign is refused before anything runs.
    let signer = load_signer(a.sign_with.as_deref().or(rb.inventory.sign_with.as_deref()))?;
    let kind = RunKind::new(a.live, mode);
    let webhooks = webhooks(rb, kind.is_live() || a.notify_dry_run)?;
    // `--wait-for-answer` is the consent of a run with nobody at its terminal.
    if kind.is_live() && !a.yes && a.wait_for_answer.is_none() {
        confirm(&plan)?;
    }
    let lock = take_locks(kind, &subject.lock_names())?;
    // A live run's expected step durations, for RTO at risk: read before its own folder.
    let expected = if kind.is_live() {
        super::predict::expected(&plan, &a.evidence_dir)
    } else {
        Vec::new()
    };
    let clock = Stopwatch::start(origin);
    // A site's folder says so: `site-NAME-…`, beside its runbooks' own `NAME-…`.
    let folder_name = if rb.site {
        format!("site-{}", rb.name)
    } else {
        rb.name.clone()
    };
    let dir = folder::create(
        &a.evidence_dir,
        &folder_name,
        from.as_str(),
        to.as_str(),
        clock.started,
    )
    .map_err(Error::Evidence)?;
    let inputs = folder::copy_inputs(&dir, &subject.sources).map_err(Error::Evidence)?;
    let recorder = Recorder::new(&dir).map_err(Error::Evidence)?;
    let recorded = Recorded {
        max_parallel: a.max_parallel.map_or(rb.max_parallel, |m| m) as usize,
        plan_hash: hex::encode(Sha256::digest(plan::render::json(&plan).as_bytes())),
        inputs,
        runbook_file: absolute(&a.direction.runbook),
        inventory_files: g.inventory.iter().map(|p| absolute(p)).collect(),
        only: a.only.clone(),
    };
    let settings = Settings {
        wait_for_answer: a.wait_for_answer,
        expected,
        ..settings(
            recorded,
            clock,
            redactor(&secret_values, &webhooks),
            a.yes,
            a.grace,
            takeover_notice(&lock),
            signer.as_ref().map(Signer::fingerprint),
        )
    };
    let transports = Transports::new(rb).map_err(Error::Setup)?;
    let hosts = transports.ssh_hosts(
        &rb.inventory,
        plan.steps.iter().flat_map(|s| s.hosts.iter().copied()),
    );
    let run = Execution {
        plan: &plan,
        transports,
        secrets: secret_values,
        settings,
        kind,
        signer,
        run_id: folder_name_of(&dir),
        webhooks: webhooks.hooks,
    };
    let code = run.execute(g, recorder, Start::Fresh { hosts }, None);
    drop(lock);
    code
}

/// What the evidence records of how a run was started, and `resume` takes back from
/// its `run_started`: the same run goes on with the same settings.
pub(super) struct Recorded {
    pub max_parallel: usize,
    pub plan_hash: String,
    pub inputs: Vec<FileHash>,
    pub runbook_file: String,
    pub inventory_files: Vec<String>,
    pub only: Vec<String>,
}

impl Recorded {
    /// As the run that is resumed recorded it.
    pub fn of(st: &RunStarted) -> Recorded {
        Recorded {
            max_parallel: st.max_parallel,
            plan_hash: st.plan_hash.clone(),
            inputs: st.inputs.clone(),
            runbook_file: st.runbook_file.clone(),
            inventory_files: st.inventory_files.clone(),
            only: st.only.clone(),
        }
    }
}

/// The scheduler's settings for a run, fresh or resumed. `assume_yes` and `grace` are
/// this invocation's `--yes` and `--grace` (`--wait-for-answer` is set by the caller);
/// `redactor` cleans what the run writes of secrets; `notices` go into the evidence as the run
/// starts.
pub(super) fn settings(
    recorded: Recorded,
    clock: Stopwatch,
    redactor: Redactor,
    assume_yes: bool,
    grace: Duration,
    notices: Vec<String>,
    signed_by: Option<String>,
) -> Settings {
    Settings {
        max_parallel: recorded.max_parallel,
        operator: operator(),
        clock,
        redactor,
        plan_hash: recorded.plan_hash,
        inputs: recorded.inputs,
        assume_yes,
        wait_for_answer: None,
        grace,
        runbook_file: recorded.runbook_file,
        inventory_files: recorded.inventory_files,
        only: recorded.only,
        notices,
        signed_by,
        expected: Vec::new(),
    }
}

/// The webhooks of the inventory's and the runbooks' `[[notify]]` tables, when the run
/// `notifies`, and the secret values read for them; a secret that cannot be read or a
/// webhook that is no URL is refused before anything runs (exit 2).
pub(super) fn webhooks(
    rb: &crate::config::runbook::Runbook,
    notifies: bool,
) -> Result<Prepared, Error> {
    if !notifies {
        return Ok(Prepared::default());
    }
    let all: Vec<_> = rb.notifies().collect();
    notify::webhook::prepare(&all).map_err(Error::Secret)
}

/// What every byte the run prints or writes is cleaned of: the runbooks' secrets and
/// those of the webhooks.
pub(super) fn redactor(values: &secrets::Values, webhooks: &Prepared) -> Redactor {
    let extra = webhooks.secrets.iter().map(|(k, v)| (k, v));
    Redactor::new(values.iter().flatten().chain(extra))
}

/// Loads and checks `--sign-with`'s key; `Err` (exit 2) says why it cannot sign.
pub(super) fn load_signer(spec: Option<&str>) -> Result<Option<Signer>, Error> {
    spec.map(Signer::load).transpose().map_err(Error::Setup)
}

/// A prepared run, fresh or resumed: everything but how it begins.
pub(super) struct Execution<'p, 'r> {
    pub plan: &'p Plan<'r>,
    pub transports: Transports,
    pub secrets: secrets::Values,
    pub settings: Settings,
    pub kind: RunKind,
    /// Signs the run folder once the reports are written (`--sign-with`).
    pub signer: Option<Signer>,
    /// The run folder's name: `{{run.id}}`.
    pub run_id: String,
    /// The `[[notify]]` webhooks told of the run's events (none for a dry run without
    /// `--notify-dry-run`).
    pub webhooks: Vec<Webhook>,
}

impl Execution<'_, '_> {
    /// Runs it, records every event, writes the reports and returns the exit code.
    /// `first` is an event to record before the run's own (`resumed`).
    pub fn execute(
        mut self,
        g: &Global,
        recorder: Recorder,
        start: Start,
        first: Option<Event>,
    ) -> Result<(u8, PathBuf), Error> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .map_err(|e| Error::Setup(format!("cannot start the runtime: {e}")))?;
        // Before any host is contacted: from here on a hangup (SIGHUP) does not end the
        // process, which would leave its remote commands to their watchdogs halfway.
        let hangup = {
            let _entered = runtime.enter();
            Hangup::listen()
        };
        // A live run takes answers from `switchyard answer` for as long as it runs.
        let socket = if self.kind.is_live() {
            let _entered = runtime.enter();
            match super::answer::listen(recorder.dir()) {
                Ok(listening) => Some(listening),
                Err(why) => {
                    crate::ui::terminal::to_stderr(&format!(
                        "warning: `switchyard answer` cannot reach this run: {why}\n"
                    ));
                    None
                }
            }
        } else {
            None
        };
        let (socket, answers) = socket.unzip();
        let settings = &self.settings;
        let interactive =
            self.kind.is_live() && !settings.assume_yes && std::io::stdin().is_terminal();
        let asked = if interactive {
            Asked::Terminal
        } else if settings.wait_for_answer.is_some() && socket.is_some() {
            Asked::Answer {
                run_dir: absolute(recorder.dir()),
            }
        } else {
            Asked::Nobody
        };
        let mut reporter = Reporter::new(g, settings.clock, self.plan.runbook.rto, recorder, asked);
        let webhooks = std::mem::take(&mut self.webhooks);
        self.start_notifier(&runtime, webhooks, &mut reporter);
        if let Some(e) = first {
            reporter.emit(e);
        }
        let mut io = Io {
            sink: &mut reporter,
            input: interactive.then(terminal_lines),
            hangup,
            answers,
        };
        let mode = self.kind.mode;
        let outcome = match self.kind.effect {
            Effect::Live => self.drive(&runtime, Live { mode }, start, &mut io),
            Effect::DryRun => self.drive(&runtime, DryRun { mode }, start, &mut io),
        };
        // No more answers are taken; those under way are told so, and the one that
        // ended the run that it was taken.
        let Io {
            input,
            hangup,
            answers,
            ..
        } = io;
        drop(answers);
        if let Some(s) = &socket {
            s.drain(&runtime);
        }
        // The run's last events are told to its webhooks (at most 5 s more).
        reporter.finish_notifications(&runtime);
        // Blocked terminal reads must not keep the process alive.
        runtime.shutdown_background();
        // Gone before the folder is signed: nothing answers any more.
        drop(socket);
        // Every host's connection is closed before the reports are written, so that a
        // large run's memory peaks once, not twice at the same time.
        drop((input, hangup));
        drop(self.transports);
        let (recorder, broken) = reporter.finish();
        let dir = recorder.dir().to_path_buf();
        // A journal that broke during the run fails the run (exit 1), whether or not
        // the reports can still be written from what it holds.
        let finished = recorder.finish();
        if let (Err(why), Some(_)) = (&finished, &broken) {
            crate::ui::terminal::to_stderr(&format!("error: {why}\n"));
        }
        let (dir, record) = match finished {
            Ok((dir, record)) => (dir, Some(record)),
            Err(_) if broken.is_some() => (dir, None),
            Err(why) => return Err(Error::Evidence(why)),
        };
        // The folder is signed as it is, complete or not: a broken journal's folder is
        // still what the run left, and the manifest pins its last hash.
        let mut unsigned = false;
        if let (Some(signer), Some(r)) = (&self.signer, &record)
            && let Err(why) = signer.sign_folder(&dir, &r.last_hash)
        {
            crate::ui::terminal::to_stderr(&format!(
                "error: the run folder is not signed: {why}\n"
            ));
            unsigned = true;
        }
        if broken.is_some() {
            crate::ui::terminal::to_stderr(
                "error: the evidence is incomplete: the journal could not be written to its end\n",
            );
        }
        crate::ui::terminal::to_stdout(&summary_lines(outcome, &dir, record.as_ref()));
        let code = if broken.is_some() || unsigned {
            exit::FAILED
        } else {
            code_of(outcome)
        };
        Ok((code, dir))
    }
}

impl Execution<'_, '_> {
    /// Tells `webhooks` of the run's events from now on. A notifier that cannot start
    /// costs the run nothing but its notifications, and the evidence says so.
    fn start_notifier(
        &self,
        runtime: &tokio::runtime::Runtime,
        webhooks: Vec<Webhook>,
        reporter: &mut Reporter,
    ) {
        if webhooks.is_empty() {
            return;
        }
        let dir = reporter.dir();
        let ctx = notify::Context {
            runbook: self.plan.runbook.name.clone(),
            from: self.plan.from.as_str().to_string(),
            to: self.plan.to.as_str().to_string(),
            mode: self.plan.mode,
            live: self.kind.is_live(),
            run_dir: absolute(&dir),
            rto_target_s: self.plan.runbook.rto.as_secs_f64(),
        };
        let redactor = Arc::new(self.settings.redactor.clone());
        let journal = reporter.journal();
        match Notifier::start(runtime.handle(), ctx, webhooks, redactor, journal) {
            Ok(n) => reporter.notify(n),
            Err(why) => reporter.emit(Event::Notice {
                message: format!("no notifications are sent: {why}"),
            }),
        }
    }
}

/// The exit code of a run that ended `outcome` with its evidence whole.
pub(super) fn code_of(outcome: Outcome) -> u8 {
    match outcome {
        Outcome::Passed => exit::PASSED,
        Outcome::RtoBreached | Outcome::RpoBreached => exit::RTO_MISSED,
        Outcome::Interrupted => exit::INTERRUPTED,
        Outcome::Failed | Outcome::Aborted | Outcome::RolledBack => exit::FAILED,
    }
}

/// What `run` prints on stdout at its end: the outcome, the run folder, and a site
/// run's systems.
pub(super) fn summary_lines(
    outcome: Outcome,
    dir: &Path,
    record: Option<&crate::evidence::record::Record>,
) -> String {
    let mut text = format!("{}: evidence in {}\n", outcome.as_str(), dir.display());
    if let Some(r) = record {
        text.push_str(&systems(r));
    }
    text
}

impl Execution<'_, '_> {
    /// Runs the drill with `executor`, the one thing a live run and a dry run differ in.
    fn drive<E: Executor>(
        &self,
        runtime: &tokio::runtime::Runtime,
        executor: E,
        start: Start,
        io: &mut Io<'_>,
    ) -> Outcome {
        let jobs_of = |p: &Plan<'_>| -> Vec<job::Job> {
            (0..p.steps.len())
                .flat_map(|i| job::jobs(p, i, &self.transports, &self.secrets, Some(&self.run_id)))
                .chain(crate::engine::invariants::jobs(
                    p,
                    &self.transports,
                    &self.secrets,
                    Some(&self.run_id),
                ))
                .collect()
        };
        let canaries = crate::engine::canary::prepare(
            self.plan,
            &self.transports,
            &self.secrets,
            Some(&self.run_id),
        );
        let executor = Arc::new(executor);
        runtime.block_on(drill::run(
            self.plan,
            &jobs_of,
            executor,
            &self.settings,
            start,
            io,
            canaries,
        ))
    }
}

/// Lines the operator types, read on a thread of their own and sent to the run.
fn terminal_lines() -> mpsc::UnboundedReceiver<String> {
    let (tx, rx) = mpsc::unbounded_channel();
    std::thread::spawn(move || {
        let stdin = std::io::stdin();
        let mut line = String::new();
        while stdin.read_line(&mut line).is_ok_and(|n| n > 0) {
            if tx.send(std::mem::take(&mut line)).is_err() {
                break;
            }
        }
    });
    rx
}

/// `--incident-start`: a time before now. A start in the future would make every
/// recovery time wrong, so it is refused, never replaced.
fn incident_start(text: &str) -> Result<time::OffsetDateTime, String> {
    let t = parse_timestamp(text)?;
    let now = time::OffsetDateTime::now_utc();
    if t > now {
        return Err(format!(
            "`{text}` is in the future (it is now {}): the RTO clock starts when the incident began, which has happened",
            timestamp(now)
        ));
    }
    Ok(t)
}

/// A live run takes the lock of its runbook, or of every runbook of its site (so that no
/// other run switches one of them meanwhile); a dry run changes nothing and takes none.
/// When one is held elsewhere, those taken already are given back.
pub(super) fn take_locks(kind: RunKind, runbooks: &[&str]) -> Result<Vec<RunLock>, Error> {
    if kind.is_dry_run() {
        return Ok(Vec::new());
    }
    let holder = format!(
        "pid {} by {} since {}",
        std::process::id(),
        operator(),
        timestamp(time::OffsetDateTime::now_utc())
    );
    runbooks
        .iter()
        .map(|runbook| lock::acquire(runbook, &holder).map_err(Error::Locked))
        .collect()
}

pub(super) fn takeover_notice(locks: &[RunLock]) -> Vec<String> {
    locks
        .iter()
        .filter_map(|l| l.took_over.as_ref())
        .map(|who| format!("took over the stale lock of a run that is gone ({who})"))
        .collect()
}

pub(super) fn absolute(p: &Path) -> String {
    std::path::absolute(p)
        .unwrap_or_else(|_| PathBuf::from(p))
        .display()
        .to_string()
}

/// On a terminal, the operator types the runbook's name before a live run starts.
pub(super) fn confirm(plan: &Plan<'_>) -> Result<(), Error> {
    if !std::io::stdin().is_terminal() {
        return Err(Error::NeedsConfirmation);
    }
    let rb = plan.runbook;
    crate::ui::terminal::to_stderr(&format!(
        "LIVE {} of `{}` from hall {} to hall {}: {} steps will change things.\nType the runbook's name ({}) to proceed: ",
        plan.mode.as_str(),
        rb.name,
        plan.from,
        plan.to,
        plan.steps.len(),
        rb.name
    ));
    let mut line = String::new();
    let _ = std::io::stdin().read_line(&mut line);
    if line.trim() == rb.name {
        Ok(())
    } else {
        Err(Error::NotConfirmed)
    }
}

/// Who runs this, as the evidence names them: `user@host`, the user being the one of
/// the process's real uid (`uid N` when it has no name) — never `$USER` or `$LOGNAME`,
/// which anyone can set. Root under sudo is `root@host (sudo from alice)`.
pub(super) fn operator() -> String {
    let uid = nix::unistd::getuid();
    let user = nix::unistd::User::from_uid(uid)
        .ok()
        .flatten()
        .map_or_else(|| format!("uid {uid}"), |u| u.name);
    let host = nix::unistd::gethostname()
        .ok()
        .and_then(|h| h.into_string().ok())
        .unwrap_or_else(|| "unknown".into());
    let via = sudo_from(uid).map_or(String::new(), |who| format!(" (sudo from {who})"));
    format!("{user}@{host}{via}")
}

/// Who sudo says became root: `$SUDO_USER`, as sudo sets it. Any root shell could set it
/// too, so it is recorded beside the real user, never instead of it.
fn sudo_from(uid: nix::unistd::Uid) -> Option<String> {
    if !uid.is_root() {
        return None;
    }
    std::env::var("SUDO_USER")
        .ok()
        .filter(|who| !who.is_empty() && !who.chars().any(char::is_control))
}

/// A site run's systems as they ended, a line each, lowest tier first: what a person
/// reads first after a site run. Empty for a runbook's run.
fn systems(r: &crate::evidence::record::Record) -> String {
    let mut rows: Vec<_> = r.runbooks.iter().collect();
    rows.sort_by(|a, b| (a.tier, &a.name).cmp(&(b.tier, &b.name)));
    let width = rows.iter().map(|rb| rb.name.len()).max().unwrap_or(0);
    let mut out = String::new();
    for rb in rows {
        let detail = match (rb.rto(), &rb.reason) {
            (Some(rto), _) => format!(
                "{:.1}s of {} ({})",
                rto.achieved_s,
                std::time::Duration::try_from_secs_f64(rto.target_s).map_or_else(
                    |_| format!("{}s", rto.target_s),
                    crate::config::duration::format
                ),
                if rto.met { "met" } else { "MISSED" }
            ),
            (None, Some(reason)) => reason.clone(),
            (None, None) => String::new(),
        };
        out += &format!(
            "  tier {}  {:width$}  {:11}  {detail}\n",
            rb.tier,
            rb.name,
            rb.status.words()
        );
    }
    out
}

/// The name of a run folder, which `{{run.id}}` stands for.
pub(super) fn folder_name_of(dir: &std::path::Path) -> String {
    dir.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}
