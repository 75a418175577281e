//! `switchyard plan` of a site in JSON, DOT and Mermaid: a row and a cluster per runbook
//! with its tier, `requires` and worst case against its RTO, and the critical path across
//! runbooks. Structure is checked, not whole snapshots.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::support::fixtures::root;
use crate::support::util::{HEADER, Test};

const SITE: &str = "tests/fixtures/sites/riverton.toml";

fn plan(format: &str) -> String {
    Test::reuse(root())
        .args(&["plan", SITE, "--to", "b", "--format", format])
        .run()
        .code(0)
        .stdout
}

/// A cluster of a DOT graph: its id, label, the clusters inside it and the node ids
/// declared directly in it.
#[derive(Debug, Default)]
struct Cluster {
    id: String,
    label: String,
    attrs: Vec<String>,
    clusters: Vec<Cluster>,
    nodes: Vec<String>,
}

/// The first quoted string of a line, unescaped enough for the ids used here.
fn quoted(line: &str) -> String {
    let rest = &line[line.find('"').expect("a quoted string") + 1..];
    rest[..rest.find('"').expect("closing quote")].to_string()
}

/// The clusters of a DOT graph as the renderer writes it: one statement per line.
fn dot_clusters(dot: &str) -> Cluster {
    let mut stack = vec![Cluster::default()];
    for line in dot.lines().skip(1) {
        let line = line.trim();
        if line.starts_with("subgraph ") {
            stack.push(Cluster {
                id: quoted(line),
                ..Cluster::default()
            });
        } else if line == "}" {
            let done = stack.pop().expect("open cluster");
            match stack.last_mut() {
                Some(parent) => parent.clusters.push(done),
                None => return done,
            }
        } else if let Some(label) = line.strip_prefix("label=") {
            stack.last_mut().expect("cluster").label = label.to_string();
        } else if line.starts_with('"') && !line.contains("->") {
            stack.last_mut().expect("cluster").nodes.push(quoted(line));
        } else if !line.contains("->") {
            stack
                .last_mut()
                .expect("cluster")
                .attrs
                .push(line.to_string());
        }
    }
    panic!("unclosed graph:\n{dot}")
}

/// The DOT edges as (from, to, whether drawn critical).
fn dot_edges(dot: &str) -> Vec<(String, String, bool)> {
    dot.lines()
        .filter(|l| l.contains("\" -> \""))
        .map(|l| {
            let parts: Vec<&str> = l.split('"').collect();
            (
                parts[1].to_string(),
                parts[3].to_string(),
                l.contains("color=red"),
            )
        })
        .collect()
}

fn strings(v: &Value) -> Vec<&str> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|s| s.as_str().expect("string"))
        .collect()
}

/// The runbook a site's step or service id belongs to.
fn runbook_of(id: &str) -> &str {
    id.split_once('/').expect("runbook/service").0
}

#[test]
fn json_has_the_site_and_a_row_per_runbook_with_tier_requires_and_worst_case() {
    let json: Value = serde_json::from_str(&plan("json")).expect("JSON");
    assert_eq!(json["schema"], "switchyard.plan/v1");
    assert_eq!(json["site"]["name"], "riverton");
    assert_eq!(
        json["site"]["title"],
        "Riverton: every system in both halls"
    );
    assert_eq!(json["site"]["rto"]["target_s"], 8.0 * 3600.0);
    assert_eq!(json["site"]["rto"], json["rto"]);
    let runbooks = json["runbooks"].as_array().expect("runbooks");
    let names: Vec<&str> = runbooks
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    // In the site's order: `runbooks/directory.toml` first, then the glob's other matches.
    assert_eq!(names, ["directory", "dns", "recruitment"]);
    let row = |name: &str| runbooks.iter().find(|r| r["name"] == name).unwrap();
    assert_eq!(row("directory")["tier"], 0);
    assert_eq!(row("dns")["tier"], 0);
    assert_eq!(row("recruitment")["tier"], 2);
    assert!(strings(&row("directory")["requires"]).is_empty());
    assert!(strings(&row("dns")["requires"]).is_empty());
    assert_eq!(
        strings(&row("recruitment")["requires"]),
        ["directory", "dns"]
    );
    assert_eq!(strings(&row("dns")["services"]), ["dns/bind"]);
    for r in runbooks {
        assert_eq!(r["title"], r["name"], "no title: the name");
        assert_eq!(r["on_failure"], "pause");
        assert_eq!(r["rto"]["target_s"], 3600.0);
    }
    // Each runbook's worst case is its last service's recovery, from the run's start:
    // the directory and DNS each stop after recruitment and start (5 minutes each);
    // recruitment starts only when both have.
    let worst: BTreeMap<&str, f64> = runbooks
        .iter()
        .map(|r| {
            (
                r["name"].as_str().unwrap(),
                r["rto"]["worst_case_s"].as_f64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        worst,
        BTreeMap::from([
            ("directory", 900.0),
            ("dns", 900.0),
            ("recruitment", 1200.0)
        ])
    );
    for r in runbooks {
        let of_services = json["services"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| strings(&r["services"]).contains(&s["name"].as_str().unwrap()))
            .map(|s| s["rto"]["worst_case_s"].as_f64().unwrap())
            .fold(0.0, f64::max);
        assert_eq!(r["rto"]["worst_case_s"], of_services, "{r}");
        assert_eq!(r["rto"]["exceeded"], false);
    }
    assert_eq!(json["site"]["rto"]["worst_case_s"], 1200.0);
    assert_eq!(json["site"]["rto"]["exceeded"], false);
}

#[test]
fn a_plain_runbooks_json_has_no_site_fields() {
    let json = crate::support::util::plan_json(
        "[services.db]\nhosts = [\"tag:db\"]\n[[services.db.start]]\nrun = \"true\"\n",
        &[],
    );
    let keys: Vec<&String> = json.as_object().unwrap().keys().collect();
    assert!(
        !keys.iter().any(|k| *k == "site" || *k == "runbooks"),
        "{keys:?}"
    );
}

#[test]
fn dot_has_one_cluster_per_runbook_around_its_service_clusters() {
    let dot = plan("dot");
    let graph = dot_clusters(&dot);
    assert!(
        graph.label.contains("site RTO 8h, worst case 20m"),
        "{}",
        graph.label
    );
    let ids: Vec<&str> = graph.clusters.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(
        ids,
        ["cluster_directory", "cluster_dns", "cluster_recruitment"]
    );
    let tiers = [("directory", 0), ("dns", 0), ("recruitment", 2)];
    for (cluster, (name, tier)) in graph.clusters.iter().zip(tiers) {
        assert!(
            cluster
                .label
                .starts_with(&format!("\"{name}\\ntier {tier} · RTO 1h, worst case ")),
            "{}",
            cluster.label
        );
        assert!(!cluster.clusters.is_empty());
        for svc in &cluster.clusters {
            assert_eq!(runbook_of(svc.id.trim_start_matches("cluster_")), name);
            assert!(svc.clusters.is_empty());
            assert!(!svc.nodes.is_empty());
            assert!(svc.nodes.iter().all(|n| runbook_of(n) == name), "{svc:?}");
        }
        assert!(
            !cluster.attrs.iter().any(|a| a.contains("red")),
            "not exceeded"
        );
    }
    // Every step is in exactly one service cluster.
    let json: Value = serde_json::from_str(&plan("json")).unwrap();
    let mut in_clusters: Vec<&str> = graph
        .clusters
        .iter()
        .flat_map(|c| &c.clusters)
        .flat_map(|s| s.nodes.iter().map(String::as_str))
        .collect();
    in_clusters.sort_unstable();
    let mut steps: Vec<&str> = json["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    steps.sort_unstable();
    assert_eq!(in_clusters, steps);
    // The critical path runs across runbooks, and each of its edges is drawn red.
    let path = strings(&json["critical_path"]);
    let runbooks: std::collections::BTreeSet<&str> = path.iter().map(|s| runbook_of(s)).collect();
    assert!(runbooks.len() > 1, "{path:?}");
    let edges = dot_edges(&dot);
    for w in path.windows(2) {
        let edge = edges
            .iter()
            .find(|(a, b, _)| a == w[0] && b == w[1])
            .unwrap_or_else(|| panic!("no edge {} -> {}", w[0], w[1]));
        assert!(edge.2, "{edge:?} not drawn critical");
    }
    assert!(
        edges
            .iter()
            .any(|(a, b, red)| *red && runbook_of(a) != runbook_of(b)),
        "no critical edge between runbooks:\n{dot}"
    );
    assert_eq!(
        edges.iter().filter(|e| e.2).count(),
        path.len() - 1,
        "only the critical path is red"
    );
}

#[test]
fn mermaid_has_a_subgraph_per_runbook_around_its_service_subgraphs() {
    let mermaid = plan("mermaid");
    let is_id = |s: &str| {
        s.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
            && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    };
    // (id, label, depth) of each subgraph, depth 1 at the top.
    let mut depth = 0;
    let mut subgraphs = Vec::new();
    let mut nodes_in_services = 0;
    for line in mermaid.lines().skip(1) {
        let line = line.trim();
        if let Some(rest) = line.strip_prefix("subgraph ") {
            depth += 1;
            let (id, label) = rest.split_once('[').expect("subgraph id[label]");
            assert!(is_id(id), "{id}");
            subgraphs.push((id.to_string(), label.to_string(), depth));
        } else if line == "end" {
            depth -= 1;
        } else if depth == 2 {
            let id = &line[..line.find('[').expect("node id[label]")];
            assert!(is_id(id), "{id}");
            nodes_in_services += 1;
        }
    }
    assert_eq!(depth, 0);
    let top: Vec<(&str, &str)> = subgraphs
        .iter()
        .filter(|s| s.2 == 1)
        .map(|s| (s.0.as_str(), s.1.as_str()))
        .collect();
    assert_eq!(
        top,
        [
            ("rb_0", "\"directory<br/>tier 0 · RTO 1h, worst case 15m\"]"),
            ("rb_1", "\"dns<br/>tier 0 · RTO 1h, worst case 15m\"]"),
            (
                "rb_2",
                "\"recruitment<br/>tier 2 · RTO 1h, worst case 20m\"]"
            ),
        ]
    );
    assert_eq!(subgraphs.iter().filter(|s| s.2 == 2).count(), 3);
    assert_eq!(nodes_in_services, 6);
    // The critical path's nodes and edges are styled, across runbooks.
    let class = mermaid
        .lines()
        .find_map(|l| l.trim().strip_prefix("class "))
        .expect("critical class");
    assert!(class.ends_with(" critical"), "{class}");
    assert_eq!(class.split(',').count(), 4, "{class}");
    assert!(mermaid.contains("  linkStyle "), "{mermaid}");
}

/// A site with a runbook over its target and services that the plan passes through as
/// gates (a phase they do not have), to see both drawn in the runbook's cluster.
fn slow_site() -> Test {
    let slow = format!(
        "{}{}",
        HEADER
            .replace(
                "name = \"test\"",
                "name = \"slow\"\ntitle = \"Slow system\""
            )
            .replace("rto = \"1h\"", "rto = \"5m\""),
        r#"
[services.db]
hosts = ["tag:db"]
[[services.db.start]]
run = "sleep 1"
timeout = "10m"

[services.app]
hosts = ["tag:app"]
depends_on = ["db"]
[[services.app.stop]]
run = "appctl stop"
"#
    );
    let fast = format!(
        "{}{}",
        HEADER.replace("name = \"test\"", "name = \"fast\""),
        "\n[services.web]\nhosts = [\"tag:web\"]\n[[services.web.start]]\nrun = \"true\"\n"
    );
    Test::new()
        .file("runbooks/slow.toml", slow)
        .file("runbooks/fast.toml", fast)
        .file(
            "sites/town.toml",
            "[site]\nname = \"town\"\nrto = \"8m\"\nrunbooks = [\"../runbooks/*.toml\"]\n\
             [systems.slow]\ntier = 1\nrequires = [\"fast\"]\n",
        )
}

#[test]
fn a_runbook_over_its_target_is_marked_in_every_format() {
    let plan = |format: &str| {
        slow_site()
            .args(&["plan", "sites/town.toml", "--to", "b", "--format", format])
            .run()
            .code(0)
            .stdout
    };
    let json: Value = serde_json::from_str(&plan("json")).unwrap();
    let slow = &json["runbooks"][1];
    assert_eq!(slow["name"], "slow");
    assert_eq!(slow["title"], "Slow system");
    assert_eq!(slow["tier"], 1);
    assert_eq!(strings(&slow["requires"]), ["fast"]);
    assert_eq!(slow["rto"]["exceeded"], true);
    assert_eq!(json["runbooks"][0]["tier"], 9, "the default tier");
    assert_eq!(json["site"]["rto"]["exceeded"], true);
    let warnings = strings(&json["warnings"]);
    assert!(
        warnings.contains(&"runbook `slow`: worst case 15m exceeds its RTO target of 5m"),
        "{warnings:?}"
    );
    assert!(
        warnings.contains(&"site `town`: worst case 15m exceeds its RTO target of 8m"),
        "{warnings:?}"
    );

    let dot = plan("dot");
    let graph = dot_clusters(&dot);
    let slow = graph
        .clusters
        .iter()
        .find(|c| c.id == "cluster_slow")
        .expect("cluster_slow");
    assert!(
        slow.label
            .contains("slow — Slow system\\ntier 1 · RTO 5m, worst case 15m EXCEEDED"),
        "{}",
        slow.label
    );
    assert!(slow.attrs.contains(&"color=red;".to_string()), "{slow:?}");
    // The gates standing for db's stop and app's start (neither has that phase) are
    // drawn in slow's cluster, beside the services' own.
    assert_eq!(
        slow.nodes,
        ["slow/db.stopped", "slow/app.ready"],
        "{slow:?}"
    );
    assert!(graph.label.contains("EXCEEDED"), "{}", graph.label);

    let mermaid = plan("mermaid");
    let rb = mermaid
        .lines()
        .position(|l| l.starts_with("  subgraph rb_1[\"slow — Slow system<br/>tier 1"))
        .expect("slow's subgraph");
    assert!(mermaid.lines().nth(rb).unwrap().contains("EXCEEDED"));
    assert!(mermaid.contains("\n  style rb_1 stroke:#d00"), "{mermaid}");
    assert!(!mermaid.contains("style rb_0"), "fast is within its target");
}
