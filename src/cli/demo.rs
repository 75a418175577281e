//! `switchyard demo` and its helper `switchyard serve-http`: a live drill of the bundled
//! runbook (or with `--site`, the bundled site) against a lab on this machine, run exactly
//! as `switchyard run --live --yes`.

use crate::demo::lab::Drill;
use crate::demo::{Lab, lab, server};

use super::args::{DemoArgs, Direction, Global, ModeArg, RunArgs, ServeHttpArgs};
use super::{Error, exit};

pub fn run(g: &Global, a: &DemoArgs) -> Result<u8, Error> {
    if !g.inventory.is_empty() {
        return Err(Error::Setup(
            "the demo brings its own inventory: --inventory does not apply to it".into(),
        ));
    }
    let exe = std::env::current_exe()
        .map_err(|e| Error::Setup(format!("cannot find this program's own path: {e}")))?;
    let drill = if a.site { Drill::Site } else { Drill::Runbook };
    let lab = Lab::start(&exe, drill, a.keep).map_err(Error::Setup)?;
    if !g.quiet {
        crate::ui::terminal::to_stderr(&describe(&lab));
    }
    // The user's display and logging settings, but no inventory of theirs.
    let global = Global {
        inventory: Vec::new(),
        verbose: g.verbose,
        quiet: g.quiet,
        log_format: g.log_format,
        color: g.color,
        no_progress: g.no_progress,
    };
    let args = RunArgs {
        direction: Direction {
            runbook: lab.subject(),
            to: lab::TO.into(),
            from: Some(lab::FROM.into()),
            mode: ModeArg::Switchover,
        },
        live: true,
        yes: true,
        wait_for_answer: None,
        notify_dry_run: false,
        only: Vec::new(),
        max_parallel: None,
        evidence_dir: a.evidence_dir.clone(),
        incident_start: None,
        grace: std::time::Duration::from_secs(30),
        sign_with: None,
    };
    let result = super::run::execute(&global, &args);
    let lab_dir = lab.dir().to_path_buf();
    let stopped = lab.stop();
    if !g.quiet {
        let after = if a.keep {
            format!("; the lab is kept in {}", lab_dir.display())
        } else {
            "; the lab is removed".to_string()
        };
        crate::ui::terminal::to_stderr(&format!(
            "demo: stopped the lab's {stopped} endpoints{after}\n"
        ));
    }
    let (code, run_dir) = result?;
    let report = run_dir.join("report.html");
    let report = std::path::absolute(&report).unwrap_or(report);
    crate::ui::terminal::to_stdout(&format!("report: {}\n", report.display()));
    Ok(code)
}

/// What the lab is, before the run's own lines.
fn describe(lab: &Lab) -> String {
    let mut s = format!(
        "demo: a lab of two halls in {}, each host a health endpoint on this machine:\n",
        lab.dir().display()
    );
    let width = lab
        .endpoints()
        .iter()
        .map(|e| e.host.len())
        .max()
        .unwrap_or(0);
    for e in lab.endpoints() {
        s += &format!(
            "  {:<width$} hall {}  http://{}/health  {}\n",
            e.host,
            e.hall,
            e.address,
            if e.up { "up" } else { "down" }
        );
    }
    let (what, systems) = match lab.drill() {
        Drill::Runbook => ("runbook", ""),
        Drill::Site => ("site", " (DNS, directory, database, permits portal)"),
    };
    s += &format!(
        "demo: switching the {what} {}{systems} live from hall {} to hall {}\n",
        lab.subject().display(),
        lab::FROM,
        lab::TO
    );
    s
}

/// `switchyard serve-http`: one lab endpoint, until stdin closes or a signal ends it.
pub fn serve_http(a: &ServeHttpArgs) -> Result<u8, Error> {
    server::serve(&a.listen, &a.state_file)
        .map_err(|e| Error::Setup(format!("serve-http on {}: {e}", a.listen)))?;
    Ok(exit::PASSED)
}
