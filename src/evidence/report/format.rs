//! Which reports there are, the files they go to, and the one function that renders
//! each from a record.

use crate::evidence::record::Record;
use crate::evidence::summary;

use super::{controls, html, junit, markdown};

/// A report format, as `report --format` names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Html,
    Md,
    Junit,
    Json,
}

impl Format {
    pub const ALL: [Format; 4] = [Format::Json, Format::Html, Format::Md, Format::Junit];

    /// The file a run writes it to.
    pub fn file_name(self) -> &'static str {
        match self {
            Format::Html => "report.html",
            Format::Md => "report.md",
            Format::Junit => "junit.xml",
            Format::Json => "summary.json",
        }
    }
}

pub fn render(format: Format, record: &Record) -> String {
    match format {
        Format::Html => controls::pictured(html::render(record)),
        Format::Md => controls::pictured(markdown::render(record)),
        Format::Junit => junit::render(record),
        Format::Json => summary::json(record),
    }
}
