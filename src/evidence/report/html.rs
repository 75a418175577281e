//! `report.html` (being written).

use crate::evidence::record::Record;

pub fn render(r: &Record) -> String {
    format!("<!doctype html><title>{}</title>\n", r.start.runbook)
}
