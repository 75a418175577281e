//! The command line, as typed options.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Parser, Debug)]
#[command(
    name = "switchyard",
    version,
    about = "Disaster-recovery switchovers between two data halls: plan, run, time against RTO, and record evidence."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Args, Debug)]
pub struct Global {
    /// An inventory file to add to (and override) the runbook's own; repeatable.
    #[arg(long, global = true, value_name = "FILE")]
    pub inventory: Vec<PathBuf>,
    /// More diagnostics on stderr (-v info, -vv debug, -vvv trace).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Only errors: no per-file "ok" lines, no warnings; a run shows only failed steps and questions.
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// Format of diagnostics on stderr.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// When to colour output.
    #[arg(long, global = true, value_enum, default_value_t = Color::Auto)]
    pub color: Color,
    /// Plain lines instead of progress bars, even on a terminal.
    #[arg(long, global = true)]
    pub no_progress: bool,
}

#[derive(Copy, Clone, Debug, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Copy, Clone, Debug, ValueEnum)]
pub enum Color {
    Auto,
    Always,
    Never,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Check runbooks (or sites: every runbook of each) and their inventories; every problem is reported with file, line and column.
    Validate(ValidateArgs),
    /// Show the switchover a run would carry out: waves, critical path, worst case against RTO
    /// (and the RTO predicted from earlier live runs in the evidence folders).
    Plan(PlanArgs),
    /// Carry out a switchover: a dry run (changes nothing) unless --live.
    Run(RunArgs),
    /// Continue an interrupted run in its own evidence folder.
    Resume(ResumeArgs),
    /// Answer the open question of a live run in progress on this machine, from another
    /// terminal: retry, skip, abort or rollback a paused failure; confirm a manual step.
    /// Only the run's OS user, or root, may answer; the first answer wins.
    Answer(AnswerArgs),
    /// Rebuild a run's report (HTML, Markdown, JUnit or summary JSON) from its journal.
    Report(ReportArgs),
    /// Check that a run folder is what the run wrote: journal chain and end, inputs and
    /// output files, summary and reports.
    VerifyEvidence(VerifyEvidenceArgs),
    /// Show a run's progress (as `run` shows it) from its journal, live until the run
    /// ends, from any terminal; exit with the run's exit code. For a finished run, print
    /// its record.
    Watch(WatchArgs),
    /// Every run of a runbook in the evidence folders, oldest first, each checked as
    /// verify-evidence checks it.
    History(HistoryArgs),
    /// For each runbook and direction: is its drill current (never, failing, changed,
    /// overdue or ok)? Exit 0 only when all are ok.
    Status(StatusArgs),
    /// Connect and authenticate to every host of the inventory.
    CheckInventory(CheckInventoryArgs),
    /// Write a switchyard inventory from another tool's inventory (docs/ansible.md).
    ImportInventory(ImportInventoryArgs),
    /// A full live drill on this machine, nothing to set up: a temporary two-hall lab,
    /// a switchover of the bundled runbook (or with --site, a site), and its evidence.
    Demo(DemoArgs),
    /// One health endpoint of the demo's lab (used by `demo`).
    #[command(hide = true)]
    ServeHttp(ServeHttpArgs),
}

#[derive(Args, Debug)]
pub struct DemoArgs {
    /// Where the run folder is written.
    #[arg(long, value_name = "DIR", default_value = "evidence")]
    pub evidence_dir: PathBuf,
    /// Keep the lab's folder (runbook, inventory, state files) instead of removing it.
    #[arg(long)]
    pub keep: bool,
    /// Switch a site instead of one runbook: four systems (DNS, a directory, a database
    /// and a portal that requires the other three) in one run, in the order their
    /// `requires` give.
    #[arg(long)]
    pub site: bool,
}

#[derive(Args, Debug)]
pub struct ServeHttpArgs {
    /// The address to listen on; port 0 lets the system choose (the first line on stdout
    /// says which).
    #[arg(long, value_name = "ADDR:PORT")]
    pub listen: String,
    /// `GET /health` answers 200 while this file says `up`, 503 otherwise.
    #[arg(long, value_name = "PATH")]
    pub state_file: PathBuf,
}

#[derive(Args, Debug)]
pub struct ResumeArgs {
    /// The run folder of the interrupted run.
    pub run_dir: PathBuf,
    /// Do not ask: no typed confirmation, manual steps confirmed.
    #[arg(long)]
    pub yes: bool,
    /// For a live run without a terminal: consent to start (instead of --yes), and each
    /// question waits this long for `switchyard answer` (or the terminal) before acting
    /// as `abort`. With --yes, manual steps are confirmed and failures still wait.
    #[arg(long, value_name = "DURATION", value_parser = crate::config::duration::parse)]
    pub wait_for_answer: Option<std::time::Duration>,
    /// Tell the `[[notify]]` webhooks of a dry run too (a live run always notifies).
    #[arg(long)]
    pub notify_dry_run: bool,
    /// Accept runbook or inventory files that changed since the run started.
    #[arg(long)]
    pub force: bool,
    /// After the first Ctrl-C or SIGTERM, how long running steps may go on.
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = crate::config::duration::parse)]
    pub grace: std::time::Duration,
    /// Sign the run folder at the end (`manifest.txt` and `manifest.txt.sig`, SSHSIG,
    /// namespace `switchyard-evidence`) with this OpenSSH private key file, or with
    /// `agent:PUBKEYFILE`, that key held by ssh-agent (`$SSH_AUTH_SOCK`).
    #[arg(long, value_name = "KEY")]
    pub sign_with: Option<String>,
}

#[derive(Args, Debug)]
pub struct AnswerArgs {
    /// The run folder of the run in progress.
    pub run_dir: PathBuf,
    #[arg(value_enum)]
    pub choice: AnswerChoice,
    /// Why, for the evidence.
    #[arg(long, value_name = "TEXT")]
    pub comment: Option<String>,
}

/// What `switchyard answer` may answer.
#[derive(Copy, Clone, Debug, ValueEnum)]
pub enum AnswerChoice {
    /// Run the failed step again.
    Retry,
    /// Go on without the failed step.
    Skip,
    /// Stop the run.
    Abort,
    /// Stop the run and switch back what had begun to switch.
    Rollback,
    /// A manual step was done.
    Confirm,
}

#[derive(Copy, Clone, Debug, ValueEnum)]
pub enum ReportFormat {
    Html,
    Md,
    Junit,
    Json,
}

#[derive(Args, Debug)]
pub struct ReportArgs {
    /// The run folder (it holds `journal.jsonl`).
    pub run_dir: PathBuf,
    #[arg(long, value_enum, default_value_t = ReportFormat::Html)]
    pub format: ReportFormat,
    /// Write to this file instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct VerifyEvidenceArgs {
    /// The run folder.
    pub run_dir: PathBuf,
    /// Accept a journal without its end (a run killed and not resumed, or still
    /// running) and check what is there; without it, such a journal fails.
    #[arg(long)]
    pub allow_incomplete: bool,
    /// Check `manifest.txt.sig` against this OpenSSH allowed-signers file; a folder
    /// without a signature then fails.
    #[arg(long, value_name = "FILE")]
    pub allowed_signers: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct WatchArgs {
    /// The run folder (of a running or a finished run).
    pub run_dir: PathBuf,
}

#[derive(Args, Debug)]
pub struct HistoryArgs {
    /// The runbook's name (as in its `[runbook]` table).
    pub runbook: String,
    /// A folder of run folders; repeatable (default: `evidence/`).
    #[arg(long, value_name = "DIR")]
    pub evidence_dir: Vec<PathBuf>,
    /// Count only run folders signed by a key this OpenSSH allowed-signers file allows
    /// (as `verify-evidence --allowed-signers`); unsigned ones are untrusted.
    #[arg(long, value_name = "FILE")]
    pub allowed_signers: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = ListFormat::Text)]
    pub format: ListFormat,
}

#[derive(Args, Debug)]
pub struct StatusArgs {
    /// Runbook or site files (default: every runbooks/*.toml).
    pub targets: Vec<PathBuf>,
    /// A folder of run folders; repeatable (default: `evidence/`).
    #[arg(long, value_name = "DIR")]
    pub evidence_dir: Vec<PathBuf>,
    /// Judge `drill_every` at this time (RFC 3339) instead of now.
    #[arg(long, value_name = "RFC3339")]
    pub at: Option<String>,
    /// Count only run folders signed by a key this OpenSSH allowed-signers file allows
    /// (as `verify-evidence --allowed-signers`); unsigned ones are untrusted.
    #[arg(long, value_name = "FILE")]
    pub allowed_signers: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = StatusFormat::Text)]
    pub format: StatusFormat,
    /// Write to this file instead of stdout, atomically (a temporary sibling renamed
    /// over it), so a reader such as node_exporter never sees half of it.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// `status`'s formats: the register for a terminal, a program, a ticket, an auditor
/// (the programme report) or Prometheus (node_exporter's textfile collector).
#[derive(Copy, Clone, Debug, ValueEnum)]
pub enum StatusFormat {
    /// A table, worst first.
    Text,
    /// `switchyard.status/v1`.
    Json,
    /// Markdown, for a ticket or a wiki.
    Md,
    /// The programme report: one self-contained page for an auditor.
    Html,
    /// Text exposition format, for node_exporter's textfile collector.
    Prometheus,
}

#[derive(Copy, Clone, Debug, ValueEnum)]
pub enum ListFormat {
    Text,
    Json,
}

#[derive(Args, Debug)]
pub struct CheckInventoryArgs {
    /// Inventory files (default: every inventory/*.toml).
    pub inventories: Vec<PathBuf>,
}

#[derive(Args, Debug)]
pub struct ImportInventoryArgs {
    #[command(subcommand)]
    pub from: ImportFrom,
}

/// The tools whose inventories `import-inventory` reads.
#[derive(Subcommand, Debug)]
pub enum ImportFrom {
    /// An Ansible inventory: INI, YAML, or the JSON of `ansible-inventory --list`.
    Ansible(AnsibleImportArgs),
}

#[derive(Args, Debug)]
pub struct AnsibleImportArgs {
    /// The Ansible inventory file (its format is told by its content).
    pub file: PathBuf,
    /// The hosts of Ansible group GROUP (and of its children) are in switchyard hall
    /// HALL; repeatable, at least once. Every host must be in exactly one hall.
    #[arg(long = "hall", value_name = "GROUP=HALL", required = true, value_parser = hall_group)]
    pub halls: Vec<crate::import::ansible::HallGroup>,
    /// Write to this file (atomically) instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// `--hall GROUP=HALL`, the hall named as switchyard names halls.
fn hall_group(s: &str) -> Result<crate::import::ansible::HallGroup, String> {
    let Some((group, hall)) = s.split_once('=') else {
        return Err("expected GROUP=HALL, like `dc_north=a`".into());
    };
    if group.is_empty() {
        return Err("the group before `=` is empty".into());
    }
    if !crate::config::ids::is_simple_name(hall) {
        return Err(format!(
            "hall `{hall}` is not a valid hall name: expected lowercase letters, digits, `-` and `_`, starting with a letter or digit"
        ));
    }
    Ok(crate::import::ansible::HallGroup {
        group: group.to_string(),
        hall: hall.to_string(),
    })
}

#[derive(Args, Debug)]
pub struct ValidateArgs {
    /// Runbook or site files (default: every runbooks/*.toml).
    pub runbooks: Vec<PathBuf>,
}

#[derive(Copy, Clone, Debug, ValueEnum)]
pub enum ModeArg {
    Switchover,
    Failover,
}

#[derive(Copy, Clone, Debug, ValueEnum)]
pub enum PlanFormat {
    Text,
    Json,
    Dot,
    Mermaid,
}

/// Which runbook, and which way.
#[derive(Args, Debug)]
pub struct Direction {
    /// The runbook file.
    pub runbook: PathBuf,
    /// The hall to switch to.
    #[arg(long, value_name = "HALL")]
    pub to: String,
    /// The hall to switch from (default: the runbook's other hall).
    #[arg(long, value_name = "HALL")]
    pub from: Option<String>,
    /// `switchover`: both halls up; `failover`: the source hall is presumed lost.
    #[arg(long, value_enum, default_value_t = ModeArg::Switchover)]
    pub mode: ModeArg,
}

#[derive(Args, Debug)]
pub struct PlanArgs {
    #[command(flatten)]
    pub direction: Direction,
    #[arg(long, value_enum, default_value_t = PlanFormat::Text)]
    pub format: PlanFormat,
    /// A folder of run folders to predict the recovery time from (the passing live runs
    /// of the same runbook, direction and mode); repeatable (default: `evidence/`).
    #[arg(long, value_name = "DIR")]
    pub evidence_dir: Vec<PathBuf>,
}

#[derive(Args, Debug)]
pub struct RunArgs {
    #[command(flatten)]
    pub direction: Direction,
    /// Change things: without it the run is a dry run that runs only the prechecks.
    #[arg(long)]
    pub live: bool,
    /// Do not ask: no typed confirmation of a live run, manual steps confirmed.
    #[arg(long)]
    pub yes: bool,
    /// For a live run without a terminal: consent to start (instead of --yes), and each
    /// question waits this long for `switchyard answer` (or the terminal) before acting
    /// as `abort`. With --yes, manual steps are confirmed and failures still wait.
    #[arg(long, value_name = "DURATION", value_parser = crate::config::duration::parse)]
    pub wait_for_answer: Option<std::time::Duration>,
    /// Tell the `[[notify]]` webhooks of a dry run too (a live run always notifies).
    #[arg(long)]
    pub notify_dry_run: bool,
    /// Only these services (comma-separated); the order among them still holds.
    #[arg(long, value_delimiter = ',', value_name = "SVC,...")]
    pub only: Vec<String>,
    /// At most this many step executions at once (default: the runbook's `max_parallel`).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub max_parallel: Option<u32>,
    /// Where run folders are written.
    #[arg(long, value_name = "DIR", default_value = "evidence")]
    pub evidence_dir: PathBuf,
    /// When the incident began (RFC 3339), if before this run: the RTO clock starts there.
    #[arg(long, value_name = "RFC3339")]
    pub incident_start: Option<String>,
    /// After the first Ctrl-C or SIGTERM, how long running steps may go on before they
    /// are stopped.
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = crate::config::duration::parse)]
    pub grace: std::time::Duration,
    /// Sign the run folder at the end (`manifest.txt` and `manifest.txt.sig`, SSHSIG,
    /// namespace `switchyard-evidence`) with this OpenSSH private key file, or with
    /// `agent:PUBKEYFILE`, that key held by ssh-agent (`$SSH_AUTH_SOCK`).
    #[arg(long, value_name = "KEY")]
    pub sign_with: Option<String>,
}
