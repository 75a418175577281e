//! `switchyard report`: rebuilds a report from a run folder's journal alone, byte for
//! byte what the run wrote.

use crate::evidence::{self, report::Format};

use super::args::{ReportArgs, ReportFormat};
use super::{Error, exit};

pub fn run(a: &ReportArgs) -> Result<u8, Error> {
    let record = evidence::load(&a.run_dir).map_err(Error::RunFolder)?;
    let format = match a.format {
        ReportFormat::Html => Format::Html,
        ReportFormat::Md => Format::Md,
        ReportFormat::Junit => Format::Junit,
        ReportFormat::Json => Format::Json,
    };
    let text = evidence::report::render(format, &record);
    match &a.output {
        Some(path) => std::fs::write(path, text)
            .map_err(|e| Error::RunFolder(format!("cannot write `{}`: {e}", path.display())))?,
        None => crate::ui::terminal::to_stdout(&text),
    }
    Ok(exit::PASSED)
}
