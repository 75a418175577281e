//! The documentation cannot drift from the code: every TOML example in
//! `docs/runbook-format.md` is loaded and must validate, as must the inventory of
//! `docs/networks.md`, whose hosts must go the ways its text shows; the worked example of
//! `docs/ansible.md` prints what it shows; and the repository stands alone: every
//! relative link in `README.md` and `docs/*.md` leads to a file in it.
//!
//! Fences say what they hold: ```` ```toml inventory ```` (the one complete inventory),
//! ```` ```toml runbook ```` (complete runbooks) and ```` ```toml step ```` (step tables
//! for a service `app`, appended to a minimal runbook). A plain ```` ```toml ```` fails.

use crate::support::util::Test;

/// The fenced blocks of `lang` (```` ```toml ````), each with the rest of its info string,
/// its text and its line.
fn fenced(doc: &str, lang: &str) -> Vec<(String, String, usize)> {
    let fence = format!("```{lang}");
    let mut out = Vec::new();
    let mut lines = doc.lines().enumerate();
    while let Some((n, line)) = lines.next() {
        let Some(info) = line.trim_start().strip_prefix(fence.as_str()) else {
            continue;
        };
        let body: Vec<&str> = lines
            .by_ref()
            .map(|(_, l)| l)
            .take_while(|l| !l.trim_start().starts_with("```"))
            .collect();
        out.push((info.trim().to_string(), body.join("\n") + "\n", n + 1));
    }
    out
}

const STEP_BASE: &str = r#"
[runbook]
name = "doc-step"
rto = "1h"
inventory = ["../inventory/site.toml"]

[vars]
port = "8080"

[secrets]
token = { env = "TOKEN" }

[services.app]
hosts = ["tag:app"]
"#;

#[test]
fn every_toml_example_in_the_format_reference_validates() {
    let doc = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/docs/runbook-format.md"
    ))
    .expect("docs/runbook-format.md");
    let blocks = fenced(&doc, "toml");
    let inventories: Vec<&(String, String, usize)> =
        blocks.iter().filter(|b| b.0 == "inventory").collect();
    assert_eq!(
        inventories.len(),
        1,
        "the reference must hold exactly one ```toml inventory block"
    );
    let inventory = &inventories[0].1;
    let mut checked = 0;
    for (kind, body, line) in &blocks {
        let runbook = match kind.as_str() {
            "inventory" => continue,
            "runbook" => body.clone(),
            "step" => format!("{STEP_BASE}\n{body}"),
            other => panic!(
                "docs/runbook-format.md:{line}: fence ```toml {other}: say inventory, runbook or step"
            ),
        };
        let out = Test::new()
            .file("inventory/site.toml", inventory)
            .file("runbooks/x.toml", &runbook)
            .args(&["validate", "runbooks/x.toml"])
            .run();
        assert_eq!(
            out.code, 0,
            "docs/runbook-format.md:{line}: the {kind} example does not validate:\n{}",
            out.stderr
        );
        checked += 1;
    }
    assert!(checked >= 5, "only {checked} examples checked");
}

/// The one block of `lang` whose info string is `info`.
fn block(doc: &str, lang: &str, info: &str) -> String {
    let found: Vec<String> = fenced(doc, lang)
        .into_iter()
        .filter(|b| b.0 == info)
        .map(|b| b.1)
        .collect();
    assert_eq!(found.len(), 1, "one ```{lang} {info} block");
    found.into_iter().next().unwrap_or_default()
}

#[test]
fn the_ansible_worked_example_prints_what_it_shows() {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/ansible.md"))
        .expect("docs/ansible.md");
    let command = block(&doc, "sh", "example");
    let args: Vec<&str> = command
        .trim()
        .strip_prefix("switchyard ")
        .expect("the example runs switchyard")
        .split_whitespace()
        .collect();
    let out = Test::new()
        .file("hosts.ini", block(&doc, "ini", "hosts.ini"))
        .args(&args)
        .run()
        .code(0)
        .stderr_has("imported 5 hosts from hosts.ini (INI)");
    // The first line names the version that wrote it; the rest is the same for every one.
    let shown = block(&doc, "toml", "imported");
    let (shown_first, shown_rest) = shown.split_once('\n').expect("lines");
    let (first, rest) = out.stdout.split_once('\n').expect("lines");
    assert_eq!(shown_rest, rest, "docs/ansible.md shows another output");
    let version = |l: &str| l.rsplit_once(' ').map(|(head, _)| head.to_string());
    assert_eq!(version(shown_first), version(first));
}

/// The relative link targets in a Markdown text, with the line each is on: inline links
/// (`[text](target)`) and reference definitions (`[label]: target`), outside fenced code,
/// without a `#fragment`. Links with a scheme and bare fragments are left out.
fn relative_links(doc: &str) -> Vec<(String, usize)> {
    let mut out = Vec::new();
    let mut fenced = false;
    for (n, line) in doc.lines().enumerate() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if fenced {
            continue;
        }
        let mut targets = Vec::new();
        let mut rest = line;
        while let Some(i) = rest.find("](") {
            let after = &rest[i + 2..];
            let end = after.find(')').unwrap_or(after.len());
            targets.push(&after[..end]);
            rest = &after[end..];
        }
        if let Some(def) = line.trim_start().strip_prefix('[')
            && let Some((_, target)) = def.split_once("]: ")
        {
            targets.push(target);
        }
        for target in targets {
            let target = match target.trim().strip_prefix('<') {
                Some(t) => t.split('>').next().unwrap_or(""),
                None => target.split_whitespace().next().unwrap_or(""),
            };
            let path = target.split('#').next().unwrap_or("");
            if path.is_empty() || path.contains("://") || path.starts_with("mailto:") {
                continue;
            }
            out.push((path.to_string(), n + 1));
        }
    }
    out
}

#[test]
fn every_relative_link_in_the_documentation_stays_inside_the_repository() {
    let root = std::fs::canonicalize(env!("CARGO_MANIFEST_DIR")).expect("the repository");
    let mut docs = vec![root.join("README.md")];
    let mut in_docs: Vec<_> = std::fs::read_dir(root.join("docs"))
        .expect("docs/")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "md"))
        .collect();
    in_docs.sort();
    docs.extend(in_docs);
    let mut problems = Vec::new();
    let mut checked = 0;
    for doc in &docs {
        let text = std::fs::read_to_string(doc).expect("a document");
        let name = doc
            .strip_prefix(&root)
            .expect("inside")
            .display()
            .to_string();
        for (target, line) in relative_links(&text) {
            checked += 1;
            if target.contains("../shared") || target.starts_with('/') {
                problems.push(format!(
                    "{name}:{line}: `{target}` points outside the repository"
                ));
                continue;
            }
            let base = doc.parent().expect("a folder");
            match std::fs::canonicalize(base.join(&target)) {
                Ok(p) if p.starts_with(&root) => {}
                Ok(_) => problems.push(format!(
                    "{name}:{line}: `{target}` points outside the repository"
                )),
                Err(e) => problems.push(format!("{name}:{line}: `{target}`: {e}")),
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert!(checked >= 10, "only {checked} links checked");
}

#[test]
fn links_are_found_in_text_and_definitions_but_not_in_code() {
    let doc = "see [a](docs/a.md#x) and [b](<b c.md> \"title\"), [web](https://x.org), [top](#top)\n\
               ```\n[no](code.md)\n```\n[ref]: ../shared/SPEC.md\n";
    let links: Vec<String> = relative_links(doc).into_iter().map(|(t, _)| t).collect();
    assert_eq!(links, ["docs/a.md", "b c.md", "../shared/SPEC.md"]);
}

#[test]
fn the_jump_host_example_validates_and_goes_the_way_its_text_says() {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/networks.md"))
        .expect("docs/networks.md");
    let inventory = block(&doc, "toml", "inventory");
    let t = Test::new()
        .file("inventory/site.toml", &inventory)
        .runbook("[services.s]\n[[services.s.start]]\nlocal = \"true\"\n");
    let out = t.args(&["validate", "runbooks/test.toml"]).run().code(0);
    let path = out.root.join("inventory/site.toml");
    let (_, inv) = switchyard::config::load_inventory(&[path], &[]).expect("the example loads");
    // The check-inventory lines the text shows, with the way `route` gives.
    let ways: Vec<String> = (0..inv.hosts.len())
        .map(|h| {
            let mut route: Vec<&str> = inv
                .route(h)
                .into_iter()
                .map(|i| inv.hosts[i].name.as_str())
                .collect();
            let name = route.pop().expect("the host");
            let host = &inv.hosts[h];
            let mut line = format!("ok    {name}  {}:{}", host.address, host.ssh.port);
            if !route.is_empty() {
                line.push_str(&format!(" via {}", route.join(" → ")));
            }
            line
        })
        .collect();
    let shown: Vec<&str> = doc.lines().filter(|l| l.starts_with("ok    ")).collect();
    assert_eq!(shown, ways);
}
