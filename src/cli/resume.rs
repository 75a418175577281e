//! `switchyard resume RUN_DIR`: continues an interrupted run in its own folder. The
//! journal is the truth: steps it records as ended are not run again, steps it records
//! as started but not ended are run again and flagged, the RTO clock keeps its origin
//! and the hash chain goes on. The runbook and inventories are loaded again from where
//! the run found them, and refused if they changed since (unless `--force`, which the
//! evidence records).

use std::collections::HashSet;
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::engine::drill::{ROLLBACK, Start};
use crate::engine::event::{Event, Outcome, StepStatus};
use crate::engine::kind::RunKind;
use crate::engine::operator::Choice;
use crate::engine::scheduler::{Carry, Halted};
use crate::engine::secrets;
use crate::engine::stopwatch::{Stopwatch, parse_timestamp, timestamp};
use crate::evidence::journal::{self, Entry};
use crate::evidence::sign::{self, Signer};
use crate::evidence::{Recorder, record::Record};
use crate::plan;
use crate::transport::Transports;

use super::Error;
use super::args::{Global, ResumeArgs};
use super::run::{
    Execution, Recorded, confirm, load_signer, redactor, settings, take_locks, takeover_notice,
    webhooks,
};
use super::subject::Subject;

pub fn run(g: &Global, a: &ResumeArgs) -> Result<u8, Error> {
    if !g.inventory.is_empty() {
        return Err(Error::RunFolder(
            "resume loads the inventory files the run used, as its journal names them; --inventory is not taken".into(),
        ));
    }
    let path = a.run_dir.join("journal.jsonl");
    let text = std::fs::read_to_string(&path)
        .map_err(|e| Error::RunFolder(format!("cannot read `{}`: {e}", path.display())))?;
    // A torn last line (killed mid-write) is dropped; any other break is refused.
    let intact = match text.rfind('\n') {
        Some(i) => &text[..=i],
        None => "",
    };
    let read = journal::read(intact).map_err(|b| {
        Error::RunFolder(format!(
            "`{}` line {}: {} — a journal that does not verify cannot be resumed",
            path.display(),
            b.line,
            b.reason
        ))
    })?;
    let record = Record::from_entries(&read.entries, &read.last_hash)
        .map_err(|e| Error::RunFolder(format!("`{}`: {e}", path.display())))?;
    // A run stopped by Ctrl-C or SIGTERM finished `interrupted`: it is resumed like
    // one that was killed. Any other end is final.
    if record.finished && record.outcome != Outcome::Interrupted {
        return write_reports(a, &read, intact.len() as u64, &record);
    }
    let st = &record.start;
    let inventories: Vec<_> = st.inventory_files.iter().map(Into::into).collect();
    let loaded = Subject::load(Path::new(&st.runbook_file), &inventories, &st.only)?;
    let changed = changed_inputs(&loaded.sources, &record);
    if !changed.is_empty() && !a.force {
        return Err(Error::RunFolder(format!(
            "these inputs changed since the run started: {}; resume with --force to accept them (the evidence will say so)",
            changed.join(", ")
        )));
    }
    let rb = &loaded.runbook;
    // A key that cannot sign is refused before anything runs.
    let signer = load_signer(a.sign_with.as_deref().or(rb.inventory.sign_with.as_deref()))?;
    let find_hall = |name: &str| {
        rb.halls
            .iter()
            .find(|h| h.as_str() == name)
            .cloned()
            .ok_or_else(|| Error::RunFolder(format!("the runbook no longer has hall `{name}`")))
    };
    let (from, to) = (find_hall(&st.from)?, find_hall(&st.to)?);
    let plan = plan::build_only(rb, &from, &to, st.mode, &loaded.included);
    let kind = RunKind::new(!st.dry_run, st.mode);
    if kind.is_live() && !a.yes && a.wait_for_answer.is_none() {
        confirm(&plan)?;
    }
    let lock = take_locks(kind, &loaded.lock_names())?;
    let origin = parse_timestamp(&st.clock_origin).map_err(Error::RunFolder)?;
    let secret_values = secrets::resolve_all(rb).map_err(Error::Secret)?;
    let webhooks = webhooks(rb, kind.is_live() || a.notify_dry_run)?;
    unsign(&a.run_dir, signer.is_some())?;
    let (recorder, torn) =
        Recorder::reopen(&a.run_dir, &read, intact.len() as u64).map_err(Error::Evidence)?;
    let carry = carry(&read.entries);
    let mut rerun: Vec<String> = carry
        .rerun
        .iter()
        .map(|(s, h)| h.as_ref().map_or(s.clone(), |h| format!("{s}@{h}")))
        .collect();
    rerun.sort();
    let mut notices = takeover_notice(&lock);
    if torn {
        notices.push("the journal's last line was torn (switchyard was killed while writing it) and was cut off".into());
    }
    // For RTO at risk: the evidence folder the run's own folder is in.
    let expected = match a.run_dir.parent() {
        Some(dir) if kind.is_live() => super::predict::expected(&plan, dir),
        _ => Vec::new(),
    };
    let settings = crate::engine::scheduler::Settings {
        wait_for_answer: a.wait_for_answer,
        expected,
        ..settings(
            Recorded::of(st),
            Stopwatch::start(Some(origin)),
            redactor(&secret_values, &webhooks),
            a.yes,
            a.grace,
            notices,
            signer.as_ref().map(Signer::fingerprint),
        )
    };
    let resumed = Event::Resumed {
        at: timestamp(settings.clock.now()),
        operator: settings.operator.clone(),
        rerun,
        forced: changed,
        signed_by: signer.as_ref().map(Signer::fingerprint),
    };
    let transports = Transports::new(rb).map_err(Error::Setup)?;
    let run = Execution {
        plan: &plan,
        transports,
        secrets: secret_values,
        settings,
        kind,
        signer,
        run_id: super::run::folder_name_of(&a.run_dir),
        webhooks: webhooks.hooks,
    };
    let code = run
        .execute(g, recorder, Start::Resumed(Box::new(carry)), Some(resumed))
        .map(|(code, _)| code);
    drop(lock);
    code
}

/// What the journal says is done, was under way (or failed), was recovered, and
/// whether a rollback had begun.
fn carry(entries: &[Entry]) -> Carry {
    let mut c = Carry::default();
    let mut started = HashSet::new();
    let mut skipped_by_operator = HashSet::new();
    // The jobs whose last end was a failure.
    let mut failed = HashSet::new();
    for e in entries {
        match &e.event {
            Event::StepStarted { step, host, .. } => {
                started.insert((step.clone(), host.clone()));
            }
            // What failed (and so stopped the run) is tried again, like what was cut off.
            Event::StepFinished(f) if f.status == StepStatus::Failed => {
                let key = (f.step.clone(), f.host.clone());
                c.done.remove(&key);
                failed.insert(key);
            }
            // A step the operator skipped stays skipped; one skipped because the run
            // stopped before it (Ctrl-C, a failure) has not run, and runs now.
            Event::StepFinished(f) if f.status == StepStatus::Skipped => {
                let key = (f.step.clone(), f.host.clone());
                started.remove(&key);
                failed.remove(&key);
                if skipped_by_operator.contains(&key) {
                    c.done.insert(key);
                } else {
                    c.done.remove(&key);
                }
            }
            Event::StepFinished(f) => {
                let key = (f.step.clone(), f.host.clone());
                started.remove(&key);
                failed.remove(&key);
                c.done.insert(key);
            }
            Event::Decision {
                step,
                host,
                choice,
                wait_s,
                ..
            } => {
                if *choice == Choice::Skip {
                    skipped_by_operator.insert((step.clone(), host.clone()));
                }
                // Read back from a journal: a wait that is not a finite, positive number
                // of seconds counts as none rather than stopping the resume.
                c.human_wait += std::time::Duration::try_from_secs_f64(*wait_s).unwrap_or_default();
            }
            Event::ServiceRecovered {
                service,
                achieved_s,
                ..
            } => {
                c.recovered.insert(service.clone(), *achieved_s);
            }
            // A canary's acknowledged writes carry over: a writer that had not stopped
            // goes on after the last of them.
            Event::CanaryWritten { .. } => {
                let Some((service, ack)) = crate::engine::canary::Ack::written(&e.event) else {
                    continue;
                };
                match c.canary.iter_mut().find(|(s, ..)| s == service) {
                    Some((_, acks, _)) => acks.push(ack),
                    None => c.canary.push((service.to_string(), vec![ack], false)),
                }
            }
            Event::CanaryStopped { service, .. } => {
                match c.canary.iter_mut().find(|(s, ..)| s == service) {
                    Some((.., stopped)) => *stopped = true,
                    None => c.canary.push((service.clone(), Vec::new(), true)),
                }
            }
            // The switchover pass is over: none of its steps runs again, not even the
            // one whose failure called for the rollback.
            Event::RollbackStarted {
                services,
                runbook: None,
            } => {
                started.clear();
                c.rollback = Some(services.clone());
            }
            // What a site's switchover pass stopped, since it last (re)started.
            Event::Resumed { .. } => c.halted.clear(),
            Event::RunbookStopped {
                runbook,
                how,
                message,
                blocked,
            } => {
                c.halted.retain(|h| &h.runbook != runbook);
                c.halted.push(Halted {
                    runbook: runbook.clone(),
                    how: *how,
                    message: message.clone(),
                    blocked: blocked.clone(),
                });
            }
            // In a site, one runbook rolls back and the others go on: none of its
            // steps runs again.
            Event::RollbackStarted {
                services,
                runbook: Some(runbook),
            } => {
                let prefix = format!("{runbook}/");
                started.retain(|(step, _)| !step.starts_with(&prefix));
                c.rolling_back.push((runbook.clone(), services.clone()));
            }
            _ => {}
        }
    }
    // A site's runbook that had begun to roll back is not switched forward again: the
    // failure that called for the rollback keeps its end, as in a runbook's run (the
    // resumed pass, which starts none of that runbook's steps, would record it as not
    // run).
    for (runbook, _) in &c.rolling_back {
        let prefix = format!("{runbook}/");
        let ours = failed.iter().filter(|(step, _)| step.starts_with(&prefix));
        c.done.extend(ours.cloned());
    }
    // A site's rollback pass had begun: its switchover pass is over, as above.
    let rollback_pass_begun = entries
        .iter()
        .any(|e| matches!(&e.event, Event::StepStarted { step, .. } if step.starts_with(ROLLBACK)));
    if rollback_pass_begun && !c.rolling_back.is_empty() {
        started.retain(|(step, _)| step.starts_with(ROLLBACK));
        c.rollback = Some(c.rolling_back.drain(..).flat_map(|(_, s)| s).collect());
    }
    c.rerun = started;
    c
}

/// Files loaded now whose bytes match no input the run recorded.
fn changed_inputs(sources: &crate::config::source::Sources, record: &Record) -> Vec<String> {
    let recorded: HashSet<&str> = record
        .start
        .inputs
        .iter()
        .map(|i| i.sha256.as_str())
        .collect();
    sources
        .iter()
        .filter(|(_, f)| {
            !recorded.contains(hex::encode(Sha256::digest(f.text.as_bytes())).as_str())
        })
        .map(|(_, f)| f.path.display().to_string())
        .collect()
}

/// Removes the signature of an earlier end of the run (one stopped by Ctrl-C is signed
/// as it stops): the run goes on, so it would no longer match. `resigned`: this resume
/// signs again at its end; otherwise the operator is told the folder ends unsigned.
/// A run that ended — its journal has its `run_finished` — but was killed before its
/// reports were written (while its last notifications went out, say) gets them now,
/// signed with `--sign-with` if given; one whose reports pin its journal's end has
/// nothing left to do.
fn write_reports(
    a: &ResumeArgs,
    read: &journal::Read,
    intact_len: u64,
    record: &Record,
) -> Result<u8, Error> {
    let shown = a.run_dir.display();
    let outcome = record.outcome.as_str();
    if super::watch::pinned(&a.run_dir).as_deref() == Some(read.last_hash.as_str()) {
        return Err(Error::RunFolder(format!(
            "the run in `{shown}` already finished ({outcome}); there is nothing to resume"
        )));
    }
    if !record.start.dry_run && super::watch::running(&record.start) {
        return Err(Error::Locked(format!(
            "the run in `{shown}` has finished ({outcome}) and a live process holding its lock may still be writing its reports; try again once it has exited"
        )));
    }
    let signer = load_signer(a.sign_with.as_deref())?;
    unsign(&a.run_dir, signer.is_some())?;
    let (recorder, _torn) =
        Recorder::reopen(&a.run_dir, read, intact_len).map_err(Error::Evidence)?;
    let (dir, written) = recorder.finish().map_err(Error::Evidence)?;
    if let Some(s) = &signer {
        s.sign_folder(&dir, &written.last_hash)
            .map_err(|why| Error::Evidence(format!("the run folder is not signed: {why}")))?;
    }
    crate::ui::terminal::to_stderr(&format!(
        "note: the run had finished ({outcome}) but was stopped before its reports were written; they are written now\n"
    ));
    crate::ui::terminal::to_stdout(&super::run::summary_lines(
        written.outcome,
        &dir,
        Some(&written),
    ));
    Ok(super::run::code_of(written.outcome))
}

fn unsign(dir: &Path, resigned: bool) -> Result<(), Error> {
    let mut removed = false;
    for name in [sign::MANIFEST, sign::SIGNATURE] {
        match std::fs::remove_file(dir.join(name)) {
            Ok(()) => removed = true,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(Error::RunFolder(format!(
                    "cannot remove the earlier `{name}`: {e}"
                )));
            }
        }
    }
    if removed && !resigned {
        crate::ui::terminal::to_stderr(
            "warning: the run folder was signed when the run stopped; that signature is removed as the run goes on, and without --sign-with the folder ends unsigned\n",
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::operator::Choice;

    fn decision(wait_s: f64) -> Entry {
        Entry {
            seq: 1,
            ts: String::new(),
            event: Event::Decision {
                step: "db.start.1".into(),
                host: None,
                choice: Choice::Retry,
                by: "ops@host".into(),
                at: String::new(),
                comment: None,
                wait_s,
                from: None,
            },
        }
    }

    #[test]
    fn a_wait_that_is_no_duration_counts_as_none() {
        let waits = [2.5, -1.0, f64::NAN, f64::INFINITY, 1e300].map(decision);
        assert_eq!(
            carry(&waits).human_wait,
            std::time::Duration::from_millis(2500)
        );
    }
}
