//! `switchyard plan`: the derived switchover, before anything runs.

use crate::config::Runbook;
use crate::config::diagnostic::did_you_mean;
use crate::config::ids::HallId;
use crate::config::model::Mode;
use crate::plan::predict::predict;
use crate::plan::{self, render};

use super::args::{Direction, Global, ModeArg, PlanArgs, PlanFormat};
use super::error::UnknownHall;
use super::history;
use super::subject::Subject;
use super::{Error, exit};

/// `--from`/`--to` checked against the runbook's halls.
pub fn direction(rb: &Runbook, d: &Direction) -> Result<(HallId, HallId, Mode), Error> {
    let [a, b] = &rb.halls;
    let check = |flag: &'static str, h: &str| -> Result<HallId, Error> {
        if h == a.as_str() || h == b.as_str() {
            return Ok(HallId::new(h));
        }
        let hint = did_you_mean(h, [a.as_str(), b.as_str()])
            .map_or(String::new(), |m| format!(" (did you mean `{m}`?)"));
        Err(Error::UnknownHall(Box::new(UnknownHall {
            flag,
            hall: h.to_string(),
            runbook: rb.name.clone(),
            halls: [a.to_string(), b.to_string()],
            hint,
        })))
    };
    let to = check("--to", &d.to)?;
    let from = match &d.from {
        Some(f) => check("--from", f)?,
        None => {
            if to == *a {
                b.clone()
            } else {
                a.clone()
            }
        }
    };
    if from == to {
        return Err(Error::SameHall(to.to_string()));
    }
    let mode = match d.mode {
        ModeArg::Switchover => Mode::Switchover,
        ModeArg::Failover => Mode::Failover,
    };
    Ok((from, to, mode))
}

pub fn run(g: &Global, a: &PlanArgs) -> Result<u8, Error> {
    let subject = Subject::load(&a.direction.runbook, &g.inventory, &[])?;
    let (from, to, mode) = direction(&subject.runbook, &a.direction)?;
    let plan = plan::build(&subject.runbook, &from, &to, mode);
    // Only the text and JSON show a prediction; the JSON without one is what runs hash.
    let prediction = match a.format {
        PlanFormat::Text | PlanFormat::Json => {
            let scanned = history::scan(&a.evidence_dir, None)?;
            predict(&plan, &super::predict::measurements(&plan, &scanned))
        }
        PlanFormat::Dot | PlanFormat::Mermaid => None,
    };
    let out = match a.format {
        PlanFormat::Text => render::text_predicted(&plan, prediction.as_ref()),
        PlanFormat::Json => render::json_predicted(&plan, prediction.as_ref()),
        PlanFormat::Dot => render::dot(&plan),
        PlanFormat::Mermaid => render::mermaid(&plan),
    };
    crate::ui::terminal::to_stdout(&out);
    Ok(exit::PASSED)
}
