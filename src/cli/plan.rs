//! `switchyard plan`: the derived switchover, before anything runs.

use crate::config::diagnostic::did_you_mean;
use crate::config::ids::HallId;
use crate::config::model::Mode;
use crate::config::{Runbook, load_runbook};
use crate::plan::{self, render};

use super::args::{Direction, Global, ModeArg, PlanArgs, PlanFormat};
use super::{exit, report_load_error};

/// `--from`/`--to` checked against the runbook's halls.
pub fn direction(rb: &Runbook, d: &Direction) -> Result<(HallId, HallId, Mode), String> {
    let halls: Vec<&str> = rb.halls.iter().map(HallId::as_str).collect();
    let check = |flag: &str, h: &str| -> Result<HallId, String> {
        if halls.contains(&h) {
            return Ok(HallId::new(h));
        }
        let hint = did_you_mean(h, halls.iter().copied())
            .map_or(String::new(), |m| format!(" (did you mean `{m}`?)"));
        Err(format!(
            "{flag} {h}: runbook `{}` switches between halls `{}` and `{}`{hint}",
            rb.name, halls[0], halls[1]
        ))
    };
    let to = check("--to", &d.to)?;
    let from = match &d.from {
        Some(f) => check("--from", f)?,
        None => rb
            .halls
            .iter()
            .find(|h| **h != to)
            .cloned()
            .unwrap_or_else(|| to.clone()),
    };
    if from == to {
        return Err(format!(
            "--from and --to are both `{to}`: a switchover needs two different halls"
        ));
    }
    let mode = match d.mode {
        ModeArg::Switchover => Mode::Switchover,
        ModeArg::Failover => Mode::Failover,
    };
    Ok((from, to, mode))
}

pub fn run(g: &Global, a: &PlanArgs) -> u8 {
    let loaded = match load_runbook(&a.direction.runbook, &g.inventory) {
        Ok(l) => l,
        Err(e) => {
            report_load_error(g, &e);
            return exit::INVALID;
        }
    };
    let (from, to, mode) = match direction(&loaded.runbook, &a.direction) {
        Ok(d) => d,
        Err(msg) => {
            eprintln!("error: {msg}");
            return exit::INVALID;
        }
    };
    let plan = plan::build(&loaded.runbook, &from, &to, mode);
    let out = match a.format {
        PlanFormat::Text => render::text(&plan),
        PlanFormat::Json => render::json(&plan),
        PlanFormat::Dot => render::dot(&plan),
        PlanFormat::Mermaid => render::mermaid(&plan),
    };
    super::print_stdout(&out);
    exit::PASSED
}
