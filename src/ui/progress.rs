//! The live display on a terminal: an overall bar (steps done of all, elapsed against the
//! RTO target, and the RTO countdown), one line per running step, and above them the same
//! lines as the plain display, so the history stays on screen.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};

use crate::config::duration::format as dur;
use crate::engine::event::Event;

use super::terminal;

pub struct Progress {
    multi: MultiProgress,
    overall: ProgressBar,
    running: HashMap<(String, Option<String>), ProgressBar>,
    /// A question is open: the bars are hidden and lines go straight to stderr.
    asking: bool,
}

impl Progress {
    /// `origin`: when the RTO clock started, as an instant; `rto`: the runbook's target.
    pub fn new(origin: Instant, rto: Duration) -> Progress {
        let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
        let style =
            ProgressStyle::with_template("{rto_elapsed} {wide_bar} {pos}/{len} steps  {rto_left}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .with_key(
                    "rto_elapsed",
                    move |_: &ProgressState, w: &mut dyn std::fmt::Write| {
                        let _ = write!(
                            w,
                            "{:>8}",
                            dur(Duration::from_secs(origin.elapsed().as_secs()))
                        );
                    },
                )
                .with_key(
                    "rto_left",
                    move |_: &ProgressState, w: &mut dyn std::fmt::Write| {
                        let spent = origin.elapsed();
                        let _ = match rto.checked_sub(spent) {
                            Some(left) => write!(
                                w,
                                "RTO {}: {} left",
                                dur(rto),
                                dur(Duration::from_secs(left.as_secs()))
                            ),
                            None => write!(
                                w,
                                "RTO {}: MISSED by {}",
                                dur(rto),
                                dur(Duration::from_secs((spent - rto).as_secs()))
                            ),
                        };
                    },
                );
        let overall = multi.add(ProgressBar::new(0).with_style(style));
        overall.enable_steady_tick(Duration::from_millis(500));
        Progress {
            multi,
            overall,
            running: HashMap::new(),
            asking: false,
        }
    }

    /// Stops drawing at once (the terminal is gone): the bars are hidden, not cleared,
    /// as clearing would write to the terminal.
    pub fn hide(self) {
        self.multi.set_draw_target(ProgressDrawTarget::hidden());
        for bar in self.running.values() {
            bar.disable_steady_tick();
        }
        self.overall.disable_steady_tick();
    }

    /// Updates the display for `event`; `line` is what the plain display would print.
    pub fn on_event(&mut self, event: &Event, line: Option<String>) {
        match event {
            Event::RunStarted(r) => self.overall.set_length(r.executions as u64),
            Event::StepStarted {
                step,
                service,
                phase,
                host,
                ..
            } => {
                let style = ProgressStyle::with_template("  {spinner} {msg} {elapsed}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner());
                let bar = self.multi.add(ProgressBar::new_spinner().with_style(style));
                let on = host.as_ref().map_or(String::new(), |h| format!(" on {h}"));
                terminal::set_message(&bar, &format!("{service} {phase} {step}{on}"));
                bar.enable_steady_tick(Duration::from_millis(200));
                self.running.insert((step.clone(), host.clone()), bar);
                return;
            }
            Event::AttemptFinished {
                step,
                host,
                attempt,
                ok: false,
                ..
            } => {
                if let Some(bar) = self.running.get(&(step.clone(), host.clone())) {
                    let on = host.as_ref().map_or(String::new(), |h| format!(" on {h}"));
                    terminal::set_message(bar, &format!("{step}{on} attempt {}", attempt + 1));
                }
            }
            Event::StepFinished(f) => {
                if let Some(bar) = self.running.remove(&(f.step.clone(), f.host.clone())) {
                    bar.finish_and_clear();
                    self.multi.remove(&bar);
                }
                self.overall.inc(1);
            }
            Event::RunFinished { .. } => {
                self.overall.finish_and_clear();
            }
            // While a person reads a question and types the answer, nothing redraws:
            // the bars are hidden, the question printed plainly, and the bars come
            // back with the decision.
            Event::Question { .. } => {
                let _ = self.multi.clear();
                self.multi.set_draw_target(ProgressDrawTarget::hidden());
                self.asking = true;
            }
            Event::Decision { .. } => {
                if let Some(line) = line {
                    terminal::to_stderr(&format!("{line}\n"));
                }
                self.multi.set_draw_target(ProgressDrawTarget::stderr());
                self.asking = false;
                return;
            }
            _ => {}
        }
        if let Some(line) = line {
            if self.asking {
                terminal::to_stderr(&format!("{line}\n"));
            } else {
                terminal::println(&self.multi, &line);
            }
        }
    }
}
