//! The format reference cannot drift from the code: every TOML example in
//! `docs/runbook-format.md` is loaded and must validate.
//!
//! Fences say what they hold: ```` ```toml inventory ```` (the one complete inventory),
//! ```` ```toml runbook ```` (complete runbooks) and ```` ```toml step ```` (step tables
//! for a service `app`, appended to a minimal runbook). A plain ```` ```toml ```` fails.

use crate::support::util::Test;

fn blocks(doc: &str) -> Vec<(String, String, usize)> {
    let mut out = Vec::new();
    let mut lines = doc.lines().enumerate();
    while let Some((n, line)) = lines.next() {
        let Some(info) = line.trim_start().strip_prefix("```toml") else {
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
    let blocks = blocks(&doc);
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
