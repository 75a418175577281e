//! Loading a site: its file, then every runbook its `runbooks` patterns find — each
//! loaded as on its own, but into one set of files and one list of problems, so that
//! every problem of every file shows its `path:line:col` — then pass 2 for the site.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use super::read::{load_with, read};
use super::runbook::{Inventories, LoadError, runbook_into};
use crate::config::diagnostic::{Diagnostic, Diagnostics};
use crate::config::inventory::{expand_path, normalize};
use crate::config::raw::{self, Strings};
use crate::config::raw_site;
use crate::config::reader::Cx;
use crate::config::site::Site;
use crate::config::source::{Sources, Sp, Span};
use crate::config::validate::validate_site;

/// A site whose file and runbooks passed every check, with the files they came from.
#[derive(Debug)]
pub struct LoadedSite {
    pub sources: Sources,
    pub site: Site,
}

/// Loads and validates a site and each of its runbooks; `extra_inventory` (from
/// `--inventory`) is added to every runbook's inventory, as for one runbook.
pub fn load_site(path: &Path, extra_inventory: &[PathBuf]) -> Result<LoadedSite, LoadError> {
    let (sources, site) = load_with("site", path, |sources, diags| {
        let site = site_into(sources, diags, path, extra_inventory);
        // An inventory file that runbooks name in different lists is checked once per list,
        // and a missing one is reported by each runbook naming it: say each problem once.
        diags.dedup();
        site
    })?;
    Ok(LoadedSite { sources, site })
}

fn site_into(
    sources: &mut Sources,
    diags: &mut Diagnostics,
    path: &Path,
    extra_inventory: &[PathBuf],
) -> Option<Site> {
    let id = read(sources, diags, path, None)?;
    let text = sources.file(id).text.clone();
    let mut cx = Cx {
        file: id,
        text: &text,
        diags,
    };
    let doc = raw::parse_document(&mut cx, &text)?;
    let raw = raw_site::read_site(&mut cx, &doc);
    drop(doc);
    let listed = raw.header.as_ref().and_then(|h| h.runbooks.as_ref());
    let (files, found_all) = listed.map_or((Vec::new(), false), |l| runbook_paths(diags, path, l));
    let mut inventories = Inventories::default();
    let runbooks = files
        .iter()
        .map(|(p, at)| {
            runbook_into(
                sources,
                diags,
                p,
                extra_inventory,
                Some(at),
                &mut inventories,
            )
        })
        .collect();
    validate_site(raw, runbooks, found_all, path, sources, diags)
}

/// The runbook files a site lists, each with the entry that found it: the entries in
/// order, each glob's matches sorted by path, a file found twice taken once; and whether
/// every entry found a file.
fn runbook_paths(
    diags: &mut Diagnostics,
    site: &Path,
    listed: &Strings,
) -> (Vec<(PathBuf, Span)>, bool) {
    if listed.value.is_empty() {
        diags.push(
            Diagnostic::error(listed.span.clone(), "the site lists no runbooks")
                .with_label("expected at least one file or glob, like [\"runbooks/*.toml\"]"),
        );
    }
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    let mut found_all = !listed.value.is_empty();
    for entry in &listed.value {
        let found = expand(diags, site, entry);
        found_all &= !found.is_empty();
        for p in found {
            if seen.insert(p.clone()) {
                out.push((p, entry.span.clone()));
            }
        }
    }
    (out, found_all)
}

/// Whether a `runbooks` entry is a glob rather than a file's path.
fn is_glob(entry: &str) -> bool {
    entry.contains(['*', '?', '['])
}

/// The files one `runbooks` entry stands for. A file's path is taken as it is (reading
/// it reports it missing); a glob must match at least one file. The site file itself is
/// never one of its runbooks, even when a glob like `*.toml` matches it.
fn expand(diags: &mut Diagnostics, site: &Path, entry: &Sp<String>) -> Vec<PathBuf> {
    if !is_glob(&entry.value) {
        return vec![expand_path(site, &entry.value)];
    }
    let dir = site.parent().unwrap_or(Path::new(""));
    let pattern = if Path::new(&entry.value).is_absolute() || dir.as_os_str().is_empty() {
        entry.value.clone()
    } else {
        // The folder is taken literally: only the entry is a pattern.
        let dir = glob::Pattern::escape(&dir.to_string_lossy());
        format!("{dir}/{}", entry.value)
    };
    let options = glob::MatchOptions {
        case_sensitive: true,
        require_literal_separator: true,
        require_literal_leading_dot: true,
    };
    let matches = match glob::glob_with(&pattern, options) {
        Ok(m) => m,
        Err(e) => {
            diags.push(
                Diagnostic::error(
                    entry.span.clone(),
                    format!("`{}` is not a valid glob: {}", entry.value, e.msg),
                )
                .with_label(
                    "expected a path where `*` matches within a name, `**` any folders, `?` one character and `[...]` one of those",
                ),
            );
            return Vec::new();
        }
    };
    let site = normalize(site);
    let mut found: Vec<PathBuf> = matches
        .filter_map(Result::ok)
        .map(|p| normalize(&p))
        .filter(|p| *p != site)
        .collect();
    found.sort();
    if found.is_empty() {
        diags.push(
            Diagnostic::error(
                entry.span.clone(),
                format!("`{}` matches no file", entry.value),
            )
            .with_label(format!(
                "no file matches it in `{}`",
                if dir.as_os_str().is_empty() {
                    Path::new(".")
                } else {
                    dir
                }
                .display()
            )),
        );
    }
    found
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::load_site;

    const INVENTORY: &str = "[halls.a]\n[halls.b]\n[ssh]\nuser = \"drill\"\n\
        [hosts.db-a1]\naddress = \"10.0.0.1\"\nhall = \"a\"\n\
        [hosts.db-b1]\naddress = \"10.0.1.1\"\nhall = \"b\"\n";

    /// A runbook named `name` on `inventory` (relative to `runbooks/`).
    fn runbook(name: &str, inventory: &str) -> String {
        format!(
            "[runbook]\nname = \"{name}\"\nrto = \"1h\"\ninventory = [\"{inventory}\"]\n\
             [services.db]\nhosts = [\"db-a1\", \"db-b1\"]\n[[services.db.start]]\nrun = \"true\"\n"
        )
    }

    /// Writes `files` under a new folder and loads its `site.toml`: every problem's
    /// message and label, top to bottom, or the site's runbooks' names.
    fn load(files: &[(&str, &str)]) -> Result<Vec<String>, Vec<String>> {
        let dir = tempfile::tempdir().expect("temp dir");
        for (path, text) in files {
            let p = dir.path().join(path);
            std::fs::create_dir_all(p.parent().unwrap_or(Path::new("."))).expect("folder");
            std::fs::write(p, text).expect("write");
        }
        match load_site(&dir.path().join("site.toml"), &[]) {
            Ok(l) => Ok(l
                .site
                .systems
                .iter()
                .map(|s| {
                    format!(
                        "{} tier {} requires {:?}",
                        s.runbook.name, s.tier, s.requires
                    )
                })
                .collect()),
            Err(e) => Err(e
                .diagnostics
                .sorted()
                .iter()
                .map(|d| {
                    format!(
                        "{}: {}{}",
                        d.message,
                        d.label,
                        d.help
                            .as_deref()
                            .map_or(String::new(), |h| format!(" ({h})"))
                    )
                })
                .collect()),
        }
    }

    /// A site over `runbooks/*.toml` with `systems` after its `[site]` table; runbooks
    /// `a`, `b` and `c` share one inventory.
    fn site(systems: &str) -> Result<Vec<String>, Vec<String>> {
        let site = format!(
            "[site]\nname = \"s\"\nrto = \"8h\"\nrunbooks = [\"runbooks/*.toml\"]\n{systems}"
        );
        load(&[
            ("site.toml", &site),
            ("inventory.toml", INVENTORY),
            ("runbooks/a.toml", &runbook("a", "../inventory.toml")),
            ("runbooks/b.toml", &runbook("b", "../inventory.toml")),
            ("runbooks/c.toml", &runbook("c", "../inventory.toml")),
        ])
    }

    #[test]
    fn runbooks_in_glob_order_with_tiers_and_requires() {
        let got = site("[systems.c]\ntier = 0\nrequires = [\"a\", \"b\"]\n").expect("valid");
        assert_eq!(
            got,
            [
                "a tier 9 requires []",
                "b tier 9 requires []",
                "c tier 0 requires [0, 1]"
            ]
        );
    }

    #[test]
    fn a_cycle_is_named_whole_from_its_first_runbook() {
        let errors = site(
            "[systems.a]\nrequires = [\"c\"]\n[systems.b]\nrequires = [\"a\"]\n\
             [systems.c]\nrequires = [\"b\"]\n",
        )
        .expect_err("a cycle");
        assert_eq!(errors.len(), 1, "{errors:#?}");
        assert!(
            errors[0].starts_with("runbooks require each other in a cycle: a -> c -> b -> a: "),
            "{errors:#?}"
        );
    }

    #[test]
    fn unknown_names_get_a_suggestion() {
        let errors = site("[systems.bb]\n[systems.c]\nrequires = [\"aa\", \"c\"]\n")
            .expect_err("unknown names");
        assert_eq!(
            errors,
            [
                "no runbook of this site is named `bb`: expected a `[runbook] name` of one of the runbooks the site lists (did you mean `b`?)",
                "no runbook of this site is named `aa`: `requires` names runbooks by their `[runbook] name` (did you mean `a`?)",
                "runbook `c` requires itself: a runbook cannot wait for its own recovery",
            ]
        );
    }

    #[test]
    fn two_runbooks_of_one_name_are_named_by_file() {
        let site = "[site]\nname = \"s\"\nrto = \"8h\"\nrunbooks = [\"one.toml\", \"two.toml\"]\n";
        let errors = load(&[
            ("site.toml", site),
            ("inventory.toml", INVENTORY),
            ("one.toml", &runbook("x", "inventory.toml")),
            ("two.toml", &runbook("x", "inventory.toml")),
        ])
        .expect_err("a name twice");
        assert_eq!(errors.len(), 1, "{errors:#?}");
        assert!(
            errors[0].starts_with("two runbooks are named `x`: `"),
            "{errors:#?}"
        );
        assert!(errors[0].contains("one.toml` and `"), "{errors:#?}");
        assert!(errors[0].contains("two.toml`: "), "{errors:#?}");
    }

    /// A site of runbook `a` on the shared inventory and `b` on `other`.
    fn two_inventories(other: &str) -> Result<Vec<String>, Vec<String>> {
        let site = "[site]\nname = \"s\"\nrto = \"8h\"\nrunbooks = [\"a.toml\", \"b.toml\"]\n";
        load(&[
            ("site.toml", site),
            ("inventory.toml", INVENTORY),
            ("other.toml", other),
            ("a.toml", &runbook("a", "inventory.toml")),
            ("b.toml", &runbook("b", "other.toml")),
        ])
    }

    #[test]
    fn a_host_defined_alike_in_two_files_is_one_host() {
        let same = format!("# the same hosts\n{INVENTORY}");
        assert!(two_inventories(&same).is_ok());
    }

    #[test]
    fn a_host_defined_differently_names_both_files_and_every_difference() {
        let other = INVENTORY
            .replace("10.0.0.1", "10.9.9.9")
            .replace("user = \"drill\"", "user = \"root\"\nport = 2222");
        let errors = two_inventories(&other).expect_err("conflicts");
        assert_eq!(errors.len(), 2, "{errors:#?}");
        assert!(
            errors[0].starts_with("host `db-a1` is defined differently in `"),
            "{errors:#?}"
        );
        assert!(errors[0].contains("inventory.toml` and `"), "{errors:#?}");
        assert!(
            errors[0]
                .contains(": `address` is \"10.9.9.9\", `user` is \"root\", `port` is 2222 here"),
            "{errors:#?}"
        );
        assert!(
            errors[1].contains(": `user` is \"root\", `port` is 2222 here"),
            "{errors:#?}"
        );
    }

    #[test]
    fn runbooks_must_switch_between_the_same_halls() {
        let other = INVENTORY
            .replace("halls.b", "halls.c")
            .replace("\"b\"", "\"c\"");
        let errors = two_inventories(&other).expect_err("other halls");
        assert_eq!(
            errors[0],
            "runbook `b` switches between halls `a` and `c`, but runbook `a` between `a` and `b`: \
             a site moves all its runbooks between the same two halls \
             (give every runbook an inventory with the same two halls, or name them with `halls = [...]` in `[runbook]`)"
        );
        // `db-b1` is in hall `c` now: a host defined differently, too.
        assert_eq!(errors.len(), 2, "{errors:#?}");
        assert!(errors[1].contains(": `hall` is \"c\" here"), "{errors:#?}");
    }

    #[test]
    fn a_shared_inventory_with_a_problem_reports_it_once() {
        let site = "[site]\nname = \"s\"\nrto = \"8h\"\nrunbooks = [\"a.toml\", \"b.toml\"]\n";
        let errors = load(&[
            ("site.toml", site),
            ("inventory.toml", &format!("bogus = 1\n{INVENTORY}")),
            ("a.toml", &runbook("a", "inventory.toml")),
            ("b.toml", &runbook("b", "inventory.toml")),
        ])
        .expect_err("a bad inventory");
        assert_eq!(errors.len(), 1, "{errors:#?}");
        assert!(
            errors[0].starts_with("unknown key `bogus` in the inventory"),
            "{errors:#?}"
        );
    }

    #[test]
    fn runbooks_naming_the_same_inventory_share_it_and_the_site_takes_it_once() {
        let site =
            "[site]\nname = \"s\"\nrto = \"8h\"\nrunbooks = [\"a.toml\", \"b.toml\", \"c.toml\"]\n";
        let dir = tempfile::tempdir().expect("temp dir");
        let other = INVENTORY.replace("db-", "other-");
        let c = runbook("c", "other.toml").replace("db-a1\", \"db-b1", "other-a1\", \"other-b1");
        for (path, text) in [
            ("site.toml", site),
            ("inventory.toml", INVENTORY),
            ("other.toml", &other),
            ("a.toml", &runbook("a", "inventory.toml")),
            ("b.toml", &runbook("b", "inventory.toml")),
            ("c.toml", &c),
        ] {
            std::fs::write(dir.path().join(path), text).expect("write");
        }
        let loaded = load_site(&dir.path().join("site.toml"), &[]).expect("valid");
        let inventory = |i: usize| &loaded.site.systems[i].runbook.inventory;
        assert!(std::sync::Arc::ptr_eq(inventory(0), inventory(1)));
        assert!(!std::sync::Arc::ptr_eq(inventory(0), inventory(2)));
        let names: Vec<&str> = loaded.site.host_names().into_iter().collect();
        assert_eq!(names, ["db-a1", "db-b1", "other-a1", "other-b1"]);
        // The combined runbook: each runbook's hosts where they went in the merged inventory.
        let rb = crate::config::combine::combine(&loaded.site, &[0, 1, 2]);
        let hosts: Vec<Vec<&str>> = rb
            .services
            .iter()
            .map(|s| {
                s.phases
                    .iter()
                    .flatten()
                    .flat_map(|step| &step.hosts)
                    .map(|&h| rb.inventory.hosts[h].name.as_str())
                    .collect()
            })
            .collect();
        assert_eq!(
            hosts,
            [
                ["db-a1", "db-b1"],
                ["db-a1", "db-b1"],
                ["other-a1", "other-b1"]
            ]
        );
        assert_eq!(rb.inventory.hosts.len(), 4);
    }
}
