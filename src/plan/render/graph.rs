//! The step graph as Graphviz DOT and as Mermaid, one cluster per service, the critical
//! path drawn bold red, gates as small diamonds.

use std::fmt::Write as _;

use petgraph::visit::EdgeRef;

use crate::plan::{Node, Plan};

fn label(plan: &Plan<'_>, node: Node) -> String {
    match node {
        Node::Step(i) => {
            let s = &plan.steps[i];
            format!("{} {}\n{}", s.step.phase, s.step.index, s.step.name)
        }
        Node::Prechecks => "all prechecks passed".into(),
        Node::Stopped(s) => format!("{} dependents stopped", plan.runbook.services[s].name),
        Node::Ready(s) => format!("{} ready", plan.runbook.services[s].name),
    }
}

fn dot_escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn is_critical_edge(plan: &Plan<'_>, a: Node, b: Node) -> bool {
    let (Node::Step(a), Node::Step(b)) = (a, b) else {
        return false;
    };
    plan.critical_path
        .windows(2)
        .any(|w| w[0] == a && w[1] == b)
}

pub fn dot(plan: &Plan<'_>) -> String {
    let rb = plan.runbook;
    let g = &plan.graph;
    let mut o = String::new();
    let _ = writeln!(o, "digraph \"{}\" {{", dot_escape(&rb.name));
    let _ = writeln!(
        o,
        "  label=\"{} {} → {} ({})\";\n  rankdir=LR;\n  node [shape=box, style=rounded, fontname=\"Helvetica\"];",
        dot_escape(&rb.name),
        plan.from,
        plan.to,
        plan.mode.as_str()
    );
    for (si, svc) in rb.services.iter().enumerate() {
        let _ = writeln!(
            o,
            "  subgraph \"cluster_{}\" {{",
            dot_escape(svc.name.as_str())
        );
        let _ = writeln!(
            o,
            "    label=\"{}\";",
            dot_escape(&format!("{} — {}", svc.name, svc.title))
        );
        for (i, s) in plan
            .steps
            .iter()
            .enumerate()
            .filter(|(_, s)| s.service == si)
        {
            let style = if plan.is_critical(i) {
                ", color=red, penwidth=2"
            } else {
                ""
            };
            let _ = writeln!(
                o,
                "    \"{}\" [label=\"{}\"{style}];",
                s.id,
                dot_escape(&label(plan, Node::Step(i)))
            );
        }
        let _ = writeln!(o, "  }}");
    }
    for n in g.node_indices().filter(|&n| !matches!(g[n], Node::Step(_))) {
        let _ = writeln!(
            o,
            "  \"{}\" [shape=diamond, style=filled, fillcolor=lightgrey, label=\"{}\"];",
            plan.node_id(g[n]),
            dot_escape(&label(plan, g[n]))
        );
    }
    for e in g.edge_references() {
        let (a, b) = (g[e.source()], g[e.target()]);
        let style = if is_critical_edge(plan, a, b) {
            " [color=red, penwidth=2]"
        } else {
            ""
        };
        let _ = writeln!(
            o,
            "  \"{}\" -> \"{}\"{style};",
            plan.node_id(a),
            plan.node_id(b)
        );
    }
    o.push_str("}\n");
    o
}

fn mermaid_escape(s: &str) -> String {
    s.replace('"', "#quot;").replace('\n', "<br/>")
}

pub fn mermaid(plan: &Plan<'_>) -> String {
    let rb = plan.runbook;
    let g = &plan.graph;
    let id = |n: petgraph::graph::NodeIndex| format!("n{}", n.index());
    let mut o = String::from("flowchart LR\n");
    for (si, svc) in rb.services.iter().enumerate() {
        let _ = writeln!(
            o,
            "  subgraph svc_{si}[\"{}\"]",
            mermaid_escape(&format!("{} — {}", svc.name, svc.title))
        );
        for (i, s) in plan
            .steps
            .iter()
            .enumerate()
            .filter(|(_, s)| s.service == si)
        {
            let _ = writeln!(
                o,
                "    {}[\"{}\"]",
                id(s.node),
                mermaid_escape(&label(plan, Node::Step(i)))
            );
        }
        o.push_str("  end\n");
    }
    for n in g.node_indices().filter(|&n| !matches!(g[n], Node::Step(_))) {
        let _ = writeln!(
            o,
            "  {}{{\"{}\"}}",
            id(n),
            mermaid_escape(&label(plan, g[n]))
        );
    }
    let mut critical_edges = Vec::new();
    for (k, e) in g.edge_references().enumerate() {
        let _ = writeln!(o, "  {} --> {}", id(e.source()), id(e.target()));
        if is_critical_edge(plan, g[e.source()], g[e.target()]) {
            critical_edges.push(k.to_string());
        }
    }
    let critical: Vec<String> = plan
        .critical_path
        .iter()
        .map(|&i| id(plan.steps[i].node))
        .collect();
    if !critical.is_empty() {
        o.push_str("  classDef critical stroke:#d00,stroke-width:3px\n");
        let _ = writeln!(o, "  class {} critical", critical.join(","));
    }
    if !critical_edges.is_empty() {
        let _ = writeln!(
            o,
            "  linkStyle {} stroke:#d00,stroke-width:3px",
            critical_edges.join(",")
        );
    }
    o
}
