//! The generator's layers run one way: the graph of its top-level modules
//! (`spec`, `ir`, `emit`…), with an edge for every `crate::module` path a
//! module's source names, has no cycle. Run it with
//! `cargo test -p mcpgen --test module_graph`.
//!
//! Paths are read from the source text (outside `#[cfg(test)]` modules and
//! comments), the way a reader follows `use` lines; `lib.rs` and `main.rs`
//! are the roots and are left out.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

mod common;

type Graph = BTreeMap<String, BTreeSet<String>>;

/// The top-level modules every `crate::x` path (or `crate::{x, y}` group)
/// of `text` names, apart from `own`.
fn referenced_modules(text: &str, own: &str) -> BTreeSet<String> {
    let code: String = text
        .split("#[cfg(test)]")
        .next()
        .unwrap_or("")
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n");
    let ident = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect()
    };
    let mut out = BTreeSet::new();
    for (at, _) in code.match_indices("crate::") {
        let rest = &code[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let group = &group[..group.find('}').unwrap_or(group.len())];
            out.extend(group.split(',').map(|p| ident(p.trim())));
        } else {
            out.insert(ident(rest));
        }
    }
    out.retain(|m| !m.is_empty() && m != own);
    out
}

/// The module graph of a crate's `src` directory.
fn module_graph(src: &Path) -> Graph {
    let mut graph = Graph::new();
    let mut stack = vec![src.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        for entry in entries {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let rel = path.strip_prefix(src).expect("under src");
            let first = rel.components().next().expect("a file name");
            let top = first.as_os_str().to_string_lossy();
            let top = top.trim_end_matches(".rs").to_string();
            if top == "lib" || top == "main" {
                continue;
            }
            let text = std::fs::read_to_string(&path).expect("a source file");
            let deps = referenced_modules(&text, &top);
            graph.entry(top).or_default().extend(deps);
        }
    }
    let modules: BTreeSet<String> = graph.keys().cloned().collect();
    for deps in graph.values_mut() {
        deps.retain(|d| modules.contains(d));
    }
    graph
}

/// One cycle of the graph as `a -> b -> a`, if there is any.
fn find_cycle(graph: &Graph) -> Option<Vec<String>> {
    // Depth-first search; `path` is the current chain of modules.
    fn visit(
        node: &str,
        graph: &Graph,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(i) = path.iter().position(|p| p == node) {
            let mut cycle = path[i..].to_vec();
            cycle.push(node.to_string());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, graph, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        done.insert(node.to_string());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|n| visit(n, graph, &mut Vec::new(), &mut done))
}

fn graph_of(edges: &[(&str, &str)]) -> Graph {
    let mut g = Graph::new();
    for (a, b) in edges {
        g.entry(a.to_string()).or_default().insert(b.to_string());
        g.entry(b.to_string()).or_default();
    }
    g
}

#[test]
fn the_generator_module_graph_has_no_cycle() {
    let graph = module_graph(&common::repo().join("generator/src"));
    assert!(graph.contains_key("ir") && graph.contains_key("spec"));
    if let Some(cycle) = find_cycle(&graph) {
        panic!(
            "the generator's modules import each other in a cycle: {}\ngraph: {graph:#?}",
            cycle.join(" -> ")
        );
    }
}

#[test]
fn a_cycle_is_found_and_a_layered_graph_passes() {
    let layered = graph_of(&[("spec", "ir"), ("spec", "yaml"), ("emit", "ir")]);
    assert_eq!(find_cycle(&layered), None);
    let cyclic = graph_of(&[("error", "spec"), ("spec", "ir"), ("ir", "spec")]);
    let cycle = find_cycle(&cyclic).expect("the ir <-> spec cycle");
    assert_eq!(cycle.first(), cycle.last());
    assert!(cycle.contains(&"ir".to_string()) && cycle.contains(&"spec".to_string()));
}

#[test]
fn paths_groups_comments_and_test_modules_are_told_apart() {
    let text = "use crate::ir::{self, Server};\nuse crate::{names, yaml::Pos};\n\
                // crate::emit in a comment\nfn f() { crate::diff::compare(); }\n\
                #[cfg(test)]\nmod tests { use crate::files; }\n";
    let got = referenced_modules(text, "spec");
    let want: BTreeSet<String> = ["ir", "names", "yaml", "diff"].map(String::from).into();
    assert_eq!(got, want);
}
