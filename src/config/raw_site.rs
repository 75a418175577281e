//! Pass 1 for site files: the `[site]` table and the `[systems.NAME]` tables as written,
//! spanned and typed, unknown keys rejected. Which runbooks the names stand for is pass 2's
//! business (`validate/site.rs`): it needs the runbooks loaded first.

use std::time::Duration;

use toml::Spanned;
use toml::de::DeTable;

use super::diagnostic::Diagnostic;
use super::raw::{MAX_PARALLEL, Strings, key_sp};
use super::reader::{Cx, Fields};
use super::source::{Sp, Span};

/// The highest (last) tier; also the tier of a runbook the site says nothing about. Ten
/// tiers, 0 to 9, are as many as a business names priorities in (a municipality's plans
/// use three to five); a bound keeps a typo like `tier = 20` from passing silently.
pub const LAST_TIER: u8 = 9;

#[derive(Debug)]
pub struct RawSiteHeader {
    pub span: Span,
    pub name: Option<Sp<String>>,
    pub title: Option<Sp<String>>,
    pub rto: Option<Sp<Duration>>,
    pub runbooks: Option<Strings>,
    pub max_parallel: Option<Sp<i64>>,
    pub drill_every: Option<Sp<Duration>>,
}

/// One `[systems.NAME]` table: what the site says of the runbook named `NAME`.
#[derive(Debug)]
pub struct RawSystem {
    pub name: Sp<String>,
    pub tier: Option<Sp<i64>>,
    pub requires: Option<Strings>,
}

#[derive(Debug)]
pub struct RawSite {
    pub header: Option<RawSiteHeader>,
    pub systems: Vec<RawSystem>,
}

/// Whether a file's text is a site's rather than a runbook's: it has a `[site]` table, or
/// `[systems]` and no `[runbook]` (a site whose `[site]` table is missing is reported as
/// such, not as a runbook with unknown keys). Text that is not TOML is a runbook's, so
/// the runbook loader reports it as it always has.
pub fn is_site(text: &str) -> bool {
    let (doc, _) = DeTable::parse_recoverable(text);
    let has = |key: &str| doc.get_ref().iter().any(|(k, _)| k.get_ref() == key);
    has("site") || (has("systems") && !has("runbook"))
}

/// Reads one site file.
pub fn read_site(cx: &mut Cx<'_>, doc: &Spanned<DeTable<'_>>) -> RawSite {
    let mut top = Fields::new(doc.get_ref(), cx.span(0..0), "the site file");
    let header = top.table(cx, "site", "[site]").map(|mut f| {
        let h = read_header(cx, &mut f);
        f.finish(cx);
        h
    });
    if header.is_none() && !top.has("site") {
        cx.error(
            Diagnostic::error(cx.span(0..0), "this site file has no `[site]` table")
                .with_label("expected a `[site]` table with at least `name`, `rto` and `runbooks`"),
        );
    }
    let mut systems = Vec::new();
    if let Some(f) = top.table(cx, "systems", "[systems]") {
        for (key, value) in f.entries() {
            let name = key_sp(cx, key);
            if let Some(mut f) = Fields::of(cx, value, format!("system `{}`", name.value)) {
                systems.push(RawSystem {
                    tier: f.integer(cx, "tier", 0, i64::from(LAST_TIER)),
                    requires: f.strings(cx, "requires"),
                    name,
                });
                f.finish(cx);
            }
        }
    }
    top.finish(cx);
    RawSite { header, systems }
}

fn read_header(cx: &mut Cx<'_>, f: &mut Fields<'_, '_>) -> RawSiteHeader {
    for (key, expected) in [
        (
            "rto",
            "the business's recovery time objective for the site, like \"8h\"",
        ),
        (
            "runbooks",
            "runbook files or globs, like [\"runbooks/*.toml\"]",
        ),
    ] {
        if !f.has(key) {
            f.missing(cx, key, expected);
        }
    }
    RawSiteHeader {
        span: f.span.clone(),
        name: f.required_string(cx, "name"),
        title: f.string(cx, "title"),
        rto: f.duration(cx, "rto", false),
        runbooks: f.strings(cx, "runbooks"),
        max_parallel: f.integer(cx, "max_parallel", 1, MAX_PARALLEL),
        drill_every: f.duration(cx, "drill_every", false),
    }
}

#[cfg(test)]
mod tests {
    use super::is_site;

    #[test]
    fn a_site_is_a_file_with_a_site_table() {
        assert!(is_site("[site]\nname = \"s\"\n"));
        assert!(is_site("site = { name = \"s\" }\n"));
        // Its `[site]` table forgotten: still a site, so that is what is reported.
        assert!(is_site("[systems.a]\ntier = 0\n"));
        assert!(!is_site("[runbook]\nname = \"r\"\n"));
        assert!(!is_site("[runbook]\n[systems.a]\n"));
        assert!(!is_site("not toml ["));
        assert!(!is_site(""));
    }
}
