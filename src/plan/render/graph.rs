//! The step graph as Graphviz DOT and as Mermaid, one cluster per service, the critical
//! path drawn bold red, gates as small diamonds. A site's services are grouped once more,
//! one cluster per runbook, labelled with its tier and its worst case against its RTO.

use std::fmt::Write as _;

use petgraph::graph::NodeIndex;
use petgraph::visit::EdgeRef;

use crate::config::duration::format as dur;
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

/// A service's cluster label: `name — title`; in a site, the name within its runbook,
/// since the runbook's cluster around it names the runbook.
fn service_label(plan: &Plan<'_>, si: usize) -> String {
    let rb = plan.runbook;
    let svc = &rb.services[si];
    if rb.site {
        named(rb.local_name(si), &svc.title)
    } else {
        format!("{} — {}", svc.name, svc.title)
    }
}

/// A site runbook's cluster label: its name and title, tier, and worst case against its RTO.
fn origin_label(plan: &Plan<'_>, o: usize) -> String {
    let origin = &plan.runbook.origins[o];
    let worst = plan.origin_worst_case(o);
    format!(
        "{}\ntier {} · RTO {}, worst case {}{}",
        named(&origin.name, &origin.title),
        origin.tier,
        dur(origin.rto),
        dur(worst),
        if origin_exceeded(plan, o) {
            " EXCEEDED"
        } else {
            ""
        }
    )
}

/// `name — title`, or the name alone when the title is only the name again.
fn named(name: &str, title: &str) -> String {
    if title == name {
        name.to_string()
    } else {
        format!("{name} — {title}")
    }
}

fn origin_exceeded(plan: &Plan<'_>, o: usize) -> bool {
    plan.origin_worst_case(o) > plan.runbook.origins[o].rto
}

/// The graph's title: direction and mode, and for a site its worst case against its RTO.
fn title(plan: &Plan<'_>) -> String {
    let rb = plan.runbook;
    let mut t = format!(
        "{} {} → {} ({})",
        rb.name,
        plan.from,
        plan.to,
        plan.mode.as_str()
    );
    if rb.site {
        let _ = write!(
            t,
            "\nsite RTO {}, worst case {}{}",
            dur(rb.rto),
            dur(plan.worst_case),
            if plan.rto_exceeded() { " EXCEEDED" } else { "" }
        );
    }
    t
}

/// How the nodes are grouped: per service its steps (in plan order) and the gates that
/// stand for it; the gates of no service (the precheck barrier) apart.
struct Groups {
    steps: Vec<Vec<usize>>,
    gates: Vec<Vec<NodeIndex>>,
    loose_gates: Vec<NodeIndex>,
}

impl Groups {
    fn of(plan: &Plan<'_>) -> Groups {
        let n = plan.runbook.services.len();
        let mut steps = vec![Vec::new(); n];
        for (i, s) in plan.steps.iter().enumerate() {
            steps[s.service].push(i);
        }
        let mut gates = vec![Vec::new(); n];
        let mut loose_gates = Vec::new();
        for n in plan.graph.node_indices() {
            match plan.graph[n] {
                Node::Step(_) => {}
                Node::Prechecks => loose_gates.push(n),
                // A plain runbook keeps every gate outside the service clusters.
                Node::Stopped(s) | Node::Ready(s) if plan.runbook.site => gates[s].push(n),
                Node::Stopped(_) | Node::Ready(_) => loose_gates.push(n),
            }
        }
        Groups {
            steps,
            gates,
            loose_gates,
        }
    }

    /// The services of each runbook of a site, in order; a plain runbook's as one.
    fn by_origin(plan: &Plan<'_>) -> Vec<Vec<usize>> {
        let rb = plan.runbook;
        let mut out = vec![Vec::new(); rb.origins.len().max(1)];
        for (si, svc) in rb.services.iter().enumerate() {
            out[svc.origin].push(si);
        }
        out
    }
}

fn dot_escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// Whether each step is on the critical path, for lookups without a scan of the path.
fn critical_steps(plan: &Plan<'_>) -> Vec<bool> {
    let mut critical = vec![false; plan.steps.len()];
    for &i in &plan.critical_path {
        critical[i] = true;
    }
    critical
}

/// The critical path's edges between consecutive steps, as node pairs.
fn critical_edges(plan: &Plan<'_>) -> std::collections::HashSet<(NodeIndex, NodeIndex)> {
    plan.critical_path
        .windows(2)
        .map(|w| (plan.steps[w[0]].node, plan.steps[w[1]].node))
        .collect()
}

pub fn dot(plan: &Plan<'_>) -> String {
    let rb = plan.runbook;
    let g = &plan.graph;
    let groups = Groups::of(plan);
    let critical = critical_steps(plan);
    let mut o = String::new();
    let _ = writeln!(o, "digraph \"{}\" {{", dot_escape(&rb.name));
    let _ = writeln!(
        o,
        "  label=\"{}\";\n  rankdir=LR;\n  node [shape=box, style=rounded, fontname=\"Helvetica\"];",
        dot_escape(&title(plan))
    );
    let dot_service = |o: &mut String, si: usize, indent: &str| {
        let _ = writeln!(
            o,
            "{indent}subgraph \"cluster_{}\" {{",
            dot_escape(rb.services[si].name.as_str())
        );
        let _ = writeln!(
            o,
            "{indent}  label=\"{}\";",
            dot_escape(&service_label(plan, si))
        );
        for &i in &groups.steps[si] {
            let style = if critical[i] {
                ", color=red, penwidth=2"
            } else {
                ""
            };
            let _ = writeln!(
                o,
                "{indent}  \"{}\" [label=\"{}\"{style}];",
                dot_escape(&plan.steps[i].id),
                dot_escape(&label(plan, Node::Step(i)))
            );
        }
        let _ = writeln!(o, "{indent}}}");
    };
    let dot_gate = |o: &mut String, n: NodeIndex, indent: &str| {
        let _ = writeln!(
            o,
            "{indent}\"{}\" [shape=diamond, style=filled, fillcolor=lightgrey, label=\"{}\"];",
            dot_escape(&plan.node_id(g[n])),
            dot_escape(&label(plan, g[n]))
        );
    };
    if rb.site {
        for (origin, services) in Groups::by_origin(plan).iter().enumerate() {
            // Runbook names have no `/`, service names in a site always do: the cluster
            // ids of a runbook and of a service never meet.
            let _ = writeln!(
                o,
                "  subgraph \"cluster_{}\" {{",
                dot_escape(&rb.origins[origin].name)
            );
            let _ = writeln!(
                o,
                "    label=\"{}\";",
                dot_escape(&origin_label(plan, origin))
            );
            if origin_exceeded(plan, origin) {
                let _ = writeln!(o, "    color=red;");
            }
            for &si in services {
                dot_service(&mut o, si, "    ");
            }
            for &si in services {
                for &n in &groups.gates[si] {
                    dot_gate(&mut o, n, "    ");
                }
            }
            let _ = writeln!(o, "  }}");
        }
    } else {
        for si in 0..rb.services.len() {
            dot_service(&mut o, si, "  ");
        }
    }
    for &n in &groups.loose_gates {
        dot_gate(&mut o, n, "  ");
    }
    let critical_edges = critical_edges(plan);
    for e in g.edge_references() {
        let (a, b) = (e.source(), e.target());
        let style = if critical_edges.contains(&(a, b)) {
            " [color=red, penwidth=2]"
        } else {
            ""
        };
        let _ = writeln!(
            o,
            "  \"{}\" -> \"{}\"{style};",
            dot_escape(&plan.node_id(g[a])),
            dot_escape(&plan.node_id(g[b]))
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
    let groups = Groups::of(plan);
    let id = |n: NodeIndex| format!("n{}", n.index());
    let mut o = String::from("flowchart LR\n");
    let mermaid_service = |o: &mut String, si: usize, indent: &str| {
        let _ = writeln!(
            o,
            "{indent}subgraph svc_{si}[\"{}\"]",
            mermaid_escape(&service_label(plan, si))
        );
        for &i in &groups.steps[si] {
            let _ = writeln!(
                o,
                "{indent}  {}[\"{}\"]",
                id(plan.steps[i].node),
                mermaid_escape(&label(plan, Node::Step(i)))
            );
        }
        let _ = writeln!(o, "{indent}end");
    };
    let mermaid_gate = |o: &mut String, n: NodeIndex, indent: &str| {
        let _ = writeln!(
            o,
            "{indent}{}{{\"{}\"}}",
            id(n),
            mermaid_escape(&label(plan, g[n]))
        );
    };
    let mut exceeded = Vec::new();
    if rb.site {
        for (origin, services) in Groups::by_origin(plan).iter().enumerate() {
            let _ = writeln!(
                o,
                "  subgraph rb_{origin}[\"{}\"]",
                mermaid_escape(&origin_label(plan, origin))
            );
            for &si in services {
                mermaid_service(&mut o, si, "    ");
            }
            for &si in services {
                for &n in &groups.gates[si] {
                    mermaid_gate(&mut o, n, "    ");
                }
            }
            o.push_str("  end\n");
            if origin_exceeded(plan, origin) {
                exceeded.push(format!("rb_{origin}"));
            }
        }
    } else {
        for si in 0..rb.services.len() {
            mermaid_service(&mut o, si, "  ");
        }
    }
    for &n in &groups.loose_gates {
        mermaid_gate(&mut o, n, "  ");
    }
    let critical = critical_edges(plan);
    let mut critical_edges = Vec::new();
    for (k, e) in g.edge_references().enumerate() {
        let _ = writeln!(o, "  {} --> {}", id(e.source()), id(e.target()));
        if critical.contains(&(e.source(), e.target())) {
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
    for rb_id in exceeded {
        let _ = writeln!(o, "  style {rb_id} stroke:#d00,stroke-width:3px");
    }
    o
}
