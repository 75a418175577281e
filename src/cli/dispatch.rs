//! From parsed arguments to a command, and from its result to an exit code; logging
//! and colour are set up here, once.

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;

use crate::config::diagnostic::render_all;

use super::args::{Cli, Color, Command, Global, LogFormat};
use super::{
    Error, answer, check_inventory, demo, exit, history, import_inventory, plan, report, resume,
    run, status, validate, verify_evidence, watch,
};

/// Runs switchyard with the process's arguments.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() {
                exit::INVALID
            } else {
                exit::PASSED
            });
        }
    };
    init_logging(&cli.global);
    let result = match &cli.command {
        Command::Validate(a) => validate::run(&cli.global, a),
        Command::Plan(a) => plan::run(&cli.global, a),
        Command::Run(a) => run::run(&cli.global, a),
        Command::Resume(a) => resume::run(&cli.global, a),
        Command::Answer(a) => answer::run(a),
        Command::Report(a) => report::run(a),
        Command::VerifyEvidence(a) => verify_evidence::run(a),
        Command::Watch(a) => watch::run(&cli.global, a),
        Command::History(a) => history::run(a),
        Command::Status(a) => status::run(&cli.global, a),
        Command::CheckInventory(a) => check_inventory::run(&cli.global, a),
        Command::ImportInventory(a) => import_inventory::run(&cli.global, a),
        Command::Demo(a) => demo::run(&cli.global, a),
        Command::ServeHttp(a) => demo::serve_http(a),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            report_error(&cli.global, &e);
            ExitCode::from(e.exit_code())
        }
    }
}

/// Shows an error on stderr: a load error as its diagnostics, anything else in one line.
pub(super) fn report_error(g: &Global, e: &Error) {
    let text = match e {
        Error::Load(load) => render_all(&load.sources, &load.diagnostics),
        Error::Import(problems) => format!("{problems}\n"),
        other => format!("error: {other}\n"),
    };
    crate::ui::terminal::diagnostics_to_stderr(&text, use_color(g.color));
}

fn init_logging(g: &Global) {
    let default = match g.verbose {
        // The TLS verifier logs each certificate it refuses as an ERROR of its own; the
        // step or notification it failed already says why, naming host and cause.
        0 => "warn,rustls_platform_verifier=off",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // A closed stderr (a dropped terminal, a closed pipe) would make it panic with
        // `eprintln!` mid-run: a diagnostic that cannot be written is dropped.
        .log_internal_errors(false)
        .with_ansi(use_color(g.color));
    let _ = match g.log_format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}

/// Whether to colour what goes to stderr.
fn use_color(c: Color) -> bool {
    match c {
        Color::Always => true,
        Color::Never => false,
        Color::Auto => std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
    }
}
