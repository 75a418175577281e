//! The one consumer of a run's events in the command line, shared by `run` and
//! `resume`: each event goes to the display (progress bars on a terminal, else plain
//! lines), to the evidence recorder and, when the run has `[[notify]]` webhooks, to the
//! notifier. It is the engine's [`Sink`].
//!
//! The notifier's delivery tasks journal their results as they come, between the
//! engine's events: the display and the recorder sit behind one lock that both take.
//!
//! A journal that cannot be written (a full disk, a vanished folder) is said on stderr
//! and reported to the engine as broken, which starts no new step: a switchover must not
//! go on without its evidence.

use std::io::IsTerminal;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use crate::engine::Event;
use crate::engine::sink::Sink;
use crate::engine::stopwatch::{Stopwatch, timestamp};
use crate::evidence::Recorder;
use crate::notify::Notifier;
use crate::ui;

use super::args::Global;

pub struct Reporter {
    shared: Arc<Mutex<Shared>>,
    notifier: Option<Notifier>,
}

/// What the engine and the delivery tasks both write to.
struct Shared {
    clock: Stopwatch,
    /// Taken when the run's evidence is finished: a delivery task that outlived its
    /// time then has nowhere to write, and its result is not recorded.
    recorder: Option<Recorder>,
    dir: std::path::PathBuf,
    display: Display,
    broken: Option<String>,
}

/// What the operator sees of a run's events: progress bars on a terminal, plain lines
/// otherwise. `run` and `resume` show the events as they happen, `watch` as it reads
/// them from the journal: the same display either way.
pub struct Display {
    bars: Option<ui::progress::Progress>,
    quiet: bool,
    /// The terminal hung up: nothing more is drawn or written to it.
    lost: bool,
    /// How a question shown here can be answered.
    asked: ui::lines::Asked,
}

impl Display {
    /// Bars on a terminal unless `--no-progress` or `-q` (or `plain`); plain lines
    /// otherwise. `since_origin`: how long ago the RTO clock started; `rto`: the target;
    /// `asked`: how the run's questions are answered, which their lines tell.
    pub fn new(
        g: &Global,
        plain: bool,
        since_origin: Duration,
        rto: Duration,
        asked: ui::lines::Asked,
    ) -> Display {
        let bars =
            (std::io::stderr().is_terminal() && !g.no_progress && !g.quiet && !plain).then(|| {
                let origin = Instant::now()
                    .checked_sub(since_origin)
                    .unwrap_or_else(Instant::now);
                ui::progress::Progress::new(origin, rto)
            });
        Display {
            bars,
            quiet: g.quiet,
            lost: false,
            asked,
        }
    }

    /// Shows `e`, which happened `elapsed_s` seconds after the RTO clock's origin.
    pub fn show(&mut self, elapsed_s: f64, e: &Event) {
        if self.lost {
            return;
        }
        if let Event::TerminalLost { .. } = e {
            // Its bars are hidden without a last draw; later lines go nowhere.
            self.lost = true;
            if let Some(bars) = self.bars.take() {
                bars.hide();
            }
            return;
        }
        let line = match e {
            Event::Question { .. } => ui::lines::question_line(elapsed_s, e, &self.asked),
            _ => ui::lines::line(elapsed_s, e),
        };
        match &mut self.bars {
            Some(bars) => bars.on_event(e, line),
            None => {
                if let Some(line) = line.filter(|_| !self.quiet || must_see(e)) {
                    ui::terminal::to_stderr(&format!("{line}\n"));
                }
            }
        }
    }

    /// Whether the terminal hung up.
    fn lost(&self) -> bool {
        self.lost
    }
}

impl Reporter {
    /// Bars on a terminal unless `--no-progress` or `-q`; plain lines otherwise;
    /// `asked`: how the run's questions are answered.
    pub fn new(
        g: &Global,
        clock: Stopwatch,
        rto: Duration,
        recorder: Recorder,
        asked: ui::lines::Asked,
    ) -> Reporter {
        let shared = Shared {
            display: Display::new(g, false, clock.since_origin(), rto, asked),
            clock,
            dir: recorder.dir().to_path_buf(),
            recorder: Some(recorder),
            broken: None,
        };
        Reporter {
            shared: Arc::new(Mutex::new(shared)),
            notifier: None,
        }
    }

    /// The run folder.
    pub fn dir(&self) -> std::path::PathBuf {
        lock(&self.shared).dir.clone()
    }

    /// Records an event outside the engine's own, synced at once: what the notifier's
    /// delivery tasks journal.
    pub fn journal(&self) -> crate::notify::Journal {
        let shared = self.shared.clone();
        Arc::new(move |e: Event| {
            let mut s = lock(&shared);
            s.emit(e);
            s.flush();
        })
    }

    /// From now on, the webhooks of `notifier` are told of the run's events.
    pub fn notify(&mut self, notifier: Notifier) {
        self.notifier = Some(notifier);
    }

    /// Gives the last notifications their time (see [`Notifier::finish`]).
    pub fn finish_notifications(&mut self, runtime: &tokio::runtime::Runtime) {
        if let Some(n) = self.notifier.take() {
            n.finish(runtime);
        }
    }

    /// The recorder, to finish the evidence, and why the journal broke, if it did.
    pub fn finish(mut self) -> (Recorder, Option<String>) {
        self.flush();
        drop(self.notifier.take());
        let mut shared = lock(&self.shared);
        let recorder = shared
            .recorder
            .take()
            .expect("only finish, which takes the reporter, takes the recorder");
        (recorder, shared.broken.take())
    }
}

fn lock(shared: &Mutex<Shared>) -> MutexGuard<'_, Shared> {
    shared.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Shared {
    fn emit(&mut self, event: Event) {
        self.display
            .show(self.clock.since_origin().as_secs_f64(), &event);
        let ts = timestamp(self.clock.now());
        if let Some(r) = &mut self.recorder {
            let written = r.record(&ts, event);
            self.check(written);
        }
    }

    fn flush(&mut self) {
        if let Some(r) = &mut self.recorder {
            let synced = r.sync();
            self.check(synced);
        }
    }

    /// Records the outcome of a write: the first failure breaks the journal, and is said.
    fn check(&mut self, written: std::io::Result<()>) {
        // Said once: on a full disk every later event fails the same way.
        if let (Err(err), None) = (written, &self.broken) {
            let why = format!(
                "cannot write the journal in `{}`: {err}",
                self.dir.display()
            );
            if !self.display.lost() {
                ui::terminal::to_stderr(&format!("error: {why}\n"));
            }
            self.broken = Some(why);
        }
    }
}

impl Sink for Reporter {
    fn emit(&mut self, event: Event) {
        let message = self.notifier.as_ref().and_then(|n| n.message(&event));
        lock(&self.shared).emit(event);
        // Queued after the event is recorded: a message that finds its queue full is
        // journaled after the event it was about.
        if let (Some(n), Some(m)) = (&self.notifier, message) {
            n.send(&m);
        }
    }

    fn flush(&mut self) {
        lock(&self.shared).flush();
    }

    fn broken(&self) -> Option<String> {
        lock(&self.shared).broken.clone()
    }
}

/// What `-q` still shows: a question for a person, a failed step, a breached safety
/// invariant, and a site's runbook that stopped.
fn must_see(e: &Event) -> bool {
    match e {
        Event::Question { .. } | Event::RunbookStopped { .. } => true,
        Event::StepFinished(f) => f.status == crate::engine::StepStatus::Failed,
        Event::InvariantChecked(c) => !c.holds,
        _ => false,
    }
}
